/**
 * What does a crash take down? Each part runs a small program in a throwaway child process, so that this lab
 * survives whatever the program does, and prints what the program printed and how the program ended:
 *   1. an uncaught error in a worker, with an 'error' listener     5. a worker over its resourceLimits
 *   2. the same, with no 'error' listener                          6. a signal sent to the process
 *   3. process.exit() in a worker                                  7. (C) one thread of a process crashes
 *   4. process.abort() in a worker, and in the main thread          8. a worker dies holding a shared lock
 *   9. one child process of three crashes
 *
 *   npx tsx labs/06-processes-vs-threads/crash-isolation.ts
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

interface Ended {
  stdout: string[];
  stderr: string[];
  code: number | null;
  signal: NodeJS.Signals | null;
}

/**
 * Runs a JavaScript program with `node -e` in a child process (through `sh -c 'ulimit -c 0; exec …'`, so that
 * an abort leaves no core file), and resolves when it has ended. If `signal` is given, sends it to the child
 * once the child has printed a line containing `signal.after`. Killed after 10 s whatever happens.
 */
function run(program: string, signal?: { after: string; send: NodeJS.Signals }): Promise<Ended> {
  return runCommand('sh', ['-c', 'ulimit -c 0; exec "$0" -e "$1"', process.execPath, program], signal);
}

function runCommand(command: string, args: string[], signal?: { after: string; send: NodeJS.Signals }): Promise<Ended> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (signal && out.includes(signal.after)) {
        child.kill(signal.send);
        signal = undefined;
      }
    });
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.on('close', (code, sig) => {
      clearTimeout(timer);
      const lines = (text: string): string[] => text.split('\n').filter((line) => line.trim() !== '');
      resolve({ stdout: lines(out), stderr: lines(err), code, signal: sig });
    });
  });
}

/** Prints what the program printed (and the stderr lines that match `stderr`) and how it ended. */
function report(title: string, ended: Ended, stderr?: RegExp): void {
  console.log(title);
  for (const line of ended.stdout) console.log(`   | ${line}`);
  for (const line of ended.stderr.filter((text) => stderr?.test(text))) console.log(`   | (stderr) ${line}`);
  const how = ended.signal ? `killed by ${ended.signal}` : `exit code ${ended.code}`;
  console.log(`   => the program ended: ${how}`);
}

/** Compiles C source with `cc`; returns the executable's path, or a string that says why it could not. */
function compileC(source: string, flags: string[]): { exe: string; remove: () => void } | string {
  try {
    execFileSync('cc', ['--version'], { stdio: 'ignore' });
  } catch {
    return 'no C compiler (cc) found';
  }
  const dir = mkdtempSync(path.join(tmpdir(), 'crash-lab-'));
  const remove = (): void => rmSync(dir, { recursive: true, force: true });
  writeFileSync(path.join(dir, 'lab.c'), source);
  const exe = path.join(dir, 'lab');
  const compiled = spawnSync('cc', ['-O0', '-o', exe, path.join(dir, 'lab.c'), ...flags], { encoding: 'utf8' });
  if (compiled.status !== 0) {
    remove();
    return `cc failed: ${compiled.stderr.trim().split('\n')[0]}`;
  }
  return { exe, remove };
}

/** Three threads: main waits, thread 1 ticks every 100 ms, thread 2 writes through a NULL pointer at 250 ms. */
const C_THREAD_CRASH = `#include <pthread.h>
#include <stdio.h>
#include <sys/resource.h>
#include <unistd.h>
static void *ticker(void *arg) {
    for (int i = 1;; i++) { printf("thread 1: tick %d\\n", i); fflush(stdout); usleep(100000); }
    return arg;
}
static void *crasher(void *arg) {
    usleep(250000);
    printf("thread 2: writing through a NULL pointer\\n"); fflush(stdout);
    *(volatile int *)0 = 1;                 /* a bug in one thread */
    return arg;
}
int main(void) {
    struct rlimit none = {0, 0};
    setrlimit(RLIMIT_CORE, &none);          /* leave no core file */
    pthread_t a, b;
    pthread_create(&a, NULL, ticker, NULL);
    pthread_create(&b, NULL, crasher, NULL);
    pthread_join(a, NULL);
    printf("main: never printed\\n");
    return 0;
}`;

// Shared by the programs below: once the worker has ended, the main thread prints a line 100 ms later, if it
// still lives.
const MAIN_LIVES = `w.on('exit', () => setTimeout(() => console.log('main: still running after the worker ended'), 100));`;
const LISTEN = `
  w.on('error', (e) => console.log('main: worker error event: ' + (e.code ? e.code + ': ' : '') + e.message));
  w.on('exit', (code) => console.log('main: worker exited with code ' + code));`;

