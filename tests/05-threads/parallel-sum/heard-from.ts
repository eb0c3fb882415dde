/**
 * For the parallel-sum suite: remembers which worker threads the main thread has heard from — a message of
 * theirs was delivered, or they exited — so the suite can release one slice only once the previous one's
 * result has reached the graded code. It only listens; it never changes how workers behave.
 *
 * Import it after tests/support/worker-tracker and before the graded code, so that code's `new Worker(...)`
 * goes through this subclass. Its 'message' listener is added in the constructor, before any the graded
 * code adds, so by the time it has run for a message, so have the graded code's listeners.
 */
import type { Worker as WorkerType } from 'node:worker_threads';

// eslint-disable-next-line @typescript-eslint/no-require-imports -- the patch must reach the real exports
const threads = require('node:worker_threads') as typeof import('node:worker_threads');
const Base = threads.Worker;
const heard = new Set<number>();

class HeardWorker extends Base {
  constructor(...args: ConstructorParameters<typeof Base>) {
    super(...args);
    const threadId = this.threadId;
    this.on('message', () => heard.add(threadId));
    this.once('exit', () => heard.add(threadId));
  }
}
(threads as { Worker: typeof WorkerType }).Worker = HeardWorker;

/** True once a message from the worker with this threadId was delivered on the main thread, or it exited. */
export function heardFrom(threadId: number): boolean {
  return heard.has(threadId);
}
