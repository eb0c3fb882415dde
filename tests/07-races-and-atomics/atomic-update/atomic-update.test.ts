import assert from 'node:assert/strict';
import path from 'node:path';
import { scaled } from '../../support/deadline';
import { startTeam, stopTeams } from '../../support/thread-team';

/**
 * Every call of the graded code runs in a team member (fixtures/member.js), never on Jest's thread: a CAS loop
 * that never ends must fail its round, not hang the suite. The races are forced, not hoped for: a 'held'
 * member is stopped between its read of the cell and its write (inside the test's fn, or just before its first
 * Atomics write to the cell) until an 'interferer' member has completed a whole call on the same cell.
 */
const MODULE = require.resolve('@target/07-races-and-atomics/atomic-update');
const MEMBER = path.join(__dirname, 'fixtures', 'member.js');
/**
 * Rounds normally take milliseconds; this only turns "never finished" into a failure on a loaded machine.
 * thread-team stretches round limits on a machine with less CPU (tests/support/deadline.ts).
 */
const ROUND_MS = 8000;
/** Starting the team's threads (each loads TypeScript and the graded module): only "never started" fails. */
const START_MS = 20000;
/** Per test: the first one starts the team, and on a loaded machine that alone can take seconds (stretched). */
const TEST_MS = scaled(30000);
const idle = (size: number): object[] => Array.from({ length: size }, () => ({ kind: 'idle' }));

/** Members in the team; rounds that need fewer give the rest an 'idle' task. */
const SIZE = 4;

interface Shared {
  cells: Int32Array;
  flags: Int32Array;
  /** One round: member i gets tasks[i] ('idle' if there is none); results as plain data of this realm. */
  round<R>(tasks: object[]): Promise<R[]>;
}

/**
 * The tests share one team (starting threads that load TypeScript is the slow part). What the graded code throws
 * comes back as a value (the round still succeeds); only a team whose round failed (a thread stuck) cannot run
 * another, so it is stopped at once and the next test starts a fresh one. afterAll stops the last.
 */
let current: Promise<Shared> | undefined;
afterAll(stopTeams);

async function team(): Promise<Shared> {
  current ??= (async () => {
    const cellsBuffer = new SharedArrayBuffer(16 * 4);
    const control = new SharedArrayBuffer(4 * 4);
    const started = await startTeam(MEMBER, SIZE, { cells: cellsBuffer, control, module: MODULE });
    const guarded = async <R>(tasks: object[], ms: number): Promise<R[]> => {
      try {
        return await started.round<R>(tasks, { ms });
      } catch (error) {
        // The round itself failed (a thread stuck past its time): this team cannot run another.
        current = undefined;
        await started.stop();
        throw error;
      }
    };
    // A first round of nothing: the threads start and load the graded module (seconds on a loaded machine)
    // before any round is timed by ROUND_MS.
    await guarded(idle(SIZE), START_MS);
    const shared: Shared = {
      cells: new Int32Array(cellsBuffer),
      flags: new Int32Array(control),
      async round<R>(tasks: object[]): Promise<R[]> {
        const padded = Array.from({ length: SIZE }, (_, index) => tasks[index] ?? { kind: 'idle' });
        const replies = await guarded<{ value?: R; error?: string }>(padded, ROUND_MS);
        const failed = replies.findIndex((reply) => reply.error !== undefined);
        if (failed !== -1) throw new Error(`thread ${failed}: ${replies[failed].error}`);
        // Results come from another realm (Jest's test context is a vm context): rebuild them as plain data.
        return JSON.parse(JSON.stringify(replies.map((reply) => reply.value))) as R[];
      },
    };
    return shared;
  })();
  const shared = await current;
  shared.cells.fill(0);
  return shared;
}

type Op = 'update' | 'max' | 'bounded';
interface Outcome<R> {
  result: R;
  /** What the test's fn was called with (update only). */
  calls: number[];
  /** 'held' member: it was stopped at its window. */
  held?: boolean;
  /** 'interferer' member: the held member had reached its window when this one started. */
  reached?: boolean;
}

/** Runs one forced interleaving: thread 0 held between read and write while thread 1 does a whole call. */
function forced<R>(shared: Shared, op: Op, index: number, args: [number, number]): Promise<Outcome<R>[]> {
  shared.flags.fill(0);
  return shared.round<Outcome<R>>([
    { kind: 'held', op, index, arg: args[0] },
    { kind: 'interferer', op, index, arg: args[1] },
  ]);
}

const list = (values: number[]): string => `[${values.join(', ')}]`;

