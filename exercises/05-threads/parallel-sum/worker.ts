/**
 * Exercise 05-threads/parallel-sum — chapter: chapters/05-threads.md#exercise-parallel-sum
 *
 * The worker thread's entry file: index.ts starts one per slice, with
 * `new Worker(path.join(__dirname, 'worker.ts'), { workerData })`.
 *
 * A worker computes one slice. It reads its task from `workerData` (node:worker_threads; you choose its
 * shape together with index.ts: the work file, the slice's start and end, the context), loads the work
 * module with `require(workFile)` (worker.ts is loaded as CommonJS, so require works here), calls its
 * `sumSlice(start, end, context)`, and posts the bigint it returns on `parentPort`. An exception that
 * escapes this file ends the worker and reaches the main thread as the Worker's 'error' event, with the
 * same message. A worker that listens for nothing exits by itself once its code has run.
 */

// TODO: read the task from workerData, load the work module, compute the slice and post its sum.
throw new Error('Not implemented: the worker thread in exercises/05-threads/parallel-sum/worker.ts');
