import assert from 'node:assert/strict';
import path from 'node:path';
import { Mutex } from '@target/08-locks-and-conditions/mutex';
import { inWords, scaled } from '../../support/deadline';
import { startTeam, stopTeams, type Team } from '../../support/thread-team';

// The graded module's real path, for the team members to require (Jest maps @target only in this thread).
const MODULE = require.resolve('@target/08-locks-and-conditions/mutex');
const MEMBER = path.join(__dirname, 'fixtures', 'mutex-member.js');

// Int32 cells the members share (see fixtures/mutex-member.js). The mutex itself sits after them, at a
// byte offset other than 0, so that a mutex which ignores `byteOffset` tramples the counter.
const L = {
  COUNTER: 0, // incremented without atomics, inside the critical section
  INSIDE: 1, // how many threads are inside the critical section right now
  HELD: 2, // 1 once the holder has the mutex
  RELEASED: 3, // 1 once the holder is about to unlock
  NAP: 4, // never written: members sleep on it with a timeout
  STOP: 5, // set by the first member that finds another thread inside: everyone stops
  PAUSED: 6, // forced schedule: 1 while thread 0 is paused after reading the mutex as free
  PHASE: 8, // PHASE + i: 0 not yet, 1 about to call lock(), 2 inside, 3 unlocked again
  TID: 16, // TID + i: member i's kernel thread id (Linux), for the holder to see whether it is asleep
  LOCKED: 24, // LOCKED + i: member i returned from lock() (forced schedule)
  WAITING: 28, // WAITING + i: member i is in Atomics.wait on the mutex (forced schedule)
  DONE: 32, // DONE + i: member i unlocked (forced schedule)
  MUTEX_BYTE_OFFSET: 40 * 4,
};
const SIZE = 4;
/**
 * Round limits (ms), passed to thread-team, which stretches them on a machine with less CPU
 * (tests/support/deadline.ts): they only turn "never finished" into a failure.
 */
const COUNT_ROUND_MS = 3000;

// One team of four members serves the whole suite while the tests pass; a test that fails (a member may be
// stuck in lock() for ever) throws its team away at once, and the next test starts a new one.
let shared: { team: Team; cells: Int32Array; clean: boolean } | undefined;

async function team(): Promise<{ team: Team; cells: Int32Array }> {
  if (!shared) {
    const memory = new SharedArrayBuffer(L.MUTEX_BYTE_OFFSET + Math.max(Mutex.BYTES, 4) + 32);
    const started = await startTeam(MEMBER, SIZE, { module: MODULE, memory, layout: L });
    shared = { team: started, cells: new Int32Array(memory), clean: false };
    // The members' first round waits until every one of them has started and loaded the graded module,
    // so the time limits of the real rounds below count only the work.
    await started.round(
      { kind: 'idle' },
      {
        ms: 8000,
        describeStuck: (stuck) => `thread ${stuck.join(', ')} never started: does loading the module block or loop?`,
      },
    );
  }
  shared.cells.fill(0); // every member is idle between rounds; a fresh mutex is all zeros
  shared.clean = false;
  return shared;
}
/** Called at the end of a test that passed: its team may serve the next test. */
function passed(): void {
  if (shared) shared.clean = true;
}

afterEach(async () => {
  if (shared && !shared.clean) {
    shared = undefined;
    await stopTeams();
  }
});
afterAll(stopTeams);

const PHASES = [
  'had not called lock() yet',
  'is still waiting in lock()',
  'got in but never returned from unlock()',
  '',
];

/** For a round where thread 0 holds the mutex and the others wait for it: who is stuck where. */
function describeWaiters(cells: Int32Array, waiters: number[]) {
  return (stuck: number[]): string => {
    const released = Atomics.load(cells, L.RELEASED) === 1;
    const gotIn = waiters.filter((i) => Atomics.load(cells, L.PHASE + i) >= 2);
    const where = stuck
      .map((i) =>
        i === 0 ? 'thread 0 (the holder) never finished' : `thread ${i} ${PHASES[Atomics.load(cells, L.PHASE + i)]}`,
      )
      .join('; ');
    return (
      `deadlocked: ${where}${released ? ' after the holder unlocked' : ' while the holder still had the mutex'} ` +
      `(${gotIn.length} of ${waiters.length} waiting thread${waiters.length > 1 ? 's' : ''} got in` +
      `${gotIn.length > 0 ? `: thread ${gotIn.join(', ')}` : ''}). ` +
      (released
        ? 'Nobody holds the mutex any more, so a thread still asleep in lock() was never woken: a lost wake-up. ' +
          'unlock() must Atomics.notify a waiter whenever threads may be waiting, and a thread that wakes up and ' +
          'takes the lock must leave the state at "locked, with waiters" (2), so that its own unlock() wakes the next one.'
        : '')
    );
  };
}

