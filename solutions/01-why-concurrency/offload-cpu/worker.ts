/**
 * Exercise 01-why-concurrency/offload-cpu — chapter: chapters/01-why-concurrency.md#exercise-offload-cpu
 *
 * The worker thread's entry file. index.ts starts it with `new Worker(path.join(__dirname, 'worker.ts'))`;
 * it runs on its own thread, with its own event loop, so a long count here never blocks the main thread.
 *
 * Protocol (designed by index.ts and this file together): the main thread posts `{ id, limit }`; the worker
 * answers each request with `{ id, count }`, or `{ id, error }` when countPrimesBelow throws. The id lets
 * the main thread hand every reply to the call that asked for it.
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
  let reply: CountReply;
  try {
    reply = { id, count: countPrimesBelow(limit) };
  } catch (error) {
    // Catch it here: an uncaught exception would end this worker, and with it every later call.
    const { name, message } = error instanceof Error ? error : new Error(String(error));
    reply = { id, error: { name, message } };
  }
  port.postMessage(reply);
});
