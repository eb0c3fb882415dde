/**
 * Exercise 05-threads/transfer — chapter: chapters/05-threads.md#exercise-transfer
 *
 * The worker thread's entry file. index.ts starts it with
 * `new Worker(path.join(__dirname, 'worker.ts'), { workerData })`, where workerData carries the
 * SharedArrayBuffer that holds the progress count.
 *
 * Protocol (designed by index.ts and this file together): the main thread posts `{ id, bytes }`, with
 * `bytes.buffer` in the transfer list; the worker inverts the bytes in place, adds to the shared count as
 * it goes, and posts `{ id, bytes }` back, again with `bytes.buffer` in the transfer list, so the memory
 * moves back instead of being copied. The id lets the main thread hand every reply to the call that asked.
 */
import { parentPort, workerData } from 'node:worker_threads';

/** What the worker is started with. */
export interface TransformerWorkerData {
  /** Shared with the main thread: one Int32 counting the bytes inverted so far. */
  progress: SharedArrayBuffer;
}

/** A request from the main thread; `bytes.buffer` was transferred with it. */
export interface TransformRequest {
  /** Chosen by the main thread; copied into the reply. */
  id: number;
  /** The bytes to invert, in memory that now belongs to this thread. */
  bytes: Uint8Array;
}

/** The worker's answer: the same memory, inverted, transferred back. */
export interface TransformReply {
  id: number;
  bytes: Uint8Array;
}

/** Progress is published at least this often, so a reader sees a big transform advance. */
const CHUNK_BYTES = 1024 * 1024;

if (!parentPort) throw new Error('worker.ts is the entry file of a worker thread; start it with new Worker().');
const port = parentPort;
const progress = new Int32Array((workerData as TransformerWorkerData).progress);

port.on('message', ({ id, bytes }: TransformRequest) => {
  for (let start = 0; start < bytes.length; start += CHUNK_BYTES) {
    const end = Math.min(start + CHUNK_BYTES, bytes.length);
    for (let i = start; i < end; i += 1) bytes[i] = 255 - bytes[i];
    // An atomic add: the main thread reads the count at any moment, with no message in between.
    Atomics.add(progress, 0, end - start);
  }
  port.postMessage({ id, bytes } satisfies TransformReply, [bytes.buffer as ArrayBuffer]);
});
