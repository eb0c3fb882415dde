/**
 * A reusable barrier: n threads work in rounds, and none may start round r + 1 before all have finished
 * round r. The naive barrier counts arrivals, and the last thread to arrive resets the count to 0, which
 * the others wait to see. But a fast thread can pass, finish its next round and arrive again (count 1)
 * before a slow thread has woken up to look: the slow one never sees the 0, and everyone is stuck. A
 * generation counter fixes it: waiters wait for the generation to change, which never changes back. Each
 * wait here has a timeout, so a stuck barrier is detected and reported, and the lab moves on.
 *
 *   npx tsx labs/08-locks-and-conditions/barrier.ts
 */
import { isMainThread } from 'node:worker_threads';
import { joinTeam, startTeam, type Member } from './team';

const COUNT = 0; // threads that have arrived in this round
const GEN = 1; // the generation: how many times the barrier has opened
const STUCK = 2; // set when a thread gave up waiting: everyone stops
const ROUND = 3; // cells 3, 4, 5: the round each thread is in

/** The naive barrier: wait until the last arrival has reset the count to 0. */
function naiveArrive(v: Int32Array, n: number): boolean {
  if (Atomics.add(v, COUNT, 1) + 1 === n) {
    Atomics.store(v, COUNT, 0); // the last one: reset for the next round, and wake the others
    Atomics.notify(v, COUNT);
    return true;
  }
  for (let c = Atomics.load(v, COUNT); c !== 0; c = Atomics.load(v, COUNT)) if (!sleepOn(v, COUNT, c)) return false;
  return true;
}

/** The barrier with a generation counter: wait until the generation has moved on. */
function arrive(v: Int32Array, n: number): boolean {
  const gen = Atomics.load(v, GEN); // read before arriving
  if (Atomics.add(v, COUNT, 1) + 1 === n) {
    Atomics.store(v, COUNT, 0); // reset first, then open: whoever sees the new generation sees COUNT = 0
    Atomics.add(v, GEN, 1);
    Atomics.notify(v, GEN);
    return true;
  }
  while (Atomics.load(v, GEN) === gen) if (!sleepOn(v, GEN, gen)) return false;
  return true;
}

/** Atomics.wait with a 100 ms timeout; false (and everyone told to stop) if nothing happened in that time. */
function sleepOn(v: Int32Array, i: number, value: number): boolean {
  if (Atomics.load(v, STUCK) !== 0) return false;
  if (Atomics.wait(v, i, value, 100) === 'timed-out' && Atomics.load(v, i) === value) {
    Atomics.store(v, STUCK, 1);
    Atomics.notify(v, COUNT);
    Atomics.notify(v, GEN);
    return false;
  }
  return true;
}

function busy(us: number): void {
  const end = performance.now() + us / 1000;
  while (performance.now() < end);
}

type Result = { passed: number; early: number; count: number };

function member(task: unknown, { index, size, view }: Member): Result {
  const { naive, rounds, workUs } = task as { naive: boolean; rounds: number; workUs: number };
  let early = 0; // barriers this thread passed before every thread had arrived
  for (let r = 1; r <= rounds; r++) {
    busy(Math.random() * workUs); // this round's work: 0–10 µs
    Atomics.store(view, ROUND + index, r); // done with round r: arriving at barrier r
    if (!(naive ? naiveArrive(view, size) : arrive(view, size)))
      return { passed: r - 1, early, count: Atomics.load(view, COUNT) };
    for (let j = 0; j < size; j++) if (Atomics.load(view, ROUND + j) < r) early++;
  }
  return { passed: rounds, early, count: Atomics.load(view, COUNT) };
}

async function main(): Promise<void> {
  const THREADS = 3;
  const shared = new SharedArrayBuffer((ROUND + THREADS) * 4);
  const view = new Int32Array(shared);
  const team = await startTeam(__filename, THREADS, shared);
  const TRIALS = 10;
  const ROUNDS = 1000;
  const workUs = 10;
  console.log(
    `${THREADS} threads, ${ROUNDS} rounds of 0–${workUs} µs of work each, a barrier after every round; ${TRIALS} trials`,
  );
  for (const naive of [true, false]) {
    let stuck = 0;
    let early = 0;
    let first = '';
    const stuckAfter: number[] = [];
    const t0 = performance.now();
    for (let t = 0; t < TRIALS; t++) {
      view.fill(0);
      const results = await team.round<Result>({ naive, rounds: ROUNDS, workUs });
      early += results.reduce((s, r) => s + r.early, 0);
      if (view[STUCK]) {
        stuck++;
        stuckAfter.push(Math.min(...results.map((r) => r.passed)));
        if (!first) {
          const where = results.map((r, i) => `thread ${i} waits at barrier ${r.passed + 1}`).join(', ');
          first = `   first stuck trial: ${where}; COUNT = ${results[0]!.count}`;
        }
      }
    }
    console.log(
      `  ${naive ? 'naive (wait for COUNT = 0)' : 'generation counter        '}: stuck in ${stuck} of ${TRIALS} trials; ` +
        `passed a barrier before all had arrived: ${early} times; ${(performance.now() - t0).toFixed(0)} ms`,
    );
    if (stuck) console.log(`   rounds completed before it stuck, per stuck trial: ${stuckAfter.join(', ')}`);
    if (first) console.log(first);
  }
  await team.stop();
}

if (isMainThread) void main();
else joinTeam(member);
