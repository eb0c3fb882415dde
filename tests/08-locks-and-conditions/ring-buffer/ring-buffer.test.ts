import assert from 'node:assert/strict';
import path from 'node:path';
import { RingBuffer } from '@target/08-locks-and-conditions/ring-buffer';
import { inWords, scaled, waitUntil } from '../../support/deadline';
import { startTeam, stopTeams, type Team } from '../../support/thread-team';

const MODULE = require.resolve('@target/08-locks-and-conditions/ring-buffer');
const FIXTURE = path.join(__dirname, 'fixtures', 'member.js');

/** The team's threads; each test gives each of them a job (push, pop, or nothing). */
const THREADS = 4;
/** Where the suite and the fixture keep their records, in Int32 slots of the control memory. */
const layout = {
  THREADS,
  STATE: 0, // per thread: 0 running, 1 asleep in Atomics.wait, 2 paused by the test, 3 done
  SLEEPS: THREADS, // per thread: how many times it called Atomics.wait
  PUSHED: 2 * THREADS, // per thread: how many of its push() calls returned
  POPPED: 3 * THREADS, // per thread: how many of its pop() calls returned
  RELEASE: 4 * THREADS, // per thread: how many operations the suite has let it start (for `released` jobs)
  PENDING: 5 * THREADS, // wake-ups sent by Atomics.notify, not yet received
  CHANGE: 5 * THREADS + 1, // bumped on every change of the state
};
const CONTROL_SLOTS = 5 * THREADS + 2;
const ASLEEP = 1;
const PAUSED = 2;

/** Where the buffer lives in its memory: not at 0, with guard words on both sides. */
const OFFSET = 16;
const GUARD = 0x5a5a5a5a;

/** Item number `seq` of producer `thread`: never 0, so a slot nobody wrote never passes for an item. */
const item = (thread: number, seq: number): number => (thread + 1) * 1_000_000 + seq + 1;
const producerOf = (value: number): number => Math.floor(value / 1_000_000) - 1;
const seqOf = (value: number): number => (value % 1_000_000) - 1;
const isItem = (value: number): boolean => producerOf(value) >= 0 && producerOf(value) < THREADS && seqOf(value) >= 0;
const show = (value: number): string =>
  isItem(value) ? `${value} (item ${seqOf(value)} of thread ${producerOf(value)})` : String(value);

type Job =
  | { kind: 'idle' }
  | { kind: 'push'; values: number[]; released?: boolean; pauseAfter?: 'notify' | 'store' }
  | { kind: 'pop'; count: number; released?: boolean }
  | { kind: 'spin-then-push'; value: number; spinCpuMs: number; spinWallMs: number }
  | { kind: 'pop-and-measure' };

interface Setup {
  /** Runs one round: thread i does jobs[i] (idle when missing). Rejects, with who waits for what, after `ms`. */
  run<R>(jobs: Job[], ms: number): Promise<R[]>;
  ctl: Int32Array;
  /** The buffer's own Int32 slots, as the main thread sees them. */
  slots: Int32Array;
  guards: () => number[];
  capacity: number;
  /**
   * Who waits for what, for a failure message: each stuck thread, and how many items the buffer holds. `ms` is
   * the limit as the suite wrote it; the message states it stretched, as thread-team and waitUntil apply it.
   */
  describeStuck: (stuck: number[], ms: number) => string;
}

/**
 * One team of threads for the whole suite (starting threads that load TypeScript takes seconds on a busy
 * machine); a test that fails stops it, so threads a wrong buffer left blocked never outlive their test.
 * Once a test has failed, the next team is started while the next test runs, so that a buffer that
 * deadlocks in every test does not spend the suite's time limit on starting threads.
 */
let team: Team | undefined;
let spare: Promise<Team> | undefined;
let failedOnce = false;
/** What `new RingBuffer(…)` threw in the first round: then every test fails with it, with no new team. */
let cannotConstruct: Error | undefined;
afterAll(async () => {
  await spare?.catch(() => undefined);
  await stopTeams();
});

async function newTeam(): Promise<Team> {
  const started = await startTeam(FIXTURE, THREADS, { module: MODULE });
  try {
    // Every thread has loaded the graded module and constructed a buffer: starting is not part of any test.
    await started.round({ kind: 'hello' }, { ms: 25000 });
  } catch (error) {
    await started.stop();
    if (/^thread \d+: /.test((error as Error).message)) cannotConstruct = error as Error;
    throw error;
  }
  return started;
}

