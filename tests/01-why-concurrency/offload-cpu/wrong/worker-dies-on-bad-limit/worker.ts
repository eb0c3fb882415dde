/**
 * Exercise 01-why-concurrency/offload-cpu — chapter: chapters/01-why-concurrency.md#exercise-offload-cpu
 *
 * The worker thread's entry file. index.ts starts it with `new Worker(path.join(__dirname, 'worker.ts'))`;
 * it runs on its own thread, with its own event loop, so a long count here never blocks the main thread.
 *
 * Protocol (designed by index.ts and this file together): the main thread posts `{ id, limit }`; the worker
 * answers each request with `{ id, count }`, or `{ id, error }` when countPrimesBelow throws. The id lets
 * the main thread hand every reply to the call that asked for it.
 *
 * KNOWN-WRONG VARIANT: does not catch the RangeError, so a bad limit is an uncaught exception that ends the worker thread: the bad call is rejected, but so is every call in flight, and the service has no worker left for later calls.
 */
import { parentPort } from 'node:worker_threads';
import { countPrimesBelow } from './primes';

/** A request from the main thread. */
export interface CountRequest {
  /** Chosen by the main thread; copied into the reply. */
  id: number;
  /** The limit to pass to countPrimesBelow. */
  limit: number;
}

/** The worker's answer to one request: the count, or why there is none. */
export type CountReply = { id: number; count: number } | { id: number; error: { name: string; message: string } };

if (!parentPort) throw new Error('worker.ts is the entry file of a worker thread; start it with new Worker().');
const port = parentPort;

port.on('message', ({ id, limit }: CountRequest) => {
  const reply: CountReply = { id, count: countPrimesBelow(limit) };
  port.postMessage(reply);
});
