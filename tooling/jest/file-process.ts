/**
 * Runs one grading suite inside a fresh process that the isolated runner started in its own process
 * group. It uses the very code path of Jest's own worker processes (jest-runner's testWorker), so a
 * suite behaves here exactly as it would under plain Jest, but whatever the graded code does to this
 * process (exit, hang, crash, leave children behind) stays in this process group.
 *
 * The runner starts these processes ahead of time ("warm"): each loads Jest's test machinery while it
 * waits for its one suite, and exits if the runner goes away first.
 */
import { writeSync } from 'node:fs';
import path from 'node:path';
import { EXIT_MARKER, type FileJob, type FileMessage } from './file-protocol';

interface JestTestWorker {
  setup(data: FileJob['setup']): Promise<void>;
  worker(args: FileJob['work']): Promise<unknown>;
}

// jest-runner does not export its worker entry; resolve the file next to its package.json.
const testWorkerFile = path.join(path.dirname(require.resolve('jest-runner/package.json')), 'build/testWorker.js');
/** Modules every suite needs, loaded while the process waits for its suite. */
const PRELOAD = ['jest-runtime', 'jest-environment-node', 'jest-circus/runner', 'jest-snapshot', '@swc/jest'];

function send(message: FileMessage): Promise<void> {
  return new Promise((resolve) => process.send!(message, () => resolve()));
}

// Every way of exiting on purpose (process.exit from any realm, at import time or in a test) ends in
// process.reallyExit. Say so on stderr, synchronously, so the runner can tell "exited" from "crashed".
const processWithExit = process as unknown as { reallyExit(code: number): never };
const reallyExit = processWithExit.reallyExit.bind(process);
let leavingQuietly = false;
processWithExit.reallyExit = (code: number) => {
  if (!leavingQuietly) writeSync(2, `\n${EXIT_MARKER}${code}\n`);
  return reallyExit(code);
};

process.once('disconnect', () => {
  leavingQuietly = true;
  process.exit(0);
});

process.once('message', async (job: FileJob) => {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- a file path, resolved at run time
    const testWorker = require(testWorkerFile) as JestTestWorker;
    await testWorker.setup(job.setup);
    const result = await testWorker.worker(job.work);
    await send({ kind: 'result', result });
  } catch (error) {
    const { message, stack } = error as Error;
    await send({ kind: 'error', message: String(message), stack: String(stack ?? message) });
  }
  // The parent kills this process group once it has the result; leaked handles cannot keep it alive.
});

setImmediate(() => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- warming Node's module cache
  for (const name of PRELOAD) require(name);
});
