/**
 * Exercise 05-threads/transfer — chapter: chapters/05-threads.md#exercise-transfer
 *
 * The worker thread's entry file. index.ts starts it with
 * `new Worker(path.join(__dirname, 'worker.ts'), { workerData })`; it runs on its own thread, with its own
 * event loop. `workerData` (from node:worker_threads) is whatever index.ts passed: give it the
 * SharedArrayBuffer that holds the count of bytes done.
 *
 * You design the messages with index.ts: the worker receives requests on `parentPort`, inverts each one's
 * bytes in place (`bytes[i] = 255 - bytes[i]`), adds to the shared count as it goes (`Atomics.add` on an
 * Int32Array over the SharedArrayBuffer, e.g. after every 1 MiB), and posts the same bytes back with their
 * ArrayBuffer in the transfer list, so the memory moves back instead of being copied. Give the main thread
 * a way to tell which call a reply answers.
 */

// TODO: listen for requests on parentPort, invert each one's bytes in place, count them, and move them back.
throw new Error('Not implemented: the worker thread in exercises/05-threads/transfer/worker.ts');
