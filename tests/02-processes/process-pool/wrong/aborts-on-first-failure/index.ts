/**
 * Exercise 02-processes/process-pool — chapter: chapters/02-processes.md#exercise-process-pool
 *
 * Run many programs as child processes, but never more than a fixed number of them at once.
 *
 * KNOWN-WRONG VARIANT: a job that fails rejects, so Promise.all over the lanes rejects at the first failing job and the results of every other job are lost.
 */
import { spawn } from 'node:child_process';

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
export async function runPool(jobs: Job[], limit: number): Promise<JobResult[]> {
  if (!Number.isInteger(limit) || limit < 1) {
    throw new RangeError(`runPool: limit must be a positive integer, got ${limit}`);
  }
  const results: JobResult[] = new Array(jobs.length);
  let next = 0;
  // `limit` lanes share one queue: each lane starts the next waiting job the moment its own job ends,
  // so a slow job holds up only its own lane, never the others.
  const lane = async (): Promise<void> => {
    while (next < jobs.length) {
      const index = next;
      next += 1;
      // Store by index: lanes finish in any order, the results must follow `jobs`.
      results[index] = await runJob(jobs[index]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, jobs.length) }, lane));
  return results;
}

/** Runs one job to its end. Rejects if the job fails: it could not start, or it did not exit with code 0. */
function runJob(job: Job): Promise<JobResult> {
  return new Promise((resolve, reject) => {
    const notStarted = (error: unknown): void =>
      reject(new Error(`could not start ${job.command}: ${error instanceof Error ? error.message : String(error)}`));
    let child;
    try {
      child = spawn(job.command, job.args ?? [], { stdio: ['ignore', 'pipe', 'ignore'] });
    } catch (error) {
      // spawn() itself throws for arguments it rejects outright (an empty command, a NUL byte…).
      notStarted(error);
      return;
    }
    const chunks: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
    // 'error' without a pid: the process never existed (ENOENT, EACCES…). Node may still emit 'close'
    // afterwards (with a made-up code such as -2); the first resolve wins, the later one is ignored.
    child.on('error', (error) => {
      if (child.pid === undefined) notStarted(error);
    });
    child.on('close', (code, signal) => {
      if (code !== 0) reject(new Error(`${job.command} failed with ${signal ?? `code ${code}`}`));
      else resolve({ code, signal, stdout: Buffer.concat(chunks).toString('utf8') });
    });
  });
}
