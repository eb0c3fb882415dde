/**
 * Remembers every worker thread the graded code starts, so a suite can stop the ones a wrong solution
 * leaks (a close() that does not terminate, a test that failed half-way), and can check the promise a spec
 * makes that nothing is left running.
 *
 * It only records workers; it never changes how they behave. Import it before the graded code, so that
 * code's `new Worker(...)` goes through the recording subclass.
 */
import type { Worker as WorkerType } from 'node:worker_threads';

// The module object itself (not an import-interop copy), shared with the graded code through Node's cache.
// eslint-disable-next-line @typescript-eslint/no-require-imports -- the patch must reach the real exports
const threads = require('node:worker_threads') as typeof import('node:worker_threads');
const RealWorker = threads.Worker;
const alive = new Set<WorkerType>();

class RecordedWorker extends RealWorker {
  constructor(...args: ConstructorParameters<typeof RealWorker>) {
    super(...args);
    alive.add(this);
    this.once('exit', () => alive.delete(this));
  }
}
(threads as { Worker: typeof RealWorker }).Worker = RecordedWorker;

/** How many workers the graded code started that have not exited yet. */
export function liveWorkers(): number {
  return alive.size;
}

/** Terminates every worker the graded code started that is still running, and waits until they exited. */
export async function stopLeakedWorkers(): Promise<void> {
  await Promise.all([...alive].map((worker) => worker.terminate().catch(() => undefined)));
  alive.clear();
}
