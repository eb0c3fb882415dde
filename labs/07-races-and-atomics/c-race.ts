/**
 * The same race in C, where threads share everything by default. It shows what the compiler makes of
 * `counter++` (the three steps at -O0; one instruction, still not atomic, at -O2) and of the atomic
 * `__atomic_fetch_add`, then races two pthreads, each adding 1 a million times, over many trials.
 * Needs a C compiler (`cc`); without one it says so and stops.
 *
 *   npx tsx labs/07-races-and-atomics/c-race.ts [trials, default 20]
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { compileC } from '../03-fork/native';

const FUNCTIONS = `
int counter;
volatile int vcounter;
/* noipa: compile each function on its own, so that the loop below cannot merge its million calls into one add */
__attribute__((noipa)) void increment(void) { counter++; }
__attribute__((noipa)) void increment_volatile(void) { vcounter++; }   /* volatile: a real read and write each time */
__attribute__((noipa)) void increment_atomic(void) { __atomic_fetch_add(&counter, 1, __ATOMIC_SEQ_CST); }
`;

const RACE = `
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
${FUNCTIONS}
static long n; static int mode;
static void *run(void *arg) {
    (void)arg;
    for (long i = 0; i < n; i++) {
        if (mode == 0) increment_volatile(); else if (mode == 1) increment(); else increment_atomic();
    }
    return NULL;
}
int main(int argc, char **argv) {
    n = atol(argv[1]); mode = atoi(argv[2]); int trials = atoi(argv[3]);
    int bad = 0; long worst = 0; double ms = 0;
    for (int t = 0; t < trials; t++) {
        counter = 0; vcounter = 0;
        struct timespec a0, a1;
        clock_gettime(CLOCK_MONOTONIC, &a0);
        pthread_t a, b;
        pthread_create(&a, NULL, run, NULL);
        pthread_create(&b, NULL, run, NULL);
        pthread_join(a, NULL);
        pthread_join(b, NULL);
        clock_gettime(CLOCK_MONOTONIC, &a1);
        ms += (a1.tv_sec - a0.tv_sec) * 1e3 + (a1.tv_nsec - a0.tv_nsec) / 1e6;
        long lost = 2 * n - (mode == 0 ? vcounter : counter);
        if (lost > 0) bad++;
        if (lost > worst) worst = lost;
    }
    printf("%d %ld %.1f\\n", bad, worst, ms / trials);
    return 0;
}
`;

/** The instructions of one function in `cc -S` output, without the assembler's directives. */
function assembly(flags: string, name: string): string[] {
  const dir = mkdtempSync(path.join(tmpdir(), 'race-lab-'));
  try {
    const file = path.join(dir, 'f.c');
    writeFileSync(file, FUNCTIONS);
    const out = spawnSync('cc', [flags, '-S', '-o', '-', file], { encoding: 'utf8' }).stdout ?? '';
    const lines = out.split('\n');
    const start = lines.findIndex((l) => l === `${name}:`);
    const body: string[] = [];
    for (const line of lines.slice(start + 1)) {
      const text = line.trim();
      if (text === '' || text.startsWith('.') || text.endsWith(':')) continue;
      if (/%[re]bp|%[re]sp|^nop|^endbr/.test(text)) continue; // -O0's stack frame: not part of the counting
      body.push(text.replace(/\s+/g, ' '));
      if (/^ret\b/.test(text)) break;
    }
    return body;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const trials = Number(process.argv[2] ?? 20);
const program = compileC(RACE, ['-pthread']);
if (typeof program === 'string') {
  console.log(`cannot run the C part: ${program}`);
} else {
  try {
    console.log('what cc makes of it (the instructions of each function):');
    const show = (title: string, flags: string, name: string): void =>
      console.log(`  ${title.padEnd(46)} ${assembly(flags, name).join(' ; ')}`);
    show('counter++            at -O0', '-O0', 'increment');
    show('counter++            at -O2', '-O2', 'increment');
    show('counter++ (volatile) at -O2', '-O2', 'increment_volatile');
    show('__atomic_fetch_add(&counter, 1, SEQ_CST) -O2', '-O2', 'increment_atomic');
    console.log(`\n2 pthreads x 1,000,000 increments of one int, ${trials} trials each:`);
    const variants = [
      'counter++, volatile (read; add; write)',
      'counter++ (one add instruction)',
      '__atomic_fetch_add',
    ];
    for (const [mode, title] of variants.entries()) {
      const [bad, worst, ms] = program
        .run(['1000000', String(mode), String(trials)])
        .stdout.trim()
        .split(' ');
      console.log(
        `  ${title.padEnd(40)} lost updates in ${bad!.padStart(2)} of ${trials} trials; ` +
          `most lost in one: ${Number(worst).toLocaleString('en').padStart(9)} of 2,000,000; ${ms} ms a trial`,
      );
    }
  } finally {
    program.remove();
  }
}
