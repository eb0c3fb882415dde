/**
 * The source article's comparison, measured here: what a thread costs and what a process costs, to create
 * and to keep, in Node (a Worker vs a child_process.fork child) and in C (pthread_create vs fork, compiled
 * with `cc` if it is installed), next to Stevens' "thread creation can be 10–100 times faster".
 * Medians on your machine, at this moment; not a test, and nothing here is a promise.
 *
 *   npx tsx labs/06-processes-vs-threads/cost-table.ts
 */
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { compileC } from '../03-fork/native';

const ROUNDS = 5; // creations timed per kind (after one untimed warm-up)
const IDLE = 6; // idle threads / processes kept at once to measure memory
const KiB = 1024;

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

/** Private memory (pages no other process maps) of a process, in KiB, from Linux's /proc; undefined elsewhere. */
function privateKiB(pid: number | 'self'): number | undefined {
  const file = `/proc/${pid}/smaps_rollup`;
  if (!existsSync(file)) return undefined;
  const text = readFileSync(file, 'utf8');
  const field = (name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? 0);
  return field('Private_Clean') + field('Private_Dirty');
}

// ---- Node: a Worker vs a child process, both plain JavaScript (no TypeScript loader) -------------------

const WORKER_CODE = `const { parentPort } = require('node:worker_threads');
parentPort.postMessage('ready');
if (require('node:worker_threads').workerData === 'idle') setInterval(() => {}, 1000); // stay alive`;
const CHILD_CODE = `process.send('ready');
if (process.argv[2] === 'idle') setInterval(() => {}, 1000); else process.disconnect();`;

async function nodeRows(dir: string): Promise<{ create: [number, number]; memory: [number, number] | undefined }> {
  const childFile = path.join(dir, 'child.js');
  writeFileSync(childFile, CHILD_CODE);
  const newWorker = (data = ''): Worker => new Worker(WORKER_CODE, { eval: true, workerData: data });
  const newChild = (arg = ''): ChildProcess => fork(childFile, [arg], { execArgv: [], stdio: 'ignore' });

  // 1. Creation, until the new thread or process has sent its first message.
  const workerMs: number[] = [];
  const childMs: number[] = [];
  for (let i = 0; i <= ROUNDS; i++) {
    let start = performance.now();
    const worker = newWorker();
    await once(worker, 'message');
    if (i > 0) workerMs.push(performance.now() - start); // round 0 is the warm-up
    await worker.terminate();

    start = performance.now();
    const child = newChild();
    const exited = once(child, 'exit');
    await once(child, 'message');
    if (i > 0) childMs.push(performance.now() - start);
    await exited;
  }

  // 2. Memory: IDLE idle workers (our own private memory grows) vs IDLE idle processes (each its own).
  const before = privateKiB('self');
  if (before === undefined) return { create: [median(workerMs), median(childMs)], memory: undefined };
  const workers = Array.from({ length: IDLE }, () => newWorker('idle'));
  await Promise.all(workers.map((worker) => once(worker, 'message')));
  await new Promise((resolve) => setTimeout(resolve, 200)); // let start-up garbage settle
  const perWorker = (privateKiB('self')! - before) / IDLE;
  await Promise.all(workers.map((worker) => worker.terminate()));

  const children = Array.from({ length: IDLE }, () => newChild('idle'));
  await Promise.all(children.map((child) => once(child, 'message')));
  await new Promise((resolve) => setTimeout(resolve, 200));
  const perChild = median(children.map((child) => privateKiB(child.pid!) ?? 0));
  await Promise.all(
    children.map((child) => {
      const exited = once(child, 'exit');
      child.kill();
      return exited;
    }),
  );
  return { create: [median(workerMs), median(childMs)], memory: [perWorker, perChild] };
}

// ---- C: pthread_create vs fork, the operations Stevens compared ------------------------------------------

