/**
 * Exercise 02-processes/timeout-kill — chapter: chapters/02-processes.md#exercise-timeout-kill
 *
 * Give a command a time limit that escalates from SIGTERM to SIGKILL and leaves no process behind,
 * grandchildren included: the command runs in its own process group, and the whole group is signalled.
 */

export interface TimeoutOptions {
  /** How long the command may run before it is asked to stop, in milliseconds from the call. */
  timeoutMs: number;
  /** How long it gets to stop after SIGTERM before SIGKILL, in milliseconds. */
  graceMs: number;
}

export interface TimedRun {
  /** True when the time limit ran out and the command was stopped. */
  timedOut: boolean;
  /** The command's exit code, or null when a signal ended it. */
  code: number | null;
  /** The signal that ended the command (e.g. 'SIGKILL'), or null when it exited by itself. */
  signal: NodeJS.Signals | null;
  /** Everything written to stdout, up to the end: by the command and by any process that inherited its stdout. */
  stdout: string;
}

/**
 * Runs `command` with `args` (no shell) in a new process group, so that it and every process it starts can
 * be signalled together. stdin is not connected; stderr goes to this process's stderr.
 *
 * - The command has finished when it has exited and its stdout has closed (every process that inherited
 *   its stdout has closed it too). If that happens within `timeoutMs` of the call, resolves with
 *   `timedOut: false` and how the command ended. Its time limit is then over: nothing is signalled, then
 *   or later — not even processes it left running in its group.
 * - Otherwise, when `timeoutMs` has passed, sends SIGTERM to the whole group. If any process of the group
 *   is still alive `graceMs` later, sends SIGKILL to the whole group. Resolves with `timedOut: true` once
 *   the command has ended, all of its stdout is read, and no process of its group is alive any more —
 *   grandchildren included.
 * - A zombie (a process that has ended but that its parent has not reaped yet) is dead, not alive. An
 *   orphan that is killed is adopted by PID 1, and a PID 1 that never reaps (as in many containers) leaves
 *   it a zombie in the group for ever: so the group may never disappear, and waiting for it to must not
 *   hang.
 *
 * Rejects if the command cannot be started at all.
 */
export function runWithTimeout(command: string, args: string[], options: TimeoutOptions): Promise<TimedRun> {
  // TODO: start the command in a new process group, collect its stdout, and arm the time limit:
  // SIGTERM to the group, then SIGKILL to the group after the grace period if anything in it still lives.
  // Resolve once the command has finished and, after a timeout, once nothing in its group is alive.
  throw new Error(
    `Not implemented: runWithTimeout(${JSON.stringify(command)}, …) in exercises/02-processes/timeout-kill`,
  );
}
