/**
 * Exercise 05-threads/parallel-sum — chapter: chapters/05-threads.md#exercise-parallel-sum
 *
 * The worker thread's entry file: it waits for its task on parentPort, computes the slice and posts the sum.
 *
 * KNOWN-WRONG VARIANT: the 'message' listener on parentPort keeps this worker's event loop alive for ever, and index.ts never terminates it.
 */
import { parentPort } from 'node:worker_threads';
import type { WorkModule } from './index';

/** The one task of a worker, posted to it by index.ts. */
export interface SliceTask {
  /** Absolute path of the work module to load. */
  workFile: string;
  /** The slice: start ≤ i < end. */
  start: number;
  end: number;
  /** The third argument of sumSlice. */
  context: unknown;
}

if (!parentPort) throw new Error('worker.ts is the entry file of a worker thread; start it with new Worker().');
const port = parentPort;
port.on('message', ({ workFile, start, end, context }: SliceTask) => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- the work file is chosen at run time
  const work = require(workFile) as WorkModule;
  port.postMessage(work.sumSlice(start, end, context));
});
