/**
 * For contrast: a POSIX thread (pthread_create, in C) runs a function of ours inside our own address space.
 * It reads and writes our globals, and even a local variable of main() through a pointer — no messages, no
 * copies. This lab compiles a small C program with `cc` (if it is installed) and runs it.
 *
 *   npx tsx labs/05-threads/pthreads.ts
 */
import { compileC, printIndented } from '../03-fork/native';

const SOURCE = `
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

static int counter = 42;                      /* a global: one copy, for every thread */

static void *thread_main(void *arg) {
    int *local_of_main = arg;                 /* a pointer into main()'s stack */
    printf("thread: pid %d, tid %ld, sees counter = %d and main's local = %d\\n",
           (int)getpid(), (long)syscall(SYS_gettid), counter, *local_of_main);
    counter = 1000;                           /* writes our global ... */
    *local_of_main = 7;                       /* ... and main's local variable */
    return NULL;
}

int main(void) {
    int local = 5;
    printf("main  : pid %d, tid %ld, counter = %d, local = %d\\n",
           (int)getpid(), (long)syscall(SYS_gettid), counter, local);
    fflush(stdout);
    pthread_t t;
    pthread_create(&t, NULL, thread_main, &local);   /* runs thread_main, in our memory */
    pthread_join(t, NULL);
    printf("main  : after join, counter = %d, local = %d (the thread's writes, in our memory)\\n", counter, local);
    return 0;
}
`;

const program = compileC(SOURCE, ['-pthread']);
if (typeof program === 'string') {
  console.log(`cannot run the C part: ${program}`);
} else {
  try {
    printIndented(program.run().stdout, '');
  } finally {
    program.remove();
  }
}
