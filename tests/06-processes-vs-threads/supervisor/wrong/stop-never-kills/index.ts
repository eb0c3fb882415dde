/**
 * Exercise 06-processes-vs-threads/supervisor — chapter: chapters/06-processes-vs-threads.md#exercise-supervisor
 *
 * Keep N child processes alive: restart one that dies, after a growing back-off, without disturbing the
 * others; give up loudly when crashes exceed a restart budget; and stop everything, for sure, on request.
 *
 * KNOWN-WRONG VARIANT: stop() sends SIGTERM and waits, but never escalates to SIGKILL, so a child that ignores SIGTERM keeps it waiting for ever.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';

export interface SuperviseOptions {
  /** Path of the Node.js program every child runs (started with `child_process.fork`). */
  script: string;
  /** Command-line arguments given to every child (default: none). */
  args?: string[];
  /** How many children to keep running: one per slot, slots numbered 0 to count - 1. */
  count: number;
  /**
   * Back-off before a restart, in milliseconds. The k-th restart of a slot (k = 1, 2, 3, …) starts its new
   * child no sooner than `backoffMs * 2 ** (k - 1)` ms after the old child's exit was seen (its 'exit'
   * event): backoffMs before the slot's first restart, twice that before its second, four times before its
   * third, and so on. Each slot keeps its own count, which never goes back to zero (a production supervisor
   * would reset it once a child has stayed up for a while; this one does not).
   */
  backoffMs: number;
  /** The restart budget: how many restarts are allowed in total, over all slots together, for the supervisor's whole life. */
  maxRestarts: number;
  /**
   * When stopping children (stop(), or giving up): how long a child may take to exit after SIGTERM
   * before it is sent SIGKILL, in milliseconds (default 2000).
   */
  stopGraceMs?: number;
}

/** What the 'restart' event reports. */
export interface RestartEvent {
  /** The slot whose child was replaced. */
  slot: number;
  /** The pid of the child that exited. */
  previousPid: number;
  /** The pid of the child started in its place. */
  pid: number;
}

/** A running supervisor, as returned by supervise(). */
export interface Supervisor {
  /**
   * The pid of the child running in each slot, in slot order (always `count` entries). A slot shows `null`
   * while it has no child: from the moment its child's exit is seen (the 'exit' event) until its new child is
   * started, that is while it waits out its back-off; and for good once the supervisor has stopped or given up.
   */
  pids(): (number | null)[];
  /**
   * `listener` is called each time a crashed child has been replaced, just after its new child was started
   * (pids() already lists the new pid).
   */
  on(event: 'restart', listener: (event: RestartEvent) => void): this;
  /**
   * `listener` is called once if the supervisor gives up (see supervise()), after every child has exited,
   * with an Error whose message says why and includes the budget (the value of maxRestarts, as a number).
   */
  on(event: 'gave-up', listener: (error: Error) => void): this;
  /**
   * Stops for good: no child is started or restarted any more (a pending restart is cancelled), every
   * running child is sent SIGTERM, and any that is still running `stopGraceMs` later is sent SIGKILL.
   * Resolves once every child has exited. Calling it again, or after the supervisor gave up, is harmless:
   * it resolves once every child has exited.
   */
  stop(): Promise<void>;
}

interface Slot {
  child: ChildProcess | null;
  /** Restarts this slot has had (or has waiting): sets the length of its next back-off. */
  restarts: number;
  /** The pending restart, while the slot waits out its back-off. */
  timer: NodeJS.Timeout | null;
}

class ChildSupervisor extends EventEmitter implements Supervisor {
  private readonly slots: Slot[];
  private granted = 0;
  private stopping: Promise<void> | null = null;

  constructor(private readonly options: SuperviseOptions) {
    super();
    this.slots = Array.from({ length: options.count }, () => ({ child: null, restarts: 0, timer: null }));
    this.slots.forEach((_, index) => this.start(index));
  }

  pids(): (number | null)[] {
    return this.slots.map((slot) => slot.child?.pid ?? null);
  }

  stop(): Promise<void> {
    this.stopping ??= this.stopAll();
    return this.stopping;
  }

  private start(index: number): ChildProcess {
    const slot = this.slots[index]!;
    const child = fork(this.options.script, this.options.args ?? []);
    slot.child = child;
    // A child that could not be started at all also emits 'exit' (with an error first): treat it as a crash.
    child.on('error', () => undefined);
    child.once('exit', () => this.exited(index, child));
    return child;
  }

  private exited(index: number, child: ChildProcess): void {
    const slot = this.slots[index]!;
    if (slot.child !== child) return;
    slot.child = null;
    if (this.stopping) return; // stopped on purpose: stopAll() is waiting for this exit
    if (this.granted >= this.options.maxRestarts) {
      void this.giveUp();
      return;
    }
    this.granted += 1;
    slot.restarts += 1;
    const delay = this.options.backoffMs * 2 ** (slot.restarts - 1);
    slot.timer = setTimeout(() => {
      slot.timer = null;
      const replacement = this.start(index);
      this.emit('restart', { slot: index, previousPid: child.pid!, pid: replacement.pid! } satisfies RestartEvent);
    }, delay);
  }

  private async giveUp(): Promise<void> {
    const crashes = this.granted + 1;
    await this.stop();
    this.emit(
      'gave-up',
      new Error(
        `supervisor gave up: crash number ${crashes} would exceed the budget of maxRestarts = ` +
          `${this.options.maxRestarts} restarts. Every child has been stopped.`,
      ),
    );
  }

  private async stopAll(): Promise<void> {
    const running: ChildProcess[] = [];
    for (const slot of this.slots) {
      if (slot.timer) clearTimeout(slot.timer);
      slot.timer = null;
      if (slot.child) running.push(slot.child);
    }
    await Promise.all(running.map((child) => this.end(child)));
  }

  /** SIGTERM, then SIGKILL if it is still running after the grace period; resolves once it has exited. */
  private end(child: ChildProcess): Promise<void> {
    return new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    });
  }
}

/**
 * Starts `count` children, each running `script` with `args`, and keeps them running:
 *
 * - Any exit of a child that stop() or giving up did not cause (a crash, a signal, even exit code 0)
 *   is a crash, and only that slot is affected: the other children are never signalled or restarted.
 * - A crash is granted a restart while fewer than `maxRestarts` restarts have been granted so far, over
 *   all slots together. The slot then waits out its back-off (see `backoffMs`), starts a new child and
 *   emits 'restart'.
 * - A crash that finds the budget spent (maxRestarts restarts already granted) makes the supervisor give
 *   up: it restarts nothing, stops every other child as stop() does, and once every child has exited emits
 *   'gave-up' with an Error. Nothing is ever started again.
 *
 * The children are started before supervise() returns, so pids() lists them at once.
 */
export function supervise(options: SuperviseOptions): Supervisor {
  return new ChildSupervisor(options);
}
