import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import { ChildFailedError, forkJoin } from '@target/03-fork/fork-join';
import { inWords, scaled, track, waitUntil, within } from '../../support/deadline';
import { isAlive } from '../../support/processes';
import { fixtureChildren, PUPPET, Puppets, SUM_OF_SQUARES } from './puppets';

/** How long children may take to start (or to go away) on a loaded machine before we call it "never". */
const START_MS = 8000;
/** How long forkJoin may take to settle once what should settle it has happened. */
const SETTLE_MS = 3000;
/** Jest's limit for one test (stretched on a slower machine, as the deadlines above are). */
const TEST_MS = scaled(30000);

type Outcome = { value: unknown[] } | { error: unknown };
type Pending = { promise: Promise<Outcome>; settled: () => boolean };

let puppets: Puppets;
beforeEach(async () => {
  puppets = await Puppets.open();
});
afterEach(async () => {
  // Kills every child this test's forkJoin started, also those a wrong forkJoin left running.
  await puppets.close();
});

/** Calls forkJoin and turns its promise into an outcome at once, so a rejection is never unhandled. */
function start(run: () => Promise<unknown[]>): Pending {
  return track(
    run().then(
      (value) => ({ value }),
      (error: unknown) => ({ error }),
    ),
  );
}

/**
 * The same JSON data, rebuilt in this test's realm: objects that crossed a process boundary have other
 * prototypes, which a strict deepEqual would report as a difference.
 */
const plain = (value: unknown): unknown =>
  value === undefined ? value : (JSON.parse(JSON.stringify(value)) as unknown);
const show = (value: unknown): string => inspect(value, { depth: 4, breakLength: Infinity });
const describeError = (error: unknown): string =>
  error instanceof Error ? `${error.name}: ${error.message}` : `${show(error)} (not an Error)`;
const describeOutcome = (outcome: Outcome): string =>
  'value' in outcome ? `resolved with ${show(outcome.value)}` : `rejected with ${describeError(outcome.error)}`;

/** The slices whose children have the given pids, for messages. */
function slicesOf(pids: number[]): string {
  return pids
    .map((pid) => puppets.arrivals.find((arrival) => arrival.pid === pid)?.name ?? `a child that never said hello`)
    .join(', ');
}

/**
 * Waits until the child of every named slice has said hello. When the first one does, every child must
 * already exist: a child takes a hundred milliseconds or more to start, forking takes a few, so a forkJoin
 * that starts them all before waiting for any has forked every one of them long before. Fails at once
 * (not after a timeout) if forkJoin started only some of them, or settled before they had all started.
 */
