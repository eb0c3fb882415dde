/**
 * Exercise 01-why-concurrency/offload-cpu — chapter: chapters/01-why-concurrency.md#exercise-offload-cpu
 *
 * The worker thread's entry file. index.ts starts it with `new Worker(path.join(__dirname, 'worker.ts'))`;
 * it runs on its own thread, with its own event loop, so a long count here never blocks the main thread.
 *
 * You design the messages with index.ts: the worker receives requests on `parentPort` (from
 * node:worker_threads), runs `countPrimesBelow` from ./primes for each, and posts a reply back — the count,
 * or the message of the RangeError it threw. Give the main thread a way to tell which call a reply answers.
 */

// TODO: listen for requests on parentPort, and answer every one of them (catch the RangeError, too).
throw new Error('Not implemented: the worker thread in exercises/01-why-concurrency/offload-cpu/worker.ts');
