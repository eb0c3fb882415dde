/**
 * The notify-before-state-change mistake. A waker prepares a result, publishes it by setting FLAG, and
 * wakes the waiter. If it notifies first and changes FLAG afterwards, a waiter that was already asleep
 * wakes up, looks, still sees the old FLAG and goes back to sleep — and nothing wakes it again. The lab
 * counts, over many hand-offs, how often the waiter slept until its 20 ms timeout instead. With a condition
 * variable, notifying first is harmless as long as the state changes before the mutex is released.
 *
 *   npx tsx labs/08-locks-and-conditions/notify-too-early.ts
 */
import { isMainThread } from 'node:worker_threads';
import { condSignal, condWait, lock, unlock } from './sync';
import { joinTeam, spinGate, startTeam, type Member } from './team';

const FLAG = 0; // k once the result of hand-off k is ready
const RESULT = 1; // the result itself
const MUTEX = 2;
const COND = 3;
const GATE = 4; // cells 4 and 5: both threads start each hand-off together
const FINISHED = 6; // k once the waker has done everything it does in hand-off k
const FINISHED_AT = 8; // byte offset 32: a Float64, when it did (ms since the epoch)

type Mode = 'notify, then set FLAG' | 'set FLAG, then notify' | 'condvar: signal, then set, locked';

function busy(us: number): void {
  const end = performance.now() + us / 1000;
  while (performance.now() < end);
}

/** Preparing the result: about 50 µs of work. */
function prepare(k: number): number {
  busy(50);
  return k * 7;
}

function waker(v: Int32Array, mode: Mode, k: number): void {
  busy(200); // the waiter is asleep by now
  if (mode === 'notify, then set FLAG') {
    Atomics.notify(v, FLAG, 1); // wrong: the state has not changed yet
    v[RESULT] = prepare(k);
    Atomics.store(v, FLAG, k);
  } else if (mode === 'set FLAG, then notify') {
    v[RESULT] = prepare(k);
    Atomics.store(v, FLAG, k);
    Atomics.notify(v, FLAG, 1);
  } else {
    lock(v, MUTEX);
    condSignal(v, COND); // first, but the waiter cannot look until we unlock
    v[RESULT] = prepare(k);
    v[FLAG] = k;
    unlock(v, MUTEX);
  }
  new Float64Array(v.buffer, FINISHED_AT * 4, 1)[0] = performance.timeOrigin + performance.now();
  Atomics.store(v, FINISHED, k);
}

/**
 * Waits for hand-off k. Returns 'missed' if a wait ran into its 20 ms timeout although the waker had
 * finished (set FLAG and notified, in whatever order) more than 10 ms earlier: nobody was going to wake it.
 * Returns 'late' if it timed out only because the waker had not finished yet (on a busy machine, a thread
 * can be kept off the CPU that long).
 */
function waiter(v: Int32Array, mode: Mode, k: number): 'woken' | 'missed' | 'late' {
  let outcome: 'woken' | 'missed' | 'late' = 'woken';
  const timedOut = (): void => {
    const finishedAt = new Float64Array(v.buffer, FINISHED_AT * 4, 1)[0]!;
    const now = performance.timeOrigin + performance.now();
    if (Atomics.load(v, FINISHED) === k && now - finishedAt > 10) outcome = 'missed';
    else if (outcome === 'woken') outcome = 'late';
  };
  if (mode.startsWith('condvar')) {
    lock(v, MUTEX);
    while (v[FLAG] !== k) if (condWait(v, COND, MUTEX, 20) === 'timed-out') timedOut();
    unlock(v, MUTEX);
  } else {
    for (let seen = Atomics.load(v, FLAG); seen !== k; seen = Atomics.load(v, FLAG))
      if (Atomics.wait(v, FLAG, seen, 20) === 'timed-out') timedOut();
  }
  if (v[RESULT] !== k * 7) throw new Error(`hand-off ${k}: the result was not ready`);
  return outcome;
}

type Result = { missed: number; late: number; ms: number };

function member(task: unknown, { index, view }: Member): Result {
  const { mode, handoffs } = task as { mode: Mode; handoffs: number };
  const r: Result = { missed: 0, late: 0, ms: 0 };
  const t0 = performance.now();
  for (let k = 1; k <= handoffs; k++) {
    spinGate(view, GATE, 2, k);
    if (index === 1) waker(view, mode, k);
    else {
      const outcome = waiter(view, mode, k);
      if (outcome !== 'woken') r[outcome]++;
    }
  }
  r.ms = performance.now() - t0;
  return r;
}

async function main(): Promise<void> {
  const shared = new SharedArrayBuffer(10 * 4);
  const view = new Int32Array(shared);
  const team = await startTeam(__filename, 2, shared);
  const HANDOFFS = 100;
  console.log(`${HANDOFFS} hand-offs each; the waiter sleeps until woken, or 20 ms at most`);
  for (const mode of [
    'notify, then set FLAG',
    'set FLAG, then notify',
    'condvar: signal, then set, locked',
  ] as Mode[]) {
    view.fill(0);
    const [w] = await team.round<Result>({ mode, handoffs: HANDOFFS });
    console.log(
      `  ${mode.padEnd(34)}: missed ${String(w!.missed).padStart(3)} of ${HANDOFFS} wake-ups (${(w!.ms / 1000).toFixed(1)} s)` +
        (w!.late ? `; timed out ${w!.late} times because the waker was late` : ''),
    );
  }
  await team.stop();
}

if (isMainThread) void main();
else joinTeam(member);
