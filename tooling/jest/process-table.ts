/**
 * Which processes graded code started, wherever they went. Every grading suite's process carries a tag
 * in its environment (`WORKBOOK_GRADED_TAG`); a process belongs to a suite when its own environment has
 * the suite's tag, or when its parent belonged to that suite the first time the table saw it. So children
 * that start a new session (`detached: true`), that were given an environment of their own, or whose
 * parent has since exited, are all still found, counted and killed.
 *
 * On Linux the table reads /proc, and reads a process's environment only once, the first time it sees
 * the process, so a scan costs one directory listing plus a few small reads. Elsewhere it asks `ps`
 * and follows parents only.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

export const TAG_VARIABLE = 'WORKBOOK_GRADED_TAG';

export interface ProcessInfo {
  pid: number;
  ppid: number;
  /** Threads in the process: 1 for most programs; for Node, 7 of its own plus one per worker thread. */
  threads: number;
  /** Exited but not yet reaped: nothing left to kill or to count. */
  zombie: boolean;
  tag: string | undefined;
}

const PROC = '/proc';
const usesProc = process.platform === 'linux' && process.env.WORKBOOK_PROCESS_SCAN !== 'ps';
/** How often a scan may run: /proc is cheap to read; starting `ps` costs tens of milliseconds. */
export const SCAN_INTERVAL_MS = usesProc ? 50 : 500;

function readTagFromEnvironment(pid: number): string | undefined {
  try {
    const environ = `\0${readFileSync(`${PROC}/${pid}/environ`, 'latin1')}`;
    const key = `\0${TAG_VARIABLE}=`;
    const at = environ.indexOf(key);
    if (at === -1) return undefined;
    const end = environ.indexOf('\0', at + key.length);
    return environ.slice(at + key.length, end === -1 ? undefined : end);
  } catch {
    return undefined; // gone, or not ours to read
  }
}

function readStat(pid: number): Omit<ProcessInfo, 'tag'> | undefined {
  try {
    const stat = readFileSync(`${PROC}/${pid}/stat`, 'latin1');
    // The command name (field 2) may contain spaces and parentheses; the fields after it do not.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return {
      pid,
      ppid: Number(fields[1]),
      threads: Number(fields[17]),
      zombie: fields[0] === 'Z' || fields[0] === 'X',
    };
  } catch {
    return undefined;
  }
}

/**
 * When the process started (clock ticks since boot, from /proc), to tell a process from a later one that
 * reuses its pid; undefined when it is gone, or where there is no /proc.
 */
export function processStartTime(pid: number): string | undefined {
  if (!usesProc) return undefined;
  try {
    const stat = readFileSync(`${PROC}/${pid}/stat`, 'latin1');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

/** Whether a process with this pid exists (one of another user's counts too). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function listWithPs(): Omit<ProcessInfo, 'tag'>[] {
  const out = execFileSync('ps', ['-A', '-o', 'pid=,ppid=,stat='], { encoding: 'utf8' });
  return out
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .filter((fields) => fields.length >= 3)
    .map(([pid, ppid, stat]) => ({ pid: Number(pid), ppid: Number(ppid), threads: 1, zombie: stat!.startsWith('Z') }));
}

export class ProcessTable {
  /** The tag of every process seen so far (undefined: not graded), by pid. */
  readonly #seen = new Map<number, string | undefined>();
  /** Processes the runner started itself, tagged before they could be scanned (needed without /proc). */
  readonly #roots = new Map<number, string>();

  /** `onTagged` hears of every process the table tags, once, when it is first seen or adopted. */
  constructor(private readonly onTagged?: (pid: number, tag: string) => void) {}

  /** Records the tag of a process the runner started. */
  adopt(pid: number, tag: string): void {
    this.#roots.set(pid, tag);
    this.onTagged?.(pid, tag);
  }

  /** Looks at every process now alive and returns the tagged ones, zombies included. */
  scan(): ProcessInfo[] {
    return usesProc ? this.#scanProc() : this.#scanPs();
  }

  #scanProc(): ProcessInfo[] {
    const pids = readdirSync(PROC)
      .filter((name) => name.charCodeAt(0) <= 57)
      .map(Number)
      .sort((a, b) => a - b);
    const alive = new Set(pids);
    this.#forget(alive);
    const tagged: ProcessInfo[] = [];
    for (const pid of pids) {
      const known = this.#seen.has(pid);
      if (known && this.#seen.get(pid) === undefined) continue; // not graded; no need to read it again
      const stat = readStat(pid);
      if (!stat) continue;
      const tag = known ? this.#seen.get(pid) : this.#tagOfNew(pid, stat.ppid, () => readTagFromEnvironment(pid));
      this.#remember(pid, tag, known);
      if (tag !== undefined) tagged.push({ ...stat, tag });
    }
    return tagged;
  }

  #scanPs(): ProcessInfo[] {
    const listed = listWithPs().sort((a, b) => a.pid - b.pid);
    const alive = new Set(listed.map((entry) => entry.pid));
    this.#forget(alive);
    const tagged: ProcessInfo[] = [];
    for (const entry of listed) {
      const known = this.#seen.has(entry.pid);
      const tag = known ? this.#seen.get(entry.pid) : this.#tagOfNew(entry.pid, entry.ppid, () => undefined);
      this.#remember(entry.pid, tag, known);
      if (tag !== undefined) tagged.push({ ...entry, tag });
    }
    return tagged;
  }

  #remember(pid: number, tag: string | undefined, known: boolean): void {
    this.#seen.set(pid, tag);
    if (!known && tag !== undefined && !this.#roots.has(pid)) this.onTagged?.(pid, tag);
  }

  /** Drops what the table knew about processes that are gone, so that a reused pid is looked at afresh. */
  #forget(alive: Set<number>): void {
    for (const pid of this.#seen.keys()) if (!alive.has(pid)) this.#seen.delete(pid);
    for (const pid of this.#roots.keys()) if (!alive.has(pid)) this.#roots.delete(pid);
  }

  #tagOfNew(pid: number, ppid: number, fromEnvironment: () => string | undefined): string | undefined {
    return this.#roots.get(pid) ?? fromEnvironment() ?? this.#seen.get(ppid);
  }
}
