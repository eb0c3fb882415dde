import assert from 'node:assert/strict';
import path from 'node:path';
import { Barrier } from '@target/08-locks-and-conditions/barrier';
import { inWords, scaled, waitUntil } from '../../support/deadline';
import { startTeam, stopTeams, type Team } from '../../support/thread-team';

const MODULE = require.resolve('@target/08-locks-and-conditions/barrier');
const FIXTURE = path.join(__dirname, 'fixtures', 'member.js');

/** Where the suite and the fixture keep their records, in Int32 slots of the control memory. */
const MAX_THREADS = 8;
const MAX_ROUNDS = 255;
const LOG_CAPACITY = 2048;
const layout = {
  STATE: 0, // per thread: 0 running, 1 asleep in Atomics.wait, 2 paused by the test, 3 done
  SLEEPS: MAX_THREADS, // per thread: how many times it called Atomics.wait
  ROUND: 2 * MAX_THREADS, // per thread: the round of its latest wait() call
  LEFT: 3 * MAX_THREADS, // per thread: the latest round it got out of
  PENDING: 4 * MAX_THREADS, // wake-ups sent by Atomics.notify, not yet received
  CHANGE: 4 * MAX_THREADS + 1, // bumped on every change of the above
  RELEASE: 4 * MAX_THREADS + 2, // the 'late' thread may call wait() for rounds up to this one
  GAVE_UP: 4 * MAX_THREADS + 3, // the scheduler gave up (a barrier whose waiting threads never sleep)
  LOG_LENGTH: 4 * MAX_THREADS + 4,
  ARRIVED: 4 * MAX_THREADS + 5, // per round: how many threads called wait() for it
  LOG_THREAD: 4 * MAX_THREADS + 6 + MAX_ROUNDS,
  LOG_ROUND: 4 * MAX_THREADS + 6 + MAX_ROUNDS + LOG_CAPACITY,
  LOG_CAPACITY,
};
const CONTROL_SLOTS = layout.LOG_ROUND + LOG_CAPACITY;
const ASLEEP = 1;
const PAUSED = 2;

/** Where the barrier lives in its memory: not at 0, with guard words on both sides. */
const OFFSET = 16;
const GUARD = 0x5a5a5a5a;

interface Setup {
  /** Runs one round of the team with `task` (plus this setup's memory), for the threads 0 … parties - 1. */
  run<R>(task: object, ms: number): Promise<R[]>;
  ctl: Int32Array;
  /** The barrier's own Int32 slots, as the main thread sees them. */
  slots: Int32Array;
  guards: () => number[];
  parties: number;
}

/**
 * One team of threads for the whole suite (starting threads that load TypeScript takes seconds on a busy
 * machine); a test that fails stops it, so threads a wrong barrier left blocked never outlive their test.
 * Once a test has failed, the next team is started while the next test runs, so that a barrier that
 * deadlocks in every test does not spend the suite's time limit on starting threads.
 */
const TEAM_SIZE = 3;
let team: Team | undefined;
let spare: Promise<Team> | undefined;
let failedOnce = false;
afterAll(async () => {
  await spare?.catch(() => undefined);
  await stopTeams();
});

async function newTeam(): Promise<Team> {
  const started = await startTeam(FIXTURE, TEAM_SIZE, { module: MODULE });
  try {
    // Every thread has loaded the graded module: starting is not part of any test's rounds.
    await started.round({ kind: 'hello' }, { ms: 25000 });
  } catch (error) {
    await started.stop();
    throw error;
  }
  return started;
}

