/**
 * The deadlock you write without meaning to: transfer(from, to) locks `from`, then `to`. One thread moves
 * money from account 0 to account 1 while another moves it from 1 to 0; sooner or later each holds the lock
 * the other needs. The lab detects that (both waiting, each for the other, and no transfer done for 100 ms),
 * reports it and calls the trial off. Then the same with the locks always taken in account order.
 *
 *   npx tsx labs/09-classic-problems-and-deadlock/transfers.ts [trials, default 10]
 */
import { setTimeout as wait } from 'node:timers/promises';
import { isMainThread, Worker, workerData } from 'node:worker_threads';
import { lock, unlock } from './sab-lock';

const TS_HOOK = ['--require', require.resolve('tsx/cjs')];
const TRANSFERS = 20_000; // per thread and trial
// Int32 slots of the shared buffer
const LOCK = 0; // LOCK + a: the lock of account a (0 free, else thread + 1)
const BALANCE = 2; // BALANCE + a
const WANT = 4; // WANT + t: (account + 1) whose lock thread t waits for, 0 if none
const DONE_TRANSFERS = 6; // transfers completed this trial, by both threads
const ORDERED = 7; // 1: take the locks in account order
const ABORT = 8; // the trial called off
const DONE = 9; // threads finished with this trial
const GATE = 10; // the trial that may start; -1: go home
const SLOTS = 11;

function thread({ shared, me }: { shared: SharedArrayBuffer; me: number }): void {
  const view = new Int32Array(shared);
  const [from, to] = me === 0 ? [0, 1] : [1, 0]; // thread 0 pays from 0 into 1, thread 1 the other way
  for (let trial = 1; ; trial++) {
    for (let g = Atomics.load(view, GATE); g !== trial; g = Atomics.load(view, GATE)) {
      if (g === -1) return;
      Atomics.wait(view, GATE, g, 100);
    }
    const calledOff = (): boolean => Atomics.load(view, ABORT) === trial;
    const ordered = Atomics.load(view, ORDERED) === 1;
    const [first, second] = ordered ? [Math.min(from, to), Math.max(from, to)] : [from, to];
    for (let i = 0; i < TRANSFERS; i++) {
      Atomics.store(view, WANT + me, first + 1);
      if (!lock(view, LOCK + first, me, calledOff)) break;
      Atomics.store(view, WANT + me, second + 1);
      if (!lock(view, LOCK + second, me, calledOff)) {
        unlock(view, LOCK + first);
        break;
      }
      Atomics.store(view, WANT + me, 0);
      view[BALANCE + from]! -= 1; // both accounts are ours alone: plain reads and writes are safe
      view[BALANCE + to]! += 1;
      Atomics.add(view, DONE_TRANSFERS, 1);
      unlock(view, LOCK + second);
      unlock(view, LOCK + first);
    }
    Atomics.store(view, WANT + me, 0);
    Atomics.add(view, DONE, 1);
  }
}

interface Trial {
  deadlock: string | null;
  transfers: number;
  total: number;
  ms: number;
}

async function runTrial(view: Int32Array, trial: number, ordered: boolean): Promise<Trial> {
  for (let i = 0; i < GATE; i++) Atomics.store(view, i, 0);
  Atomics.store(view, BALANCE, 1000);
  Atomics.store(view, BALANCE + 1, 1000);
  Atomics.store(view, ORDERED, ordered ? 1 : 0);
  const start = performance.now();
  Atomics.store(view, GATE, trial);
  Atomics.notify(view, GATE);
  let deadlock: string | null = null;
  let last = -1;
  let since = performance.now();
  while (Atomics.load(view, DONE) < 2) {
    await wait(5);
    if (deadlock) continue;
    const done = Atomics.load(view, DONE_TRANSFERS);
    if (done !== last) [last, since] = [done, performance.now()];
    else if (performance.now() - since >= 100) {
      // No transfer for 100 ms. Who waits for whom?
      const waits = [0, 1].map((t) => {
        const account = Atomics.load(view, WANT + t) - 1;
        return { t, account, holder: account < 0 ? -1 : Atomics.load(view, LOCK + account) - 1 };
      });
      if (waits.every((w) => w.holder === 1 - w.t)) {
        deadlock = waits
          .map((w) => `thread ${w.t} waits for account ${w.account}, locked by thread ${w.holder}`)
          .join('; ');
        Atomics.store(view, ABORT, trial);
      }
    }
  }
  const total = Atomics.load(view, BALANCE) + Atomics.load(view, BALANCE + 1);
  return { deadlock, transfers: Atomics.load(view, DONE_TRANSFERS), total, ms: performance.now() - start };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  const trials = Number(process.argv[2] ?? 10);
  const shared = new SharedArrayBuffer(SLOTS * 4);
  const view = new Int32Array(shared);
  const threads = [0, 1].map((me) => new Worker(__filename, { execArgv: TS_HOOK, workerData: { shared, me } }));
  for (const t of threads) t.on('error', (e) => console.error('a thread crashed:', e));
  console.log(`two threads, ${TRANSFERS.toLocaleString('en')} transfers each per trial, in opposite directions`);
  let trial = 0;
  for (const ordered of [false, true]) {
    const results: Trial[] = [];
    for (let i = 0; i < trials; i++) results.push(await runTrial(view, ++trial, ordered));
    const stuck = results.filter((r) => r.deadlock);
    const fine = results.filter((r) => !r.deadlock);
    console.log(ordered ? '2. lock the lower-numbered account first' : '1. lock `from`, then `to`');
    console.log(`   deadlocked in ${stuck.length} of ${trials} trials`);
    if (stuck.length > 0) {
      console.log(`   transfers done before the deadlock: median ${median(stuck.map((r) => r.transfers))}`);
      console.log(`   first one: ${stuck[0]!.deadlock}`);
    }
    if (fine.length > 0)
      console.log(
        `   finished trials: ${median(fine.map((r) => r.transfers))} transfers, median ${median(fine.map((r) => r.ms)).toFixed(0)} ms`,
      );
    const totals = [...new Set(results.map((r) => r.total))];
    console.log(`   money in the two accounts at the end: ${totals.join(', ')} (2000 at the start)`);
  }
  Atomics.store(view, GATE, -1);
  Atomics.notify(view, GATE);
  await Promise.all(threads.map((t) => new Promise((resolve) => t.once('exit', resolve))));
}

if (isMainThread) void main();
else thread(workerData as { shared: SharedArrayBuffer; me: number });
