/**
 * Exercise 01-why-concurrency/offload-cpu — chapter: chapters/01-why-concurrency.md#exercise-offload-cpu
 *
 * A service with one expensive request (count the primes below a limit) and one cheap one (ping). The
 * expensive work runs in a worker thread, so while it runs the event loop stays free and ping — or any
 * other request — is answered at once.
 */
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { CountReply, CountRequest } from './worker';

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
  const pending = new Map<number, { resolve: (count: number) => void; reject: (error: Error) => void }>();
  let nextId = 0;
  let stopped: Error | undefined;

  const failAll = (error: Error): void => {
    stopped ??= error;
    for (const call of pending.values()) call.reject(error);
    pending.clear();
  };

  // One listener for every reply; the id says which call it answers.
  worker.on('message', (reply: CountReply) => {
    const call = pending.get(reply.id);
    if (!call) return;
    pending.delete(reply.id);
    if ('count' in reply) call.resolve(reply.count);
    else
      call.reject(
        reply.error.name === 'RangeError' ? new RangeError(reply.error.message) : new Error(reply.error.message),
      );
  });
  worker.on('error', (error) => failAll(new Error(`the prime worker failed: ${error.message}`)));
  worker.on('exit', (code) => failAll(new Error(`the prime worker has stopped (exit code ${code})`)));

  return {
    countPrimes(limit) {
      if (stopped) return Promise.reject(stopped);
      return new Promise<number>((resolve, reject) => {
        const id = nextId++;
        pending.set(id, { resolve, reject });
        worker.postMessage({ id, limit } satisfies CountRequest);
      });
    },
    async ping() {
      return 'pong';
    },
    async close() {
      // terminate() resolves once the thread has exited.
      await worker.terminate();
    },
  };
}
