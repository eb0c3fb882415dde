/** Observing processes from a grading suite: is a pid still alive, and cleaning up after a test. */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';

/** True while `pid` is a running process (a zombie, dead but not yet reaped, counts as gone). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  return !isZombie(pid);
}

function isZombie(pid: number): boolean {
  const stat = `/proc/${pid}/stat`;
  if (existsSync('/proc/self/stat')) {
    try {
      // The state is the field after the parenthesised command name.
      return /\)\s+Z/.test(readFileSync(stat, 'utf8'));
    } catch {
      return true;
    }
  }
  try {
    return execFileSync('ps', ['-o', 'stat=', '-p', String(pid)], { encoding: 'utf8' })
      .trim()
      .startsWith('Z');
  } catch {
    return true;
  }
}

/** Kills each pid that is still alive. For test clean-up: a wrong solution must not leak past its test. */
export function killAll(pids: Iterable<number>): void {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
}

/** Number of threads in this process (Linux and macOS). */
export function threadCount(): number {
  if (existsSync('/proc/self/status')) {
    return Number(/Threads:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))![1]);
  }
  return (
    execFileSync('ps', ['-M', '-p', String(process.pid)], { encoding: 'utf8' })
      .trim()
      .split('\n').length - 1
  );
}

/**
 * Ids of the running processes, other than this one, whose command line contains `text`: for clean-up,
 * give every process a test starts something unique in its arguments (such as the test's temp folder).
 */
export function processesMentioning(text: string): number[] {
  if (existsSync('/proc/self/cmdline')) {
    return readdirSync('/proc')
      .filter((entry) => /^\d+$/.test(entry) && Number(entry) !== process.pid)
      .filter((pid) => {
        try {
          return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(text);
        } catch {
          return false;
        }
      })
      .map(Number);
  }
  return execFileSync('ps', ['-A', '-o', 'pid=,args='], { encoding: 'utf8' })
    .split('\n')
    .filter((line) => line.includes(text))
    .map((line) => Number(line.trim().split(/\s+/)[0]))
    .filter((pid) => pid !== process.pid);
}
