/**
 * Keeps graded code inside its box: watches what every running suite has started, stops a suite that
 * starts far more processes or worker threads than any exercise needs, and kills everything a suite
 * started (grandchildren and detached processes included) when it is done. Every process it tags is also
 * reported to the watchdog (watchdog.ts), which kills what is left if Jest itself is killed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ProcessTable, SCAN_INTERVAL_MS, type ProcessInfo } from './process-table';
import { ledgerFile, ledgerLine } from './watchdog';

const WATCHDOG = path.join(__dirname, 'watchdog.ts');
/** Where each run records the processes its graded code started, for the watchdog. */
const LEDGER_FOLDER = path.resolve(__dirname, '../../.workbook/runs');
const TSX_HOOK = path.join(__dirname, 'typescript-on-demand.cjs');

/** More than this many processes alive at once, started by one suite, is a runaway (a pool bug, a fork bomb). */
export const PROCESS_CAP = 32;
/** More than this many worker threads alive at once, across one suite's processes, is a runaway. */
export const WORKER_THREAD_CAP = 64;
/** Threads a Node process has of its own: main, 4 for V8, up to 4 for libuv's pool, and a few more. */
const NODE_OWN_THREADS = 11;

interface Watched {
  rootPid: number;
  onRunaway: (reason: string) => void;
}

/** Estimated worker threads: the threads beyond a Node process's own. Plain programs have one thread. */
function workerThreads(processes: ProcessInfo[]): number {
  return processes.reduce((sum, info) => sum + Math.max(0, info.threads - NODE_OWN_THREADS), 0);
}

/** Why a suite counts as a runaway, given the processes it started and the worker threads in its processes. */
export function runawayReason(started: ProcessInfo[], workers: number): string | undefined {
  if (started.length > PROCESS_CAP) {
    return (
      `started more than ${PROCESS_CAP} processes that were alive at the same time (the cap is ${PROCESS_CAP}). ` +
      `No exercise needs that many: look for a loop that starts a process per item without waiting, or a ` +
      `child that starts copies of itself. Everything it started has been killed.`
    );
  }
  if (workers > WORKER_THREAD_CAP) {
    return (
      `started about ${workers} worker threads that were alive at the same time (the cap is ${WORKER_THREAD_CAP}). ` +
      `No exercise needs that many: look for a pool that starts a new Worker per task instead of reusing ` +
      `its workers, or workers that are never terminated. Everything it started has been killed.`
    );
  }
  return undefined;
}

export class Containment {
  /** Tags of this run start with this, so the run's leftovers can be found and nothing else's. */
  readonly #runId = `${process.pid}-${randomBytes(4).toString('hex')}`;
  #nextSuite = 0;
  readonly #table = new ProcessTable((pid, tag) => this.#tellWatchdog(pid, tag));
  #watchdog: ChildProcess | undefined;
  readonly #watched = new Map<string, Watched>();
  #sampler: NodeJS.Timeout | undefined;
  #guarded = false;

  /** A fresh tag for one suite's process. */
  newTag(): string {
    this.#nextSuite += 1;
    return `${this.#runId}:${this.#nextSuite}`;
  }

  /** Records a graded process in the run's ledger, starting the watchdog first if need be. */
  #tellWatchdog(pid: number, tag: string): void {
    if (!this.#watchdog) {
      mkdirSync(LEDGER_FOLDER, { recursive: true });
      // A session of its own and nothing referenced: it outlives Jest, and never keeps Jest running. It gets
      // none of the grader's environment: it is not graded code, and must not look like it.
      this.#watchdog = spawn(process.execPath, ['--require', TSX_HOOK, WATCHDOG, this.#runId, LEDGER_FOLDER], {
        detached: true,
        stdio: ['pipe', 'ignore', 'ignore'],
        env: { PATH: process.env.PATH ?? '' },
      });
      this.#watchdog.unref();
      (this.#watchdog.stdin as unknown as { unref(): void }).unref();
      this.#watchdog.stdin!.on('error', () => {});
    }
    appendFileSync(ledgerFile(LEDGER_FOLDER, this.#runId), ledgerLine(pid, tag));
  }

  /** Records a process the runner started with `tag`, before anything it starts can be scanned. */
  adopt(pid: number, tag: string): void {
    this.#table.adopt(pid, tag);
  }

  /** Starts counting what the suite tagged `tag` starts; `onRunaway` is called once if it goes over a cap. */
  watch(tag: string, rootPid: number, onRunaway: (reason: string) => void): void {
    this.#watched.set(tag, { rootPid, onRunaway });
    this.#sampler ??= setInterval(() => this.#sample(), SCAN_INTERVAL_MS).unref();
  }

  unwatch(tag: string): void {
    this.#watched.delete(tag);
    if (this.#watched.size === 0 && this.#sampler) {
      clearInterval(this.#sampler);
      this.#sampler = undefined;
    }
  }

  #sample(): void {
    const byTag = new Map<string, ProcessInfo[]>();
    for (const info of this.#table.scan()) {
      if (info.zombie || info.tag === undefined) continue;
      if (!this.#watched.has(info.tag)) continue;
      byTag.set(info.tag, [...(byTag.get(info.tag) ?? []), info]);
    }
    for (const [tag, processes] of byTag) {
      const rootPid = this.#watched.get(tag)?.rootPid;
      const reason = runawayReason(
        processes.filter((info) => info.pid !== rootPid),
        workerThreads(processes),
      );
      const watched = this.#watched.get(tag);
      if (reason && watched) {
        this.unwatch(tag);
        watched.onRunaway(reason);
      }
    }
  }

  /** Kills every live process with the tag (or, with no tag, every process of this run); resolves when none is left. */
  async killAll(tag?: string): Promise<void> {
    for (let round = 0; round < 400; round += 1) {
      if (this.#killRound(tag) === 0) return;
      await sleep(5);
    }
    throw new Error(`could not kill every process graded code started (tag ${tag ?? this.#runId})`);
  }

  /** From now on, if this process ends or is stopped (Ctrl-C, a terminal closing, a kill), kill what is left first. */
  guardExit(): void {
    if (this.#guarded) return;
    this.#guarded = true;
    process.once('exit', () => this.killAllNow());
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
      process.once(signal, () => {
        this.killAllNow();
        process.kill(process.pid, signal); // now with the default action: end as the signal says
      });
    }
  }

  /** Kills every live process of this run, synchronously, for when the Jest process itself is about to end. */
  killAllNow(): void {
    for (let round = 0; round < 100 && this.#killRound() > 0; round += 1);
  }

  /** One scan, and SIGKILL to every live match; returns how many were alive. */
  #killRound(tag?: string): number {
    const alive = this.#table
      .scan()
      .filter(
        (info) =>
          !info.zombie && (tag === undefined ? info.tag?.startsWith(`${this.#runId}:`) === true : info.tag === tag),
      );
    for (const info of alive) {
      try {
        process.kill(info.pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
    return alive.length;
  }
}

/** One per Jest process: the runner and the processes it starts ahead of time share it. */
export const containment = new Containment();