describe('update()', () => {
  test(
    'stores fn(current), returns it, and calls fn exactly once when no other thread interferes',
    async () => {
      const shared = await team();
      const { cells } = shared;
      cells.set([111, 5, 222], 2);
      const [steps] = await shared.round<Outcome<number>[]>([
        {
          kind: 'solo',
          steps: [
            { op: 'update', index: 3, arg: 7 },
            { op: 'update', index: 3, arg: -20 },
          ],
        },
      ]);
      const [first, second] = steps;
      for (const [step, before, added] of [
        [first, 5, 7],
        [second, 12, -20],
      ] as const) {
        assert.deepEqual(
          step.calls,
          [before],
          `with the cell holding ${before} and no other thread touching it, update should call fn once, with ` +
            `${before}; fn was called with ${list(step.calls)}. Call fn again only when compareExchange fails.`,
        );
        assert.equal(
          step.result,
          before + added,
          `update should return the value it stored, fn(${before}) = ${before + added}; it returned ${step.result}.`,
        );
      }
      assert.deepEqual(
        [...cells.slice(2, 5)],
        [111, -8, 222],
        `after update(view, 3, x => x + 7) and update(view, 3, x => x - 20) on a cell holding 5, view[2..4] should ` +
          `be [111, -8, 222] (only view[3] changes); it is ${list([...cells.slice(2, 5)])}.`,
      );
    },
    TEST_MS,
  );

  test(
    'retries with the fresh value when another thread changed the cell between its read and its compare-exchange',
    async () => {
      const shared = await team();
      const [a, b] = await forced<number>(shared, 'update', 2, [1, 100]);
      const final = Atomics.load(shared.cells, 2);
      const story =
        `Forced interleaving on a cell holding 0: thread 0 called update(view, 2, x => x + 1) and was held inside ` +
        `its first fn(0), between its read and its compareExchange; meanwhile thread 1's update(view, 2, ` +
        `x => x + 100) returned ${b.result}; then thread 0 went on. Thread 0's fn was called with ${list(a.calls)}, ` +
        `its update returned ${a.result}, and the cell holds ${final} (expected 101: both updates).`;
      assert.ok(
        b.reached,
        `thread 0's update returned ${a.result} without ever calling fn. Compute the new value with fn.`,
      );
      if (final === 1) {
        assert.fail(
          `${story}\nThread 0 overwrote thread 1's update: it stored fn(0) = 1 over the 100 thread 1 had stored, ` +
            `as a load-then-store does. Write with Atomics.compareExchange(view, index, current, next): it stores ` +
            `only if the cell still holds the value you read.`,
        );
      }
      if (final === 100) {
        assert.fail(
          `${story}\nThread 0's update was lost: its compareExchange found 100 instead of 0 and stored nothing, and ` +
            `update gave up (returning ${a.result} as if it had stored it). When compareExchange returns something ` +
            `other than the value you read, call fn again with what it returned, and try again.`,
        );
      }
      assert.equal(final, 101, story);
      assert.deepEqual(
        a.calls,
        [0, 100],
        `${story}\nThread 0's fn should have been called twice: with 0, then (after the failed exchange) with the ` +
          `100 thread 1 had stored.`,
      );
      assert.equal(a.result, 101, `${story}\nThread 0's update should return the value it stored, 101.`);
      assert.equal(b.result, 100, `${story}\nThread 1's update should return the value it stored, 100.`);
    },
    TEST_MS,
  );
});

describe('atomicMax()', () => {
  test(
    'keeps the largest value and returns the previous one, also when another thread raised the cell in between',
    async () => {
      const shared = await team();
      shared.cells[6] = 7;
      const [steps] = await shared.round<Outcome<number>[]>([
        {
          kind: 'solo',
          steps: [
            { op: 'max', index: 6, arg: 5 },
            { op: 'max', index: 6, arg: 10 },
            { op: 'max', index: 6, arg: -3 },
          ],
        },
      ]);
      const returned = steps.map((step) => step.result);
      assert.deepEqual(
        { returned, cell: shared.cells[6] },
        { returned: [7, 7, 10], cell: 10 },
        `on a cell holding 7, atomicMax with 5, then 10, then -3 should return the previous values [7, 7, 10] and ` +
          `leave 10; it returned ${list(returned)} and left ${shared.cells[6]}.`,
      );

      const [a, b] = await forced<number>(shared, 'max', 0, [5, 9]);
      const final = Atomics.load(shared.cells, 0);
      const story =
        `Forced interleaving on a cell holding 0: thread 0 called atomicMax(view, 0, 5) and was held just before ` +
        `its first write to the cell; meanwhile thread 1's atomicMax(view, 0, 9) returned ${b.result}; then ` +
        `thread 0 went on, and its atomicMax returned ${a.result}. The cell holds ${final} (expected 9).`;
      assert.ok(
        a.held,
        `thread 0's atomicMax(view, 0, 5) on a cell holding 0 returned ${a.result} without writing the cell with an ` +
          `Atomics operation (compareExchange, store, …); the cell holds ${final}.`,
      );
      if (final === 5) {
        assert.fail(
          `${story}\nThread 0 lowered the cell from 9 to 5: it read 0, decided 5 was larger, and wrote 5 without ` +
            `checking that the cell still held 0. Write with compareExchange and retry: on the retry it sees 9 and ` +
            `leaves it alone.`,
        );
      }
      assert.equal(final, 9, story);
      assert.equal(b.result, 0, `${story}\nThread 1 found 0 in the cell, so its atomicMax should return 0.`);
      assert.equal(
        a.result,
        9,
        `${story}\nThread 0's call took effect after thread 1's (it had not written anything when thread 1 stored ` +
          `9), so the previous value it returns is 9, the value the cell held when its exchange succeeded.`,
      );
    },
    TEST_MS,
  );
});