async function setUp(parties: number): Promise<Setup> {
  const memory = new SharedArrayBuffer(OFFSET + Barrier.BYTES + OFFSET);
  const words = new Int32Array(memory);
  const first = OFFSET / 4;
  const end = (OFFSET + Barrier.BYTES) / 4;
  words.fill(GUARD, 0, first);
  words.fill(GUARD, end);
  const control = new SharedArrayBuffer(4 * CONTROL_SLOTS);
  if (!team) {
    const next = spare ?? newTeam();
    spare = undefined;
    team = await next;
  }
  if (failedOnce && !spare) {
    spare = newTeam();
    spare.catch(() => undefined); // a failure to start shows when it is used
  }
  const setup: Setup = {
    run: async <R>(task: object, ms: number) => {
      const current = team!;
      try {
        const results = await current.round<R>(
          { ...task, memory, byteOffset: OFFSET, control, layout, parties },
          { ms, describeStuck: describeStuck(setup, ms) },
        );
        return results.slice(0, parties);
      } catch (error) {
        await stopTeam(current);
        throw error;
      }
    },
    ctl: new Int32Array(control),
    slots: new Int32Array(memory, OFFSET, Barrier.BYTES / 4),
    guards: () => [...words.subarray(0, first), ...words.subarray(end)],
    parties,
  };
  return setup;
}

async function stopTeam(which: Team | undefined): Promise<void> {
  if (which === team) team = undefined;
  await which?.stop();
}

/** Runs a test's body; if it fails, stops the team first (its threads may be blocked in the barrier). */
function guarded(body: () => Promise<void>): () => Promise<void> {
  return async () => {
    try {
      await body();
    } catch (error) {
      failedOnce = true;
      spare ??= newTeam();
      spare.catch(() => undefined); // a failure to start shows when it is used
      await stopTeam(team);
      throw error;
    }
  };
}

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

/** "thread 0", "threads 1, 2" */
function threads(list: number[]): string {
  return `thread${list.length === 1 ? '' : 's'} ${list.join(', ')}`;
}

/**
 * The failure message of a round whose threads never all came back: who waits in which round, who arrived.
 * `ms` is the limit as the suite wrote it; the message states it as stretched on this machine (thread-team and
 * waitUntil stretch every limit, tests/support/deadline.ts).
 */
function describeStuck({ ctl, parties }: Setup, ms: number) {
  return (stuck: number[]): string => {
    const waiting = new Map<number, number[]>();
    const outside: string[] = [];
    for (const thread of stuck) {
      const round = ctl[layout.ROUND + thread]!;
      if (ctl[layout.LEFT + thread]! < round) waiting.set(round, [...(waiting.get(round) ?? []), thread]);
      else if (ctl[layout.STATE + thread] === PAUSED) outside.push(`thread ${thread} held back by the test`);
      else outside.push(`thread ${thread} not in wait()`);
    }
    const rounds = [...waiting.keys()].sort((a, b) => a - b);
    const where = rounds.map((round) => `${threads(waiting.get(round)!)} waiting in round ${round}`);
    const arrived = rounds.map(
      (round) => `${ctl[layout.ARRIVED + round]} of ${parties} threads arrived in round ${round}`,
    );
    const spinning = stuck.filter(
      (thread) => ctl[layout.LEFT + thread]! < ctl[layout.ROUND + thread]! && ctl[layout.STATE + thread] !== ASLEEP,
    );
    const spins =
      spinning.length > 0 ? ` (${threads(spinning)} never went to sleep in Atomics.wait: does wait() spin?)` : '';
    return (
      `deadlocked: ${where.join(', ')} for ${inWords(scaled(ms))}${outside.length > 0 ? ` (${outside.join(', ')})` : ''}, ` +
      `although ${arrived.join(' and ')}.${spins} Once the last thread of a round has arrived, every thread ` +
      `waiting in that round must get out, even when a faster thread has already called wait() again for the ` +
      `next round. Wait for the round's generation to change (not for the count to go back to 0), and reset ` +
      `the count and bump the generation before you notify.`
    );
  };
}

/** Polls `condition` until it holds (true) or `ms` (stretched, as by waitUntil) have passed (false). */
function holds(condition: () => boolean, ms: number): Promise<boolean> {
  return waitUntil(condition, ms, '').then(
    () => true,
    () => false,
  );
}

