/**
 * Exercise 05-threads/parallel-sum — chapter: chapters/05-threads.md#exercise-parallel-sum
 *
 * Split a sum over the integers 0 ≤ i < n into k slices, compute every slice in a worker thread of its
 * own, all of them at the same time, and combine the slices' sums exactly, in the order of the range.
 *
 * KNOWN-WRONG VARIANT: computes each slice's end as the index of its last element (inclusive) but passes it to sumSlice, whose end is exclusive: the element at every boundary is computed twice, and one past n once.
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
  /**
   * The k slices in the order of the range: `slices[0].start` is 0, every slice starts where the one
   * before it ends, the last one ends at n, and their lengths (end - start) differ by at most one (so when
   * n < k, some slices are empty). Never in the order in which the workers happened to finish.
   */
  slices: SliceSum[];
}

/** Options of parallelSum. */
export interface ParallelSumOptions {
  /** Absolute path of the work module (.js or .ts) every worker loads. Default: work.ts beside this file. */
  workFile?: string;
  /**
   * Passed as the third argument of every sumSlice call, in every worker. It reaches each worker the way
   * `workerData` does, by structured clone: a SharedArrayBuffer (or a typed array on one) inside it is
   * shared with the worker, not copied. Default: undefined.
   */
  context?: unknown;
}

/**
 * Computes the sum of the work module's values over the integers 0 ≤ i < n with k worker threads.
 *
 * - Splits 0 ≤ i < n into k slices, as `ParallelSumResult.slices` describes.
 * - Computes each slice in a worker thread of its own, started from `worker.ts` beside this file, which
 *   calls the work module's `sumSlice(start, end, context)` for that slice. Every worker is started before
 *   waiting for any of them, so the k slices run at the same time. (A worker for an empty slice may be
 *   skipped: its sum is 0n.)
 * - Resolves with every slice's sum, in the order of the range, and their total.
 * - If a sumSlice call throws, rejects with an Error carrying that error's message as soon as the error
 *   reaches the main thread, without waiting for the other slices: their workers are stopped
 *   (`worker.terminate()`).
 * - Settles — resolves or rejects — only once every worker it started has exited, so none is left running.
 *
 * @param n The length of the range: a non-negative integer.
 * @param k The number of slices, and of worker threads: a positive integer.
 * @param options The work module to run (default: the built-in work.ts) and the context to give it.
 */
export async function parallelSum(n: number, k: number, options: ParallelSumOptions = {}): Promise<ParallelSumResult> {
  const workFile = options.workFile ?? path.join(__dirname, 'work.ts');
  // Slice j runs from ⌊j·n/k⌋ up to and including ⌊(j+1)·n/k⌋.
  const bounds = Array.from({ length: k }, (_, j) => ({
    start: Math.floor((j * n) / k),
    end: Math.floor(((j + 1) * n) / k) + 1,
  }));
  const workers: Worker[] = [];
  try {
    // Start every worker first, then wait for all of them: the slices run at the same time.
    const sums = await Promise.all(
      bounds.map(({ start, end }) => {
        const task: SliceTask = { workFile, start, end, context: options.context };
        const worker = new Worker(path.join(__dirname, 'worker.ts'), { workerData: task });
        workers.push(worker);
        return new Promise<bigint>((resolve, reject) => {
          worker.once('message', (sum: bigint) => resolve(sum));
          // An exception thrown in the worker arrives here, with its message; the first one rejects the call.
          worker.once('error', (error) => reject(new Error(`slice [${start}, ${end}): ${error.message}`)));
          worker.once('exit', (code) =>
            reject(new Error(`the worker for slice [${start}, ${end}) exited with code ${code} and no result`)),
          );
        });
      }),
    );
    // Each sum goes with its own slice, by index: the order of the range, not the order of arrival.
    const slices = bounds.map(({ start, end }, j) => ({ start, end, sum: sums[j]! }));
    return { total: sums.reduce((total, sum) => total + sum, 0n), slices };
  } finally {
    // On success the workers are exiting anyway; on failure the others may still be running. terminate()
    // resolves once the thread has exited (at once for one that already has).
    await Promise.all(workers.map((worker) => worker.terminate()));
  }
}
