import assert from 'node:assert/strict';
import path from 'node:path';
import { SharedCounter } from '@target/07-races-and-atomics/counter';
import { inWords, scaled } from '../../support/deadline';
import { startTeam, stopTeams, type Team } from '../../support/thread-team';

/**
 * The graded module's real path, for the worker threads to require (they load TypeScript through the hook
 * every graded process preloads).
 */
const MODULE = require.resolve('@target/07-races-and-atomics/counter');
const COUNTS = path.join(__dirname, 'fixtures', 'counts.js');

/**
 * A race that loses updates shows only when a thread is between its read and its write of the count at the
 * moment another thread updates it, so the threads run many short rounds, and the test stops at the first
 * round that shows the bug. In every round each member goes on calling until all members have made their n
 * calls: with four threads on two cores, the system must then stop running members in the middle of their
 * loop to let the others in, so every round has threads switched out at random points of their calls.
 * Measured on a 2-core machine under a load average of 15–19: the plain and the load-then-store counters
 * were caught by round 8 at worst with two threads and by round 2 with four, and a second read after
 * Atomics.add by round 4 with four threads; the budgets below leave a margin of several times that (and
 * each lost-update bug faces all three threaded tests). These are statistical budgets, not deadlines: they are
 * not stretched on a machine with less CPU (that would only make gradings longer).
 */
const ROUNDS_TWO_THREADS = 40;
const ROUNDS_FOUR_THREADS = 10;
/** Each member goes on calling until all have made their n calls, but for no longer than this. */
const CAP_MS = 50;
/**
 * Nothing here can block: a round that takes this long means a thread is stuck in the graded code. thread-team
 * stretches it on a machine with less CPU (tests/support/deadline.ts).
 */
const ROUND_MS = 20000;
/** Tests that start threads get more than Jest's default 10 s, for a heavily loaded machine (stretched). */
const TEST_MS = scaled(30000);

interface MemberResult {
  calls: number;
  added: number;
  values?: Int32Array;
}

afterEach(stopTeams);

/** A team of `size` threads sharing a counter at byte 8 of a 16-byte buffer, and the main thread's own view. */
async function teamWithCounter(size: number): Promise<{ team: Team; counter: SharedCounter; control: Int32Array }> {
  const memory = new SharedArrayBuffer(16);
  const byteOffset = 8;
  const control = new SharedArrayBuffer(4);
  const counter = new SharedCounter(memory, byteOffset);
  const team = await startTeam(COUNTS, size, { module: MODULE, memory, byteOffset, control });
  return { team, counter, control: new Int32Array(control) };
}

/** Runs one round: each member makes at least `n` calls, and all of them are calling at the same time. */
async function round(team: Team, control: Int32Array, task: object): Promise<MemberResult[]> {
  Atomics.store(control, 0, 0);
  return team.round<MemberResult>(
    { capMs: CAP_MS, ...task },
    {
      ms: ROUND_MS,
      describeStuck: (stuck) =>
        `deadlocked: thread${stuck.length > 1 ? 's' : ''} ${stuck.join(', ')} never came back from the counter ` +
        `within ${inWords(scaled(ROUND_MS))}. A counter never waits for anything: increment() and add() must return at once.`,
    },
  );
}

const plural = (count: number, word: string): string => `${count} ${word}${count === 1 ? '' : 's'}`;

/** "+19200" / "-5". */
const signed = (value: number): string => (value >= 0 ? `+${value}` : String(value));

/** The message for a round whose count did not change by what the threads added. */
function lostUpdates(
  what: string,
  roundNumber: number,
  results: MemberResult[],
  expected: number,
  got: number,
): string {
  const calls = results.map((result) => result.calls);
  const difference = expected - got;
  return (
    `${results.length} threads ${what} (${calls.join(' + ')} calls) should have changed the count by ` +
    `${signed(expected)}; round ${roundNumber} changed it by ${signed(got)}: ` +
    (difference > 0 && what.startsWith('incrementing')
      ? `${plural(difference, 'update')} ${difference === 1 ? 'was' : 'were'} lost. `
      : `it is off by ${difference}: updates were lost. `) +
    `Two threads that both read the count, then both write back "what they read + their own change", lose ` +
    `one of the two updates. ` +
    `Each call must be ONE atomic read-modify-write (Atomics.add on the shared Int32Array), not a read ` +
    `followed by a write, not even Atomics.load followed by Atomics.store.`
  );
}

