/**
 * Exercise 02-processes/timeout-kill — chapter: chapters/02-processes.md#exercise-timeout-kill
 *
 * Give a command a time limit that escalates from SIGTERM to SIGKILL and leaves no process behind,
 * grandchildren included: the command runs in its own process group, and the whole group is signalled.
 *
 * KNOWN-WRONG VARIANT: resolves as soon as the command itself has ended and clears its timers there, so after a timeout the grandchildren that ignored SIGTERM are never SIGKILLed and outlive the call.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';

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
  const { timeoutMs, graceMs } = options;
  return new Promise((resolve, reject) => {
    // detached: the child calls setsid(), so it leads a new process group whose id is its own pid, and
    // every process it starts joins that group unless it moves itself out.
    const child = spawn(command, args, { detached: true, stdio: ['ignore', 'pipe', 'inherit'] });
    const chunks: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => chunks.push(chunk));

    let timedOut = false;
    let graceTimer: NodeJS.Timeout | undefined;
    const limitTimer = setTimeout(() => {
      timedOut = true;
      const group = child.pid!;
      signalGroup(group, 'SIGTERM');
      graceTimer = setTimeout(() => {
        if (livingMembers(group).length > 0) signalGroup(group, 'SIGKILL');
      }, graceMs);
    }, timeoutMs);

    child.on('error', (error) => {
      clearTimeout(limitTimer);
      reject(new Error(`could not run ${command}: ${error.message}`));
    });

    // 'close' comes after the command has exited and its stdout has ended: the command has finished.
    child.on('close', (code, signal) => {
      // Finished in time: its limit is over. A timer left running would signal the group later, or a
      // stranger that has been given the same id by then.
      clearTimeout(limitTimer);
      // The command has ended, so there is nothing left to kill.
      clearTimeout(graceTimer);
      resolve({ timedOut, code, signal, stdout: Buffer.concat(chunks).toString('utf8') });
    });
  });
}

/** Sends `signal` to every process of group `pgid`: a negative pid names a process group. */
function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // ESRCH: no process is left in the group.
  }
}

/**
 * Pids of the processes of group `pgid` that are still running. Zombies do not count: they are dead.
 * (`process.kill(-pgid, 0)` cannot tell: it succeeds as long as the group has a member, zombies included.)
 */
function livingMembers(pgid: number): number[] {
  try {
    process.kill(-pgid, 0);
  } catch {
    return []; // Nothing at all is left in the group.
  }
  const members: number[] = [];
  if (existsSync('/proc/self/stat')) {
    // Linux: /proc/<pid>/stat holds "pid (name) state ppid pgrp …".
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      let stat: string;
      try {
        stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      } catch {
        continue; // It ended and was reaped meanwhile.
      }
      const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(pgrp) === pgid && state !== 'Z' && state !== 'X') members.push(Number(entry));
    }
    return members;
  }
  // macOS and other Unix systems: ask ps.
  for (const line of execFileSync('ps', ['-A', '-o', 'pid=,pgid=,stat='], { encoding: 'utf8' }).split('\n')) {
    const [pid, pgrp, state] = line.trim().split(/\s+/);
    if (Number(pgrp) === pgid && state !== undefined && !state.startsWith('Z')) members.push(Number(pid));
  }
  return members;
}