async function allSayHello(names: string[], pending: Pending): Promise<void> {
  const give = Date.now() + scaled(START_MS);
  let checkedTogether = false;
  for (;;) {
    if (!checkedTogether && puppets.arrivals.length > 0) {
      checkedTogether = true;
      const alive = fixtureChildren().length;
      assert.ok(
        alive >= names.length,
        `when the child of ${puppets.arrivals[0]!.name} had started, only ${alive} of the ${names.length} ` +
          `children existed: forkJoin waits for one child before it starts the next, so the slices run one ` +
          `after another, never at the same time. Fork every child first, and only then wait for their replies.`,
      );
    }
    if (puppets.arrivals.length >= names.length) return;
    if (pending.settled()) {
      assert.fail(
        `forkJoin ${describeOutcome(await pending.promise)} before every child had started: ` +
          `${puppets.arrivals.length} of ${names.length} had said hello, and none had been told to reply yet. ` +
          `forkJoin must wait for every slice's reply.`,
      );
    }
    if (Date.now() > give) {
      const arrived = puppets.arrivals.map((arrival) => arrival.name);
      assert.fail(
        `only ${arrived.length} of the ${names.length} children started and received their slice within ` +
          `${inWords(scaled(START_MS))} (${arrived.join(', ') || 'none'}). forkJoin must fork workerFile once per slice ` +
          `and send each child the message { slice } with its own slice.`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Waits for forkJoin to settle; fails with `never` if it has not within `ms`. */
async function settledWithin(pending: Pending, ms: number, never: string): Promise<Outcome> {
  return within(pending.promise, ms, never);
}

/** Asserts that no child forkJoin started is still running (zombies, dead but not reaped, do not count). */
function assertNothingRunning(when: string, why: string): void {
  const alive = fixtureChildren();
  assert.deepEqual(
    alive,
    [],
    `${alive.length} of forkJoin's children were still running ${when}: ${slicesOf(alive)}. ${why}`,
  );
}

interface ExpectedFailure {
  sliceIndex: number;
  reason: 'exited' | 'error' | 'timeout';
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** Asserts that forkJoin rejected with the ChildFailedError `expected`, given that `what` happened. */
function assertChildFailed(outcome: Outcome, expected: ExpectedFailure, what: string): ChildFailedError {
  if ('value' in outcome) {
    assert.fail(
      `forkJoin resolved with ${show(outcome.value)} although ${what}. That slice has no result: the join must ` +
        `reject with a ChildFailedError naming it, never drop it or fill the hole with undefined.`,
    );
  }
  const error = outcome.error;
  assert.ok(
    error instanceof ChildFailedError,
    `forkJoin rejected with ${describeError(error)} when ${what}; it should reject with a ChildFailedError ` +
      `(the class given in the stub) for that slice.`,
  );
  const got = { sliceIndex: error.sliceIndex, reason: error.reason, code: error.code, signal: error.signal };
  assert.deepEqual(
    got,
    expected,
    `when ${what}, forkJoin should reject with a ChildFailedError ${show(expected)}, got ${show(got)} ` +
      `("${error.message}").`,
  );
  return error;
}

const AFTER_REPLIES =
  "Once forkJoin has a child's reply it must close that child's channel (child.disconnect()), so that the " +
  'worker can end, and settle once every child has exited. Count a child that has replied as finished on ' +
  "its 'exit' event: Node emits no 'close' for a child whose channel the parent has disconnected " +
  '(nodejs/node#19433).';

const SEE_THEM_END =
  "If forkJoin did kill the other children, it must still learn that they have ended: count each child's " +
  "end on its 'exit' or 'close' event, and settle when the last one has ended.";

const SIBLINGS_STOPPED =
  'When one slice fails, forkJoin must kill every other child still running (their results are no longer ' +
  'wanted) and settle only once all of them have exited, so that nothing is left running.';

describe('forkJoin()', () => {
  test(
    'starts every child before waiting for any, so all the slices run at the same time',
    async () => {
      const names = ['slice 0', 'slice 1', 'slice 2'];
      const pending = start(() => forkJoin(PUPPET, puppets.slices(names)));
      // Every child waits until the test tells it to reply, and the test does so only once all have started.
      await allSayHello(names, pending);
      names.forEach((name, index) => puppets.tell(name, `result ${index * index}`));
      const outcome = await settledWithin(
        pending,
        SETTLE_MS,
        `forkJoin never settled after all ${names.length} children had replied { result }. ${AFTER_REPLIES}`,
      );
      assert.ok('value' in outcome, `forkJoin ${describeOutcome(outcome)} although every child replied { result }.`);
      assert.deepEqual(
        plain(outcome.value),
        [0, 1, 4],
        `the children replied { result: 0 }, { result: 1 }, { result: 4 } for slices 0 to 2, so forkJoin ` +
          `should resolve with [0, 1, 4], got ${show(outcome.value)}.`,
      );
      assertNothingRunning(
        'when forkJoin resolved',
        "Once it has a child's reply, forkJoin closes that child's channel (child.disconnect()) and the " +
          "worker ends by itself; forkJoin must resolve only after every child has exited ('exit').",
      );
    },
    TEST_MS,
  );

  test(
    'combines the results in slice order, even when the children finish in reverse order',
    async () => {
      const names = ['slice 0', 'slice 1', 'slice 2'];
      const values = [{ words: ['zero'] }, { words: ['one', 'uno'] }, { words: [] }];
      const pending = start(() => forkJoin(PUPPET, puppets.slices(names)));
      await allSayHello(names, pending);
      for (const index of [2, 1, 0]) {
        const { name, pid } = puppets.arrival(names[index]!);
        puppets.tell(name, `result ${JSON.stringify(values[index])}`);
        if (index === 0) break;
        // The child exits only once forkJoin has closed its channel, which it does on receiving the reply:
        // once the child has gone, forkJoin has its result, before the next child is even told to reply.
        await waitUntil(
          () => !isAlive(pid) || pending.settled(),
          START_MS,
          `the child of ${name} replied { result }, but it was still running ${inWords(scaled(START_MS))} later. The ` +
            `worker ends when its IPC channel closes: once forkJoin has a child's reply it must call ` +
            `child.disconnect() (if child.connected).`,
        );
        if (pending.settled()) {
          assert.fail(
            `forkJoin ${describeOutcome(await pending.promise)} when only the children of slices ` +
              `${index}..2 had replied. It must wait for every slice's reply.`,
          );
        }
      }
      const outcome = await settledWithin(
        pending,
        SETTLE_MS,
        `forkJoin never settled after every child had replied { result }. ${AFTER_REPLIES}`,
      );
      assert.ok('value' in outcome, `forkJoin ${describeOutcome(outcome)} although every child replied { result }.`);
      assert.deepEqual(
        plain(outcome.value),
        values,
        `the children finished in the order slice 2, slice 1, slice 0; forkJoin should still resolve with the ` +
          `results in slice order, ${show(values)}, got ${show(outcome.value)}. Store each reply at its ` +
          `slice's index (results[i] = …) instead of pushing replies as they arrive.`,
      );
      assertNothingRunning(
        'when forkJoin resolved',
        "forkJoin must resolve only after every child has exited ('exit').",
      );
    },
    TEST_MS,
  );

  test(
    'carries BigInt slices and results exactly',
    async () => {
      // The sum of the squares of 1..10^18 is about 3.3 × 10^53: far beyond what a number holds exactly.
      const n = 10n ** 18n;
      const squaresUpTo = (k: bigint): bigint => (k * (k + 1n) * (2n * k + 1n)) / 6n;
      const bounds = [0n, n / 3n, (2n * n) / 3n, n];
      const slices = [0, 1, 2].map((i) => ({ from: bounds[i]! + 1n, to: bounds[i + 1]! }));
      const expected = slices.map(({ from, to }) => squaresUpTo(to) - squaresUpTo(from - 1n));
      const pending = start(() => forkJoin(SUM_OF_SQUARES, slices));
      const outcome = await settledWithin(
        pending,
        START_MS + SETTLE_MS,
        `forkJoin never settled for 3 slices of a worker that replies at once.`,
      );
      if ('error' in outcome) {
        assert.fail(
          `forkJoin rejected with ${describeError(outcome.error)} for slices { from, to } of BigInts, each ` +
            `answered with a BigInt. The default 'json' serialization of the IPC channel cannot carry a BigInt ` +
            `(and turns a Map into {}): fork every child with { serialization: 'advanced' }, which sends any ` +
            `structured-cloneable value as it is.`,
        );
      }
      assert.ok(Array.isArray(outcome.value), `forkJoin resolved with ${show(outcome.value)}, not an array.`);
      assert.deepEqual(
        Array.from(outcome.value),
        expected,
        `forkJoin should resolve with the three exact BigInt sums ${show(expected)}, got ${show(outcome.value)}.`,
      );
      const total = (outcome.value as bigint[]).reduce((sum, part) => sum + part, 0n);
      assert.equal(total, squaresUpTo(n), 'the three partial sums should add up to the exact sum of squares.');
      assertNothingRunning(
        'when forkJoin resolved',
        "forkJoin must resolve only after every child has exited ('exit').",
      );
    },
    TEST_MS,
  );

  test(
    'rejects naming the slice and its exit code when a child exits with code 3 before replying, and kills the other children',
    async () => {
      const names = ['slice 0', 'slice 1', 'slice 2'];
      const pending = start(() => forkJoin(PUPPET, puppets.slices(names)));
      await allSayHello(names, pending);
      // Slices 0 and 2 are never told to reply: only forkJoin can end them now.
      puppets.tell('slice 1', 'exit 3');
      const outcome = await settledWithin(
        pending,
        SETTLE_MS,
        `forkJoin never settled after the child of slice 1 exited with code 3 without replying (slices 0 and 2 ` +
          `still running). A dead child never sends a message: listen for each child's 'close' (or 'exit') ` +
          `event, and fail the join when a child ends without having replied.`,
      );
      assertChildFailed(
        outcome,
        { sliceIndex: 1, reason: 'exited', code: 3, signal: null },
        "slice 1's child exited with code 3 before replying",
      );
      assertNothingRunning('when forkJoin rejected', SIBLINGS_STOPPED);
    },
    TEST_MS,
  );

  test(
    'rejects naming the signal when a child is killed by SIGKILL before replying',
    async () => {
      const names = ['slice 0', 'slice 1', 'slice 2'];
      const pending = start(() => forkJoin(PUPPET, puppets.slices(names)));
      await allSayHello(names, pending);
      process.kill(puppets.arrival('slice 2').pid, 'SIGKILL');
      const outcome = await settledWithin(
        pending,
        SETTLE_MS,
        `forkJoin never settled after the child of slice 2 was killed by SIGKILL (slices 0 and 1 still ` +
          `running). A killed child never sends a message: listen for each child's 'close' (or 'exit') event, ` +
          `whose second argument is the signal.`,
      );
      assertChildFailed(
        outcome,
        { sliceIndex: 2, reason: 'exited', code: null, signal: 'SIGKILL' },
        "slice 2's child was killed by SIGKILL before replying",
      );
      assertNothingRunning('when forkJoin rejected', SIBLINGS_STOPPED);
    },
    TEST_MS,
  );

  test(
    'rejects when a child exits with code 0 without sending a result',
    async () => {
      const names = ['slice 0', 'slice 1', 'slice 2'];
      const pending = start(() => forkJoin(PUPPET, puppets.slices(names)));
      await allSayHello(names, pending);
      const { pid } = puppets.arrival('slice 0');
      puppets.tell('slice 0', 'exit 0');
      await waitUntil(() => !isAlive(pid), START_MS, 'the child of slice 0 was told to exit, but never did.');
      // Now the others reply (if forkJoin has not killed them already): slice 0 is the only one without a result.
      puppets.tell('slice 1', 'result "one"');
      puppets.tell('slice 2', 'result "two"');
      const outcome = await settledWithin(
        pending,
        SETTLE_MS,
        `forkJoin never settled after the child of slice 0 exited with code 0 without replying and the other ` +
          `children replied. Listen for each child's 'close' (or 'exit') event.`,
      );
      assertChildFailed(
        outcome,
        { sliceIndex: 0, reason: 'exited', code: 0, signal: null },
        "slice 0's child exited with code 0 without sending a result (exit code 0 only says that the process " +
          'ended normally, not that it sent anything)',
      );
      assertNothingRunning('when forkJoin rejected', SIBLINGS_STOPPED);
    },
    TEST_MS,
  );

  test(
    "rejects with the worker's message when a worker replies { error }",
    async () => {
      const names = ['slice 0', 'slice 1', 'slice 2'];
      const pending = start(() => forkJoin(PUPPET, puppets.slices(names)));
      await allSayHello(names, pending);
      const complaint = 'slice 1 is not a number';
      puppets.tell('slice 1', `error ${complaint}`);
      const outcome = await settledWithin(
        pending,
        SETTLE_MS,
        `forkJoin never settled after the worker of slice 1 replied { error: '${complaint}' }. A reply ` +
          `{ error } fails that slice, and so the join. ${SEE_THEM_END}`,
      );
      const error = assertChildFailed(
        outcome,
        { sliceIndex: 1, reason: 'error', code: null, signal: null },
        `slice 1's worker replied { error: '${complaint}' }`,
      );
      assert.ok(
        error.message.includes(complaint),
        `the error should carry the worker's message "${complaint}", but its message is "${error.message}". ` +
          `Pass it on: new ChildFailedError(index, { reason: 'error', message: reply.error }).`,
      );
      assertNothingRunning('when forkJoin rejected', SIBLINGS_STOPPED);
    },
    TEST_MS,
  );

  test(
    'rejects after timeoutMs when a child never replies, and kills every child',
    async () => {
      const names = ['slice 0', 'slice 1', 'slice 2'];
      // Slices 1 and 2 reply as soon as they start; slice 0 never does.
      puppets.autopilot({ 'slice 1': 'result 1', 'slice 2': 'result 2' });
      const timeoutMs = 300;
      const pending = start(() => forkJoin(PUPPET, puppets.slices(names), { timeoutMs }));
      const outcome = await settledWithin(
        pending,
        timeoutMs + SETTLE_MS,
        `forkJoin never settled although the child of slice 0 never replies and timeoutMs was ${timeoutMs}. ` +
          `Start a timer of timeoutMs; when it fires, kill every child still running and fail the join. ` +
          SEE_THEM_END,
      );
      assertChildFailed(
        outcome,
        { sliceIndex: 0, reason: 'timeout', code: null, signal: null },
        `slice 0's child had not replied ${timeoutMs} ms after forkJoin started (with timeoutMs: ${timeoutMs})`,
      );
      assertNothingRunning(
        'when forkJoin rejected',
        'At timeoutMs, forkJoin must kill every child still running and settle only once they have exited.',
      );
    },
    TEST_MS,
  );

  test(
    'resolves an empty slice list to [] without starting any child',
    async () => {
      const pending = start(() => forkJoin(PUPPET, []));
      const outcome = await settledWithin(
        pending,
        SETTLE_MS,
        'forkJoin([]) never settled. With no slices there is nothing to wait for: resolve with [] at once.',
      );
      assert.ok('value' in outcome, `forkJoin(workerFile, []) ${describeOutcome(outcome)}; it should resolve with [].`);
      assert.deepEqual(
        plain(outcome.value),
        [],
        `forkJoin(workerFile, []) should resolve with [], got ${show(outcome.value)}.`,
      );
      assertNothingRunning('after forkJoin([]) resolved', 'With no slices, forkJoin must not start any child.');
    },
    TEST_MS,
  );
});
