/**
 * Exercise 06-processes-vs-threads/which-survives — chapter: chapters/06-processes-vs-threads.md#exercise-which-survives
 *
 * Run each task in a worker thread or in a child process, chosen from what the task needs and what it
 * may do, so that every task gets its outcome and the process running the dispatcher survives them all.
 *
 * KNOWN-WRONG VARIANT: runs every task in a child process because isolation is safer, so a task that needs the caller's SharedArrayBuffer never gets the caller's SharedArrayBuffer (it cannot be sent to another process), so the caller never sees its writes.
 */
import { fork } from 'node:child_process';
import path from 'node:path';

/** One piece of work, and the two facts about it that decide where it may run. */
export interface Task {
  /**
   * Absolute path of a CommonJS module that exports `run(input, shared)`. `run` may return a value or a
   * promise of one; the value must be plain data (it is copied to the caller).
   */
  module: string;
  /** Passed to `run` as its first argument. Plain data: it is copied into the thread or process. */
  input?: unknown;
  /**
   * Memory the task shares with the caller: `run` gets it as its second argument and writes into it, and
   * the caller reads what it wrote after `runAll` resolved. Given when `needsSharedMemory` is true.
   */
  shared?: SharedArrayBuffer;
  /**
   * True when the task must work on `shared` itself, not on a copy: only a worker thread, which lives in the
   * caller's process, can see the caller's memory. A SharedArrayBuffer cannot be sent to another process.
   */
  needsSharedMemory: boolean;
  /**
   * True when the task may take down the whole process it runs in (for example by sending that process
   * SIGKILL). A signal ends every thread of a process at once, so a worker thread cannot contain it: such a
   * task must run in a child process of its own.
   */
  mayCrashProcess: boolean;
}

/** The reply that worker.ts and child.ts send when the task's `run` returned or threw. */
export type Reply = { status: 'ok'; value: unknown } | { status: 'threw'; message: string };

/** How one task ended. */
export type Outcome =
  /** `run` returned (or resolved with) `value`. */
  | { status: 'ok'; value: unknown }
  /** `run` threw (or rejected) with an error whose message is `message`. */
  | { status: 'threw'; message: string }
  /**
   * The thread or process running the task ended before it replied. `code` is its exit code (for
   * `process.exit(3)`: 3), or null when a signal ended it; `signal` is that signal (e.g. 'SIGKILL'), or
   * null when it exited by itself. A worker thread is never ended by a signal: its `signal` is always null.
   */
  | { status: 'died'; code: number | null; signal: NodeJS.Signals | null }
  /**
   * The task was not run at all, because no place is safe for it: it needs the caller's memory (only a
   * thread in this process has that) and may crash its process (which would then be this process).
   * `reason` says so in words.
   */
  | { status: 'refused'; reason: string };

/**
 * Runs every task at the same time, each in the right place, and resolves with their outcomes.
 *
 * - A task with `needsSharedMemory` (and not `mayCrashProcess`) runs in a worker thread started from
 *   `worker.ts`, with `workerData: { module, input, shared }`.
 * - A task with `mayCrashProcess` (and not `needsSharedMemory`) runs in a child process started with
 *   `fork()` from `child.ts`, sent one message `{ module, input }`. When its reply arrives, disconnect the
 *   child (`child.disconnect()`): that is what lets it exit.
 * - A task with both flags is not run; its outcome is `{ status: 'refused', reason }`.
 * - A task with neither flag may run in either place (a thread is cheaper).
 *
 * Every task starts at once, without waiting for any other task to finish: tasks may depend on each other
 * running at the same time. A task's outcome is its thread's or process's reply, or, if it ended without
 * one, `{ status: 'died', code, signal }` from its 'exit' event. Give every Worker an 'error' listener (an
 * exception a worker does not catch is otherwise thrown in the caller's process; report it as
 * `{ status: 'threw', message }`), and send to a child with a callback (a send to a child that has already
 * died then fails quietly, and its 'exit' still tells how it ended).
 *
 * Resolves with one outcome per task, `outcomes[i]` being the outcome of `tasks[i]` (task order, not the
 * order in which they finished), once every thread and process it started has exited. Never rejects
 * because of a task, and the process that calls it keeps running whatever the tasks do.
 */
export function runAll(tasks: Task[]): Promise<Outcome[]> {
  return Promise.all(
    tasks.map((task) => {
      if (task.needsSharedMemory && task.mayCrashProcess) {
        return Promise.resolve<Outcome>({
          status: 'refused',
          reason:
            'it needs the memory of this process, so only a thread here could run it, and it may crash the ' +
            'process it runs in, which would then be this one',
        });
      }
      // A process of its own is the safest place for any task.
      return runInProcess(task);
    }),
  );
}

function runInProcess(task: Task): Promise<Outcome> {
  return new Promise((resolve) => {
    const child = fork(path.join(__dirname, 'child.ts'));
    let outcome: Outcome | undefined;
    child.once('message', (reply: Reply) => {
      outcome = reply;
      if (child.connected) child.disconnect();
    });
    // Could not start at all ('exit' may then never come).
    child.on('error', (error) => {
      if (child.pid === undefined) resolve({ status: 'threw', message: error.message });
    });
    child.once('exit', (code, signal) => resolve(outcome ?? { status: 'died', code, signal }));
    // A send that fails means the child is already gone: its 'exit' tells how.
    child.send({ module: task.module, input: task.input }, () => {});
  });
}
