import assert from 'node:assert/strict';
import path from 'node:path';
import { inWords, scaled } from '../../support/deadline';
import { startTeam, stopTeams, type Team } from '../../support/thread-team';

/**
 * The graded module's real path, for the worker threads to require (they load TypeScript through the hook
 * every graded process preloads). Nothing here calls the lock on the main thread: a lock() or tryLock()
 * that spins for ever would block it, and Jest could not stop it.
 */
const MODULE = require.resolve('@target/07-races-and-atomics/spinlock');
const fixture = (name: string): string => path.join(__dirname, 'fixtures', name);

/**
 * Two threads inside at once show only when a thread is between seeing the lock free and taking it at the
 * moment another thread takes it, so four threads (on a 2-core machine the system must keep switching them
 * in the middle of their loops) take the lock in rounds, and the test stops at the first round that shows
 * the bug. The chances of catching it grow with the number of entries the threads make, so the test runs
 * rounds until ENTRIES entries have been made. Measured on a 2-core machine under a load average of 23–31:
 * a lock() that checks and then sets (load, then store) was caught after at most 9 rounds of ≥ 40,000
 * entries (25 rounds of ≥ 8,000), about 1 round in 5. ENTRIES, N, BUDGET_MS and CAP_MS are statistical
 * budgets, not deadlines: they are not stretched on a machine with less CPU (that would only lengthen
 * gradings); the test 'lock() takes the lock in one atomic step…' forces the interleaving instead.
 */
const ENTRIES = 1_200_000;
/** Entries each member makes in a round (at least). */
const N = 10_000;
/**
 * On a machine so loaded that the rounds crawl, the test stops after this long even if fewer entries were
 * made: this limit can only let a broken lock pass, never fail a correct one.
 */
const BUDGET_MS = 12_000;
/** Each member goes on taking the lock until all have made their n entries, but for no longer than this. */
const CAP_MS = 200;
/**
 * How long a round may take before the threads still in it count as deadlocked. A correct lock finishes a
 * contended round in milliseconds (450–650 ms measured under a load average of 31, where a thread holding
 * the lock can be switched out while the others spin); a lock that is never released never does. The
 * scenes (one holder, one other thread) do almost nothing, so their limit is shorter.
 */
const CONTENDED_ROUND_MS = 10_000;
const SCENE_ROUND_MS = 3000;
/** The round limits above as thread-team stretches them on this machine (tests/support/deadline.ts), in words. */
const CONTENDED_WAIT = inWords(scaled(CONTENDED_ROUND_MS));
const SCENE_WAIT = inWords(scaled(SCENE_ROUND_MS));
/** The first round also waits for the threads to start and load the module: seconds on a loaded machine. */
const START_MS = 20000;
/** Tests that start threads get more than Jest's default 10 s, for a heavily loaded machine (stretched). */
const TEST_MS = scaled(30000);

/** Where a member is (the `where` Int32 the fixtures keep for each member). */
const PLACES = ['not in any lock method', 'in lock()', 'in tryLock()', 'in unlock()', 'waiting for the other thread'];
// Indices into critical-section.js's shared state.
const [INSIDE, INTRUDER, FOUND, COUNT] = [1, 3, 4, 8];

afterEach(stopTeams);

interface Shared {
  team: Team;
  state: Int32Array;
  where: Int32Array;
}

/** A team of `size` threads running `fixtureName`, sharing a lock at byte 4 of an 8-byte buffer, started and ready. */
async function teamWithLock(fixtureName: string, size: number): Promise<Shared> {
  const memory = new SharedArrayBuffer(8);
  const state = new SharedArrayBuffer(64);
  const where = new SharedArrayBuffer(4 * size);
  const team = await startTeam(fixture(fixtureName), size, { module: MODULE, memory, byteOffset: 4, state, where });
  // A warm-up round, so that the short limits of the real rounds time only the lock, not the threads' start.
  await team.round({ ready: true }, { ms: START_MS });
  return { team, state: new Int32Array(state), where: new Int32Array(where) };
}

/** "thread 0 is in unlock(); thread 1 is in lock()". */
function whereEveryoneIs(where: Int32Array, threads: number[]): string {
  return threads
    .map((thread) => `thread ${thread} is ${PLACES[Atomics.load(where, thread)] ?? 'somewhere unknown'}`)
    .join('; ');
}

