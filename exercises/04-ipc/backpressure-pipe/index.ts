/**
 * Exercise 04-ipc/backpressure-pipe — chapter: chapters/04-ipc.md#exercise-backpressure-pipe
 *
 * Stream data into another process through a pipe without ever holding more of it than the pipe can take:
 * when the consumer is slower than the producer, the producer waits (backpressure) instead of buffering.
 */
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
export function pump(source: AsyncIterable<Buffer>, destination: Writable): Promise<void> {
  // TODO: write each chunk of the source to the destination; when write() returns false, wait for 'drain'
  // before pulling the next one. End the destination when the source is done and resolve on 'finish'.
  // Listen for 'error' on the destination the whole time.
  throw new Error('Not implemented: pump() in exercises/04-ipc/backpressure-pipe');
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
export function feed(command: string, args: string[], source: AsyncIterable<Buffer>): Promise<FeedResult> {
  // TODO: spawn the consumer with stdin and stdout piped, collect its stdout, pump() the source into its stdin,
  // and settle once it has ended ('close'). On a failure, kill it rather than ending its stdin.
  throw new Error(`Not implemented: feed(${JSON.stringify(command)}, …) in exercises/04-ipc/backpressure-pipe`);
}
