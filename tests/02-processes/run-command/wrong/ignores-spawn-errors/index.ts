/**
 * Exercise 02-processes/run-command — chapter: chapters/02-processes.md#exercise-run-command
 *
 * Run a program as a child process and collect everything about how it ended.
 *
 * KNOWN-WRONG VARIANT: has no 'error' listener, so a command that cannot start is an uncaught error instead of a rejection.
 */
import { spawn } from 'node:child_process';

export interface RunResult {
  /** The exit code, or null when the child was ended by a signal. */
  code: number | null;
  /** The signal that ended the child (e.g. 'SIGTERM'), or null when it exited by itself. */
  signal: NodeJS.Signals | null;
  /** Everything the child wrote to stdout, decoded as UTF-8. */
  stdout: string;
  /** Everything the child wrote to stderr, decoded as UTF-8. */
  stderr: string;
}

/**
 * Runs `command` with `args` (no shell) and resolves once the child has ended *and* all of its output
 * has been read. Rejects if the command cannot be started at all (for example, it does not exist).
 */
export function run(command: string, args: string[] = []): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    // 'close' comes after 'exit' *and* after every stdio stream has ended: only then is the output complete.
    child.on('close', (code, signal) => {
      resolve({
        code,
        signal,
        // Decode once at the end: a multi-byte character may be split between two chunks.
        stdout: Buffer.concat(stdout).toString('utf8'),
        stderr: Buffer.concat(stderr).toString('utf8'),
      });
    });
  });
}