const C_SOURCE = `
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_us(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}
static double median(double *v, int n) {            /* sorts v */
    for (int i = 1; i < n; i++) for (int j = i; j > 0 && v[j] < v[j - 1]; j--) { double t = v[j]; v[j] = v[j - 1]; v[j - 1] = t; }
    return v[n / 2];
}
static long private_kib(pid_t pid) {                /* Private_Clean + Private_Dirty, -1 if unknown */
    char path[64], line[256]; long total = -1, kb;
    snprintf(path, sizeof path, "/proc/%d/smaps_rollup", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    total = 0;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "Private_Clean: %ld kB", &kb) == 1 || sscanf(line, "Private_Dirty: %ld kB", &kb) == 1) total += kb;
    fclose(f);
    return total;
}

static void *thread_main(void *arg) { return arg; }
static int gate[2];                                  /* idle threads and children block reading this pipe */
static void *idle_thread(void *arg) { char c; (void)!read(gate[0], &c, 1); return arg; }
static const char *true_path = "/bin/true";

#define BATCHES 7
/* One batch = n creations; the result is the median over BATCHES batches of the time per creation. */
static double time_threads(int n) {
    double per[BATCHES];
    for (int b = 0; b < BATCHES; b++) {
        double start = now_us();
        for (int i = 0; i < n; i++) { pthread_t t; pthread_create(&t, NULL, thread_main, NULL); pthread_join(t, NULL); }
        per[b] = (now_us() - start) / n;
    }
    return median(per, BATCHES);
}
static double time_forks(int n, int exec_true) {
    double per[BATCHES];
    for (int b = 0; b < BATCHES; b++) {
        double start = now_us();
        for (int i = 0; i < n; i++) {
            pid_t pid = fork();
            if (pid == 0) { if (exec_true) execl(true_path, "true", (char *)NULL); _exit(0); }
            waitpid(pid, NULL, 0);
        }
        per[b] = (now_us() - start) / n;
    }
    return median(per, BATCHES);
}

int main(void) {
    if (access(true_path, X_OK) != 0) true_path = "/usr/bin/true";
    time_threads(50); time_forks(20, 0);             /* warm-up */
    printf("thread %.2f\\n", time_threads(200));
    printf("fork %.2f\\n", time_forks(40, 0));
    printf("exec %.2f\\n", time_forks(20, 1));

    /* Memory: ${IDLE} idle threads (our private memory grows) vs ${IDLE} idle forked children (each its own). */
    if (pipe(gate) == 0) {
        long before = private_kib(getpid());
        pthread_t t[${IDLE}];
        for (int i = 0; i < ${IDLE}; i++) pthread_create(&t[i], NULL, idle_thread, NULL);
        usleep(50000);
        long after = private_kib(getpid());
        if (write(gate[1], "xxxxxxxxxxxxxxxx", ${IDLE}) < 0) return 1;
        for (int i = 0; i < ${IDLE}; i++) pthread_join(t[i], NULL);
        pid_t kids[${IDLE}];
        for (int i = 0; i < ${IDLE}; i++)
            if ((kids[i] = fork()) == 0) { char c; (void)!read(gate[0], &c, 1); _exit(0); }
        usleep(50000);
        double child_kib[${IDLE}];
        for (int i = 0; i < ${IDLE}; i++) child_kib[i] = private_kib(kids[i]);
        if (write(gate[1], "xxxxxxxxxxxxxxxx", ${IDLE}) < 0) return 1;
        for (int i = 0; i < ${IDLE}; i++) waitpid(kids[i], NULL, 0);
        if (before >= 0) printf("memory %.1f %.1f\\n", (double)(after - before) / ${IDLE}, median(child_kib, ${IDLE}));
    }

    /* fork from a parent that holds 256 MiB it has written to (really resident). */
    size_t size = (size_t)256 << 20;
    volatile char *ballast = malloc(size);
    for (size_t i = 0; i < size; i += 4096) ballast[i] = 1;
    printf("big %.2f\\n", time_forks(2, 0));
    free((void *)ballast);
    return 0;
}
`;