describe('SpinLock', () => {
  test(
    'lock() lets one thread in at a time: four threads never meet inside, and no increment made inside is lost',
    async () => {
      const { team, state, where } = await teamWithLock('critical-section.js', 4);
      const describeStuck = (stuck: number[]): string => {
        const all = [0, 1, 2, 3];
        const waiting = stuck.filter((thread) => Atomics.load(where, thread) === 1);
        const lead =
          Atomics.load(state, INSIDE) === 0 && waiting.length > 0
            ? `deadlocked: thread${waiting.length > 1 ? 's' : ''} ${waiting.join(', ')} ${waiting.length > 1 ? 'have' : 'has'} ` +
              `been waiting in lock() for ${CONTENDED_WAIT} while no thread holds the lock (every ` +
              `thread that took it has called unlock() and left). unlock() did not make the lock free again.`
            : `deadlocked: thread${stuck.length > 1 ? 's' : ''} ${stuck.join(', ')} never finished the round ` +
              `(waited ${CONTENDED_WAIT}).`;
        return `${lead} Right now: ${whereEveryoneIs(where, all)}.`;
      };
      let entriesSoFar = 0;
      const started = Date.now();
      for (let r = 1; entriesSoFar < ENTRIES && Date.now() - started < BUDGET_MS; r += 1) {
        Atomics.store(state, 0, 0); // members finished
        Atomics.store(state, INTRUDER, -1);
        Atomics.store(state, COUNT, 0);
        const results = await team.round<{ entries: number; unlockError?: string }>(
          { n: N, capMs: CAP_MS },
          { ms: CONTENDED_ROUND_MS, describeStuck },
        );
        const entries = results.reduce((sum, result) => sum + result.entries, 0);
        const intruder = Atomics.load(state, INTRUDER);
        const count = Atomics.load(state, COUNT);
        if (intruder !== -1) {
          assert.fail(
            `round ${r}: thread ${intruder} came out of lock() and found thread ${Atomics.load(state, FOUND)} ` +
              `still inside (after ${entriesSoFar} correct entries in earlier rounds). Two threads both saw the lock ` +
              `free and both took it: checking that the lock is free and then setting it are two steps, and ` +
              `another thread can take it in between. Take it in one atomic step that also tells you whether ` +
              `it was free: Atomics.compareExchange(cell, 0, 0, 1) returns the value it found, and only a 0 ` +
              `means this call took the lock.`,
          );
        }
        const unlocker = results.findIndex((result) => result.unlockError !== undefined);
        if (unlocker !== -1) {
          assert.fail(
            `round ${r}: thread ${unlocker}'s unlock() threw "${results[unlocker]!.unlockError}" right after its ` +
              `own lock() had returned: another thread had taken the lock at the same time and already released ` +
              `it (after ${entriesSoFar} correct entries in earlier rounds). Two threads both saw the lock free ` +
              `and both took it: checking that the lock is free and then setting it are two steps, and another ` +
              `thread can take it in between. Take it in one atomic step that also tells you whether it was ` +
              `free: Atomics.compareExchange(cell, 0, 0, 1) returns the value it found, and only a 0 means this ` +
              `call took the lock.`,
          );
        }
        if (count !== entries) {
          assert.fail(
            `round ${r}: the threads entered ${entries} times and each added 1 to a plain shared cell inside ` +
              `the lock, but the cell reached ${count}: ${entries - count} increments were lost, so two threads ` +
              `were inside at the same time.`,
          );
        }
        entriesSoFar += entries;
      }
    },
    TEST_MS,
  );

  test(
    'lock() takes the lock in one atomic step: a thread paused between reading it free and taking it is not let in beside another',
    async () => {
      const { team, where } = await teamWithLock('held-lock.js', 2);
      const results = await team.round<{ inside: number; paused: boolean }>(
        { scene: 'race' },
        {
          ms: SCENE_ROUND_MS,
          describeStuck: () =>
            `deadlocked: the threads never finished (waited ${SCENE_WAIT}): ` +
            `${whereEveryoneIs(where, [0, 1])}. Each thread calls lock() once, stays inside a moment and unlocks.`,
        },
      );
      const crowded = results.find((result) => result.inside > 1);
      assert.equal(
        crowded,
        undefined,
        `two threads were inside the lock at once. The test paused thread 0 in lock() right after its ` +
          `Atomics.load() read the lock as free (0), and let thread 1 call lock(): thread 1 took the lock. Then ` +
          `thread 0 went on and its lock() returned too, without checking again: checking that the lock is free ` +
          `and then setting it are two steps, and another thread can take it in between. On a machine with one ` +
          `CPU this pause happens whenever the system switches threads at that point. Take the lock in one ` +
          `atomic step that also tells you whether it was free: Atomics.compareExchange(cell, 0, 0, 1) returns ` +
          `the value it found, and only a 0 means this call took the lock.`,
      );
    },
    TEST_MS,
  );

  test(
    'tryLock() returns false at once while another thread holds the lock, and true when it is free',
    async () => {
      const { team, where } = await teamWithLock('held-lock.js', 2);
      const [holder, result] = await team.round<{
        whileHeld?: unknown;
        whenFree?: unknown;
        afterUnlock?: number;
        unlockError?: string;
      }>(
        { scene: 'try' },
        {
          ms: SCENE_ROUND_MS,
          describeStuck: () =>
            Atomics.load(where, 1) === 2 && Atomics.load(where, 0) === 4
              ? `deadlocked: tryLock() did not return while another thread held the lock. Thread 0 holds the ` +
                `lock and waits for thread 1's tryLock() to answer; thread 1 has been in tryLock() for ` +
                `${SCENE_WAIT}. tryLock() must try once and return false when the lock is ` +
                `taken, never wait for it.`
              : `deadlocked: the threads never finished (waited ${SCENE_WAIT}): ` +
                `${whereEveryoneIs(where, [0, 1])}. Thread 0 took the lock with lock(); thread 1 then calls ` +
                `tryLock() (while it is held) and, once thread 0 has unlocked, tryLock() again.`,
        },
      );
      assert.equal(
        result!.whileHeld,
        false,
        `while thread 0 held the lock, thread 1's tryLock() returned ${String(result!.whileHeld)}: it must ` +
          `return false and leave the lock alone. (Atomics.compareExchange returns the value it FOUND, not ` +
          `whether it succeeded: it found 1 here, and 1 means "taken".)`,
      );
      assert.equal(
        holder!.unlockError,
        undefined,
        `thread 0 took the lock with lock() and held it; its unlock() then threw "${holder!.unlockError}".`,
      );
      assert.equal(
        holder!.afterUnlock,
        0,
        `thread 0's unlock() returned, but the lock's Int32 was still ${holder!.afterUnlock}: it must be 0 ` +
          `(free) afterwards, or no other thread can ever take the lock. (Atomics.compareExchange takes the ` +
          `EXPECTED value first and the replacement second.)`,
      );
      assert.equal(
        result!.whenFree,
        true,
        `once thread 0 had unlocked, thread 1's tryLock() on the free lock returned ${String(result!.whenFree)}: ` +
          `it must take the lock and return true. (Atomics.compareExchange(cell, 0, 0, 1) returns 0, the ` +
          `value it found, when it has just taken the lock.)`,
      );
    },
    TEST_MS,
  );

  test(
    'unlock() lets in a thread that is spinning in lock(), and not before',
    async () => {
      const { team, where } = await teamWithLock('held-lock.js', 2);
      const [holder, result] = await team.round<{ beforeRelease?: boolean; unlockError?: string }>(
        { scene: 'wake' },
        {
          ms: SCENE_ROUND_MS,
          describeStuck: () =>
            Atomics.load(where, 1) === 1 && Atomics.load(where, 0) === 0
              ? `deadlocked: thread 1 has been waiting in lock() for ${SCENE_WAIT}, although ` +
                `thread 0, which held the lock, called unlock() and it returned. unlock() did not make the lock ` +
                `free: afterwards its Int32 must be 0 again. (Atomics.compareExchange takes the EXPECTED value ` +
                `first and the replacement second.)`
              : `deadlocked: the threads never finished (waited ${SCENE_WAIT}): ` +
                `${whereEveryoneIs(where, [0, 1])}. Thread 0 took the lock with lock() and unlocks it once ` +
                `thread 1 is about to call lock().`,
        },
      );
      assert.equal(
        result!.beforeRelease,
        false,
        `thread 1's lock() returned while thread 0 still held the lock (before thread 0 began to unlock): ` +
          `lock() must wait while the lock is taken. (Atomics.compareExchange returns the value it FOUND: ` +
          `only 0 means this call took the lock.)`,
      );
      assert.equal(
        holder!.unlockError,
        undefined,
        `thread 0 held the lock, and its unlock() threw "${holder!.unlockError}": the lock was already free, ` +
          `so thread 1's lock() had taken it while thread 0 still held it, and released it. lock() must wait ` +
          `while the lock is taken. (Atomics.compareExchange returns the value it FOUND: only 0 means this ` +
          `call took the lock.)`,
      );
    },
    TEST_MS,
  );

  test(
    'unlock() of a lock that is free throws, and leaves the lock free',
    async () => {
      const { team, where } = await teamWithLock('held-lock.js', 1);
      const [result] = await team.round<{
        took?: unknown;
        afterUnlock?: number;
        threw?: string | null;
        stillFree?: unknown;
      }>(
        { scene: 'free' },
        {
          ms: SCENE_ROUND_MS,
          describeStuck: () =>
            `deadlocked: one thread alone, with a free lock, never finished: it is ` +
            `${PLACES[Atomics.load(where, 0)] ?? 'somewhere unknown'} (waited ${SCENE_WAIT}). ` +
            `On a free lock, tryLock() and unlock() must return at once.`,
        },
      );
      assert.equal(
        result!.took,
        true,
        `tryLock() on a free lock (a fresh, all-zero buffer) returned ${String(result!.took)}: it must take ` +
          `the lock and return true.`,
      );
      assert.equal(
        result!.afterUnlock,
        0,
        `after tryLock() took the lock, unlock() returned but left the lock's Int32 at ${result!.afterUnlock}: ` +
          `it must be 0 (free) afterwards. (Atomics.compareExchange takes the EXPECTED value first and the ` +
          `replacement second.)`,
      );
      assert.equal(
        typeof result!.threw,
        'string',
        `after tryLock() and unlock(), a second unlock() on the now free lock returned normally: it must ` +
          `throw an Error (unlocking a lock nobody holds is a bug in the caller). Set the lock free only if ` +
          `it was locked, in one atomic step: Atomics.compareExchange(cell, 0, 1, 0) returns 1 when it did.`,
      );
      assert.equal(
        result!.stillFree,
        true,
        `after the unlock() of a free lock threw ("${result!.threw}"), tryLock() returned ` +
          `${String(result!.stillFree)}: the failed unlock() must leave the lock free.`,
      );
    },
    TEST_MS,
  );
});
