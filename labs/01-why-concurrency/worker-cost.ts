// A Worker is not a lightweight thread running our code: it is a whole V8 isolate with its own heap,
// globals and event loop, inside our process. What does one cost, and what does it share?
// Run: npx tsx labs/01-why-concurrency/worker-cost.ts
import { once } from 'node:events';
import path from 'node:path';
import { threadId, Worker } from 'node:worker_threads';
import type { Report } from './isolate-worker';

const TS_HOOK = ['--require', require.resolve('tsx/cjs')];
const MiB = 1024 * 1024;

async function startToFirstMessage(make: () => Worker): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < 5; i++) {
    const start = performance.now();
    const worker = make();
    await once(worker, 'message');
    times.push(performance.now() - start);
    await worker.terminate();
  }
  return times.sort((a, b) => a - b)[2]!;
}

const ask = async (worker: Worker): Promise<Report> => {
  worker.postMessage('report');
  return ((await once(worker, 'message')) as [Report])[0];
};

async function main(): Promise<void> {
  // 1. Start-up time, to the first message (median of 5).
  const js = await startToFirstMessage(
    () => new Worker("require('node:worker_threads').parentPort.postMessage('ready')", { eval: true }),
  );
  const ts = await startToFirstMessage(
    () => new Worker(path.join(__dirname, 'isolate-worker.ts'), { execArgv: TS_HOOK }),
  );
  console.log(`start a worker, plain JavaScript:         ${js.toFixed(1)} ms to its first message`);
  console.log(`start a worker, TypeScript through tsx:   ${ts.toFixed(1)} ms to its first message`);

  // 2. Memory: four idle workers, and how much our process grew.
  const before = process.memoryUsage().rss;
  const idle = Array.from(
    { length: 4 },
    () =>
      new Worker("require('node:worker_threads').parentPort.postMessage('ready'); setInterval(() => {}, 1000)", {
        eval: true,
      }),
  );
  await Promise.all(idle.map((worker) => once(worker, 'message')));
  const grown = (process.memoryUsage().rss - before) / MiB;
  console.log(
    `4 idle workers: our resident memory grew by ${grown.toFixed(1)} MiB (${(grown / 4).toFixed(1)} MiB each)`,
  );
  await Promise.all(idle.map((worker) => worker.terminate()));

  // 3. Same process, another thread, other globals.
  (globalThis as { marker?: unknown }).marker = 'set by the main thread';
  const worker = new Worker(path.join(__dirname, 'isolate-worker.ts'), { execArgv: TS_HOOK });
  await once(worker, 'message');
  const first = await ask(worker);
  console.log(`main thread: pid ${process.pid}, threadId ${threadId}, typeof globalThis.marker = string`);
  console.log(`worker:      pid ${first.pid}, threadId ${first.threadId}, typeof globalThis.marker = ${first.marker}`);

  // 4. Its own event loop: block ours for 500 ms and count both loops' 10 ms timer ticks meanwhile.
  let ourTicks = 0;
  const ours = setInterval(() => ourTicks++, 10);
  const until = performance.now() + 500;
  while (performance.now() < until); // our event loop is blocked
  const blockedTicks = ourTicks;
  const second = await ask(worker);
  clearInterval(ours);
  console.log(
    `while our loop was blocked for 500 ms: our 10 ms timer ticked ${blockedTicks} times, the worker's ${second.ticks - first.ticks} times`,
  );
  await worker.terminate();
}

void main();
