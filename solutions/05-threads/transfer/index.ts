/**
 * Exercise 05-threads/transfer — chapter: chapters/05-threads.md#exercise-transfer
 *
 * Copy, move or share: three ways data reaches another thread. A long-lived worker thread inverts big
 * binary buffers. The bytes are MOVED to it (transferred, not copied), inverted in place there, and moved
 * back. How far the work has got is SHARED: it lives in memory both threads see, so the caller can read it
 * at any moment without waiting for a message.
 */
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { TransformReply, TransformRequest, TransformerWorkerData } from './worker';

export interface Transformer {
  /**
   * Inverts every byte of `bytes` (each byte `b` becomes `255 - b`) in this transformer's worker thread,
   * never on the calling thread, and resolves with the result: a Uint8Array of the same length holding the
   * inverted bytes. `bytes` is a Uint8Array (a Node Buffer is one) over an ordinary ArrayBuffer.
   *
   * Moved, not copied. When `bytes` covers the whole of its ArrayBuffer (`bytes.byteOffset === 0` and
   * `bytes.byteLength === bytes.buffer.byteLength`), that ArrayBuffer is transferred to the worker: when
   * transform() returns — synchronously, before the promise settles — the caller's `bytes` is detached
   * (`bytes.byteLength` is 0) and its memory belongs to the worker. The worker inverts the bytes in place,
   * in the memory it received, and transfers that memory back as the result.
   *
   * A window into a larger buffer is not the caller's to give away. When `bytes` does not cover its whole
   * ArrayBuffer (a `subarray()`, or a small Node Buffer, which is a slice of a shared 8 KiB pool), the
   * window's bytes are first copied into an ArrayBuffer of their own, exactly their size, and that copy is
   * what moves. The caller's `bytes` and the rest of its ArrayBuffer stay attached and unchanged.
   *
   * Calls may overlap: each call resolves with the result for its own `bytes`, whatever else is in flight.
   */
  transform(bytes: Uint8Array): Promise<Uint8Array>;
  /**
   * How many bytes the worker has inverted so far, counted over every transform() of this transformer:
   * 0 before the first. The count lives in memory shared with the worker (a SharedArrayBuffer), and the
   * worker advances it itself as it works — for example after every 1 MiB, and always before it sends a
   * result back. So bytesDone() is current even when the calling thread has not handled a single message
   * since the work began: read in a synchronous loop that never yields to the event loop, it still sees
   * the count grow. Once a transform() has resolved, all of its bytes are counted.
   */
  bytesDone(): number;
  /**
   * Stops the worker thread and resolves once it has exited, so no thread is left behind. Calls still
   * pending then reject. The transformer is not used after close().
   */
  close(): Promise<void>;
}

/** Creates a Transformer and starts its one worker thread, from `worker.ts` beside this file. */
export function createTransformer(): Transformer {
  // Shared, not copied: a SharedArrayBuffer posted to a worker is the same memory on both sides.
  const progress = new Int32Array(new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT));
  const workerData: TransformerWorkerData = { progress: progress.buffer as SharedArrayBuffer };
  const worker = new Worker(path.join(__dirname, 'worker.ts'), { workerData });
  const pending = new Map<number, { resolve: (bytes: Uint8Array) => void; reject: (error: Error) => void }>();
  let nextId = 0;
  let stopped: Error | undefined;

  const failAll = (error: Error): void => {
    stopped ??= error;
    for (const call of pending.values()) call.reject(error);
    pending.clear();
  };

  // One listener for every reply; the id says which call it answers.
  worker.on('message', ({ id, bytes }: TransformReply) => {
    const call = pending.get(id);
    if (!call) return;
    pending.delete(id);
    call.resolve(bytes);
  });
  worker.on('error', (error) => failAll(new Error(`the transform worker failed: ${error.message}`)));
  worker.on('exit', (code) => failAll(new Error(`the transform worker has stopped (exit code ${code})`)));

  return {
    transform(bytes) {
      if (stopped) return Promise.reject(stopped);
      // Only a view that covers its whole ArrayBuffer may give that buffer away. Anything else is copied
      // first into a buffer of its own (new Uint8Array(view) copies; Buffer's slice() would not).
      const ownsItsBuffer = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength;
      const moving = ownsItsBuffer ? bytes : new Uint8Array(bytes);
      return new Promise<Uint8Array>((resolve, reject) => {
        const id = nextId++;
        pending.set(id, { resolve, reject });
        // The transfer list moves the memory: from here on, `moving` is detached on this thread.
        worker.postMessage({ id, bytes: moving } satisfies TransformRequest, [moving.buffer as ArrayBuffer]);
      });
    },
    bytesDone() {
      return Atomics.load(progress, 0);
    },
    async close() {
      // terminate() resolves once the thread has exited; the 'exit' listener rejects what is still pending.
      await worker.terminate();
    },
  };
}
