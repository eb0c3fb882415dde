/**
 * Exercise 06-processes-vs-threads/which-survives — chapter: chapters/06-processes-vs-threads.md#exercise-which-survives
 *
 * GIVEN (you need not change this file): the entry file of a child process that runs one task.
 *
 * Start it with `fork(path.join(__dirname, 'child.ts'))` and send it one message, `{ module, input }` (a
 * SharedArrayBuffer cannot be sent to another process). It loads `module`, calls its `run(input)`, awaits the
 * result and sends back exactly one reply, a {@link Reply}: `{ status: 'ok', value }` or
 * `{ status: 'threw', message }`. Then it waits: it exits only once the parent has disconnected it
 * (`child.disconnect()`), so its reply always arrives before its 'exit' event.
 * If the task ends the process first (`process.exit(n)`, a signal), no reply comes.
 */
import type { Reply } from './index';

interface ProcessTask {
  module: string;
  input: unknown;
}

async function perform({ module, input }: ProcessTask): Promise<Reply> {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- the task's module is named at run time
    const { run } = require(module) as { run: (input: unknown) => unknown };
    return { status: 'ok', value: await run(input) };
  } catch (error) {
    return { status: 'threw', message: error instanceof Error ? error.message : String(error) };
  }
}

// A 'message' listener keeps the IPC channel (and so this process) alive until the parent disconnects.
process.on('message', (task: ProcessTask) => {
  void perform(task).then((reply) => process.send!(reply));
});
