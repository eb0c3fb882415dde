/**
 * Dining philosophers, with real threads: five workers, five forks (locks in a SharedArrayBuffer). Each
 * philosopher needs both forks next to it to eat. First everyone picks up the left fork first: the lab watches
 * for a deadlock (every philosopher holds one fork and waits for the next, in a cycle), reports the cycle it
 * found and ends that trial. Then the three classic fixes, with the same timings: lock ordering (one
 * left-handed philosopher), try-lock with back-off, and a waiter who lets only four sit down.
 *
 *   npx tsx labs/09-classic-problems-and-deadlock/philosophers.ts [trials per strategy, default 10]
 */
import { setTimeout as wait } from 'node:timers/promises';
import { isMainThread, Worker, workerData } from 'node:worker_threads';
import { lock, sleep, tryLock, unlock } from './sab-lock';

const TS_HOOK = ['--require', require.resolve('tsx/cjs')];
const N = 5; // philosophers and forks
const MEALS = 6; // meals each philosopher eats per trial
const HOLD_MS = 2; // time between picking up the first fork and reaching for the second
const EAT_MS = 1;
// Int32 slots of the shared buffer
const FORK = 0; // FORK + f: 0 if fork f is on the table, else (philosopher + 1) who holds it
const WANT = FORK + N; // WANT + p: (fork + 1) philosopher p is waiting for, 0 if none
const EATEN = WANT + N; // EATEN + p: meals philosopher p has eaten this trial
const BACKOFFS = EATEN + N; // BACKOFFS + p: times p put a fork back (try-lock)
const SEATS = BACKOFFS + N; // free seats at the waiter's table
const GATE = SEATS + 1; // the trial the philosophers may start; -1: go home
const ABORT = GATE + 1; // the trial the main thread has called off
const DONE = ABORT + 1; // philosophers finished with this trial
const STRATEGY = DONE + 1; // this trial's strategy: an index into STRATEGIES
const READY = STRATEGY + 1; // philosophers started and waiting for the first trial
const SLOTS = READY + 1;

const STRATEGIES = ['left-first', 'ordered', 'try-lock', 'waiter'] as const;
type Strategy = (typeof STRATEGIES)[number];
interface Job {
  shared: SharedArrayBuffer;
  me: number;
}

function philosopher({ shared, me }: Job): void {
  const view = new Int32Array(shared);
  const left = me;
  const right = (me + 1) % N;
  Atomics.add(view, READY, 1);
  for (let trial = 1; ; trial++) {
    for (let g = Atomics.load(view, GATE); g !== trial; g = Atomics.load(view, GATE)) {
      if (g === -1) return; // go home: the worker's code ends, and so does its thread
      Atomics.wait(view, GATE, g, 100);
    }
    const strategy: Strategy = STRATEGIES[Atomics.load(view, STRATEGY)]!;
    // Lock ordering: everyone picks up the lower-numbered fork first, so P4 reaches right (fork 0) first.
    const [first, second] = strategy === 'ordered' ? [Math.min(left, right), Math.max(left, right)] : [left, right];
    const calledOff = (): boolean => Atomics.load(view, ABORT) === trial;
    for (let meal = 0; meal < MEALS && !calledOff();) {
      sleep(Math.random()); // think
      if (strategy === 'waiter' && !takeSeat(view, calledOff)) break;
      Atomics.store(view, WANT + me, first + 1);
      if (!lock(view, FORK + first, me, calledOff)) break;
      Atomics.store(view, WANT + me, 0);
      sleep(HOLD_MS); // holding one fork, reaching for the other
      if (strategy === 'try-lock') {
        if (!tryLock(view, FORK + second, me)) {
          unlock(view, FORK + first); // put the first fork back, wait a random while, start over
          Atomics.add(view, BACKOFFS + me, 1);
          sleep(Math.random() * 4);
          continue;
        }
      } else {
        Atomics.store(view, WANT + me, second + 1);
        const got = lock(view, FORK + second, me, calledOff);
        if (!got) {
          unlock(view, FORK + first);
          break;
        }
        Atomics.store(view, WANT + me, 0);
      }
      sleep(EAT_MS); // eat
      Atomics.add(view, EATEN + me, 1);
      meal++;
      unlock(view, FORK + second);
      unlock(view, FORK + first);
      if (strategy === 'waiter') leaveSeat(view);
    }
    Atomics.store(view, WANT + me, 0);
    Atomics.add(view, DONE, 1);
  }
}

/** The waiter: a counting semaphore of N - 1 seats. */
function takeSeat(view: Int32Array, calledOff: () => boolean): boolean {
  for (;;) {
    const free = Atomics.load(view, SEATS);
    if (free > 0 && Atomics.compareExchange(view, SEATS, free, free - 1) === free) return true;
    if (calledOff()) return false;
    if (free === 0) Atomics.wait(view, SEATS, 0, 20);
  }
}

function leaveSeat(view: Int32Array): void {
  Atomics.add(view, SEATS, 1);
  Atomics.notify(view, SEATS, 1);
}

