import assert from 'node:assert/strict';
import path from 'node:path';
import { Semaphore } from '@target/08-locks-and-conditions/semaphore';
import { inWords, scaled } from '../../support/deadline';
import { startTeam, stopTeams, type Team } from '../../support/thread-team';

// The graded module's real path, for the team members to require (Jest maps @target only in this thread).
const MODULE = require.resolve('@target/08-locks-and-conditions/semaphore');
const MEMBER = path.join(__dirname, 'fixtures', 'semaphore-member.js');

// Int32 cells the members share (see fixtures/semaphore-member.js). The semaphore sits after them, at a
// byte offset other than 0, so that a semaphore which ignores `byteOffset` tramples these cells.
const L = {
  INSIDE: 0, // how many threads are between acquire() and release() right now
  STOP: 1, // set by the first member that finds too many threads inside: everyone stops
  NAP: 2, // never written: members sleep on it with a timeout
  PAUSED: 3, // forced schedule: 1 while thread 0 is paused after seeing a free permit
  RELEASES: 4, // permits released so far by the threads that got in first (exact-N test)
  ADMITTED: 5, // late threads that got in so far (exact-N test)
  ARRIVED: 6, // first threads inside so far (exact-N test)
  PHASE: 8, // PHASE + i: 0 not yet, 1 about to call acquire(), 2 inside, 3 released
  TID: 12, // TID + i: member i's kernel thread id (Linux), to see whether it is asleep
  TAKEN: 16, // TAKEN + i: member i returned from acquire() (forced schedule)
  WAITING: 20, // WAITING + i: member i is in Atomics.wait on the semaphore (forced schedule)
  DONE: 24, // DONE + i: member i released (forced schedule)
  SEMAPHORE_BYTE_OFFSET: 32 * 4,
};
const SIZE = 4;
/**
 * Round limits (ms), passed to thread-team, which stretches them on a machine with less CPU
 * (tests/support/deadline.ts): they only turn "never finished" into a failure.
 */
const COUNT_ROUND_MS = 3000;

// One team of four members serves the whole suite while the tests pass; a test that fails (a member may be
// stuck in acquire() for ever) throws its team away at once, and the next test starts a new one.
let shared: { team: Team; memory: SharedArrayBuffer; cells: Int32Array; clean: boolean } | undefined;

