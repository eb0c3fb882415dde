import assert from 'node:assert/strict';
import { AsyncMutex, type Release } from '@target/09-classic-problems-and-deadlock/async-mutex';
import { gate, inWords, scaled, within } from '../../support/deadline';

/*
 * Everything here runs in one thread, and the test owns every await point: a caller enters its critical
 * section and then waits on a gate the test opens, the store's reads and writes finish only when the test
 * lets them. So every interleaving is forced, not hoped for. "Has not happened" is checked after draining
 * the event loop (every promise callback and several turns of setImmediate have run); a deadline only turns
 * "never happened" into a "deadlocked" failure.
 */

/**
 * How long a caller may take to get a lock that has been handed to it before the test calls it deadlocked.
 * Stretched on a machine with less CPU: within() does it itself; the waits written here use DEADLOCK_WAIT_MS.
 */
const DEADLOCK_MS = 2000;
const DEADLOCK_WAIT_MS = scaled(DEADLOCK_MS);
const DEADLOCK_WAIT = inWords(DEADLOCK_WAIT_MS);

/** Lets every pending promise callback run, and the event loop turn a few times. */
async function drain(): Promise<void> {
  for (let turn = 0; turn < 10; turn += 1) await new Promise((resolve) => setImmediate(resolve));
}

/**
 * Resolves with `promise`, or fails with `describe()` (called when the deadline passes, so it can say who
 * is still waiting then) if it has not settled within DEADLOCK_MS (stretched).
 */
async function deadlineOr<T>(promise: Promise<T>, describe: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(describe())), DEADLOCK_WAIT_MS);
  });
  try {
    return await Promise.race([promise, expired]);
  } finally {
    clearTimeout(timer);
  }
}

type Outcome = { value: unknown } | { error: unknown };

interface Caller {
  readonly id: number;
  /** True once this caller is inside its critical section (holds the lock). */
  entered(): boolean;
  /** Resolves when this caller enters its critical section. */
  readonly entering: Promise<void>;
  /** Lets the caller leave its critical section and give the lock back. */
  leave(): void;
  /** How the caller's call ended (never rejects). */
  readonly outcome: Promise<Outcome>;
}

/** Callers of one mutex, and who was inside the critical section when. */
class Scene {
  readonly mutex = new AsyncMutex();
  readonly inside = new Set<number>();
  readonly entries: number[] = [];
  readonly overlaps: string[] = [];

  /**
   * Caller `id` asks for the lock now (the call happens synchronously, here), through `lock()` or
   * `runExclusive()`, enters, and stays inside until `leave()` (or, with `leaveAtOnce`, after one turn of
   * the event loop inside).
   */
  ask(id: number, via: 'lock' | 'runExclusive' = 'lock', leaveAtOnce = false): Caller {
    const entering = gate();
    const leaving = gate();
    if (leaveAtOnce) leaving.open();
    const body = async (): Promise<string> => {
      if (this.inside.size > 0)
        this.overlaps.push(`caller ${id} entered while ${this.who()} ${this.inside.size > 1 ? 'were' : 'was'} inside`);
      this.inside.add(id);
      this.entries.push(id);
      entering.open();
      await leaving.promise;
      await new Promise((resolve) => setImmediate(resolve)); // stay inside for a turn of the event loop
      this.inside.delete(id);
      return `caller ${id} done`;
    };
    const finished =
      via === 'lock'
        ? this.mutex.lock().then(async (release: Release) => {
            try {
              return await body();
            } finally {
              release();
            }
          })
        : this.mutex.runExclusive(body);
    const outcome = finished.then(
      (value) => ({ value }),
      (error: unknown) => ({ error }),
    );
    return { id, entered: entering.opened, entering: entering.promise, leave: () => leaving.open(), outcome };
  }

