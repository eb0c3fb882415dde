/**
 * Exercise 04-ipc/backpressure-pipe — chapter: chapters/04-ipc.md#exercise-backpressure-pipe
 *
 * Stream data into another process through a pipe without ever holding more of it than the pipe can take:
 * when the consumer is slower than the producer, the producer waits (backpressure) instead of buffering.
 *
 * KNOWN-WRONG VARIANT: when the consumer exits early, feed() rejects with the bare 'write EPIPE' from its stdin instead of saying how the consumer ended (its exit code or signal).
 */
import { spawn } from 'node:child_process';
import type { Writable } from 'node:stream';

/**
 * Writes every chunk of `source`, in order, to `destination`, then ends `destination`.
 *
 * - Backpressure: `destination.write(chunk)` returns false once the destination's buffer is full (its
 *   `writableHighWaterMark`). After that, write nothing and pull nothing more from `source` until the
 *   destination emits 'drain'. Pull a chunk only when you are about to write it: no reading ahead. So
 *   however much data the source has, while the destination takes nothing you hold at most its buffer
 *   plus one chunk.
 * - When the source is done: `end()` the destination and resolve only once it has emitted 'finish' (all
 *   the data has been handed on: for a pipe, to the operating system), not as soon as the last chunk has
 *   been given to `write()`. `destination.end(callback)` calls back then, or with an error.
 * - If the destination fails (it emits 'error', e.g. EPIPE when the process reading the pipe has exited),
 *   stop pulling, close the source (leaving a `for await` loop by `throw` or `break` does this for you: it
 *   calls the iterator's `return()`), and reject with the destination's error. An 'error' can come at any
 *   moment, also while you wait for the source or for 'drain': listen for it the whole time (an 'error'
 *   event that nothing listens to crashes the process).
 * - If the source throws, reject with the error it threw, and do not `end()` the destination: whoever
 *   reads from it would see a normal end of the data and take what it got for all of it. What to do with
 *   the destination then is the caller's decision.
 */
export async function pump(source: AsyncIterable<Buffer>, destination: Writable): Promise<void> {
  let destinationError: Error | undefined;
  const onError = (error: Error): void => {
    destinationError ??= error;
  };
  destination.on('error', onError);
  try {
    for await (const chunk of source) {
      if (destinationError) throw destinationError;
      // false: the destination's buffer is full. Pull nothing more until it has drained.
      if (!destination.write(chunk)) await drained(destination);
    }
    if (destinationError) throw destinationError;
    await new Promise<void>((resolve, reject) =>
      destination.end((error?: Error | null) => (error ? reject(error) : resolve())),
    );
  } finally {
    destination.off('error', onError);
  }
}

/** Resolves on 'drain'; rejects if the destination fails or closes first (then 'drain' never comes). */
function drained(destination: Writable): Promise<void> {
  if (destination.errored) return Promise.reject(destination.errored);
  if (destination.destroyed) return Promise.reject(new Error('the destination closed before all data was written'));
  return new Promise((resolve, reject) => {
    const done = (error?: Error): void => {
      destination.off('drain', onDrain);
      destination.off('error', onError);
      destination.off('close', onClose);
      if (error) reject(error);
      else resolve();
    };
    const onDrain = (): void => done();
    const onError = (error: Error): void => done(error);
    const onClose = (): void =>
      done(destination.errored ?? new Error('the destination closed before all data was written'));
    destination.on('drain', onDrain);
    destination.on('error', onError);
    destination.on('close', onClose);
  });
}

export interface FeedResult {
  /** The consumer's exit code, or null when a signal ended it. */
  code: number | null;
  /** The signal that ended the consumer (e.g. 'SIGTERM'), or null when it exited by itself. */
  signal: NodeJS.Signals | null;
  /** Everything the consumer wrote to its stdout, decoded as UTF-8. */
  stdout: string;
}

/**
 * Starts the consumer `command` with `args` (no shell), its stdin and stdout piped to this process and its
 * stderr inherited, and streams every chunk of `source` into its stdin with {@link pump}, so that a slow
 * consumer slows the producer down instead of making this process buffer the data.
 *
 * - When all of the source has been written and the consumer has ended (its 'close' event: it has exited and
 *   its stdout is closed), resolves with how it ended and what it wrote to stdout, whatever its exit code.
 * - If the source throws: do not end the consumer's stdin (to the consumer, the end of its input means "that
 *   was everything"): kill it (`child.kill()`), wait until it has ended, then reject with the source's error.
 * - If writing to the consumer's stdin fails (it exited, or closed its stdin, before reading all of its
 *   input: EPIPE), stop it if it is still running, wait until it has ended, then reject with an Error whose
 *   message says how it ended: `exited with code <n>` or `was killed by <signal>` (for example
 *   "the consumer exited with code 3 before reading all of its input").
 *
 * In every case, when the returned promise settles, the consumer is no longer running.
 */
export async function feed(command: string, args: string[], source: AsyncIterable<Buffer>): Promise<FeedResult> {
  const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'inherit'] });
  const stdout: Buffer[] = [];
  child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
  // 'close' comes after 'exit' and after stdout has ended. It comes after a failed spawn too ('error' first).
  let spawnError: Error | undefined;
  child.on('error', (error) => (spawnError ??= error));
  const ended = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal })),
  );
  // Keeps a late EPIPE from crashing the process.
  child.stdin.on('error', () => {});

  try {
    await pump(source, child.stdin);
  } catch (error) {
    // Never end its stdin here: that would tell the consumer the (truncated) input is complete.
    child.kill();
    await ended;
    if (spawnError) throw new Error(`could not start ${command}: ${spawnError.message}`, { cause: error });
    throw error; // what went wrong: the source's error, or the consumer's EPIPE
  }
  const { code, signal } = await ended;
  if (spawnError) throw new Error(`could not start ${command}: ${spawnError.message}`);
  return { code, signal, stdout: Buffer.concat(stdout).toString('utf8') };
}
