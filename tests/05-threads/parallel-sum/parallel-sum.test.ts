import assert from 'node:assert/strict';
import path from 'node:path';
// First: record the worker threads the graded code starts (so leaked ones are stopped after each test), and
// hear from them (so a slice is released only once the previous one's result has reached the graded code).
import { liveWorkers, stopLeakedWorkers } from '../../support/worker-tracker';
import { heardFrom } from './heard-from';
import { parallelSum, type ParallelSumOptions, type ParallelSumResult } from '@target/05-threads/parallel-sum';
import { sumSlice as builtInSumSlice } from '@target/05-threads/parallel-sum/work';
import { inWords, scaled, waitUntil, within } from '../../support/deadline';

/**
 * How long every slice of a call gets to start (a worker thread loading TypeScript takes about 0.1 s of CPU;
 * seconds on a loaded machine). Only turns "never started" into a failure; it decides no ordering.
 */
const START_MS = 8000;
/** Per test: Jest's default of 10 s is too short on a loaded machine for the tests that start several calls. */
const TEST_MS = scaled(20000);
/**
 * How long a held slice waits for the test before its fixture gives up and throws (a watchdog, so no thread
 * waits for ever). Stretched like the deadlines it must outlast: the test waits up to START_MS for the slices
 * to start, and more before it releases them.
 */
const HOLD_MS = scaled(20000);

const fixture = (name: string): string => path.join(__dirname, 'fixtures', name);

/** Lets go of whatever a test's work module still holds blocked, so no thread waits after its test. */
const releases: Array<() => void> = [];
/** The calls a test started: each must settle before the next test, or its late workers would count there. */
const calls: Array<Promise<unknown>> = [];
afterEach(async () => {
  for (const release of releases.splice(0)) release();
  await within(Promise.all(calls.splice(0)), 5000, 'a call never settled').catch(() => undefined);
  await stopLeakedWorkers();
});

/** Int32 counters on a SharedArrayBuffer: shared with the workers, not copied, when passed in the context. */
function sharedInts(length: number): Int32Array {
  return new Int32Array(new SharedArrayBuffer(4 * length));
}

/** Sets `state[index]` to 1 and wakes the threads waiting on it. */
function raise(state: Int32Array, index: number): void {
  Atomics.store(state, index, 1);
  Atomics.notify(state, index);
}

/** JSON, with bigints shown as 12n. */
function show(value: unknown): string {
  if (typeof value === 'bigint') return `${value}n`;
  return JSON.stringify(value, (_, item: unknown) => (typeof item === 'bigint' ? `${item}n` : item)) ?? String(value);
}

/** The message of a rejection reason (errors from another thread or realm fail `instanceof Error`). */
function messageOf(reason: unknown): string {
  if (typeof reason === 'object' && reason !== null && typeof (reason as Error).message === 'string') {
    return (reason as Error).message;
  }
  return String(reason);
}

/** "3, 4, 9" (at most 8 of them). */
function listOf(numbers: number[]): string {
  return numbers.length > 8 ? `${numbers.slice(0, 8).join(', ')}, …` : numbers.join(', ');
}

/** The slices as the graded code listed them: "[0, 3) [3, 6)". */
function listSlices(slices: unknown): string {
  if (!Array.isArray(slices)) return show(slices);
  return slices
    .map((slice: { start?: unknown; end?: unknown }) => `[${show(slice?.start)}, ${show(slice?.end)})`)
    .join(' ');
}

/** The sum of (i + 1) ** 2 over start ≤ i < end: the value of counts-visits.js. */
function squaresSum(start: number, end: number): bigint {
  let sum = 0n;
  for (let i = start; i < end; i += 1) sum += BigInt(i + 1) ** 2n;
  return sum;
}

/** The sum of i + 1 over start ≤ i < end: the value of held-until-released.js. */
function countingSum(start: number, end: number): bigint {
  let sum = 0n;
  for (let i = start; i < end; i += 1) sum += BigInt(i + 1);
  return sum;
}

/** The sum of 1 over start ≤ i < end: the value of lingers-until-released.js. */
const lengthOf = (start: number, end: number): bigint => BigInt(Math.max(0, end - start));

/** How a call settled, and how many worker threads were still running at that very moment. */
type Outcome = ({ value: ParallelSumResult } | { error: unknown }) & { live: number };

interface Call {
  /** "parallelSum(12, 4, …)", for messages. */
  name: string;
  outcome: Promise<Outcome>;
  settled: () => boolean;
}

/**
 * Calls parallelSum. Its handlers are attached at once (a rejection is never left unhandled), and they count
 * the live workers in the same turn as the call settles, before anything else can run.
 */