/** The team, with every shared cell cleared and the semaphore set up with `permits`. */
async function team(permits: number): Promise<{ team: Team; cells: Int32Array; memory: SharedArrayBuffer }> {
  if (!shared) {
    const memory = new SharedArrayBuffer(L.SEMAPHORE_BYTE_OFFSET + Math.max(Semaphore.BYTES, 4) + 32);
    Semaphore.init(memory, L.SEMAPHORE_BYTE_OFFSET, permits); // fails at once, before any thread starts, if it throws
    const started = await startTeam(MEMBER, SIZE, { module: MODULE, memory, layout: L });
    shared = { team: started, memory, cells: new Int32Array(memory), clean: false };
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
  shared.cells.fill(0); // every member is idle between rounds
  shared.clean = false;
  Semaphore.init(shared.memory, L.SEMAPHORE_BYTE_OFFSET, permits);
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

const available = (memory: SharedArrayBuffer): number => new Semaphore(memory, L.SEMAPHORE_BYTE_OFFSET).available;

describe('Semaphore', () => {
  test('never lets more threads in at once than it has permits, and loses no permit', async () => {
    const permits = 2;
    const { team: members, cells, memory } = await team(permits);
    const iterations = 1000;
    const rounds = 25;
    for (let round = 1; round <= rounds; round++) {
      cells[L.STOP] = 0;
      const results = await members.round<{ index: number; done: number; peak: number }>(
        { kind: 'count', iterations, permits },
        {
          ms: COUNT_ROUND_MS,
          describeStuck: (stuck) =>
            `deadlocked: thread${stuck.length > 1 ? 's' : ''} ${stuck.join(', ')} of ${SIZE} never finished their ` +
            `acquire()/release() pairs in round ${round} (waited ${inWords(scaled(COUNT_ROUND_MS))}): threads ` +
            `sleeping in acquire() were never woken. release() must Atomics.notify a sleeping thread after it ` +
            `gives back the permit.`,
        },
      );
      const crowded = results.filter((r) => r.peak > permits);
      assert.equal(
        crowded.length,
        0,
        `${SIZE} threads ran acquire(); …; release() in a loop on a semaphore with ${permits} permits, and ` +
          crowded.map((r) => `thread ${r.index} found ${r.peak} threads inside at once`).join(', ') +
          ` (round ${round}). At most ${permits} may be inside. Taking a permit must be ONE atomic step: ` +
          'reading the count and then decrementing it lets two threads both see the last permit and both take it. ' +
          'Use Atomics.compareExchange(count, i, seen, seen - 1), and look again if it returns something other than seen.',
      );
      const left = available(memory);
      assert.equal(
        left,
        permits,
        `after every thread had released each permit it acquired (round ${round}), available is ${left} instead ` +
          `of ${permits}: permits were ${left < permits ? 'lost' : 'invented'}. acquire() takes exactly one, release() gives back exactly one.`,
      );
    }
    passed();
  });

  test('a thread that has seen a free permit cannot take it after another thread took the last one', async () => {
    const { team: members, cells } = await team(1);
    type Racer = { index: number; inside: number; paused: boolean };
    const [first, second] = await members.round<Racer>(
      [{ kind: 'race' }, { kind: 'race' }, { kind: 'idle' }, { kind: 'idle' }],
      {
        ms: 4000,
        describeStuck: (stuck) =>
          `deadlocked: ${stuck
            .map((i) =>
              Atomics.load(cells, L.WAITING + i) === 1
                ? `thread ${i} is still asleep in acquire()${Atomics.load(cells, L.DONE + 1 - i) === 1 ? ` after thread ${1 - i} released the only permit` : ''}`
                : `thread ${i} never returned from ${Atomics.load(cells, L.TAKEN + i) === 1 ? 'release()' : 'acquire()'}`,
            )
            .join('; ')}. release() must Atomics.notify a thread sleeping in acquire().`,
      },
    );
    for (const racer of [first!, second!]) {
      assert.equal(
        racer.inside,
        1,
        `thread ${racer.index} found ${racer.inside} threads inside a semaphore with 1 permit. ` +
          (first!.paused
            ? 'The test paused thread 0 right after its Atomics.load() saw 1 permit free, let thread 1 call ' +
              'acquire() and take it, and then let thread 0 go on: it took a permit too, although none was left. ' +
              'Between a read and a later write another thread can act: take the permit in ONE atomic step, ' +
              'Atomics.compareExchange(count, i, seen, seen - 1), and if it returns something other than seen, look again.'
            : 'Two threads got in although there was one permit.'),
      );
    }
    passed();
  });

  test('lets exactly as many threads in as it has permits, and each release() wakes one sleeping thread', async () => {
    const permits = 2;
    const { team: members, cells } = await team(permits);
    type Late = { index: number; releases: number; admitted: number; inside: number; wallMs: number; cpuMs: number };
    type First = { index: number; inside: number; states: string };
    const results = await members.round<First | Late>(
      { kind: 'exact', watchMs: 300 },
      {
        ms: 4000,
        describeStuck: (stuck) => {
          const phase = (i: number) => Atomics.load(cells, L.PHASE + i);
          const firstIn = [0, 1].filter((i) => phase(i) >= 2);
          if (firstIn.length < permits) {
            return (
              `deadlocked: only ${firstIn.length} of ${permits} threads got in at once: ` +
              `${firstIn.map((i) => `thread ${i} is inside, waiting for thread ${1 - i} to join it`).join('; ')}; ` +
              `${[0, 1]
                .filter((i) => phase(i) === 1)
                .map((i) => `thread ${i} is still waiting in acquire()`)
                .join('; ')}. ` +
              `A semaphore with ${permits} permits must let ${permits} threads in at the same time: acquire() ` +
              'takes one permit (count - 1) and waits only while the count is 0.'
            );
          }
          const released = Atomics.load(cells, L.RELEASES);
          const waiting = [2, 3].filter((i) => stuck.includes(i) && phase(i) === 1);
          return (
            `deadlocked: ${waiting.map((i) => `thread ${i} is still waiting in acquire()`).join('; ') || `thread ${stuck.join(', ')} never finished`} ` +
            `after ${released} permit${released === 1 ? ' was' : 's were'} released ` +
            `(${Atomics.load(cells, L.ADMITTED)} of 2 waiting threads got in). A thread asleep in acquire() was never ` +
            'woken: release() must give the permit back and then Atomics.notify one sleeping thread.'
          );
        },
      },
    );
    const first = results.slice(0, 2) as First[];
    const late = results.slice(2) as Late[];
    for (const r of first) {
      assert.ok(
        r.inside <= permits,
        `thread ${r.index} found ${r.inside} threads inside a semaphore with ${permits} permits.`,
      );
    }
    for (const r of late) {
      assert.ok(
        r.admitted <= r.releases && r.inside <= permits,
        `${permits} threads held both permits while threads 2 and 3 waited in acquire(); then one permit was ` +
          `released, and thread ${r.index} got in as the ${r.admitted === 1 ? '1st' : '2nd'} waiting thread ` +
          `after only ${r.releases} release${r.releases === 1 ? '' : 's'} (${r.inside} threads inside at once). ` +
          'One release() gives back one permit, so it may let in one waiting thread, not two. A thread woken in ' +
          'acquire() must check again that a permit is free and take it atomically, going back to sleep if ' +
          'another thread got it first: wait in a loop (while), not once (if).',
      );
    }
    const states = first[0]!.states;
    const runnable = [...states].filter((state) => state === 'R').length;
    const watched = late.find((r) => r.index === 2)!;
    // CPU time against the waiter's own wall time, not a fixed bound: a waiter asleep in Atomics.wait uses a
    // few ms of CPU (10 ms steps in /proc) however slow the machine, while its wall time is at least the
    // 300 ms thread 0 watches it, more on a slow machine; so correct code stays far below wallMs / 4, and is
    // seen asleep (S) at every look. (No known-wrong variant spins here. Two waiters that spin would share
    // what CPU there is: about half their wall time each on one CPU, only a quarter each under a half-CPU
    // quota; but a spinner is R, running or throttled, at every look, which the second half catches.)
    assert.ok(
      watched.cpuMs <= watched.wallMs / 4 && !(states.length > 0 && runnable > states.length / 2),
      `thread 2 waited ${watched.wallMs} ms in acquire() while no permit was free, and used ${watched.cpuMs} ms ` +
        `of CPU doing it${states.length > 0 ? ` (it was running or ready to run in ${runnable} of ${states.length} looks)` : ''}. ` +
        'A waiting thread must not spin and burn a core: sleep in Atomics.wait(count, i, 0) while the count is 0.',
    );
    passed();
  });

  test('tryAcquire() takes a permit only when one is free, and available counts the free permits', async () => {
    const { team: members } = await team(1);
    type Seen = {
      start: number;
      first: boolean;
      afterFirst: number;
      second: boolean;
      afterSecond: number;
      afterRelease: number;
      third: boolean;
    };
    const [seen] = await members.round<Seen>(
      [{ kind: 'tries' }, { kind: 'idle' }, { kind: 'idle' }, { kind: 'idle' }],
      { ms: 4000 },
    );
    const expected: Seen = {
      start: 1,
      first: true,
      afterFirst: 0,
      second: false,
      afterSecond: 0,
      afterRelease: 1,
      third: true,
    };
    assert.deepEqual(
      { ...seen },
      expected,
      'on a semaphore set up with 1 permit, one thread saw: available → tryAcquire() → available → ' +
        'tryAcquire() → available → release() → available → tryAcquire(). Expected ' +
        `${JSON.stringify(expected)}, got ${JSON.stringify(seen)}. tryAcquire() takes a permit and returns true ` +
        'when one is free, and returns false at once, taking nothing, when none is.',
    );
    passed();
  });
});