describe('SharedCounter', () => {
  test(
    'two threads incrementing at the same time never lose an update',
    async () => {
      const { team, counter, control } = await teamWithCounter(2);
      for (let r = 1; r <= ROUNDS_TWO_THREADS; r += 1) {
        const before = counter.value;
        const results = await round(team, control, { kind: 'increment', n: 9600 });
        const expected = results.reduce((sum, result) => sum + result.added, 0);
        const got = (counter.value - before) | 0;
        if (got !== expected) assert.fail(lostUpdates('incrementing at the same time', r, results, expected, got));
      }
    },
    TEST_MS,
  );

  test(
    'increment() hands out every value exactly once across four threads',
    async () => {
      const { team, counter, control } = await teamWithCounter(4);
      for (let r = 1; r <= ROUNDS_FOUR_THREADS; r += 1) {
        const before = counter.value;
        const results = await round(team, control, { kind: 'increment', n: 4800, record: true });
        const total = results.reduce((sum, result) => sum + result.added, 0);
        const got = (counter.value - before) | 0;
        if (got !== total) assert.fail(lostUpdates('incrementing at the same time', r, results, total, got));
        // The calls of this round must have returned before + 1 … before + total, each exactly once.
        const owner = new Int8Array(total).fill(-1);
        for (const [thread, { values }] of results.entries()) {
          for (const value of values!) {
            const slot = (value - before - 1) | 0;
            if (slot < 0 || slot >= total) {
              assert.fail(
                `round ${r}: the count went from ${before} to ${before + total} (${total} increments), but ` +
                  `increment() returned ${value} to thread ${thread}, which is not one of the values the count ` +
                  `passed through. It must return the count right after its own change.`,
              );
            }
            if (owner[slot] !== -1) {
              assert.fail(
                `round ${r}: increment() returned ${value} twice, to thread ${owner[slot]} and to thread ` +
                  `${thread}, while the count went from ${before} to ${before + total} with no update lost: ` +
                  `each of the ${total} calls should have returned a different value. A value read after the ` +
                  `update (a second Atomics.load) already includes other threads' increments. Return the value ` +
                  `that the atomic update itself gives: Atomics.add returns the count just before this call's ` +
                  `own change, so add 1 to it.`,
              );
            }
            owner[slot] = thread;
          }
        }
      }
    },
    TEST_MS,
  );

  test(
    'add(n) from four threads at the same time, with positive and negative n, changes the count by the exact sum',
    async () => {
      const amounts = [3, -1, 7, 100, -50, 2];
      const { team, counter, control } = await teamWithCounter(4);
      for (let r = 1; r <= ROUNDS_FOUR_THREADS; r += 1) {
        const before = counter.value;
        const results = await round(team, control, { kind: 'add', n: 4800, amounts });
        const expected = results.reduce((sum, result) => sum + result.added, 0);
        const got = (counter.value - before) | 0;
        if (got !== expected) {
          assert.fail(
            lostUpdates(
              `calling add(n) at the same time with n = ${amounts.join(', ')} in turn`,
              r,
              results,
              expected,
              got,
            ),
          );
        }
      }
    },
    TEST_MS,
  );

  test('lives in the 4 bytes at its byteOffset, so counters side by side keep apart and keep their neighbours', () => {
    assert.equal(SharedCounter.BYTES, 4, `SharedCounter.BYTES should be 4 (one Int32), got ${SharedCounter.BYTES}.`);
    const memory = new SharedArrayBuffer(32);
    const cells = new Int32Array(memory);
    cells.set([11, 22, 33, 44, 55, 66, 77, 88]);
    const layout = (): string => `[${[...cells].join(', ')}]`;

    const a = new SharedCounter(memory, 4);
    const b = new SharedCounter(memory, 8);
    assert.deepEqual(
      [a.value, b.value],
      [22, 33],
      `over memory holding ${layout()} (as Int32s), counters at byteOffset 4 and 8 should read the Int32s at ` +
        `bytes 4–7 and 8–11, 22 and 33, but read ${a.value} and ${b.value}. The byteOffset counts bytes: ` +
        `new Int32Array(memory, byteOffset, 1) views exactly that Int32, and a new counter must not reset it.`,
    );
    const incremented = a.increment();
    const added = b.add(-40);
    assert.deepEqual(
      [incremented, added, a.value, b.value],
      [23, -7, 23, -7],
      `a.increment() (22 → 23) and b.add(-40) (33 → -7) should return 23 and -7 and leave a.value 23 and ` +
        `b.value -7; got ${incremented}, ${added}, ${a.value} and ${b.value}.`,
    );
    assert.deepEqual(
      [...cells],
      [11, 23, -7, 44, 55, 66, 77, 88],
      `after a.increment() and b.add(-40), the memory should be [11, 23, -7, 44, 55, 66, 77, 88]: only the ` +
        `Int32s at bytes 4–7 and 8–11 changed. It is ${layout()}: a counter wrote outside its own 4 bytes.`,
    );
  });

  test('wraps around as a signed 32-bit integer, and returns the wrapped value', () => {
    const counter = new SharedCounter(new SharedArrayBuffer(4));
    assert.equal(counter.value, 0, `a counter over fresh (all-zero) memory should be 0, got ${counter.value}.`);
    const max = counter.add(2147483647);
    assert.equal(max, 2147483647, `add(2147483647) on 0 should return 2147483647, got ${max}.`);
    const wrapped = counter.increment();
    assert.equal(
      wrapped,
      -2147483648,
      `increment() on 2147483647 should return -2147483648, as the Int32 it stores wraps around; it returned ` +
        `${wrapped}. Atomics.add returns the old Int32; "old + 1" is a JavaScript number that can leave the ` +
        `int32 range: wrap it the way the Int32Array does, with (old + 1) | 0.`,
    );
    assert.equal(counter.value, -2147483648, `value after the wrap should be -2147483648, got ${counter.value}.`);
    const back = counter.add(-1);
    assert.equal(back, 2147483647, `add(-1) on -2147483648 should wrap back to 2147483647, got ${back}.`);
  });
});
