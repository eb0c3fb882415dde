/**
 * Stevens: "fork is expensive", and "thread creation can be 10–100 times faster than process creation".
 * This lab compiles a small C program (if `cc` is installed) that times, per operation: a function call,
 * pthread_create + join, fork + wait, fork + exec("/bin/true") + wait, and fork from a parent holding
 * 128 and 512 MiB of memory. Averages over many rounds; not a test.
 *
 *   npx tsx labs/03-fork/c-cost.ts
 */
import { compileC } from './native';

const SOURCE = `
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_us(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

__attribute__((noinline)) static int work(int x) { __asm__ volatile(""); return x + 1; }
static void *thread_main(void *arg) { return arg; }

static double thread_us;
static const char *true_path = "/bin/true";

static void report(const char *label, double total_us, int rounds) {
    double each = total_us / rounds;
    if (each < 1) printf("%-40s %10.4f us\\n", label, each);
    else if (each < 1000) printf("%-40s %10.1f us   %7.0fx a thread\\n", label, each, each / thread_us);
    else printf("%-40s %10.1f ms   %7.0fx a thread\\n", label, each / 1000, each / thread_us);
}

static void fork_wait(int rounds, const char *label, int exec_true) {
    double start = now_us();
    for (int i = 0; i < rounds; i++) {
        pid_t pid = fork();
        if (pid == 0) {
            if (exec_true) execl(true_path, "true", (char *)NULL);
            _exit(0);
        }
        waitpid(pid, NULL, 0);
    }
    report(label, now_us() - start, rounds);
}

int main(void) {
    int sink = 0, calls = 10000000, threads = 2000;
    double start = now_us();
    for (int i = 0; i < calls; i++) sink = work(sink);
    report("function call", now_us() - start, calls);

    start = now_us();
    for (int i = 0; i < threads; i++) {
        pthread_t t;
        pthread_create(&t, NULL, thread_main, NULL);
        pthread_join(t, NULL);
    }
    thread_us = (now_us() - start) / threads;
    printf("%-40s %10.1f us   %7.0fx a thread\\n", "pthread_create + join", thread_us, 1.0);

    if (access(true_path, X_OK) != 0) true_path = "/usr/bin/true"; /* macOS keeps it there */
    fork_wait(500, "fork + exit + wait", 0);
    fork_wait(300, "fork + exec /bin/true + wait", 1);
    for (size_t mib = 128; mib <= 512; mib *= 4) {
        volatile char *ballast = malloc(mib << 20);
        for (size_t i = 0; i < mib << 20; i += 4096) ballast[i] = 1;  /* touch every page: really resident */
        char label[64];
        snprintf(label, sizeof label, "fork + exit + wait, %zu MiB resident", mib);
        fork_wait(5, label, 0);
        free((void *)ballast);
    }
    return sink == 0;
}
`;

const program = compileC(SOURCE, ['-pthread']);
if (typeof program === 'string') {
  console.log(
    `${program}: this lab needs a C compiler (on Debian/Ubuntu: apt install gcc; on macOS: xcode-select --install)`,
  );
} else {
  process.stdout.write(program.run().stdout);
  program.remove();
}
