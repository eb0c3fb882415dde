/**
 * Exercise 06-processes-vs-threads/isolate — chapter: chapters/06-processes-vs-threads.md#exercise-isolate
 *
 * Run risky work in a child process, so that whatever it does — throw, exit, crash, run out of memory,
 * never finish — this process lives on and can say exactly how it ended.
 *
 * KNOWN-WRONG VARIANT: takes every SIGABRT for out of memory without reading stderr, so process.abort() is reported as out-of-memory.
 */
import { fork } from 'node:child_process';
import path from 'node:path';
import type { RunnerReport, RunnerTask } from './runner';

/** What to run: a module that exports a function, and the argument to call it with. */
export interface IsolateTask {
  /**
   * Absolute path of a CommonJS module (`.js`, or `.ts`: TypeScript loads in the child) whose
   * `module.exports` is the task function (or whose `default` export is). The function takes `input`
   * and returns a value or a promise of one.
   */
  module: string;
  /** The task function's one argument. It travels to the child as JSON: use plain data. */
  input: unknown;
}

export interface IsolateOptions {
  /** How long the task may take, in milliseconds from the call, before its child is killed. */
  timeoutMs: number;
  /** The child's V8 heap limit in MiB: the child is started with `--max-old-space-size=<maxHeapMb>`. */
  maxHeapMb: number;
}

/** How a task ended. Every object has exactly the fields shown, and nothing else. */
export type Outcome =
  /** The task function returned `value`, or its promise resolved with it (as JSON carries it). */
  | { kind: 'result'; value: unknown }
  /**
   * The task function threw, or its promise rejected (loading the module counts as part of the task).
   * For an `Error` (of any class), `name` and `message` are its `name` and `message`; for any other thrown
   * value, `name` is null and `message` is `String(value)`.
   */
  | { kind: 'threw'; name: string | null; message: string }
  /** The child exited by itself (process.exit, or nothing left to do) with `code` before answering. */
  | { kind: 'exited'; code: number }
  /** The child was ended by `signal` (e.g. 'SIGKILL', 'SIGSEGV', or 'SIGABRT' from process.abort()). */
  | { kind: 'signal'; signal: NodeJS.Signals }
  /** The child reached its V8 heap limit (see `maxHeapMb`) and V8 ended it. */
  | { kind: 'out-of-memory' }
  /** `ms` (the `timeoutMs` given) passed before the task ended; its child was killed. */
  | { kind: 'timeout'; ms: number };

/**
 * Runs `task` in a new child process and resolves with how it ended. It never rejects because of anything
 * the task does; it rejects only if the child process cannot be started at all.
 *
 * - The child is `runner.ts` beside this file, started with `child_process.fork` in a process group of its
 *   own (`detached: true`) with `execArgv: ['--max-old-space-size=<maxHeapMb>']`, stdin ignored, stdout
 *   inherited and stderr piped to this process (read all of it: V8's out-of-memory report arrives there).
 *   The runner gets the task over the IPC channel, loads `task.module`, calls its function with
 *   `task.input`, awaits the answer, and sends back `result` or `threw` (as strings and plain data: an
 *   `Error` does not survive JSON — it arrives as `{}`).
 * - A `result` or `threw` the runner sent is the outcome, whatever the child does afterwards. Anything else
 *   is decided by how the child ended, read once it has fully ended ('close': exited, stderr and the IPC
 *   channel closed, so no late message is missed):
 *   - ended by SIGABRT after writing "JavaScript heap out of memory" to stderr → `out-of-memory`
 *     (process.abort() also ends a process with SIGABRT, without that line: that is `signal`);
 *   - ended by any other signal → `signal` (its exit code is null: a signal is never an exit code 0);
 *   - exited with a code → `exited`, code 0 included: exiting is not answering.
 * - If `timeoutMs` passes first, the child's whole process group is sent SIGKILL (a task stuck in a loop
 *   runs no handler; processes the task started die with it) and the outcome is `timeout`, even if an
 *   answer arrives while the child is being killed.
 * - Resolves only once the child has exited. By then every process of the child's group has been sent
 *   SIGKILL: a task leaves nothing running, whatever its outcome, even a timer it left behind.
 */
export function isolate(task: IsolateTask, options: IsolateOptions): Promise<Outcome> {
  const { timeoutMs, maxHeapMb } = options;
  return new Promise((resolve, reject) => {
    const child = fork(path.join(__dirname, 'runner.ts'), [], {
      // Its own process group: process.kill(-child.pid) reaches the child and everything it started.
      detached: true,
      execArgv: [`--max-old-space-size=${maxHeapMb}`],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const killGroup = (): void => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // ESRCH: nothing is left in the group.
      }
    };

    let report: RunnerReport | undefined;
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup();
    }, timeoutMs);

    child.on('message', (message: RunnerReport) => {
      if (report || timedOut) return;
      report = message;
      clearTimeout(timer);
      // We have the answer: the task is over, and anything it left running (a timer, a process) goes.
      killGroup();
    });
    // If the child is gone before it even got the task, 'close' says how it ended.
    child.send({ module: task.module, input: task.input } satisfies RunnerTask, () => {});

    child.on('error', (error) => {
      // Only a failure to start: 'exit' never comes then.
      if (child.pid === undefined) {
        clearTimeout(timer);
        reject(new Error(`could not start the runner: ${error.message}`));
      }
    });
    // The child is gone; processes it left in its group may still hold stderr open, and 'close' waits for them.
    child.on('exit', killGroup);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (timedOut) resolve({ kind: 'timeout', ms: timeoutMs });
      else if (report?.kind === 'result') resolve({ kind: 'result', value: report.value });
      else if (report?.kind === 'threw') resolve({ kind: 'threw', name: report.name, message: report.message });
      else if (signal === 'SIGABRT') resolve({ kind: 'out-of-memory' });
      else if (signal) resolve({ kind: 'signal', signal });
      else resolve({ kind: 'exited', code: code ?? 0 });
    });
  });
}
