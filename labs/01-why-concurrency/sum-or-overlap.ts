// Two CPU-bound tasks (count the primes below 2,000,000). On one event loop they take turns, even when
// written as async functions started "at once"; in two worker threads they run at the same time, one per core.
// Run: npx tsx labs/01-why-concurrency/sum-or-overlap.ts
import { once } from 'node:events';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Counted } from './prime-worker';
import { countPrimesBelow } from './primes';

const LIMIT = 2_000_000;

async function onEventLoop(): Promise<Counted> {
  const began = Date.now();
  const count = countPrimesBelow(LIMIT); // nothing to await: this runs to the end before anything else
  return { count, began, ended: Date.now() };
}

async function inWorker(): Promise<Counted> {
  // `npx tsx` does not reach into worker threads on Node 20: preload tsx's CommonJS hook there.
  const worker = new Worker(path.join(__dirname, 'prime-worker.ts'), {
    workerData: LIMIT,
    execArgv: ['--require', require.resolve('tsx/cjs')],
  });
  const [counted] = (await once(worker, 'message')) as [Counted];
  return counted;
}

function report(title: string, start: number, tasks: Counted[]): void {
  const wall = Date.now() - start;
  const busy = tasks.reduce((sum, task) => sum + (task.ended - task.began), 0);
  console.log(`${title}: wall time ${wall} ms, sum of the tasks' durations ${busy} ms (${(busy / wall).toFixed(2)}x)`);
  tasks.forEach((task, i) => {
    const bar =
      ' '.repeat(Math.round((task.began - start) / 40)) + '#'.repeat(Math.round((task.ended - task.began) / 40));
    console.log(
      `  task ${'AB'[i]} ${String(task.began - start).padStart(4)}..${String(task.ended - start).padEnd(5)} ms |${bar}`,
    );
  });
}

async function main(): Promise<void> {
  console.log(`cores: ${availableParallelism()}   (one # = 40 ms)`);
  let start = Date.now();
  report('event loop, Promise.all of two async tasks', start, await Promise.all([onEventLoop(), onEventLoop()]));
  start = Date.now();
  report('two worker threads                        ', start, await Promise.all([inWorker(), inWorker()]));
}

void main();