interface CNumbers {
  threadUs: number;
  forkUs: number;
  execUs: number;
  bigForkUs: number;
  memory?: [number, number]; // KiB per idle thread, per idle forked child
}

function cRows(): CNumbers | string {
  const program = compileC(C_SOURCE, ['-pthread']);
  if (typeof program === 'string') return program;
  try {
    const out = program.run();
    const value = (key: string): number[] | undefined =>
      new RegExp(`^${key} (.+)$`, 'm').exec(out.stdout)?.[1]?.split(' ').map(Number);
    const [thread, fork, exec, big] = ['thread', 'fork', 'exec', 'big'].map((key) => value(key)?.[0]);
    if (thread === undefined || fork === undefined || exec === undefined || big === undefined) {
      return `the C benchmark failed: ${out.stderr.trim() || `exit status ${out.status}`}`;
    }
    const memory = value('memory');
    return {
      threadUs: thread,
      forkUs: fork,
      execUs: exec,
      bigForkUs: big,
      memory: memory ? [memory[0]!, memory[1]!] : undefined,
    };
  } finally {
    program.remove();
  }
}

// ---- The table ------------------------------------------------------------------------------------------

const ms = (value: number): string => (value >= 10 ? `${value.toFixed(0)} ms` : `${value.toFixed(1)} ms`);
const us = (value: number): string => (value >= 1000 ? ms(value / 1000) : `${value.toFixed(0)} µs`);
const mem = (kib: number): string => (kib >= KiB ? `${(kib / KiB).toFixed(1)} MiB` : `${kib.toFixed(0)} KiB`);
const ratio = (process: number, thread: number): string =>
  thread <= 0 ? '' : process / thread >= 10 ? `${(process / thread).toFixed(0)}x` : `${(process / thread).toFixed(1)}x`;

async function main(): Promise<void> {
  const started = performance.now();
  const dir = mkdtempSync(path.join(tmpdir(), 'cost-table-'));
  let node;
  try {
    node = await nodeRows(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const c = cRows();

  const rows: [string, string, string, string][] = [['', 'a thread', 'a process', 'process ÷ thread']];
  const [worker, child] = node.create;
  rows.push(['Node: create, to first message', `${ms(worker)} Worker`, `${ms(child)} fork()`, ratio(child, worker)]);
  if (node.memory) {
    const [perWorker, perChild] = node.memory;
    rows.push([`Node: private memory, ${IDLE} idle`, mem(perWorker), mem(perChild), ratio(perChild, perWorker)]);
  }
  if (typeof c === 'string') {
    rows.push(['C: (skipped)', c, '', '']);
  } else {
    const thread = us(c.threadUs);
    rows.push(['C: create + exit + reap', `${thread} pthread`, `${us(c.forkUs)} fork`, ratio(c.forkUs, c.threadUs)]);
    rows.push(['C: ... + exec(/bin/true)', '', `${us(c.execUs)} fork+exec`, ratio(c.execUs, c.threadUs)]);
    rows.push(['C: ... parent holds 256 MiB', '', `${us(c.bigForkUs)} fork`, ratio(c.bigForkUs, c.threadUs)]);
    if (c.memory) {
      const [perThread, perChild] = c.memory;
      rows.push([`C: private memory, ${IDLE} idle`, mem(perThread), mem(perChild), ratio(perChild, perThread)]);
    }
  }
  rows.push(['Stevens (UNP): thread creation', '', '', '"10–100 times faster"']);

  const widths = [0, 1, 2, 3].map((col) => Math.max(...rows.map((row) => row[col]!.length)));
  for (const row of rows) {
    const cells = row.map((cell, col) => (col === 0 ? cell.padEnd(widths[0]!) : cell.padStart(widths[col]!)));
    console.log(cells.join('   ').trimEnd());
  }
  console.log(`(medians on this machine; ${((performance.now() - started) / 1000).toFixed(1)} s)`);
}

void main();