/** Checks the shared log: every thread's entry for round r comes before any entry for round r + 1. */
function assertRoundsInStep({ ctl }: Setup, rounds: number, parties: number): void {
  const length = ctl[layout.LOG_LENGTH]!;
  assert.equal(length, rounds * parties, `expected ${rounds * parties} calls of wait() in the log, got ${length}.`);
  let highest = 0;
  for (let at = 0; at < length; at += 1) {
    const thread = ctl[layout.LOG_THREAD + at]!;
    const round = ctl[layout.LOG_ROUND + at]!;
    highest = Math.max(highest, round);
    if (round < highest) {
      assert.fail(
        `thread ${thread} called wait() for round ${round} only after another thread had already called it for ` +
          `round ${highest}: that thread got out of round ${highest - 1} before every thread had arrived in it. ` +
          `wait() may return only once all ${parties} threads have called it in the current round.`,
      );
    }
  }
}

/** Each round's return values must be 0, 1, …, parties - 1 in some order (the order of arrival). */
function assertArrivalOrders(results: Array<{ arrivals: number[] }>, rounds: number, parties: number): void {
  for (let round = 1; round <= rounds; round += 1) {
    const got = results.map((result) => result.arrivals[round - 1]!);
    assert.deepEqual(
      [...got].sort((a, b) => a - b),
      range(parties),
      `in round ${round}, wait() returned ${got.join(', ')} in threads ${range(parties).join(', ')}: each round's ` +
        `calls must return 0, 1, …, ${parties - 1}, each once (the order in which the threads arrived).`,
    );
  }
}

