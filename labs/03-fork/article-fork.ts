/**
 * The source article's fork() example, run for real: in Python (os.fork(), the article's own code with its
 * messages in English) and in C. One call, two returns: 0 in the child, the child's pid in the parent.
 * Then the same Python script with its output going into a pipe, where its print buffer is copied too.
 *
 *   npx tsx labs/03-fork/article-fork.ts
 */
import { compileC, findPython, printIndented, runPython } from './native';

// The article's example, word for word except for the messages.
const ARTICLE = `
import os
print('current process: %s starting ....' % os.getpid())
pid = os.fork()
if pid == 0:
    print('child: %s, its parent is: %s' % (os.getpid(), os.getppid()))
else:
    print('process: %s created child: %s' % (os.getpid(), pid))
`;

const IN_C = `
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void) {
    printf("before fork(): one process, pid %d\\n", (int)getpid());
    fflush(stdout);                       /* empty the print buffer before it is copied */
    pid_t pid = fork();                   /* one call ... */
    if (pid == 0)                         /* ... returns 0 in the child */
        printf("fork() returned 0 in pid %d: I am the child, my parent is %d\\n", (int)getpid(), (int)getppid());
    else                                  /* ... and the child's pid in the parent */
        printf("fork() returned %d in pid %d: I am the parent\\n", (int)pid, (int)getpid());
    fflush(stdout);
    if (pid != 0) waitpid(pid, NULL, 0);  /* the parent waits for its child, so this line comes last: */
    printf("after the if: pid %d runs the rest of main()\\n", (int)getpid());
    return 0;
}
`;

function main(): void {
  const python = findPython();
  console.log("1. the article's example in Python (each line printed when it ends, as in a terminal)");
  if (python) printIndented(runPython(ARTICLE).stdout);
  else console.log('   python3 with os.fork() not found here: skipped (on Windows, use WSL)');

  console.log('2. the same in C');
  const program = compileC(IN_C);
  if (typeof program === 'string') console.log(`   ${program}: skipped`);
  else {
    printIndented(program.run().stdout);
    program.remove();
  }

  console.log('3. the Python example again, its prints collected in a buffer (as when you pipe it into cat)');
  if (python) printIndented(runPython(ARTICLE, { buffering: 'block' }).stdout);
  else console.log('   python3 not found here: skipped');

  if (!python && typeof program === 'string') {
    console.log('\nNeither python3 nor cc is available, so this machine cannot show a real fork() here.');
    console.log('Install either one (or use WSL on Windows) and run the lab again.');
  }
}

main();