/** For the forced two-thread schedule: where each stuck thread is. */
function describeRace(cells: Int32Array) {
  return (stuck: number[]): string => {
    const where = stuck.map((i) => {
      const other = 1 - i;
      if (Atomics.load(cells, L.WAITING + i) === 1) {
        return Atomics.load(cells, L.DONE + other) === 1
          ? `thread ${i} is still asleep in lock() after thread ${other} unlocked the mutex`
          : `thread ${i} is asleep in lock()`;
      }
      if (Atomics.load(cells, L.LOCKED + i) === 1) return `thread ${i} got in but never returned from unlock()`;
      return `thread ${i} never returned from lock()`;
    });
    return (
      `deadlocked: ${where.join('; ')}. A thread asleep in lock() after the mutex was released was never woken: ` +
      'unlock() must Atomics.notify a waiter whenever threads may be waiting.'
    );
  };
}

describe('Mutex', () => {
  test('lets one thread at a time into the critical section, so no update is lost', async () => {
    const { team: members, cells } = await team();
    const iterations = 1000;
    const rounds = 25;
    for (let round = 1; round <= rounds; round++) {
      cells[L.COUNTER] = 0;
      cells[L.STOP] = 0;
      const results = await members.round<{ index: number; done: number; crowd: number }>(
        { kind: 'count', iterations },
        {
          ms: COUNT_ROUND_MS,
          describeStuck: (stuck) =>
            `deadlocked: thread${stuck.length > 1 ? 's' : ''} ${stuck.join(', ')} of ${SIZE} never finished their ` +
            `lock()/unlock() pairs in round ${round} (waited ${inWords(scaled(COUNT_ROUND_MS))}): threads sleeping ` +
            `in lock() were never woken. ` +
            `unlock() must Atomics.notify a waiter whenever threads may be waiting.`,
        },
      );
      const expected = results.reduce((sum, r) => sum + r.done, 0);
      const counter = cells[L.COUNTER]!;
      const crowded = results.filter((r) => r.crowd > 1);
      if (counter === expected && crowded.length === 0) continue;
      assert.fail(
        `${SIZE} threads ran lock(); counter = counter + 1; unlock() in a loop, ${expected} times in all ` +
          `(round ${round}), and the counter ended at ${counter}` +
          (counter === expected ? '' : ` instead of ${expected}: ${expected - counter} updates were lost`) +
          (crowded.length > 0
            ? `; ${crowded.map((r) => `thread ${r.index} found ${r.crowd} threads inside the critical section at once`).join(', ')}`
            : '') +
          '. Two threads held the mutex at the same time. Taking the lock must be ONE atomic step ' +
          '(Atomics.compareExchange or Atomics.exchange): reading the state and then storing "locked" lets two ' +
          'threads both read "free" and both go in.',
      );
    }
    passed();
  });

  test('a thread that has read the mutex as free cannot take it after another thread did', async () => {
    const { team: members, cells } = await team();
    type Racer = { index: number; inside: number; paused: boolean };
    const [first, second] = await members.round<Racer>(
      [{ kind: 'race' }, { kind: 'race' }, { kind: 'idle' }, { kind: 'idle' }],
      { ms: 4000, describeStuck: describeRace(cells) },
    );
    for (const racer of [first!, second!]) {
      assert.equal(
        racer.inside,
        1,
        `thread ${racer.index} found ${racer.inside} threads inside the critical section at once. ` +
          (first!.paused
            ? 'The test paused thread 0 right after its Atomics.load() read the mutex as free (0), let thread 1 ' +
              'call lock() and get in, and then let thread 0 go on: it took the mutex too. Between a read and a ' +
              'later write another thread can act: take the lock in ONE atomic step, ' +
              'Atomics.compareExchange(state, i, 0, 1), which fails if the state is no longer 0.'
            : 'Two threads held the mutex at the same time.'),
      );
    }
    passed();
  });

  test('a thread waiting in lock() sleeps instead of spinning, and gets in only after unlock()', async () => {
    const { team: members, cells } = await team();
    type Holder = { heldMs: number; states: string };
    type Waiter = { wallMs: number; cpuMs: number; beforeRelease: boolean };
    const [holder, waiter] = (await members.round<Holder | Waiter>(
      [{ kind: 'hold', waiters: [1], holdMs: 300 }, { kind: 'wait' }, { kind: 'idle' }, { kind: 'idle' }],
      { ms: 3000, describeStuck: describeWaiters(cells, [1]) },
    )) as [Holder, Waiter];
    assert.ok(
      !waiter.beforeRelease,
      'thread 1 returned from lock() while thread 0 still held the mutex: lock() must wait until the mutex is free.',
    );
    const runnable = [...holder.states].filter((state) => state === 'R').length;
    // CPU time against the hold, not wall-clock time against a fixed bound. A waiter asleep in Atomics.wait
    // uses a few ms of CPU (10 ms steps in /proc) however slow the machine, and is seen asleep (S); heldMs is
    // at least the 300 ms of looks, more on a slow machine, so correct code stays far below heldMs / 4. A
    // spinning waiter (spins-instead-of-waiting) is never asleep, so the holder first gives it the whole of
    // untilAsleep's limit, then looks: on two CPUs it uses about heldMs of CPU; on one CPU the holder sleeps
    // between looks, so the spinner gets the CPU (and is R when looked at); under a half-CPU quota it gets
    // most of the quota (about heldMs / 2) and is R, running or throttled, at every look.
    const spinning =
      waiter.cpuMs > holder.heldMs / 4 || (holder.states.length > 0 && runnable > holder.states.length / 2);
    assert.ok(
      !spinning,
      `thread 1 waited ${waiter.wallMs} ms in lock() while thread 0 held the mutex for ${holder.heldMs} ms, and used ` +
        `${waiter.cpuMs} ms of CPU doing it` +
        (holder.states.length > 0
          ? ` (it was running or ready to run in ${runnable} of ${holder.states.length} looks)`
          : '') +
        '. A waiting thread must not spin and burn a core: mark the lock "locked, with waiters" (2) and sleep in ' +
        'Atomics.wait(state, i, 2) until unlock() wakes you with Atomics.notify.',
    );
    passed();
  });

  test('wakes every thread waiting in lock(): three waiters all get in after the holder unlocks', async () => {
    const { team: members, cells } = await team();
    type Waiter = { index: number; beforeRelease: boolean; inside: number };
    const [, ...waiters] = (await members.round<unknown>(
      [{ kind: 'hold', waiters: [1, 2, 3] }, { kind: 'wait' }, { kind: 'wait' }, { kind: 'wait' }],
      { ms: 3000, describeStuck: describeWaiters(cells, [1, 2, 3]) },
    )) as [unknown, ...Waiter[]];
    for (const waiter of waiters) {
      assert.ok(
        !waiter.beforeRelease,
        `thread ${waiter.index} returned from lock() while thread 0 still held the mutex: lock() must wait until the mutex is free.`,
      );
      assert.equal(
        waiter.inside,
        1,
        `thread ${waiter.index} found ${waiter.inside} threads inside the critical section at once: two waiters took the mutex together.`,
      );
    }
    passed();
  });

  test('tryLock() returns false at once while another thread holds the mutex, and true once it is free', async () => {
    const { team: members } = await team();
    const [, tries] = await members.round<{ whileHeld?: boolean; afterRelease?: boolean; second?: boolean }>(
      [{ kind: 'holdForTry' }, { kind: 'tryWhileHeld' }, { kind: 'idle' }, { kind: 'idle' }],
      { ms: 4000 },
    );
    assert.equal(
      tries!.whileHeld,
      false,
      'tryLock() returned true while thread 0 held the mutex: it must return false when the mutex is taken.',
    );
    assert.equal(
      tries!.afterRelease,
      true,
      'tryLock() returned false on a free mutex (after thread 0 unlocked it): it must take it and return true.',
    );
    assert.equal(
      tries!.second,
      false,
      'a second tryLock() right after a successful one returned true: the first one did not really take the mutex.',
    );
    passed();
  });
});
