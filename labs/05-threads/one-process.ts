/**
 * A worker thread lives in our process: same pid, its own threadId. But it runs in its own V8 isolate, so it
 * loads every module afresh and sees none of our globals or module state. Each worker adds operating-system
 * threads to the process (Linux: /proc/self/status), and each costs megabytes of memory.
 *
 *   npx tsx labs/05-threads/one-process.ts
 */
import { once } from 'node:events';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { isMainThread, parentPort, threadId, Worker, workerData } from 'node:worker_threads';

const MiB = 1024 * 1024;
const TS_HOOK = ['--require', require.resolve('tsx/cjs')]; // so the worker can load this .ts file too

// Module-level state: every isolate that loads this module gets its own copy, starting from 0.
let counter = 0;
counter += 1;

interface Report {
  pid: number;
  threadId: number;
  counter: number;
  marker: string;
  env: string | undefined;
}

/** The process's thread count, as the kernel reports it (Linux only). */
function threadCount(): string {
  try {
    const line = readFileSync('/proc/self/status', 'utf8').match(/^Threads:\s+(\d+)/m);
    return line ? line[1]! : '?';
  } catch {
    return '? (no /proc here)';
  }
}

async function main(): Promise<void> {
  counter = 42; // changed at run time, on the main thread only
  (globalThis as { marker?: string }).marker = 'set by the main thread';
  console.log(`main thread: pid ${process.pid}, threadId ${threadId}, counter = ${counter}, marker = string`);
  console.log(`threads in this process before any worker: ${threadCount()}`);

  // Resources of the process: a file descriptor we open is usable by number in the worker.
  const dir = mkdtempSync(path.join(tmpdir(), 'threads-lab-'));
  const file = path.join(dir, 'log.txt');
  const fd = openSync(file, 'w');
  writeSync(fd, 'main thread wrote this\n');
  process.env.LAB_WHO = 'main';

  const worker = new Worker(__filename, { execArgv: TS_HOOK, workerData: fd });
  const [report] = (await once(worker, 'message')) as [Report];
  console.log(
    `worker:      pid ${report.pid}, threadId ${report.threadId}, counter = ${report.counter}, marker = ${report.marker}`,
  );
  console.log(`threads with 1 worker running: ${threadCount()}`);
  await worker.terminate();
  closeSync(fd);
  console.log(`fd ${fd}, opened by the main thread; the file now holds: ${JSON.stringify(readFileSync(file, 'utf8'))}`);
  console.log(
    `process.env.LAB_WHO: the worker saw '${report.env}' and set its own to 'worker'; ours is still '${process.env.LAB_WHO}'`,
  );
  rmSync(dir, { recursive: true, force: true });

  // Memory and threads for N idle workers (plain JavaScript, so that no TypeScript loader is counted).
  const rssBefore = process.memoryUsage().rss;
  const threadsBefore = Number(threadCount());
  const N = 8;
  const idle = Array.from(
    { length: N },
    () =>
      new Worker("require('node:worker_threads').parentPort.postMessage('up'); setInterval(() => {}, 1000)", {
        eval: true,
      }),
  );
  await Promise.all(idle.map((w) => once(w, 'message')));
  const threadsDuring = Number(threadCount());
  const grown = (process.memoryUsage().rss - rssBefore) / MiB;
  console.log(
    `${N} idle workers: threads ${threadsBefore} -> ${threadsDuring} (+${((threadsDuring - threadsBefore) / N).toFixed(1)} each), ` +
      `resident memory +${grown.toFixed(1)} MiB (${(grown / N).toFixed(1)} MiB each)`,
  );
  await Promise.all(idle.map((w) => w.terminate()));
  console.log(`after terminate(): threads ${threadCount()}`);
}

if (isMainThread) {
  void main();
} else {
  // The worker loaded this same file from the top: counter is its own, 1; the main thread's 42 is not here.
  writeSync(workerData as number, 'the worker wrote this, through the same fd\n');
  const env = process.env.LAB_WHO; // a copy of the main thread's environment, taken when the worker started
  process.env.LAB_WHO = 'worker';
  parentPort!.postMessage({
    env,
    pid: process.pid,
    threadId,
    counter,
    marker: typeof (globalThis as { marker?: string }).marker,
  } satisfies Report);
}
