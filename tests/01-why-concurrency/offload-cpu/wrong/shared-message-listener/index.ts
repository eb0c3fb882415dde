/**
 * Exercise 01-why-concurrency/offload-cpu — chapter: chapters/01-why-concurrency.md#exercise-offload-cpu
 *
 * A service with one expensive request (count the primes below a limit) and one cheap one (ping). The
 * expensive work runs in a worker thread, so while it runs the event loop stays free and ping — or any
 * other request — is answered at once.
 *
 * KNOWN-WRONG VARIANT: one worker, and each call adds its own once('message') listener: every pending listener hears the first reply, so calls that overlap all resolve with the answer to whichever request finished first.
 */
import path from 'node:path';
import { Worker } from 'node:worker_threads';

/** The worker's answer to one request (see worker.ts). */
type CountReply = { id: number; count: number } | { id: number; error: { name: string; message: string } };

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
  const worker = new Worker(path.join(__dirname, 'worker.ts'));
  let nextId = 0;
  return {
    countPrimes(limit) {
      return new Promise<number>((resolve, reject) => {
        worker.once('message', (reply: CountReply) => {
          if ('count' in reply) resolve(reply.count);
          else reject(new RangeError(reply.error.message));
        });
        worker.postMessage({ id: nextId++, limit });
      });
    },
    async ping() {
      return 'pong';
    },
    async close() {
      await worker.terminate();
    },
  };
}
