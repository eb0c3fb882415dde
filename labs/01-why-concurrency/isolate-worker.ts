// Worker entry for worker-cost.ts: ticks a 10 ms timer on its own event loop and answers questions.
import { parentPort, threadId } from 'node:worker_threads';

export interface Report {
  pid: number;
  threadId: number;
  ticks: number;
  /** typeof globalThis.marker, which the main thread set before starting this worker. */
  marker: string;
}

let ticks = 0;
setInterval(() => ticks++, 10);
parentPort!.on('message', () => {
  const marker = typeof (globalThis as { marker?: unknown }).marker;
  parentPort!.postMessage({ pid: process.pid, threadId, ticks, marker } satisfies Report);
});
parentPort!.postMessage('ready');
