/**
 * Exercise 02-processes/run-command — chapter: chapters/02-processes.md#exercise-run-command
 *
 * Run a program as a child process and collect everything about how it ended.
 */
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
  // TODO: spawn the child, collect stdout and stderr, and resolve with how it ended.
  throw new Error(`Not implemented: run(${JSON.stringify(command)}, …) in exercises/02-processes/run-command`);
}
