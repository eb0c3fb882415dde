/**
 * Rendezvous: two threads, A and B, each do a first step and a second step, and neither may start its second
 * step before the other has finished its first (a1 before b2, b1 before a2). Three versions, over many trials:
 * no synchronization; "announce my arrival, then wait for yours"; and "wait for yours, then announce mine",
 * which deadlocks — the lab notices (its waits have a timeout) and says so.
 *
 *   npx tsx labs/09-classic-problems-and-deadlock/rendezvous.ts
 */
import { setTimeout as wait } from 'node:timers/promises';
import { isMainThread, Worker, workerData } from 'node:worker_threads';
import { sleep } from './sab-lock';

const TS_HOOK = ['--require', require.resolve('tsx/cjs')];
// Int32 slots of the shared buffer
const ARRIVED = 0; // ARRIVED + t: 1 once thread t (0 = A, 1 = B) has finished its first step
const LOG = 2; // LOG + i: the i-th step taken this trial (1 = a1, 2 = a2, 3 = b1, 4 = b2)
const NEXT = LOG + 4; // the next free LOG index
const STUCK = NEXT + 1; // how many threads gave up waiting this trial
const DONE = STUCK + 1;
const MODE = DONE + 1; // an index into MODES
const GATE = MODE + 1; // the trial that may start; -1: go home
const SLOTS = GATE + 1;

const MODES = ['none', 'signal-then-wait', 'wait-then-signal'] as const;
type Mode = (typeof MODES)[number];
const GIVE_UP_MS = 200; // a thread that has waited this long for the other one reports a deadlock

function thread({ shared, me }: { shared: SharedArrayBuffer; me: number }): void {
  const view = new Int32Array(shared);
  const other = 1 - me;
  const step = (second: boolean): void => {
    Atomics.store(view, LOG + Atomics.add(view, NEXT, 1), me * 2 + (second ? 2 : 1));
  };
  const arrive = (): void => {
    Atomics.store(view, ARRIVED + me, 1);
    Atomics.notify(view, ARRIVED + me);
  };
  const awaitOther = (): boolean => Atomics.wait(view, ARRIVED + other, 0, GIVE_UP_MS) !== 'timed-out';
  for (let trial = 1; ; trial++) {
    for (let g = Atomics.load(view, GATE); g !== trial; g = Atomics.load(view, GATE)) {
      if (g === -1) return;
      Atomics.wait(view, GATE, g, 100);
    }
    const mode: Mode = MODES[Atomics.load(view, MODE)]!;
    sleep(Math.random() * 2); // the first step takes a while, longer for some
    step(false);
    let ok = true;
    if (mode === 'signal-then-wait') {
      arrive(); // tell the other one we are here ...
      ok = awaitOther(); // ... then wait for it
    } else if (mode === 'wait-then-signal') {
      ok = awaitOther(); // wait for the other one first ...
      if (ok) arrive(); // ... and only then say we are here: each waits for a signal the other never sends
    }
    if (ok) step(true);
    else Atomics.add(view, STUCK, 1);
    Atomics.add(view, DONE, 1);
  }
}

async function main(): Promise<void> {
  const shared = new SharedArrayBuffer(SLOTS * 4);
  const view = new Int32Array(shared);
  const threads = [0, 1].map((me) => new Worker(__filename, { execArgv: TS_HOOK, workerData: { shared, me } }));
  for (const t of threads) t.on('error', (e) => console.error('a thread crashed:', e));
  const names = ['', 'a1', 'a2', 'b1', 'b2'];
  let trial = 0;
  const run = async (mode: Mode, trials: number, title: string): Promise<void> => {
    let broken = 0;
    let deadlocked = 0;
    let example = '';
    for (let i = 0; i < trials; i++) {
      for (let s = 0; s < MODE; s++) Atomics.store(view, s, 0);
      Atomics.store(view, MODE, MODES.indexOf(mode));
      Atomics.store(view, GATE, ++trial);
      Atomics.notify(view, GATE);
      while (Atomics.load(view, DONE) < 2) await wait(1);
      const order = [0, 1, 2, 3].map((i) => names[Atomics.load(view, LOG + i)]).filter((s) => s !== '');
      const at = (s: string): number => (order.includes(s) ? order.indexOf(s) : Infinity);
      if (Atomics.load(view, STUCK) > 0) deadlocked++;
      else if (at('a1') > at('b2') || at('b1') > at('a2')) {
        broken++;
        example ||= order.join(' ');
      }
    }
    console.log(title);
    console.log(`   a second step ran before the other thread's first step in ${broken} of ${trials} trials`);
    if (example) console.log(`   for example: ${example}`);
    if (mode === 'wait-then-signal')
      console.log(
        `   both threads waited ${GIVE_UP_MS} ms for each other and gave up in ${deadlocked} of ${trials} trials`,
      );
  };
  await run('none', 100, '1. no synchronization');
  await run('signal-then-wait', 100, '2. rendezvous: announce my arrival, then wait for the other');
  await run('wait-then-signal', 5, '3. wait for the other first, then announce my arrival');
  Atomics.store(view, GATE, -1);
  Atomics.notify(view, GATE);
  await Promise.all(threads.map((t) => new Promise((resolve) => t.once('exit', resolve))));
}

if (isMainThread) void main();
else thread(workerData as { shared: SharedArrayBuffer; me: number });