/** Who waits for whom: p waits for fork f, and f is held by q. Returns a cycle of philosophers, or null. */
function findCycle(view: Int32Array): number[] | null {
  const next = (p: number): number => {
    const f = Atomics.load(view, WANT + p) - 1;
    return f < 0 ? -1 : Atomics.load(view, FORK + f) - 1;
  };
  for (let start = 0; start < N; start++) {
    const path = [start];
    for (let p = next(start); p >= 0; p = next(p)) {
      const at = path.indexOf(p);
      if (at >= 0) return path.slice(at);
      path.push(p);
    }
  }
  return null;
}

function describe(view: Int32Array, cycle: number[]): string[] {
  return cycle.map((p) => {
    const holds = [...Array(N).keys()].filter((f) => Atomics.load(view, FORK + f) === p + 1);
    const wants = Atomics.load(view, WANT + p) - 1;
    const holder = Atomics.load(view, FORK + wants) - 1;
    return `P${p} holds fork ${holds.join(', ')} and waits for fork ${wants}, held by P${holder}`;
  });
}

interface Trial {
  deadlock: string[] | null;
  meals: number;
  ms: number;
  backoffs: number;
}

async function runTrial(view: Int32Array, trial: number, strategy: Strategy): Promise<Trial> {
  for (let i = 0; i < READY; i++) if (i !== GATE) Atomics.store(view, i, 0);
  Atomics.store(view, SEATS, N - 1);
  Atomics.store(view, STRATEGY, STRATEGIES.indexOf(strategy));
  const sum = (base: number): number => [...Array(N).keys()].reduce((s, p) => s + Atomics.load(view, base + p), 0);
  const start = performance.now();
  Atomics.store(view, GATE, trial);
  Atomics.notify(view, GATE);
  let deadlock: string[] | null = null;
  let suspect = ''; // the cycle seen last time, with the meal count then
  let suspectSince = 0;
  while (Atomics.load(view, DONE) < N) {
    await wait(10);
    if (deadlock) continue; // called off: waiting for everyone to put their forks down
    const cycle = findCycle(view);
    const seen = cycle ? `${cycle.join('>')} after ${sum(EATEN)} meals` : '';
    if (seen === '' || seen !== suspect) {
      [suspect, suspectSince] = [seen, performance.now()];
    } else if (performance.now() - suspectSince >= 100) {
      // The same cycle for 100 ms and not one meal eaten meanwhile: nobody in it can ever go on.
      deadlock = describe(view, cycle!);
      Atomics.store(view, ABORT, trial);
    }
  }
  return { deadlock, meals: sum(EATEN), ms: performance.now() - start, backoffs: sum(BACKOFFS) };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function runStrategy(view: Int32Array, title: string, name: Strategy, trials: number): Promise<void> {
  const results: Trial[] = [];
  for (let t = 1; t <= trials; t++) results.push(await runTrial(view, Atomics.load(view, GATE) + 1, name));
  console.log(title);
  const stuck = results.filter((r) => r.deadlock);
  const fine = results.filter((r) => !r.deadlock);
  const mealRange = (rs: Trial[]): string =>
    `${Math.min(...rs.map((r) => r.meals))}–${Math.max(...rs.map((r) => r.meals))}`;
  console.log(`   deadlocked in ${stuck.length} of ${trials} trials`);
  if (stuck.length > 0) {
    console.log(`   meals eaten before the deadlock: ${mealRange(stuck)} of ${N * MEALS}; the first deadlock found:`);
    for (const line of stuck[0]!.deadlock!) console.log(`     ${line}`);
    console.log('     ... and so around the table: a cycle, in which nobody can go on');
  }
  if (fine.length > 0) {
    const backoffs = name === 'try-lock' ? `; forks put back: median ${median(fine.map((r) => r.backoffs))}` : '';
    console.log(
      `   finished trials: ${mealRange(fine)} of ${N * MEALS} meals eaten, ` +
        `median ${median(fine.map((r) => r.ms)).toFixed(0)} ms per trial${backoffs}`,
    );
  }
}

async function main(): Promise<void> {
  const trials = Number(process.argv[2] ?? 10);
  console.log(`${N} philosophers, ${MEALS} meals each per trial, ${trials} trials per strategy`);
  const shared = new SharedArrayBuffer(SLOTS * 4);
  const view = new Int32Array(shared);
  const workers = [...Array(N).keys()].map(
    (me) => new Worker(__filename, { execArgv: TS_HOOK, workerData: { shared, me } satisfies Job }),
  );
  for (const w of workers) w.on('error', (e) => console.error('a philosopher crashed:', e));
  while (Atomics.load(view, READY) < N) await wait(10); // every thread started, before any clock runs
  await runStrategy(view, '1. everyone picks up the left fork, then the right', 'left-first', trials);
  await runStrategy(view, '2. lock ordering: the lower-numbered fork first (P4 is left-handed)', 'ordered', trials);
  await runStrategy(view, '3. try-lock: if the second fork is taken, put it back, retry later', 'try-lock', trials);
  await runStrategy(view, `4. a waiter: at most ${N - 1} philosophers at the table`, 'waiter', trials);
  Atomics.store(view, GATE, -1); // go home
  Atomics.notify(view, GATE);
  await Promise.all(workers.map((w) => new Promise((resolve) => w.once('exit', resolve))));
}

if (isMainThread) void main();
else philosopher(workerData as Job);
