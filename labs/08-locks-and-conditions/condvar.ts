/**
 * A condition variable (sync.ts) and why its wait sits in a `while` loop. One producer puts numbered items
 * into a shared queue, one at a time, and signals; three consumers wait until the queue is not empty and
 * take one. The lab counts how often a consumer came back from condWait() and found the queue empty: woken
 * by a notify, but another consumer had taken the item first (or a broadcast woke everyone for one item);
 * or not woken at all: the wait returned 'not-equal' because some signal had come between reading the
 * sequence number and falling asleep. Then it replaces the `while` with an `if`, and counts what goes wrong.
 *
 *   npx tsx labs/08-locks-and-conditions/condvar.ts
 */
import { isMainThread } from 'node:worker_threads';
import { condBroadcast, condSignal, condWait, lock, unlock } from './sync';
import { joinTeam, startTeam, type Member } from './team';

const MUTEX = 0;
const COND = 1; // "the queue changed"
const HEAD = 2; // the queue's next slot to take, guarded by MUTEX
const TAIL = 3; // the queue's next slot to fill, guarded by MUTEX
const DONE = 4; // the producer has finished
const SLOTS = 5; // the queue's slots: item k (1 … n) goes into slot k - 1; 0 means "no item"

type Mode = { check: 'while' | 'if'; wake: 'signal' | 'broadcast' };
type Result = {
  woken: number;
  wokenEmpty: number;
  notEqual: number;
  notEqualEmpty: number;
  timedOut: number;
  got: number[];
};

function busy(us: number): void {
  const end = performance.now() + us / 1000;
  while (performance.now() < end);
}

function producer(v: Int32Array, mode: Mode, items: number): void {
  for (let k = 1; k <= items; k++) {
    lock(v, MUTEX);
    v[SLOTS + v[TAIL]!] = k;
    v[TAIL]!++;
    if (mode.wake === 'signal') condSignal(v, COND);
    else condBroadcast(v, COND);
    unlock(v, MUTEX);
    busy(5); // making the next item takes a little time
  }
  lock(v, MUTEX);
  v[DONE] = 1;
  condBroadcast(v, COND);
  unlock(v, MUTEX);
}

function consumer(v: Int32Array, mode: Mode): Result {
  const r: Result = { woken: 0, wokenEmpty: 0, notEqual: 0, notEqualEmpty: 0, timedOut: 0, got: [] };
  const empty = (): boolean => v[HEAD]! >= v[TAIL]! && v[DONE] === 0;
  const wait = (): void => {
    const result = condWait(v, COND, MUTEX, 1000); // 1 s: only a safety net
    if (result === 'timed-out') r.timedOut++;
    else if (result === 'not-equal') {
      r.notEqual++;
      if (empty()) r.notEqualEmpty++;
    } else {
      r.woken++;
      if (empty()) r.wokenEmpty++;
    }
  };
  for (;;) {
    lock(v, MUTEX);
    if (mode.check === 'while') while (empty()) wait();
    else if (empty()) wait();
    if (v[HEAD]! >= v[TAIL]! && v[DONE] === 1) {
      unlock(v, MUTEX);
      return r;
    }
    r.got.push(v[SLOTS + v[HEAD]!]!); // take the item at the head: 0 if there is none
    v[HEAD]!++;
    unlock(v, MUTEX);
  }
}

function member(task: unknown, { index, view }: Member): Result | null {
  const { mode, items } = task as { mode: Mode; items: number };
  if (index === 0) {
    producer(view, mode, items);
    return null;
  }
  return consumer(view, mode);
}

async function main(): Promise<void> {
  const ITEMS = 20_000;
  const shared = new SharedArrayBuffer((SLOTS + 2 * ITEMS) * 4);
  const view = new Int32Array(shared);
  const team = await startTeam(__filename, 4, shared);
  const n = (x: number): string => x.toLocaleString('en');
  const pct = (a: number, b: number): string => `${((100 * a) / Math.max(1, b)).toFixed(0)}%`;
  console.log(`1 producer, 3 consumers, ${n(ITEMS)} items, one at a time; after each return from condWait(),`);
  console.log('how often the consumer found the queue empty:');
  for (const mode of [
    { check: 'while', wake: 'signal' },
    { check: 'while', wake: 'broadcast' },
    { check: 'if', wake: 'signal' },
  ] as Mode[]) {
    view.fill(0);
    const t0 = performance.now();
    const results = (await team.round<Result | null>({ mode, items: ITEMS })).slice(1) as Result[];
    const ms = performance.now() - t0;
    const sum = (k: Exclude<keyof Result, 'got'>): number => results.reduce((s, r) => s + r[k], 0);
    const got = results.flatMap((r) => r.got);
    const once = new Set(got.filter((k) => k !== 0));
    console.log(
      `  ${mode.check.padEnd(5)} + ${mode.wake.padEnd(9)}: woken by a notify ${n(sum('woken')).padStart(6)} times, ` +
        `empty ${n(sum('wokenEmpty')).padStart(5)} (${pct(sum('wokenEmpty'), sum('woken')).padStart(3)}); ` +
        `'not-equal' ${n(sum('notEqual')).padStart(5)} times, empty ${n(sum('notEqualEmpty')).padStart(3)}; ` +
        (sum('timedOut') ? `timed out ${sum('timedOut')}; ` : '') +
        `${(ms / 1000).toFixed(1)} s`,
    );
    console.log(
      `  ${' '.repeat(19)} items taken: ${n(once.size)} of ${n(ITEMS)}, each once: ${once.size === got.length}` +
        (got.length > once.size
          ? `;\n  ${' '.repeat(19)} ${n(got.length - once.size)} takes found no item there, ` +
            `and ${n(ITEMS - once.size)} items were never taken`
          : ''),
    );
  }
  await team.stop();
}

if (isMainThread) void main();
else joinTeam(member);
