/**
 * Exercise 05-threads/parallel-sum — chapter: chapters/05-threads.md#exercise-parallel-sum
 *
 * Split a sum over the integers 0 ≤ i < n into k slices, compute every slice in a worker thread of its
 * own, all of them at the same time, and combine the slices' sums exactly, in the order of the range.
 *
 * Files: work.ts is given (the built-in work: a slow per-element value, and sumSlice, which adds it up over
 * a slice); worker.ts is the worker thread's entry file, which you write; this file splits the range,
 * starts one worker per slice and combines what they post back. Start a worker with
 * `new Worker(path.join(__dirname, 'worker.ts'), { workerData })` from node:worker_threads: TypeScript
 * entry files load in worker threads as they are, no build step needed.
 */

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
export function parallelSum(n: number, k: number, options: ParallelSumOptions = {}): Promise<ParallelSumResult> {
  // TODO: split 0..n into k slices, start one worker per slice (all of them before waiting for any), collect
  // each slice's sum by its index, and settle only once every worker has exited.
  throw new Error(
    `Not implemented: parallelSum(${n}, ${k}${options.workFile ? ', …' : ''}) in exercises/05-threads/parallel-sum`,
  );
}