async function stopTeam(which: Team | undefined): Promise<void> {
  if (which === team) team = undefined;
  await which?.stop();
}

/** Runs a test's body; if it fails, stops the team first (its threads may be blocked in the buffer). */
function guarded(body: () => Promise<void>): () => Promise<void> {
  return async () => {
    try {
      await body();
    } catch (error) {
      failedOnce = true;
      if (!cannotConstruct && !spare) {
        spare = newTeam();
        spare.catch(() => undefined); // a failure to start shows when it is used
      }
      await stopTeam(team);
      throw error;
    }
  };
}

async function setUp(capacity: number): Promise<Setup> {
  const bytes = RingBuffer.bytesFor(capacity);
  const memory = new SharedArrayBuffer(OFFSET + bytes + OFFSET);
  const words = new Int32Array(memory);
  const first = OFFSET / 4;
  const end = (OFFSET + bytes) / 4;
  words.fill(GUARD, 0, first);
  words.fill(GUARD, end);
  const control = new SharedArrayBuffer(4 * CONTROL_SLOTS);
  const ctl = new Int32Array(control);
  if (cannotConstruct) throw cannotConstruct;
  if (!team) {
    const next = spare ?? newTeam();
    spare = undefined;
    team = await next;
  }
  if (failedOnce && !spare && !cannotConstruct) {
    spare = newTeam();
    spare.catch(() => undefined); // a failure to start shows when it is used
  }
  let jobsNow: Job[] = [];
  const describeStuck = (stuck: number[], ms: number): string => {
    const sum = (counter: number): number => range(THREADS).reduce((total, t) => total + ctl[counter + t]!, 0);
    const inBuffer = sum(layout.PUSHED) - sum(layout.POPPED);
    const who = stuck.map((thread) => {
      const job = jobsNow[thread] ?? { kind: 'idle' };
      const call = /push/.test(job.kind) ? 'push()' : 'pop()';
      const done = ctl[(call === 'push()' ? layout.PUSHED : layout.POPPED) + thread];
      const state = ctl[layout.STATE + thread];
      if (state === ASLEEP) return `thread ${thread} is asleep in ${call} (after ${done} returned)`;
      if (state === PAUSED) return `thread ${thread} is paused by the test (after ${done} ${call} returned)`;
      return `thread ${thread} is in ${call} but not asleep (after ${done} returned): does it spin?`;
    });
    return (
      `deadlocked: ${who.join('; ')}, for ${inWords(scaled(ms))}, while the buffer holds ${inBuffer} of its ${capacity} items ` +
      `(every push() that returned, minus every pop() that returned). A thread asleep in pop() while items are ` +
      `in the buffer (or in push() while it has room) missed its wake-up: change the count first, then ` +
      `Atomics.notify, and re-check the count before every Atomics.wait.`
    );
  };
  return {
    run: async <R>(jobs: Job[], ms: number) => {
      const current = team!;
      jobsNow = jobs;
      try {
        return await current.round<R>(
          range(THREADS).map((thread) => ({
            ...(jobs[thread] ?? { kind: 'idle' }),
            memory,
            byteOffset: OFFSET,
            capacity,
            control,
            layout,
          })),
          { ms, describeStuck: (stuck) => describeStuck(stuck, ms) },
        );
      } catch (error) {
        await stopTeam(current);
        throw error;
      }
    },
    ctl,
    slots: new Int32Array(memory, OFFSET, bytes / 4),
    guards: () => [...words.subarray(0, first), ...words.subarray(end)],
    capacity,
    describeStuck,
  };
}

/**
 * Per test: starting a new team after a failure takes seconds on a busy machine (Jest's default is 10 s).
 * Stretched on a machine with less CPU, like the round limits (by thread-team) and the waits (by waitUntil).
 */
const TEST_MS = scaled(20000);

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

/** Polls `condition` until it holds (true) or `ms` (stretched, as by waitUntil) have passed (false). */
function holds(condition: () => boolean, ms: number): Promise<boolean> {
  return waitUntil(condition, ms, '').then(
    () => true,
    () => false,
  );
}

/** "a, b, c" (at most 5 of them). */
function some(list: string[]): string {
  return list.length > 5 ? `${list.slice(0, 5).join(', ')}, …` : list.join(', ');
}

