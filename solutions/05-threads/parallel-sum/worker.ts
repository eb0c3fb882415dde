/**
 * Exercise 05-threads/parallel-sum — chapter: chapters/05-threads.md#exercise-parallel-sum
 *
 * The worker thread's entry file: index.ts starts one per slice, with the slice's task as `workerData`.
 * The worker loads the work module, computes its one slice, posts the bigint sum back on `parentPort`, and
 * ends (it listens for nothing, so its event loop empties and the thread exits by itself). An exception
 * thrown by sumSlice is left uncaught on purpose: it ends this worker and reaches the main thread as the
 * Worker's 'error' event, with the same message.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { WorkModule } from './index';

/** The one task of a worker, given as its `workerData`. */
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
const { workFile, start, end, context } = workerData as SliceTask;
// eslint-disable-next-line @typescript-eslint/no-require-imports -- the work file is chosen at run time
const work = require(workFile) as WorkModule;
parentPort.postMessage(work.sumSlice(start, end, context));