function start(n: number, k: number, options?: ParallelSumOptions): Call {
  const name = `parallelSum(${n}, ${k}${options ? ', …' : ''})`;
  let done = false;
  const outcome = parallelSum(n, k, options).then(
    (value): Outcome => ({ value, live: liveWorkers() }),
    (error: unknown): Outcome => ({ error, live: liveWorkers() }),
  );
  void outcome.then(() => (done = true));
  calls.push(outcome);
  return { name, outcome, settled: () => done };
}

/** Waits for a call that must resolve; a rejection, or never settling, fails the test with what happened. */
async function resolved(call: Call, ms = 10000): Promise<{ result: ParallelSumResult; live: number }> {
  const outcome = await within(
    call.outcome,
    ms,
    `${call.name} never settled (waited ${inWords(scaled(ms))}). Does every worker post its slice's sum, and does ` +
      `the main thread resolve once it has all k of them?`,
  );
  if ('error' in outcome) {
    assert.fail(`${call.name} rejected with "${messageOf(outcome.error)}"; it should have resolved.`);
  }
  return { result: outcome.value, live: outcome.live };
}

/**
 * Checks a result against the spec: k slices in the order of the range, covering 0..n once, lengths within
 * one of each other, each with the sum of its own elements, and the exact total.
 */
function checkResult(call: string, n: number, k: number, result: ParallelSumResult, sumOf: typeof lengthOf): void {
  const { slices, total } = (result ?? {}) as Partial<ParallelSumResult>;
  assert.ok(
    Array.isArray(slices),
    `${call} resolved with ${show(result)}; it should resolve with { total, slices }, slices an array.`,
  );
  assert.equal(
    slices.length,
    k,
    `${call} listed ${slices.length} slices (${listSlices(slices)}); it should list exactly ${k}, one per slice, ` +
      `in the order of the range — empty ones too when n < k.`,
  );
  assert.ok(
    slices.every((slice: unknown) => typeof slice === 'object' && slice !== null),
    `${call} listed slices ${show(slices)}; each should be an object { start, end, sum }.`,
  );
  const bounds = slices.map(({ start, end }) => ({ start, end }));
  const integers = bounds.every(({ start, end }) => Number.isSafeInteger(start) && Number.isSafeInteger(end));
  assert.ok(integers, `${call} listed slices ${listSlices(slices)}; every start and end must be an integer.`);

  const sorted = [...bounds].sort((a, b) => a.start - b.start || a.end - b.end);
  const partitions = (list: typeof bounds): boolean =>
    list[0]!.start === 0 && list.at(-1)!.end === n && list.every((s, j) => j === 0 || s.start === list[j - 1]!.end);
  if (!partitions(bounds) && partitions(sorted)) {
    assert.fail(
      `${call} listed its slices as ${listSlices(slices)}: not in the order of the range. Workers finish in ` +
        `any order; this looks like the order in which their results arrived. Keep each slice's result at ` +
        `its slice's index (results[j] = …), not in arrival order (results.push(…)).`,
    );
  }
  const problems: string[] = [];
  if (bounds[0]!.start !== 0) problems.push(`the first slice starts at ${bounds[0]!.start}, not at 0`);
  bounds.forEach(({ start, end }, j) => {
    if (end < start) problems.push(`slice ${j}, [${start}, ${end}), ends before it starts`);
    if (j === 0) return;
    const before = bounds[j - 1]!.end;
    if (start > before)
      problems.push(`elements ${before} to ${start - 1} (between slices ${j - 1} and ${j}) are in no slice`);
    if (start < before) problems.push(`elements ${start} to ${before - 1} are in both slice ${j - 1} and slice ${j}`);
  });
  const last = bounds.at(-1)!.end;
  if (last < n) problems.push(`elements ${last} to ${n - 1} are in no slice (the last slice ends at ${last})`);
  if (last > n) problems.push(`the last slice ends at ${last}, past n = ${n}`);
  if (problems.length > 0) {
    assert.fail(
      `${call} split 0..${n} into ${listSlices(slices)}: ${problems.join('; ')}. Slices are half-open — ` +
        `[start, end) holds start ≤ i < end — the first starts at 0, each next one starts exactly where the one ` +
        `before it ends, and the last ends at n.`,
    );
  }
  const lengths = bounds.map(({ start, end }) => end - start);
  assert.ok(
    Math.max(...lengths) - Math.min(...lengths) <= 1,
    `${call} split 0..${n} into ${listSlices(slices)}, of lengths ${lengths.join(', ')}: they must differ by at ` +
      `most one, so that every worker gets as much work as the others. Spread the remainder n % k over the ` +
      `slices (one extra element each for some of them) instead of giving it all to one, or none.`,
  );
  slices.forEach(({ start, end, sum }, j) => {
    const expected = sumOf(start, end);
    assert.ok(
      sum === expected,
      `${call}: slice ${j}, [${start}, ${end}), has sum ${show(sum)} (${typeof sum}); sumSlice(${start}, ${end}) ` +
        `returns ${expected}n. Each slice's sum is what its own worker's sumSlice returned, kept as a bigint.`,
    );
  });
  const expectedTotal = sumOf(0, n);
  assert.ok(
    total === expectedTotal,
    `${call} resolved with total ${show(total)} (${typeof total}); the sum over 0 ≤ i < ${n} is ${expectedTotal}n. ` +
      `The total is the sum of the slices' bigint sums, starting from 0n.`,
  );
}