describe('boundedIncrement()', () => {
  test(
    'never goes past the limit, also when another thread takes the last slot between its check and its write',
    async () => {
      const shared = await team();
      shared.cells[5] = 1;
      const [steps] = await shared.round<Outcome<boolean>[]>([
        { kind: 'solo', steps: Array.from({ length: 4 }, () => ({ op: 'bounded', index: 5, arg: 3 })) },
      ]);
      const returned = steps.map((step) => step.result);
      assert.deepEqual(
        { returned, cell: shared.cells[5] },
        { returned: [true, true, false, false], cell: 3 },
        `on a cell holding 1, four calls of boundedIncrement(view, 5, 3) should return [true, true, false, false] ` +
          `and leave 3; they returned [${returned.join(', ')}] and left ${shared.cells[5]}.`,
      );

      const [a, b] = await forced<boolean>(shared, 'bounded', 0, [1, 1]);
      const final = Atomics.load(shared.cells, 0);
      const story =
        `Forced interleaving on a cell holding 0, limit 1 (one slot): thread 0 called boundedIncrement(view, 0, 1) ` +
        `and was held just before its first write to the cell; meanwhile thread 1's boundedIncrement(view, 0, 1) ` +
        `returned ${b.result}; then thread 0 went on, and its call returned ${a.result}. The cell holds ${final} ` +
        `(expected 1: thread 1 took the only slot, thread 0 gets false).`;
      assert.ok(
        a.held,
        `thread 0's boundedIncrement(view, 0, 1) on a cell holding 0 returned ${a.result} without writing the cell ` +
          `with an Atomics operation (compareExchange, add, …); the cell holds ${final}.`,
      );
      if (final > 1) {
        assert.fail(
          `${story}\nThe cell went past its limit: thread 0 checked 0 < 1, and by the time it wrote, thread 1 had ` +
            `taken the slot; thread 0 added 1 anyway. A check followed by a separate add (or store) is not atomic: ` +
            `decide and write in one compareExchange, and retry the check when it fails.`,
        );
      }
      assert.equal(b.result, true, `${story}\nThread 1 found the cell at 0 < 1, so it should get the slot.`);
      if (a.result === true) {
        assert.fail(
          `${story}\nThread 0 returned true although only thread 1 incremented the cell: two calls claimed the one ` +
            `slot. Its first attempt saw 0 < 1, but that attempt's exchange failed; the retry saw 1 and stored ` +
            `nothing. Decide the result from the attempt that succeeded (reset any flag set on a failed attempt).`,
        );
      }
      assert.equal(final, 1, story);
    },
    TEST_MS,
  );
});

describe('all three under real concurrency', () => {
  test(
    'four threads hammering the same cells lose no update, stop exactly at the limit and keep the maximum',
    async () => {
      const size = SIZE;
      const n = 2000;
      const limit = 3000;
      const shared = await team();
      for (let round = 1; round <= 3; round++) {
        shared.cells.fill(0);
        const offers = Array.from({ length: size }, (_, thread) =>
          Array.from({ length: n }, (_, i) => ((i * 7919 + thread * 104729 + round * 31) % 100000) - 50000),
        );
        const best = Math.max(...offers.flat());
        const results = await shared.round<{ taken: number }>(
          offers.map((mine) => ({ kind: 'stress', n, limit, offers: mine })),
        );
        const taken = results.map((result) => result.taken);
        const got = {
          updated: shared.cells[0],
          bounded: shared.cells[1],
          trueReturns: taken.reduce((sum, count) => sum + count, 0),
          max: shared.cells[2],
        };
        assert.deepEqual(
          got,
          { updated: size * n, bounded: limit, trueReturns: limit, max: best },
          `round ${round}: ${size} threads at once each did ${n} × update(x => x + 1) on cell 0, ` +
            `boundedIncrement(limit ${limit}) on cell 1 and atomicMax on cell 2. Expected cell 0 = ${size * n}, ` +
            `cell 1 = ${limit} with exactly ${limit} calls returning true, cell 2 = ${best}; got cell 0 = ` +
            `${got.updated}, cell 1 = ${got.bounded} with ${got.trueReturns} true returns ([${taken.join(', ')}] per ` +
            `thread), cell 2 = ${got.max}.`,
        );
      }
    },
    TEST_MS,
  );
});
