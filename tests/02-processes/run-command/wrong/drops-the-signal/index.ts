/**
 * Exercise 02-processes/run-command — chapter: chapters/02-processes.md#exercise-run-command
 *
 * Run a program as a child process and collect everything about how it ended.
 *
 * KNOWN-WRONG VARIANT: treats a missing exit code as failure code 1 and never reports the signal.
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
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    // 'error' fires when the child could not be spawned (ENOENT, EACCES…).
    child.on('error', (error) => reject(new Error(`could not run ${command}: ${error.message}`)));
    // 'close' comes after 'exit' *and* after every stdio stream has ended: only then is the output complete.
    child.on('close', (code, signal) => {
      resolve({
        code: code ?? 1,
        signal: null,
        // Decode once at the end: a multi-byte character may be split between two chunks.
        stdout: Buffer.concat(stdout).toString('utf8'),
        stderr: Buffer.concat(stderr).toString('utf8'),
      });
    });
  });
}