describe('parallelSum()', () => {
  test(
    'sums exactly, computing every element once, for any n and k (n < k, k not dividing n, k = 1, n = 0)',
    async () => {
      // One call after another: on a loaded machine that is faster than starting all their workers at once.
      const builtIn = start(3000, 3);
      checkResult(builtIn.name, 3000, 3, (await resolved(builtIn)).result, builtInSumSlice);

      for (const [n, k] of [
        [0, 2],
        [1, 1],
        [2, 3],
        [7, 3],
      ] as const) {
        const visits = sharedInts(n + 1);
        const call = start(n, k, { workFile: fixture('counts-visits.js'), context: { visits, n } });
        const { result } = await resolved(call);
        const counts = [...visits.subarray(0, n)];
        const missed = counts.flatMap((count, i) => (count === 0 ? [i] : []));
        const repeated = counts.flatMap((count, i) => (count > 1 ? [i] : []));
        const outside = visits[n]!;
        const problems = [
          missed.length > 0 ? `element(s) ${listOf(missed)} were never computed` : '',
          repeated.length > 0 ? `element(s) ${listOf(repeated)} were computed more than once` : '',
          outside > 0 ? `sumSlice was called for ${outside} element(s) outside 0 ≤ i < ${n}` : '',
        ].filter(Boolean);
        if (problems.length > 0) {
          assert.fail(
            `${call.name}: ${problems.join('; ')}. The slices listed were ${listSlices(result?.slices)}. Slices ` +
              `are half-open — sumSlice(start, end) computes start ≤ i < end — so the next slice starts exactly ` +
              `where the one before it ends, and the last one ends at n. Slice j can be ` +
              `[Math.floor(j * n / k), Math.floor((j + 1) * n / k)).`,
          );
        }
        checkResult(call.name, n, k, result, squaresSum);
      }
    },
    TEST_MS,
  );

  test(
    'runs the k slices at the same time, and lists them in range order whatever order they finish in',
    async () => {
      const [n, k] = [9, 3];
      // Every slice blocks its thread until the test releases it, so all k have started only if they run at the
      // same time, each on a thread of its own. Then the test releases them from the last to the first.
      const state = sharedInts(1 + 3 * k);
      releases.push(() => Array.from({ length: k }, (_, j) => raise(state, 3 + 3 * j)));
      const call = start(n, k, { workFile: fixture('held-until-released.js'), context: { state, waitMs: HOLD_MS } });
      const started = (): number => Math.min(Atomics.load(state, 0), k);
      const allStarted = await waitUntil(() => started() === k || call.settled(), START_MS, 'not all started').then(
        () => true,
        () => false,
      );
      assert.ok(
        allStarted,
        `${call.name}: only ${started()} of its ${k} slices were running at once ${inWords(scaled(START_MS))} after the ` +
          `call (each slice blocks its thread until the test lets it finish, and the test waits for all ${k}). ` +
          `The k slices must run at the same time, each in a worker thread of its own: start every worker before ` +
          `you wait for any result. Awaiting each worker before starting the next runs the slices one after another.`,
      );
      if (call.settled()) {
        const early = await call.outcome;
        assert.fail(
          `${call.name} settled before any of its slices had finished: it ` +
            ('value' in early ? `resolved with ${show(early.value)}.` : `rejected with "${messageOf(early.error)}".`),
        );
      }
      const held = Array.from({ length: k }, (_, j) => ({
        start: Atomics.load(state, 1 + 3 * j),
        threadId: Atomics.load(state, 2 + 3 * j),
        flag: 3 + 3 * j,
      })).sort((a, b) => b.start - a.start);
      // The slice last in the range finishes first, and each next one only once the graded code has received the
      // previous one's result: the results arrive in the reverse of the range's order, by construction.
      for (const slice of held) {
        raise(state, slice.flag);
        await waitUntil(
          () => heardFrom(slice.threadId) || call.settled(),
          10000,
          `${call.name}: the slice starting at ${slice.start} returned from sumSlice, but nothing came back from ` +
            `its worker within ${inWords(scaled(10000))}. Post the slice's sum to the main thread (parentPort.postMessage).`,
        );
      }
      const { result } = await resolved(call);
      checkResult(call.name, n, k, result, countingSum);
    },
    TEST_MS,
  );

  test(
    'rejects with the error a slice threw, without waiting for the other slices, and stops every worker',
    async () => {
      const [n, k] = [6, 3];
      const token = 'parallel-sum-failure-7f3a';
      // The slice holding element 0 throws at once; the others block until the test lets them finish.
      const state = sharedInts(2);
      const letOthersFinish = (): void => raise(state, 0);
      releases.push(letOthersFinish);
      const call = start(n, k, {
        workFile: fixture('one-slice-throws.js'),
        context: { state, failAt: 0, token, waitMs: HOLD_MS },
      });
      const thrown = `Error: slice […] failed on purpose (${token})`;
      const early = await within(call.outcome, START_MS, 'not settled').catch(() => undefined);
      if (!early) {
        letOthersFinish();
        const late = await within(call.outcome, 10000, 'not settled').catch(() => undefined);
        const then = !late
          ? `it still had not settled ${inWords(scaled(10000))} later`
          : 'value' in late
            ? `it resolved with total ${show(late.value.total)}, as if nothing had failed: the error was lost`
            : 'it rejected only then';
        assert.fail(
          `${call.name}: the slice holding element 0 threw (${thrown}) at once, while the other slices were ` +
            `still running (each held until the test let it finish), but ${call.name} had not settled ` +
            `${inWords(scaled(START_MS))} later. When the test let the other slices finish, ${then}. A slice that throws ` +
            `must reject the whole call at once: listen for every worker's 'error' event; when one comes, ` +
            `terminate the other workers and reject with that error.`,
        );
      }
      if ('value' in early) {
        assert.fail(
          `${call.name} resolved with total ${show(early.value.total)} although the slice holding element 0 threw ` +
            `(${thrown}): the error was lost, and the total is missing that slice. A slice that throws must ` +
            `reject the whole call with its error. Do not catch it in the worker and post 0n instead: let it ` +
            `reach the Worker's 'error' event (or post it back as an error) and reject.`,
        );
      }
      const message = messageOf(early.error);
      assert.ok(
        message.includes(token),
        `${call.name} rejected with "${message}", which is not the error the slice threw (${thrown}). Reject with ` +
          `that error, or with an Error that carries its message.`,
      );
      assert.equal(
        early.live,
        0,
        `${call.name} rejected while ${early.live} of its worker threads were still running (the other slices ` +
          `were blocked, waiting). A failed call must leave nothing behind: terminate the other workers ` +
          `(worker.terminate()) and reject only once they have exited — terminate() returns a promise that ` +
          `resolves when its thread has exited.`,
      );
    },
    TEST_MS,
  );

  test(
    'settles only once every worker it started has exited',
    async () => {
      const [n, k] = [4, 2];
      // Every slice returns at once, but its worker's event loop stays busy (a timer) until the test lets go.
      const state = sharedInts(2 + k);
      releases.push(() => raise(state, 0));
      const call = start(n, k, { workFile: fixture('lingers-until-released.js'), context: { state } });
      const allHeard = (): boolean =>
        Atomics.load(state, 1) >= k && [...state.subarray(2)].every((threadId) => heardFrom(threadId));
      // Wait until every slice's sum has reached the graded code (or it has settled); only then let the
      // workers exit. Settling before they have exited is then seen, by construction.
      await waitUntil(() => allHeard() || call.settled(), 10000, 'not all heard').catch(() => undefined);
      raise(state, 0);
      const { result, live } = await resolved(call);
      assert.equal(
        live,
        0,
        `${call.name} resolved while ${live} of the ${k} worker threads it started were still running. A worker ` +
          `thread lives until its event loop has nothing left to do (a 'message' listener on parentPort, a timer ` +
          `or an open handle keep it alive) or it is terminated; having posted its result does not end it. ` +
          `Before settling, make sure every worker has exited: await worker.terminate() for each (it resolves ` +
          `once the thread has exited), or wait for each worker's 'exit' event.`,
      );
      checkResult(call.name, n, k, result, lengthOf);
    },
    TEST_MS,
  );
});
