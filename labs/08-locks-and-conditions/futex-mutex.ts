/**
 * A futex-style mutex built on Atomics.wait/notify (sync.ts). Part 1: four threads add 1 to a plain shared
 * number (read, add, write) 20,000 times each, without a lock and inside the mutex, over many trials.
 * Part 2: why the mutex has three states: a two-state mutex (0 free, 1 taken) must call notify on every
 * unlock, because it cannot know whether anyone sleeps; the three-state one (2 = someone may sleep) calls
 * it only when it must. The lab counts the notify and wait calls and times both.
 *
 *   npx tsx labs/08-locks-and-conditions/futex-mutex.ts
 */
import { isMainThread } from 'node:worker_threads';
import { joinTeam, startTeam, type Member } from './team';

const LOCK = 0;
const COUNTER = 1;

let waits = 0; // this thread's calls to Atomics.wait
let notifies = 0; // this thread's calls to Atomics.notify
let woken = 0; // threads those calls actually woke

// The mutex of sync.ts, with counters.
function lock3(m: Int32Array, i: number): void {
  let state = Atomics.compareExchange(m, i, 0, 1);
  if (state === 0) return;
  if (state !== 2) state = Atomics.exchange(m, i, 2);
  while (state !== 0) {
    waits++;
    Atomics.wait(m, i, 2);
    state = Atomics.exchange(m, i, 2);
  }
}
function unlock3(m: Int32Array, i: number): void {
  if (Atomics.sub(m, i, 1) !== 1) {
    Atomics.store(m, i, 0);
    notifies++;
    woken += Atomics.notify(m, i, 1);
  }
}

// Two states only: 0 free, 1 taken. Correct, but unlock cannot tell whether anyone sleeps.
function lock2(m: Int32Array, i: number): void {
  while (Atomics.compareExchange(m, i, 0, 1) !== 0) {
    waits++;
    Atomics.wait(m, i, 1); // sleep while it is still taken
  }
}
function unlock2(m: Int32Array, i: number): void {
  Atomics.store(m, i, 0);
  notifies++;
  woken += Atomics.notify(m, i, 1); // always: someone might be asleep
}

type Task = { kind: 'none' | 'two' | 'three'; increments: number; active: number };
type Result = { ms: number; waits: number; notifies: number; woken: number };

function addNone(view: Int32Array, increments: number): void {
  // each step is atomic, the three together are not (chapter 07): read, add 1, write
  for (let n = 0; n < increments; n++) Atomics.store(view, COUNTER, Atomics.load(view, COUNTER) + 1);
}
function addTwo(view: Int32Array, increments: number): void {
  for (let n = 0; n < increments; n++) {
    lock2(view, LOCK);
    view[COUNTER] = view[COUNTER]! + 1;
    unlock2(view, LOCK);
  }
}
function addThree(view: Int32Array, increments: number): void {
  for (let n = 0; n < increments; n++) {
    lock3(view, LOCK);
    view[COUNTER] = view[COUNTER]! + 1;
    unlock3(view, LOCK);
  }
}

function member(task: unknown, { index, view }: Member): Result {
  const { kind, increments, active } = task as Task;
  waits = notifies = woken = 0;
  const t0 = performance.now();
  if (index < active) ({ none: addNone, two: addTwo, three: addThree })[kind](view, increments);
  return { ms: performance.now() - t0, waits, notifies, woken };
}

async function main(): Promise<void> {
  const shared = new SharedArrayBuffer(8);
  const view = new Int32Array(shared);
  const team = await startTeam(__filename, 4, shared);
  const run = async (task: Task): Promise<{ total: number; results: Result[] }> => {
    view[COUNTER] = 0;
    const results = await team.round<Result>(task);
    return { total: view[COUNTER]!, results };
  };
  const sum = (rs: Result[], k: keyof Result): number => rs.reduce((s, r) => s + r[k], 0);
  const n = (x: number): string => x.toLocaleString('en');

  const TRIALS = 10;
  const increments = 200_000;
  const expected = 4 * increments;
  console.log(`1. four threads, each adding 1 to a shared number ${n(increments)} times; ${TRIALS} trials`);
  for (const kind of ['none', 'three'] as const) {
    let bad = 0;
    let worst = 0;
    let sleeps = 0;
    for (let t = 0; t < TRIALS; t++) {
      const { total, results } = await run({ kind, increments, active: 4 });
      if (total !== expected) bad++;
      worst = Math.max(worst, expected - total);
      sleeps += sum(results, 'waits');
    }
    const label = kind === 'none' ? 'no lock' : 'futex mutex';
    console.log(
      `   ${label.padEnd(12)} trials that lost updates: ${String(bad).padStart(2)} of ${TRIALS}; ` +
        `most lost in one trial: ${n(worst)} of ${n(expected)}` +
        (kind === 'none' ? '' : `\n${' '.repeat(16)}threads went to sleep ${n(sleeps / TRIALS)} times a trial`),
    );
  }

  console.log('2. two states or three: lock + add + unlock, counted and timed');
  for (const active of [1, 2]) {
    const ops = active === 1 ? 1_000_000 : 500_000;
    for (const kind of ['two', 'three'] as const) {
      await run({ kind, increments: ops, active }); // warm up
      const { total, results } = await run({ kind, increments: ops, active });
      const ms = Math.max(...results.map((r) => r.ms));
      console.log(
        `   ${active} thread${active > 1 ? 's' : ' '}, ${kind === 'two' ? '0/1  ' : '0/1/2'}: ` +
          `${(total / ms / 1000).toFixed(1).padStart(5)} M ops/s; ` +
          `notify called ${n(sum(results, 'notifies')).padStart(9)} times, ` +
          `woke ${n(sum(results, 'woken')).padStart(3)} threads; ` +
          `wait called ${n(sum(results, 'waits')).padStart(3)} times` +
          (total === active * ops ? '' : `  (LOST ${n(active * ops - total)})`),
      );
    }
  }
  await team.stop();
}

if (isMainThread) void main();
else joinTeam(member);
