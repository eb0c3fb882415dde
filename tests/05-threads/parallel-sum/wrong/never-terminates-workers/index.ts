/**
 * Exercise 05-threads/parallel-sum — chapter: chapters/05-threads.md#exercise-parallel-sum
 *
 * Split a sum over the integers 0 ≤ i < n into k slices, compute every slice in a worker thread of its
 * own, all of them at the same time, and combine the slices' sums exactly, in the order of the range.
 *
 * KNOWN-WRONG VARIANT: each worker waits for its task on parentPort and is never terminated, so every worker (its thread, event loop and memory) stays alive after the call has settled, for as long as the process lives.
 */
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { SliceTask } from './worker';

/** What a work module exports. The worker thread loads it with `require(workFile)`. */
export interface WorkModule {
  /**
   * Returns the sum, over the integers start ≤ i < end, of the module's value for element i (0n for an
   * empty slice). Runs synchronously on the thread that calls it; may throw.
   */
  sumSlice(start: number, end: number, context: unknown): bigint;
}

/** One slice of the range: the integers start ≤ i < end, and the sum its worker computed for them. */
export interface SliceSum {
  /** The first element of the slice. */
  start: number;
  /** One past the last element of the slice (the slice is empty when end === start). */
  end: number;
  /** What `sumSlice(start, end, context)` returned for this slice. */
  sum: bigint;
}

/** What parallelSum resolves with. */
export interface ParallelSumResult {
  /** The sum over the whole range 0 ≤ i < n: the sum of every slice's `sum`, exact (a bigint). */
  total: bigint;
  /** The k slices in the order of the range. */
  slices: SliceSum[];
}

/** Options of parallelSum. */
export interface ParallelSumOptions {
  /** Absolute path of the work module (.js or .ts) every worker loads. Default: work.ts beside this file. */
  workFile?: string;
  /** Passed as the third argument of every sumSlice call, in every worker. */
  context?: unknown;
}

/** Computes the sum of the work module's values over the integers 0 ≤ i < n with k worker threads. */
export async function parallelSum(n: number, k: number, options: ParallelSumOptions = {}): Promise<ParallelSumResult> {
  const workFile = options.workFile ?? path.join(__dirname, 'work.ts');
  const bounds = Array.from({ length: k }, (_, j) => ({
    start: Math.floor((j * n) / k),
    end: Math.floor(((j + 1) * n) / k),
  }));
  const sums = await Promise.all(
    bounds.map(({ start, end }) => {
      const worker = new Worker(path.join(__dirname, 'worker.ts'));
      const result = new Promise<bigint>((resolve, reject) => {
        worker.once('message', (sum: bigint) => resolve(sum));
        worker.once('error', (error) => reject(new Error(`slice [${start}, ${end}): ${error.message}`)));
      });
      worker.postMessage({ workFile, start, end, context: options.context } satisfies SliceTask);
      // Resolves as soon as the sum arrives; the worker is left listening on parentPort.
      return result;
    }),
  );
  const slices = bounds.map(({ start, end }, j) => ({ start, end, sum: sums[j]! }));
  return { total: sums.reduce((total, sum) => total + sum, 0n), slices };
}