/**
 * Checks that the items popped (per consumer, in the order popped) are exactly the items pushed (per
 * producer, in the order pushed): none lost, none twice, nothing else, and each producer's items in order.
 */
function assertHandedOver(pushed: number[][], popped: Array<{ thread: number; values: number[] }>): void {
  const left = new Map<number, number>();
  for (const values of pushed) for (const value of values) left.set(value, (left.get(value) ?? 0) + 1);
  const twice: string[] = [];
  const foreign: string[] = [];
  for (const { values } of popped) {
    for (const value of values) {
      const count = left.get(value);
      if (count === undefined) foreign.push(show(value));
      else if (count === 0) twice.push(show(value));
      else left.set(value, count - 1);
    }
  }
  const lost = [...left].filter(([, count]) => count > 0).map(([value]) => show(value));
  const total = pushed.reduce((sum, values) => sum + values.length, 0);
  const problems = [
    lost.length > 0 ? `${lost.length} of the ${total} items pushed were never popped (${some(lost)})` : '',
    twice.length > 0 ? `${twice.length} items were popped twice (${some(twice)})` : '',
    foreign.length > 0 ? `${foreign.length} values popped were never pushed (${some(foreign)})` : '',
  ].filter(Boolean);
  assert.ok(
    problems.length === 0,
    `${problems.join('; ')}. Every item pushed must be popped exactly once. Two producers that read the same ` +
      `tail write the same slot (one item lost, a stale slot popped later); two consumers that read the same ` +
      `head pop the same item: guard the indices and slots with a lock (or claim a slot with one atomic ` +
      `read-modify-write), and never let a pop go ahead while the buffer is empty.`,
  );
  for (const { thread, values } of popped) {
    const last = new Map<number, number>();
    for (const value of values) {
      const producer = producerOf(value);
      const previous = last.get(producer) ?? -1;
      assert.ok(
        seqOf(value) > previous,
        `thread ${thread} popped item ${seqOf(value)} of thread ${producer} after its item ${previous}: items ` +
          `pushed by one thread must come out in the order they were pushed (first in, first out).`,
      );
      last.set(producer, seqOf(value));
    }
  }
}

