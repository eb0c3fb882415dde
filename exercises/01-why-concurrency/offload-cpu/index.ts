/**
 * Exercise 01-why-concurrency/offload-cpu — chapter: chapters/01-why-concurrency.md#exercise-offload-cpu
 *
 * A service with one expensive request (count the primes below a limit) and one cheap one (ping). The
 * expensive work must run in a worker thread, so while it runs the event loop stays free and ping — or any
 * other request — is answered at once.
 *
 * Files: primes.ts is given (countPrimesBelow, the CPU-heavy work); worker.ts is the worker thread's entry
 * file, which you write; this file starts the worker and talks to it. Start it with
 * `new Worker(path.join(__dirname, 'worker.ts'))` from node:worker_threads: TypeScript entry files load in
 * worker threads as they are, no build step needed.
 */

export interface PrimeService {
  /**
   * Counts the primes below `limit` (what `countPrimesBelow(limit)` in primes.ts returns) in a worker
   * thread, never on the calling thread, so the event loop stays free while the count runs.
   *
   * Calls may overlap: each call resolves with the count for its own `limit`, whatever order the calls
   * were made or finish in.
   *
   * A bad `limit` (not a non-negative safe integer, e.g. -1 or 1.5) rejects that call only, with an Error
   * carrying the worker's RangeError message; other calls, in flight or later, still get their answers.
   */
  countPrimes(limit: number): Promise<number>;
  /** Resolves with 'pong' at once — also while counts are running. */
  ping(): Promise<'pong'>;
  /**
   * Stops the worker thread(s) this service started, and resolves only once they have exited, so none is
   * left behind. The service is not used after close().
   */
  close(): Promise<void>;
}

/**
 * Creates a PrimeService whose counts run in worker thread(s) started from `worker.ts` beside this file.
 */
export function createPrimeService(): PrimeService {
  // TODO: start the worker, keep track of the calls waiting for a reply, and return the three methods.
  throw new Error('Not implemented: createPrimeService() in exercises/01-why-concurrency/offload-cpu');
}