async function main(): Promise<void> {
  report(
    "1. a worker throws, and the main thread listens for 'error'",
    await run(`
      const { Worker } = require('node:worker_threads');
      const w = new Worker("throw new RangeError('bad input')", { eval: true });
      ${LISTEN}
      ${MAIN_LIVES}`),
  );

  report(
    "2. a worker throws, and nobody listens for 'error'",
    await run(`
      const { Worker } = require('node:worker_threads');
      const w = new Worker("throw new RangeError('bad input')", { eval: true }); // no 'error' listener
      w.on('exit', (code) => console.log('main: worker exited with code ' + code));
      ${MAIN_LIVES}`),
    /^\w*Error/,
  );

  report(
    '3. a worker calls process.exit(3)',
    await run(`
      const { Worker } = require('node:worker_threads');
      const w = new Worker("process.exit(3)", { eval: true });
      ${LISTEN}
      ${MAIN_LIVES}`),
  );

  report(
    '4a. a worker calls process.abort()',
    await run(`
      const { Worker } = require('node:worker_threads');
      const w = new Worker("process.abort()", { eval: true });
      ${LISTEN}
      ${MAIN_LIVES}`),
  );
  report(
    '4b. the main thread calls process.abort() while a worker runs',
    await run(`
      const { Worker } = require('node:worker_threads');
      const w = new Worker("setInterval(() => {}, 1000); require('node:worker_threads').parentPort.postMessage('up')", { eval: true });
      w.on('message', () => { console.log('main: the worker is running; process.abort()'); process.abort(); });`),
  );

  report(
    '5. a worker allocates past resourceLimits.maxOldGenerationSizeMb = 32',
    await run(`
      const { Worker } = require('node:worker_threads');
      const w = new Worker("const keep = []; for (;;) keep.push(new Array(100000).fill(1));",
        { eval: true, resourceLimits: { maxOldGenerationSizeMb: 32 } });
      ${LISTEN}
      w.on('exit', () => setTimeout(() => console.log('main: still running, ' + Math.round(process.memoryUsage().rss / 2 ** 20) + ' MiB resident'), 100));`),
  );

  report(
    '6. the process, a main thread and 2 busy workers, is sent SIGTERM',
    await run(
      `
      const { readdirSync } = require('node:fs');
      const { Worker } = require('node:worker_threads');
      const code = "const { parentPort, threadId } = require('node:worker_threads'); let n = 0;" +
        "setInterval(() => { console.log('worker ' + threadId + ': tick ' + ++n); if (n === 2) parentPort.postMessage('ticking'); }, 100)";
      let ticking = 0;
      for (let i = 0; i < 2; i++) new Worker(code, { eval: true }).on('message', () => {
        if (++ticking < 2) return;
        const threads = readdirSync('/proc/self/task').length; // Linux: one entry per OS thread
        console.log('main: pid ' + process.pid + ' has ' + threads + ' OS threads; ready for the signal');
      });`,
      { after: 'ready for the signal', send: 'SIGTERM' },
    ),
  );

  const crash = compileC(C_THREAD_CRASH, ['-pthread']);
  if (typeof crash === 'string') {
    console.log(`7. (C) one of three threads writes through a NULL pointer: skipped, ${crash}`);
  } else {
    report('7. (C) one of three threads writes through a NULL pointer', await runCommand(crash.exe, []));
    crash.remove();
  }

  report(
    '8. a worker takes a lock in shared memory, then throws before releasing it',
    await run(`
      const { Worker } = require('node:worker_threads');
      const lock = new Int32Array(new SharedArrayBuffer(4)); // 0 = free, 1 = taken
      const w = new Worker(
        "const { workerData } = require('node:worker_threads');" +
        "Atomics.store(workerData, 0, 1);" +                          // take the lock
        "throw new Error('crashed while holding the lock');",         // ... and never release it
        { eval: true, workerData: lock });
      ${LISTEN}
      w.on('exit', () => {
        const result = Atomics.wait(lock, 0, 1, 500); // wait up to 500 ms for the lock to become free
        console.log('main: waited for the lock: ' + result + '; it is still ' + (Atomics.load(lock, 0) ? 'taken' : 'free'));
      });`),
  );

  report(
    '9. a parent with 3 child processes; child 2 throws when asked a second time',
    await run(`
      const { spawn } = require('node:child_process');
      const { once } = require('node:events');
      const childCode = "let n = 0; process.on('message', () => {" +
        "  if (++n === 2 && process.env.ID === '2') throw new Error('child 2 crashed');" +
        "  process.send('answer ' + n); }); process.send('ready');";
      const kids = [1, 2, 3].map((id) => {
        const kid = spawn(process.execPath, ['-e', childCode],
          { env: { ...process.env, ID: String(id) }, stdio: ['ignore', 'ignore', 'ignore', 'ipc'] });
        kid.on('exit', (code, signal) => console.log('parent: child ' + id + ' exited, code ' + code + ', signal ' + signal));
        return kid;
      });
      (async () => {
        await Promise.all(kids.map((kid) => once(kid, 'message')));
        for (let round = 1; round <= 3; round++) {
          const answered = [];
          await Promise.all(kids.map((kid, i) => kid.connected && new Promise((resolve) => {
            kid.send('ping');
            kid.once('message', () => resolve(answered.push(i + 1)));
            kid.once('exit', resolve); // a dead child answers nothing
          })));
          console.log('parent: round ' + round + ', answered by child ' + answered.sort().join(', '));
        }
        kids.forEach((kid) => kid.connected && kid.disconnect()); // the children end when their channel closes
        console.log('parent: still running');
      })();`),
  );
  console.log("this lab's own process is still running, and every program it started has ended");
}

void main();