  /** Waits until `caller` enters, or fails as deadlocked, naming who released and who else holds. */
  async waitFor(caller: Caller, releasedBy: string): Promise<void> {
    // If the caller's lock() or runExclusive() call fails instead, that error is the failure.
    const failed = caller.outcome.then((outcome) => {
      if ('error' in outcome) throw outcome.error;
    });
    await deadlineOr(
      Promise.race([caller.entering, failed]),
      () =>
        `deadlocked: caller ${caller.id} is still waiting for the lock, released by ${releasedBy}, ` +
        `${DEADLOCK_WAIT} ago. Inside now: ${this.who()}; entered so far, in order: ${this.entries.join(', ') || 'nobody'}. ` +
        `When the lock is released and callers are waiting, the first waiter must be given the lock.`,
    );
  }

  who(): string {
    return this.inside.size === 0
      ? 'nobody'
      : `caller${this.inside.size > 1 ? 's' : ''} ${[...this.inside].join(' and ')}`;
  }

  assertNoOverlap(): void {
    assert.deepEqual(
      this.overlaps,
      [],
      `two callers held the lock at once: ${this.overlaps.join('; ')}. At most one caller may hold it; a caller ` +
        `that was woken must not proceed just because the lock was released — only the one it was handed to may.`,
    );
  }
}

