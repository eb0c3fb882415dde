/**
 * Exercise 02-processes/process-pool — chapter: chapters/02-processes.md#exercise-process-pool
 *
 * Run many programs as child processes, but never more than a fixed number of them at once.
 */
/** One program to run: `command` with `args`, started directly (no shell). */
export interface Job {
  command: string;
  args?: string[];
}

/** How one job ended. */
export interface JobResult {
  /** Exit code, or null if the job was ended by a signal or never started. */
  code: number | null;
  /** The signal that ended the job, or null. */
  signal: NodeJS.Signals | null;
  /** Everything the job wrote to stdout (UTF-8). */
  stdout: string;
  /** Set (to a message naming the command) only when the job could not be started at all. */
  error?: string;
}

/**
 * Runs every job as a child process with at most `limit` of them alive at any moment, starting the next
 * job as soon as a running one ends (not when a whole batch has ended). Resolves with one result per job,
 * in the order of `jobs`, not the order they finished. A job that fails — non-zero exit, killed by a
 * signal, could not be started — is reported in its own result and never stops or loses the others.
 * Throws a RangeError if `limit` is not a positive integer.
 *
 * In detail:
 * - Jobs are started in the order of `jobs`, each with `spawn(command, args)` (no shell); stdin and
 *   stderr are not used.
 * - A job is alive from the moment it is spawned until its process has exited. Its result is complete
 *   only when its stdout has also been read to the end ('close').
 * - A job that cannot be started (for example, the command does not exist) gets
 *   `{ code: null, signal: null, stdout: '', error: '<a message containing the command>' }` and frees its
 *   place at once. A job that started never has `error` set.
 * - The promise resolves only once every job has ended, so nothing the pool started is still running.
 *   It never rejects because of a job.
 * - An empty `jobs` resolves to `[]`. A `limit` that is not a positive integer (0, -1, 1.5, NaN, Infinity)
 *   is a RangeError — thrown, or the rejection of the returned promise — and no job is started.
 */
export function runPool(jobs: Job[], limit: number): Promise<JobResult[]> {
  // TODO: run the jobs with at most `limit` of them alive at once, and resolve with their results in order.
  throw new Error(
    `Not implemented: runPool(${jobs.length} jobs, limit ${limit}) in exercises/02-processes/process-pool`,
  );
}
