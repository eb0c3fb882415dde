/**
 * Exercise 06-processes-vs-threads/which-survives — chapter: chapters/06-processes-vs-threads.md#exercise-which-survives
 *
 * GIVEN (you need not change this file): the entry file of a worker thread that runs one task.
 *
 * Start it with `new Worker(path.join(__dirname, 'worker.ts'), { workerData: { module, input, shared } })`.
 * It loads `module`, calls its `run(input, shared)`, awaits the result and posts exactly one reply, a
 * {@link Reply}: `{ status: 'ok', value }` or `{ status: 'threw', message }`. Then it has nothing left to do,
 * and the thread ends by itself (its 'exit' event comes after the reply's 'message' event).
 * If the task ends the thread first (`process.exit(n)` in a worker ends only that worker), no reply comes.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { Reply } from './index';

interface ThreadTask {
  module: string;
  input: unknown;
  shared?: SharedArrayBuffer;
}

async function perform({ module, input, shared }: ThreadTask): Promise<Reply> {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- the task's module is named at run time
    const { run } = require(module) as { run: (input: unknown, shared?: SharedArrayBuffer) => unknown };
    return { status: 'ok', value: await run(input, shared) };
  } catch (error) {
    return { status: 'threw', message: error instanceof Error ? error.message : String(error) };
  }
}

void perform(workerData as ThreadTask).then((reply) => parentPort!.postMessage(reply));