/** A key-value store whose every read and write is asynchronous and finishes only when the test says so. */
class SlowStore {
  value = 0;
  readonly #pending: Array<() => void> = [];
  async get(): Promise<number> {
    await new Promise<void>((resolve) => this.#pending.push(resolve));
    return this.value;
  }
  async set(value: number): Promise<void> {
    await new Promise<void>((resolve) => this.#pending.push(resolve));
    this.value = value;
  }
  /** Finishes every read and write started so far; returns how many there were. */
  finishPending(): number {
    const pending = this.#pending.splice(0);
    for (const finish of pending) finish();
    return pending.length;
  }
}

describe('AsyncMutex', () => {
  test('an await-split read-modify-write from five concurrent callers loses no update', async () => {
    const scene = new Scene();
    const store = new SlowStore();
    const ids = [1, 2, 3, 4, 5];
    const calls = ids.map((id) =>
      scene.mutex
        .runExclusive(async () => {
          scene.inside.add(id);
          if (scene.inside.size > 1) scene.overlaps.push(`callers ${[...scene.inside].join(', ')} were inside at once`);
          const value = await store.get();
          await store.set(value + 1);
          scene.inside.delete(id);
        })
        .then(
          () => ({ id }),
          (error: unknown) => ({ id, error }),
        ),
    );
    const settled = new Set<number>();
    for (const call of calls) void call.then(({ id }) => settled.add(id));
    // Every read and write waits for this loop, which finishes all of them each turn: any two callers
    // inside at once both read before either writes.
    const give = Date.now() + DEADLOCK_WAIT_MS;
    while (settled.size < ids.length) {
      if (Date.now() > give) {
        const waiting = ids.filter((id) => !settled.has(id));
        assert.fail(
          `deadlocked: caller ${waiting.join(', ')} ${waiting.length === 1 ? 'is' : 'are'} still waiting for the lock ` +
            `${DEADLOCK_WAIT} after the callers before them released it (store value ${store.value}, inside: ` +
            `${scene.who()}). Releasing must hand the lock to the next waiter.`,
        );
      }
      store.finishPending();
      await new Promise((resolve) => setImmediate(resolve));
    }
    for (const result of await Promise.all(calls)) {
      if ('error' in result) throw result.error;
    }
    assert.equal(
      store.value,
      5,
      `5 callers each read the value, awaited, and wrote it back plus one, all inside runExclusive, but the store ` +
        `ended at ${store.value}, not 5: ${scene.overlaps.join('; ') || 'updates were lost'}. A caller that read ` +
        `while another was between its read and its write overwrote that update.`,
    );
    scene.assertNoOverlap();
  });

  test('only one caller holds the lock, however long the holder awaits, and the next waiter gets it', async () => {
    const scene = new Scene();
    const first = scene.ask(1);
    const second = scene.ask(2);
    const third = scene.ask(3, 'runExclusive');
    await scene.waitFor(first, 'nobody (it was free)');
    // The holder awaits for a long time: many turns of the event loop and a real timer.
    await drain();
    await new Promise((resolve) => setTimeout(resolve, 20));
    await drain();
    assert.ok(
      !second.entered() && !third.entered(),
      `caller 1 held the lock and was still awaiting inside its critical section, but ${scene.entries
        .filter((id) => id !== 1)
        .map((id) => `caller ${id}`)
        .join(' and ')} got the lock too. A waiter may only get the lock once the holder releases it.`,
    );
    assert.equal(scene.mutex.locked, true, 'locked was false while caller 1 held the lock.');

    first.leave();
    await scene.waitFor(second, 'caller 1');
    await drain();
    scene.assertNoOverlap();
    assert.ok(
      !third.entered(),
      `caller 1 released the lock once, and both caller 2 and caller 3 got it (entry order: ${scene.entries.join(', ')}). ` +
        `One release must wake exactly one waiter; if every waiter is woken, each must check again (while, not if) ` +
        `whether the lock is free before taking it.`,
    );

    second.leave();
    await scene.waitFor(third, 'caller 2');
    third.leave();
    await within(third.outcome, DEADLOCK_MS, 'runExclusive() never resolved after its fn returned.');
    await drain();
    assert.equal(
      scene.mutex.locked,
      false,
      'every caller released the lock and nobody waits, but locked is still true.',
    );
    scene.assertNoOverlap();
  });

  test('waiters get the lock in the order they asked, and a caller asking at the release queues behind them', async () => {
    const scene = new Scene();
    const releaseFirst = await within(
      scene.mutex.lock(),
      DEADLOCK_MS,
      'deadlocked: lock() never resolved on a free mutex.',
    );
    const waiters = [scene.ask(2, 'lock', true), scene.ask(3, 'runExclusive', true), scene.ask(4, 'lock', true)];
    await drain();
    assert.deepEqual(scene.entries, [], `caller 1 held the lock, yet caller ${scene.entries.join(', ')} got it too.`);

    releaseFirst();
    const lockedAfterRelease = scene.mutex.locked;
    // A newcomer asks in the same synchronous step as the release.
    const newcomer = scene.ask(5, 'lock', true);
    const everyone = [...waiters, newcomer];
    await deadlineOr(Promise.all(everyone.map((caller) => caller.outcome)), () => {
      const stuck = everyone.filter((caller) => !caller.entered()).map((caller) => caller.id);
      return (
        `deadlocked: caller ${stuck.join(', ')} still wait${stuck.length === 1 ? 's' : ''} for the lock ${DEADLOCK_WAIT} ` +
        `after caller 1 released it; got it so far, in order: ${scene.entries.join(', ') || 'nobody'}. When a ` +
        `holder releases the lock and callers wait, the first waiter must get it.`
      );
    });
    scene.assertNoOverlap();
    assert.deepEqual(
      scene.entries,
      [2, 3, 4, 5],
      `callers 2, 3 and 4 asked for the lock (in that order) while caller 1 held it; caller 5 asked just after caller ` +
        `1 released it. They got the lock in the order ${scene.entries.join(', ')}, expected 2, 3, 4, 5 (first come, ` +
        `first served). Keep the waiters in a queue and hand the lock to the first one on release; a caller ` +
        `that finds waiters queued must not take the lock even if it looks free.`,
    );
    assert.equal(
      lockedAfterRelease,
      true,
      'caller 1 released the lock while callers 2, 3 and 4 were waiting, and locked became false: the lock was free ' +
        'for a moment, so a newcomer could take it ahead of the queue. Hand it straight to the first waiter instead.',
    );
  });

  test('runExclusive gives the lock back when fn throws or rejects, and its caller gets the error', async () => {
    const scene = new Scene();
    const failing = scene.mutex.runExclusive(() => {
      throw new Error('fn threw');
    });
    const rejecting = scene.mutex.runExclusive(async () => {
      await new Promise((resolve) => setImmediate(resolve));
      throw new Error('fn rejected');
    });
    const succeeding = scene.mutex.runExclusive(() => 'third ran');
    const settle = (promise: Promise<unknown>): Promise<Outcome> =>
      promise.then(
        (value) => ({ value }),
        (error: unknown) => ({ error }),
      );
    const outcomes = [settle(failing), settle(rejecting), settle(succeeding)];
    const third = await within(
      outcomes[2]!,
      DEADLOCK_MS,
      "deadlocked: caller 3 is still waiting for the lock, released by nobody: caller 1's fn threw and caller 2's " +
        'fn rejected, and runExclusive never gave the lock back. Release the lock in a finally block, so it is ' +
        'released however fn ends.',
    );
    const [first, second] = await Promise.all(outcomes.slice(0, 2));
    assert.ok(
      'error' in first! && first.error instanceof Error && first.error.message === 'fn threw',
      `runExclusive(fn) should reject with the error fn threw ("fn threw"); it ${'error' in first! ? `rejected with ${String(first.error)}` : `resolved with ${String(first!.value)}`}.`,
    );
    assert.ok(
      'error' in second! && second.error instanceof Error && second.error.message === 'fn rejected',
      `runExclusive(fn) should reject with the error fn's promise rejected with ("fn rejected"); it ${'error' in second! ? `rejected with ${String(second.error)}` : `resolved with ${String(second!.value)}`}.`,
    );
    assert.deepEqual(third, { value: 'third ran' }, `runExclusive(() => 'third ran') should resolve with 'third ran'.`);
    assert.equal(scene.mutex.locked, false, 'every runExclusive call has ended, but the lock is still held.');
  });

  test('calling a release function a second time does not release the next holder', async () => {
    const scene = new Scene();
    const releaseFirst = await within(
      scene.mutex.lock(),
      DEADLOCK_MS,
      'deadlocked: lock() never resolved on a free mutex.',
    );
    const second = scene.ask(2);
    releaseFirst();
    await scene.waitFor(second, 'caller 1');
    releaseFirst(); // a harmless mistake: caller 1 releases again, while caller 2 holds the lock
    const third = scene.ask(3);
    await drain();
    assert.ok(
      !third.entered(),
      'caller 1 called its release function a second time while caller 2 held the lock, and then caller 3 got ' +
        'the lock at once, while caller 2 was still inside. A release function must act only the first time it ' +
        'is called: remember that it was used, and ignore later calls.',
    );
    assert.equal(scene.mutex.locked, true, "caller 1's second release made locked false while caller 2 held the lock.");
    second.leave();
    await scene.waitFor(third, 'caller 2');
    third.leave();
    await within(third.outcome, DEADLOCK_MS, 'caller 3 never finished after leaving its critical section.');
    scene.assertNoOverlap();
  });

  test('lock() on a free mutex resolves at once, before any timer or setImmediate callback', async () => {
    const mutex = new AsyncMutex();
    assert.equal(mutex.locked, false, 'a new mutex should not be locked.');
    const callbacks: string[] = [];
    const immediate = setImmediate(() => callbacks.push('setImmediate'));
    const timer = setTimeout(() => callbacks.push('setTimeout 0'), 0);
    try {
      const release = await mutex.lock();
      assert.deepEqual(
        callbacks,
        [],
        `lock() on a free mutex resolved only after ${callbacks.join(' and ')} had run. A free lock is taken at ` +
          `once: resolve the promise right away instead of waiting for a timer, setImmediate or polling.`,
      );
      assert.equal(mutex.locked, true, 'locked should be true while a caller holds the lock.');
      release();
      assert.equal(mutex.locked, false, 'the only holder released the lock and nobody waits: locked should be false.');
    } finally {
      clearImmediate(immediate);
      clearTimeout(timer);
    }
  });
});