describe('Barrier', () => {
  test(
    'wait() does not return before the last thread has arrived, even when woken up early',
    guarded(async () => {
      const parties = 3;
      const setup = await setUp(parties);
      const { ctl, slots } = setup;
      const late = 2;
      const early = [0, 1];
      const rounds = 2;
      /** How long threads get to fall asleep, or to get out once the round is complete (only "never" fails). */
      const ms = 2500;
      const waited = inWords(scaled(ms));
      const outcome = setup.run<{ arrivals: number[] }>({ kind: 'late', rounds, late }, 20000).then(
        (results) => ({ results }),
        (error: unknown) => ({ error }),
      );
      let failure: unknown;
      void outcome.then((result) => {
        if ('error' in result) failure = result.error;
      });
      const left = (thread: number, round: number): boolean => ctl[layout.LEFT + thread]! >= round;
      for (let round = 1; round <= rounds; round += 1) {
        // Stretched like every wait here: a waiter that spins (spins-instead-of-waiting) never sleeps in
        // Atomics.wait, so no length lets it through, and a correct one only needs the CPU to get there.
        const asleep = await holds(
          () =>
            failure !== undefined ||
            early.every(
              (thread) =>
                left(thread, round) || (ctl[layout.ROUND + thread] === round && ctl[layout.STATE + thread] === ASLEEP),
            ),
          ms,
        );
        if (failure !== undefined) throw failure;
        const gotOut = early.filter((thread) => left(thread, round));
        assert.deepEqual(
          gotOut,
          [],
          `in round ${round}, ${threads(gotOut)} returned from wait() while thread ${late} had not called it yet ` +
            `(${ctl[layout.ARRIVED + round]} of ${parties} threads arrived). wait() may return only once all ` +
            `${parties} have arrived in the round` +
            (round > 1 ? ' — this is the second round: is the count reset for the next one?' : '.'),
        );
        assert.ok(
          asleep,
          `in round ${round}, threads 0 and 1 called wait() and, ${waited} later, had neither returned nor gone ` +
            `to sleep in Atomics.wait. A thread waiting at the barrier must sleep in Atomics.wait, not spin.`,
        );
        // Wake the sleepers without completing the round, as another thread's notify on this memory could.
        const sleeps = early.map((thread) => ctl[layout.SLEEPS + thread]!);
        const settled = await holds(() => {
          for (let slot = 0; slot < slots.length; slot += 1) {
            Atomics.add(ctl, layout.PENDING, Atomics.notify(slots, slot));
          }
          return (
            failure !== undefined ||
            early.every(
              (thread, i) =>
                left(thread, round) ||
                (ctl[layout.SLEEPS + thread]! > sleeps[i]! && ctl[layout.STATE + thread] === ASLEEP),
            )
          );
        }, ms);
        if (failure !== undefined) throw failure;
        const wokenOut = early.filter((thread) => left(thread, round));
        assert.deepEqual(
          wokenOut,
          [],
          `in round ${round}, the test woke the waiting threads with Atomics.notify on the barrier's memory before ` +
            `thread ${late} had arrived, and ${threads(wokenOut)} returned from wait(). A return of Atomics.wait ` +
            `does not mean the round is complete: check again in a while loop, and sleep again until it is.`,
        );
        assert.ok(
          settled,
          `in round ${round}, the test woke threads 0 and 1 with Atomics.notify before thread ${late} had ` +
            `arrived, and ${waited} later they had neither gone back to sleep in Atomics.wait nor returned.`,
        );
        Atomics.store(ctl, layout.RELEASE, round);
        Atomics.notify(ctl, layout.RELEASE);
        const out = await holds(() => failure !== undefined || range(parties).every((t) => left(t, round)), ms);
        if (failure !== undefined) throw failure;
        if (!out) {
          throw new Error(describeStuck(setup, ms)(range(parties).filter((thread) => !left(thread, round))));
        }
      }
      const result = await outcome;
      if ('error' in result) throw result.error;
      assertArrivalOrders(result.results, rounds, parties);
      for (let round = 1; round <= rounds; round += 1) {
        const got: number | undefined = result.results[late]!.arrivals[round - 1];
        assert.equal(
          got,
          parties - 1,
          `thread ${late} arrived last in round ${round}, so its wait() should return ${parties - 1}, got ${got}.`,
        );
      }
    }),
  );

  test(
    'a slow thread still gets out of its round when a fast one has already called wait() again',
    guarded(async () => {
      const setup = await setUp(3);
      const rounds = 6;
      const ms = 3000;
      const results = await setup.run<{ arrivals: number[] }>({ kind: 'adversary', rounds }, ms);
      assertRoundsInStep(setup, rounds, 3);
      assertArrivalOrders(results, rounds, 3);
    }),
  );

  test(
    'keeps every thread in step over many back-to-back rounds',
    guarded(async () => {
      const parties = 3;
      const setup = await setUp(parties);
      const rounds = 100;
      const ms = 2500;
      const results = await setup.run<{ arrivals: number[] }>({ kind: 'free', rounds }, ms);
      assertRoundsInStep(setup, rounds, parties);
      assertArrivalOrders(results, rounds, parties);
      const guards = setup.guards();
      assert.ok(
        guards.every((word) => word === GUARD),
        `the barrier wrote outside its ${Barrier.BYTES} bytes at byteOffset ${OFFSET}: use only ` +
          `memory[byteOffset, byteOffset + Barrier.BYTES) (the Int32Array view takes byteOffset and a length).`,
      );
    }),
  );

  test(
    'a thread waiting at the barrier sleeps instead of burning a core',
    guarded(async () => {
      const setup = await setUp(2);
      const spinCpuMs = 150;
      const ms = 20000;
      const [waiter, spinner] = await setup.run<{ waitCpu: number; waitWall: number; spinCpu: number }>(
        { kind: 'cpu', spinner: 1, spinCpuMs, spinWallMs: 300 },
        ms,
      );
      // CPU time against CPU time, not a fixed bound: thread 1 spins until it has used 150 ms of CPU and 300 ms
      // have passed, however slow the machine, while a waiter asleep in Atomics.wait uses a few ms (10 ms steps
      // in /proc), far below spinCpu / 3. A waiter that spins (spins-instead-of-waiting) shares the CPU with
      // thread 1 fairly: about as much CPU as thread 1 on two CPUs, on one CPU, and under a half-CPU quota
      // (both throttled alike).
      assert.ok(
        waiter!.waitCpu <= spinner!.spinCpu / 3,
        `thread 0 waited ${waiter!.waitWall} ms in wait() for thread 1 and used ${waiter!.waitCpu} ms of CPU time ` +
          `meanwhile (thread 1, busy, used ${spinner!.spinCpu} ms): it spins. A waiting thread must sleep in ` +
          `Atomics.wait until the last one arrives and wakes it with Atomics.notify.`,
      );
    }),
  );
});