describe('RingBuffer', () => {
  test(
    'pop() waits on an empty buffer, even when woken up early, and returns the item pushed next',
    guarded(async () => {
      const setup = await setUp(4);
      const { ctl, slots } = setup;
      const consumer = 0;
      const producer = 1;
      const value = item(producer, 0);
      /** How long a thread gets to fall asleep, or to return once it can (only "never" fails). */
      const ms = 2500;
      const waited = inWords(scaled(ms));
      const outcome = setup
        .run<number[] | null>(
          [
            { kind: 'pop', count: 1 },
            { kind: 'push', values: [value], released: true, pauseAfter: 'notify' },
          ],
          8000,
        )
        .then(
          (results) => ({ results }),
          (error: unknown) => ({ error }),
        );
      let failure: unknown;
      void outcome.then((result) => {
        if ('error' in result) failure = result.error;
      });
      const popped = (): number => ctl[layout.POPPED + consumer]!;
      // Stretched like every wait here: a consumer that spins (spins-while-empty) never sleeps in Atomics.wait,
      // so no length lets it through, and a correct one only needs the CPU to get there.
      const asleep = await holds(
        () => failure !== undefined || popped() > 0 || ctl[layout.STATE + consumer] === ASLEEP,
        ms,
      );
      if (failure !== undefined) throw failure;
      assert.ok(
        popped() === 0,
        `pop() returned although nothing had been pushed: on an empty buffer, pop() must wait for a push().`,
      );
      assert.ok(
        asleep,
        `thread ${consumer} called pop() on an empty buffer and, ${waited} later, had neither returned nor gone to ` +
          `sleep in Atomics.wait. A thread waiting for an item must sleep in Atomics.wait, not spin.`,
      );
      // Wake it with nothing in the buffer, as a notify meant for another consumer could.
      const sleeps = ctl[layout.SLEEPS + consumer]!;
      const settled = await holds(() => {
        for (let slot = 0; slot < slots.length; slot += 1) {
          Atomics.add(ctl, layout.PENDING, Atomics.notify(slots, slot));
        }
        return (
          failure !== undefined ||
          popped() > 0 ||
          (ctl[layout.SLEEPS + consumer]! > sleeps && ctl[layout.STATE + consumer] === ASLEEP)
        );
      }, ms);
      if (failure !== undefined) throw failure;
      assert.ok(
        popped() === 0,
        `the test woke the thread waiting in pop() with Atomics.notify on the buffer's memory while the buffer was ` +
          `empty, and pop() returned. A return of Atomics.wait does not mean there is an item: check the count ` +
          `again in a while loop, and sleep again while it is 0.`,
      );
      assert.ok(
        settled,
        `the test woke the thread waiting in pop() with Atomics.notify while the buffer was empty, and ${waited} ` +
          `later it had neither gone back to sleep in Atomics.wait nor returned.`,
      );
      // Now one push, whose thread pauses right after its Atomics.notify until the consumer is asleep again.
      Atomics.store(ctl, layout.RELEASE + producer, 1);
      Atomics.notify(ctl, layout.RELEASE + producer);
      const handed = await holds(() => failure !== undefined || popped() > 0, ms);
      if (failure !== undefined) throw failure;
      if (!handed) {
        throw new Error(
          `${setup.describeStuck([consumer], ms)} (Here thread ${producer} pushed one item into the empty buffer ` +
            `and was paused right after its Atomics.notify, until thread ${consumer} was asleep again.)`,
        );
      }
      const result = await outcome;
      if ('error' in result) throw result.error;
      const got = result.results[consumer]![0]!;
      assert.equal(got, value, `pop() should return the item pushed, ${value}, got ${show(got)}.`);
    }),
    TEST_MS,
  );

  test(
    'push() returns for capacity items and then waits until a pop makes room',
    guarded(async () => {
      const capacity = 4;
      const setup = await setUp(capacity);
      const { ctl, slots } = setup;
      const producer = 0;
      const consumer = 1;
      const values = range(capacity + 2).map((seq) => item(producer, seq));
      const ms = 2500;
      const waited = inWords(scaled(ms));
      const outcome = setup
        .run<number[] | null>(
          [
            { kind: 'push', values },
            { kind: 'pop', count: values.length, released: true },
          ],
          8000,
        )
        .then(
          (results) => ({ results }),
          (error: unknown) => ({ error }),
        );
      let failure: unknown;
      void outcome.then((result) => {
        if ('error' in result) failure = result.error;
      });
      const pushed = (): number => ctl[layout.PUSHED + producer]!;
      const blocked = await holds(
        () => failure !== undefined || pushed() === values.length || ctl[layout.STATE + producer] === ASLEEP,
        ms,
      );
      if (failure !== undefined) throw failure;
      assert.ok(
        pushed() <= capacity,
        `with nobody popping, ${pushed()} push() calls returned into a buffer of capacity ${capacity}: the ` +
          `buffer may hold at most ${capacity} items, so push number ${capacity + 1} must wait for a pop().`,
      );
      assert.ok(
        blocked,
        `thread ${producer} pushed ${pushed()} items into a buffer of capacity ${capacity} and, ${waited} later, its ` +
          `next push() had neither returned nor gone to sleep in Atomics.wait. A push() waiting for room must ` +
          `sleep in Atomics.wait, not spin.`,
      );
      assert.ok(
        pushed() === capacity,
        `push() waited after only ${pushed()} items, in a buffer of capacity ${capacity}: it must take ` +
          `${capacity} items before a push waits.`,
      );
      // Wake the waiting producer while the buffer is still full.
      const sleeps = ctl[layout.SLEEPS + producer]!;
      await holds(() => {
        for (let slot = 0; slot < slots.length; slot += 1) {
          Atomics.add(ctl, layout.PENDING, Atomics.notify(slots, slot));
        }
        return (
          failure !== undefined ||
          pushed() > capacity ||
          (ctl[layout.SLEEPS + producer]! > sleeps && ctl[layout.STATE + producer] === ASLEEP)
        );
      }, ms);
      if (failure !== undefined) throw failure;
      assert.ok(
        pushed() === capacity,
        `the test woke the thread waiting in push() with Atomics.notify while the buffer was full, and push() ` +
          `returned: ${pushed()} items in a buffer of capacity ${capacity}. Check for room again in a while loop ` +
          `after every wake-up.`,
      );
      // Let the consumer pop everything: every pop makes room for one more push.
      Atomics.store(ctl, layout.RELEASE + consumer, values.length);
      Atomics.notify(ctl, layout.RELEASE + consumer);
      const finished = await holds(
        () => failure !== undefined || (pushed() === values.length && ctl[layout.POPPED + consumer] === values.length),
        ms,
      );
      if (failure !== undefined) throw failure;
      if (!finished) {
        throw new Error(
          setup.describeStuck(
            [producer, consumer].filter((t) => ctl[layout.STATE + t] !== 3),
            ms,
          ),
        );
      }
      const result = await outcome;
      if ('error' in result) throw result.error;
      assertHandedOver([values], [{ thread: consumer, values: result.results[consumer] as number[] }]);
    }),
    TEST_MS,
  );

  test(
    'two producers pushing at the same time never write the same slot',
    guarded(async () => {
      // Each producer pauses after every Atomics.store to the buffer's memory until the other one is asleep,
      // paused or done: the two pushes interleave as finely as a machine can make them. A producer that holds
      // a lock makes the other sleep on it; two that do not both read the same tail.
      const share = 20;
      const capacity = 2 * share;
      const setup = await setUp(capacity);
      const pushed = [0, 1].map((thread) => range(share).map((seq) => item(thread, seq)));
      await setup.run(
        pushed.map((values) => ({ kind: 'push', values, pauseAfter: 'store' })),
        8000, // a buffer whose lock spins makes each pause wait its longest (2 s, both stretched alike) once
      );
      const [popped] = await setup.run<number[]>([{ kind: 'pop', count: capacity }], 2500);
      assertHandedOver(pushed, [{ thread: 0, values: popped! }]);
      assert.ok(
        setup.guards().every((word) => word === GUARD),
        `the ring buffer wrote outside its RingBuffer.bytesFor(${capacity}) bytes at byteOffset ${OFFSET}: use only ` +
          `memory[byteOffset, byteOffset + RingBuffer.bytesFor(capacity)).`,
      );
    }),
    TEST_MS,
  );

  test(
    'producers and consumers that wait on a small buffer hand over every item, in order',
    guarded(async () => {
      const capacity = 8;
      const perProducer = 1000;
      const setup = await setUp(capacity);
      const pushed = [0, 1].map((thread) => range(perProducer).map((seq) => item(thread, seq)));
      const results = await setup.run<number[] | null>(
        [
          { kind: 'push', values: pushed[0]! },
          { kind: 'push', values: pushed[1]! },
          { kind: 'pop', count: perProducer },
          { kind: 'pop', count: perProducer },
        ],
        3000,
      );
      assertHandedOver(pushed, [
        { thread: 2, values: results[2]! },
        { thread: 3, values: results[3]! },
      ]);
    }),
    TEST_MS,
  );

  test(
    'a thread waiting in pop() on an empty buffer sleeps instead of burning a core',
    guarded(async () => {
      const setup = await setUp(4);
      const value = item(1, 0);
      const [waiter, spinner] = await setup.run<{
        value: number;
        waitCpu: number;
        waitWall: number;
        spinCpu: number;
      }>([{ kind: 'pop-and-measure' }, { kind: 'spin-then-push', value, spinCpuMs: 150, spinWallMs: 300 }], 8000);
      assert.equal(waiter!.value, value, `pop() should return the item pushed, ${value}, got ${show(waiter!.value)}.`);
      // CPU time against CPU time, not a fixed bound: thread 1 spins until it has used 150 ms of CPU and 300 ms
      // have passed, however slow the machine, while a waiter asleep in Atomics.wait uses a few ms (10 ms steps
      // in /proc), far below spinCpu / 3. A waiter that spins (spins-while-empty) shares the CPU with thread 1
      // fairly: about as much CPU as thread 1 on two CPUs, on one CPU, and under a half-CPU quota (both
      // throttled alike).
      assert.ok(
        waiter!.waitCpu <= spinner!.spinCpu / 3,
        `thread 0 waited ${waiter!.waitWall} ms in pop() on an empty buffer and used ${waiter!.waitCpu} ms of CPU ` +
          `time meanwhile (thread 1, busy until it pushed, used ${spinner!.spinCpu} ms): it spins. A thread ` +
          `waiting for an item must sleep in Atomics.wait until a push() wakes it with Atomics.notify.`,
      );
    }),
    TEST_MS,
  );
});
