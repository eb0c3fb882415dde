/**
 * Why a pool: a new Worker per task pays for a whole isolate every time; a worker that is kept and reused pays
 * only for a message there and back. This lab runs the same tiny task both ways and times it.
 *
 *   npx tsx labs/05-threads/pool-vs-new.ts
 */
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';

// Plain JavaScript entry (eval), so that no TypeScript loader is part of the cost: the worker doubles each
// number it is sent. With workerData it does one task and exits; without, it serves tasks until terminated.
const ENTRY = `
const { parentPort, workerData } = require('node:worker_threads');
if (workerData !== undefined) parentPort.postMessage(workerData * 2);
else parentPort.on('message', (n) => parentPort.postMessage(n * 2));
`;

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  const TASKS = 20;
  // 1. A new worker for each task: start it, get its one answer, wait until it has exited.
  const perTask: number[] = [];
  const start1 = performance.now();
  for (let i = 0; i < TASKS; i++) {
    const t = performance.now();
    const worker = new Worker(ENTRY, { eval: true, workerData: i });
    const [answer] = (await once(worker, 'message')) as [number];
    perTask.push(performance.now() - t);
    if (answer !== i * 2) throw new Error('wrong answer');
    await once(worker, 'exit');
  }
  const total1 = performance.now() - start1;

  // 2. One worker, started once, then reused for every task.
  const t0 = performance.now();
  const worker = new Worker(ENTRY, { eval: true });
  await once(worker, 'online');
  const startup = performance.now() - t0;
  const ROUND_TRIPS = 10_000;
  const trips: number[] = [];
  const start2 = performance.now();
  for (let i = 0; i < ROUND_TRIPS; i++) {
    const t = performance.now();
    worker.postMessage(i);
    const [answer] = (await once(worker, 'message')) as [number];
    trips.push(performance.now() - t);
    if (answer !== i * 2) throw new Error('wrong answer');
  }
  const total2 = performance.now() - start2;
  await worker.terminate();

  const us = (ms: number): string => `${(ms * 1000).toFixed(0)} µs`;
  console.log(
    `a new worker per task: ${TASKS} tasks in ${total1.toFixed(0)} ms; one task, to its answer: median ${median(perTask).toFixed(1)} ms`,
  );
  console.log(
    `one reused worker:     started once in ${startup.toFixed(1)} ms; ${ROUND_TRIPS} tasks in ${total2.toFixed(0)} ms; one round trip: median ${us(median(trips))}`,
  );
  console.log(`a reused round trip is ${(median(perTask) / median(trips)).toFixed(0)}x cheaper than a new worker`);
}

void main();
