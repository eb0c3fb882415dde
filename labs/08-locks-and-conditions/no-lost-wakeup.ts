/**
 * Atomics.wait(view, i, expected) checks and sleeps in one step: if view[i] is no longer `expected`, it
 * returns 'not-equal' at once instead of sleeping. That is what prevents the lost wake-up: a notify that
 * comes after the waiter looked, but before it fell asleep. Part 1 forces that ordering once. Part 2 passes a
 * turn back and forth between two threads many times and counts how often the notify came in that window,
 * with Atomics.wait on the changing value and with a "doorbell" sleep that does not check anything.
 *
 *   npx tsx labs/08-locks-and-conditions/no-lost-wakeup.ts
 */
import { isMainThread } from 'node:worker_threads';
import { joinTeam, spinGate, startTeam, type Member } from './team';

const FLAG = 0; // part 1: the waiter's condition
const STEP = 1; // part 1: forces the order of the two threads' steps
const BELL = 2; // a doorbell: a cell whose value never changes, only notified
const GATE = 3; // part 2: cells 3 and 4, a spin gate, so that both threads start each trial together
const CLOCK = 5; // part 2: a ticket counter that orders the waker's notify and the waiter's sleep
const NOTIFIED = 6; // part 2: the waker's ticket, taken just before its notify

/** Spins until view[i] === value (only to force an order of events in part 1). */
function until(view: Int32Array, i: number, value: number): void {
  while (Atomics.load(view, i) !== value);
}

function part1(member: Member, sleep: 'doorbell' | 'wait'): string {
  const { index, view } = member;
  if (index === 1) {
    // the waker
    until(view, STEP, 1); // the waiter has looked at FLAG and decided to sleep
    Atomics.store(view, FLAG, 1);
    const woke = sleep === 'wait' ? Atomics.notify(view, FLAG, 1) : Atomics.notify(view, BELL, 1);
    Atomics.store(view, STEP, 2); // now let the waiter go to sleep
    return `the waker set FLAG = 1 and called notify, which woke ${woke} threads`;
  }
  // the waiter
  if (Atomics.load(view, FLAG) !== 0) return 'FLAG was already set';
  Atomics.store(view, STEP, 1); // "FLAG is 0: I will sleep until someone wakes me"
  until(view, STEP, 2); // ... but the waker runs first
  const t0 = performance.now();
  const result = sleep === 'wait' ? Atomics.wait(view, FLAG, 0, 500) : Atomics.wait(view, BELL, 0, 500);
  const ms = (performance.now() - t0).toFixed(1);
  return sleep === 'wait'
    ? `Atomics.wait(view, FLAG, 0, 500) returned '${result}' after ${ms} ms`
    : `a doorbell sleep, Atomics.wait(view, BELL, 0, 500), returned '${result}' after ${ms} ms`;
}

/** Busy for `us` microseconds: stands for work a thread does between two steps. */
function busy(us: number): void {
  const end = performance.now() + us / 1000;
  while (performance.now() < end);
}

/**
 * Part 2: in trial k the waker sets FLAG = k at a random moment; the waiter looks at a random moment, and if
 * FLAG is not yet k it spends about 2 µs on bookkeeping (as unlocking a mutex or writing a log line
 * would), then sleeps until notified, or 20 ms at most.
 */
function part2(member: Member, sleep: 'doorbell' | 'wait', trials: number): Record<string, number> {
  const { index, view } = member;
  const counts: Record<string, number> = { 'no sleep needed': 0, ok: 0, 'not-equal': 0, lost: 0, late: 0 };
  for (let k = 1; k <= trials; k++) {
    spinGate(view, GATE, 2, k); // both start trial k together
    const start = Atomics.add(view, CLOCK, 1); // every ticket of this trial is larger
    busy(Math.random() * 20);
    if (index === 1) {
      Atomics.store(view, FLAG, k);
      Atomics.store(view, NOTIFIED, Atomics.add(view, CLOCK, 1));
      Atomics.notify(view, sleep === 'wait' ? FLAG : BELL, 1);
      continue;
    }
    const seen = Atomics.load(view, FLAG);
    if (seen === k) {
      counts['no sleep needed']!++;
      continue;
    }
    busy(2);
    const ticket = Atomics.add(view, CLOCK, 1);
    const result = sleep === 'wait' ? Atomics.wait(view, FLAG, seen, 20) : Atomics.wait(view, BELL, 0, 20);
    if (result !== 'timed-out') counts[result]!++;
    else {
      const notified = Atomics.load(view, NOTIFIED);
      counts[start < notified && notified < ticket ? 'lost' : 'late']!++; // this trial's notify came before the sleep
    }
  }
  return counts;
}

function member(task: unknown, m: Member): unknown {
  const t = task as { part: 1 | 2; sleep: 'doorbell' | 'wait'; trials: number };
  return t.part === 1 ? part1(m, t.sleep) : part2(m, t.sleep, t.trials);
}

async function main(): Promise<void> {
  const shared = new SharedArrayBuffer(7 * 4);
  const view = new Int32Array(shared);
  const team = await startTeam(__filename, 2, shared);

  console.log('1. the waiter sees FLAG = 0 and decides to sleep; before it does, the waker sets FLAG and notifies');
  for (const sleep of ['doorbell', 'wait'] as const) {
    view.fill(0);
    const [waiter, waker] = await team.round<string>({ part: 1, sleep });
    console.log(`   ${waker}\n   ${waiter}`);
  }

  const n = (x: number): string => x.toLocaleString('en');
  const TRIALS = 500;
  console.log(
    `2. ${n(TRIALS)} trials: the waker sets FLAG and notifies at a random moment; the waiter looks at a random`,
  );
  console.log('   moment, and if FLAG is not set yet it sleeps (2 µs after looking) until notified, or 20 ms at most');
  const late: number[] = [];
  for (const sleep of ['doorbell', 'wait'] as const) {
    view.fill(0);
    const t0 = performance.now();
    const [counts] = await team.round<Record<string, number>>({ part: 2, sleep, trials: TRIALS });
    const c = counts!;
    late.push(c.late!);
    console.log(
      `   ${sleep === 'wait' ? 'Atomics.wait(view, FLAG, seen)' : 'doorbell sleep'.padEnd(30)}: ` +
        `no sleep needed ${n(c['no sleep needed']!).padStart(3)}, woken by notify ${n(c.ok!).padStart(3)}, ` +
        `'not-equal' ${n(c['not-equal']!).padStart(3)}, lost ${n(c.lost!).padStart(3)}  ` +
        `(${((performance.now() - t0) / 1000).toFixed(1)} s)`,
    );
  }
  console.log(`   (lost: slept until the timeout although notified; timeouts because the waker itself ran late,`);
  console.log(`   which are not lost wake-ups: ${late[0]} and ${late[1]})`);
  await team.stop();
}

if (isMainThread) void main();
else joinTeam(member);
