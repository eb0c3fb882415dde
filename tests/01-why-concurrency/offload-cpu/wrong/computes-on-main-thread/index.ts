/**
 * Exercise 01-why-concurrency/offload-cpu — chapter: chapters/01-why-concurrency.md#exercise-offload-cpu
 *
 * A service with one expensive request (count the primes below a limit) and one cheap one (ping). The
 * expensive work runs in a worker thread, so while it runs the event loop stays free and ping — or any
 * other request — is answered at once.
 *
 * KNOWN-WRONG VARIANT: counts on the main thread inside an async function. "async" only wraps the result in a promise: the work still runs on the calling thread and blocks the event loop, so ping waits for it.
 */
import { countPrimesBelow } from './primes';

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
  return {
    async countPrimes(limit) {
      return countPrimesBelow(limit);
    },
    async ping() {
      return 'pong';
    },
    async close() {},
  };
}
