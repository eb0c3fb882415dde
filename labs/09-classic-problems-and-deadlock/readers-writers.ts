/**
 * Readers and writers: three reader threads and one writer share a record of two numbers, written as x then
 * -x. A reader that sees a record whose two halves do not match has read it in the middle of a write (a torn
 * read). Four rounds of the same work, each for a fixed time: no lock; one mutex for everybody; a
 * readers–writer lock that lets readers in while others read (readers first); and the same lock, with
 * a waiting writer keeping new readers out (writers first).
 *
 *   npx tsx labs/09-classic-problems-and-deadlock/readers-writers.ts [ms per round, default 400]
 */
import { setTimeout as wait } from 'node:timers/promises';
import { isMainThread, Worker, workerData } from 'node:worker_threads';
import { lock, sleep, unlock } from './sab-lock';

const TS_HOOK = ['--require', require.resolve('tsx/cjs')];
const READERS = 3;
// Int32 slots of the shared buffer
const X = 0; // the record: X, then Y = -X
const Y = 1;
const MUTEX = 2; // the plain mutex (0 free)
const RW = 3; // the readers–writer lock: the number of readers inside, or -1 while the writer is inside
const WAITING_WRITERS = 4;
const INSIDE = 5; // readers inside right now
const MAX_INSIDE = 6;
const READS = 7;
const TORN = 8;
const WRITES = 9;
const LONGEST_WAIT_US = 10; // the writer's longest wait to get in, in microseconds
const STOP = 11; // the round that is over
const DONE = 12; // threads finished with this round
const MODE = 13; // an index into MODES
const GATE = 14; // the round that may start; -1: go home
const READY = 15; // threads started
const SLOTS = 16;

const MODES = ['none', 'mutex', 'readers-first', 'writers-first'] as const;
type Mode = (typeof MODES)[number];

function enterRead(view: Int32Array, mode: Mode, me: number, stopped: () => boolean): boolean {
  if (mode === 'none') return true;
  if (mode === 'mutex') return lock(view, MUTEX, me, stopped, 1);
  for (;;) {
    if (stopped()) return false;
    const writers = Atomics.load(view, WAITING_WRITERS);
    if (mode === 'writers-first' && writers > 0) {
      Atomics.wait(view, WAITING_WRITERS, writers, 1); // a writer is waiting: let it go first
      continue;
    }
    const readers = Atomics.load(view, RW);
    if (readers >= 0 && Atomics.compareExchange(view, RW, readers, readers + 1) === readers) return true;
    if (readers < 0) Atomics.wait(view, RW, readers, 1); // the writer is inside
  }
}

function exitRead(view: Int32Array, mode: Mode): void {
  if (mode === 'mutex') unlock(view, MUTEX);
  else if (mode !== 'none' && Atomics.sub(view, RW, 1) === 1) Atomics.notify(view, RW); // the last reader out
}

function enterWrite(view: Int32Array, mode: Mode, me: number, stopped: () => boolean): boolean {
  if (mode === 'none') return true;
  if (mode === 'mutex') return lock(view, MUTEX, me, stopped, 1);
  Atomics.add(view, WAITING_WRITERS, 1);
  try {
    for (;;) {
      if (Atomics.compareExchange(view, RW, 0, -1) === 0) return true;
      if (stopped()) return false;
      const readers = Atomics.load(view, RW);
      if (readers !== 0) Atomics.wait(view, RW, readers, 1);
    }
  } finally {
    if (Atomics.sub(view, WAITING_WRITERS, 1) === 1) Atomics.notify(view, WAITING_WRITERS);
  }
}

function exitWrite(view: Int32Array, mode: Mode): void {
  if (mode === 'mutex') unlock(view, MUTEX);
  else if (mode !== 'none') {
    Atomics.store(view, RW, 0);
    Atomics.notify(view, RW);
  }
}

function thread({ shared, me }: { shared: SharedArrayBuffer; me: number }): void {
  const view = new Int32Array(shared);
  const writer = me === READERS; // threads 0..2 read, thread 3 writes
  Atomics.add(view, READY, 1);
  for (let round = 1; ; round++) {
    for (let g = Atomics.load(view, GATE); g !== round; g = Atomics.load(view, GATE)) {
      if (g === -1) return;
      Atomics.wait(view, GATE, g, 100);
    }
    const mode: Mode = MODES[Atomics.load(view, MODE)]!;
    const stopped = (): boolean => Atomics.load(view, STOP) === round;
    for (let k = 1; !stopped(); k++) {
      if (writer) {
        const start = performance.now();
        const got = enterWrite(view, mode, me, stopped);
        const waitedUs = Math.round((performance.now() - start) * 1000);
        if (waitedUs > Atomics.load(view, LONGEST_WAIT_US)) Atomics.store(view, LONGEST_WAIT_US, waitedUs);
        if (!got) break;
        Atomics.store(view, X, k); // write the record: first half ...
        sleep(0.2);
        Atomics.store(view, Y, -k); // ... second half
        Atomics.add(view, WRITES, 1);
        exitWrite(view, mode);
        sleep(1); // the writer wants to write about once a millisecond
      } else {
        if (!enterRead(view, mode, me, stopped)) break;
        const inside = Atomics.add(view, INSIDE, 1) + 1;
        for (let m = Atomics.load(view, MAX_INSIDE); inside > m; m = Atomics.load(view, MAX_INSIDE))
          if (Atomics.compareExchange(view, MAX_INSIDE, m, inside) === m) break;
        const x = Atomics.load(view, X); // read the record: first half ...
        sleep(0.2);
        const y = Atomics.load(view, Y); // ... second half
        if (y !== -x) Atomics.add(view, TORN, 1);
        Atomics.add(view, READS, 1);
        Atomics.sub(view, INSIDE, 1);
        exitRead(view, mode); // and straight back in: these readers never pause
      }
    }
    Atomics.add(view, DONE, 1);
  }
}

async function main(): Promise<void> {
  const roundMs = Number(process.argv[2] ?? 400);
  const shared = new SharedArrayBuffer(SLOTS * 4);
  const view = new Int32Array(shared);
  const threads = [...Array(READERS + 1).keys()].map(
    (me) => new Worker(__filename, { execArgv: TS_HOOK, workerData: { shared, me } }),
  );
  for (const t of threads) t.on('error', (e) => console.error('a thread crashed:', e));
  while (Atomics.load(view, READY) < READERS + 1) await wait(5); // every thread started, before any round
  console.log(`${READERS} readers and 1 writer, ${roundMs} ms per round; a read or a write takes 0.2 ms`);
  console.log(
    '                                 reads   torn   readers inside at once   writes   writer waited at most',
  );
  const titles: Record<Mode, string> = {
    none: 'no lock',
    mutex: 'one mutex for everybody',
    'readers-first': 'readers–writer, readers first',
    'writers-first': 'readers–writer, writers first',
  };
  let round = 0;
  for (const mode of MODES) {
    for (let s = 0; s < STOP; s++) Atomics.store(view, s, 0);
    Atomics.store(view, DONE, 0);
    Atomics.store(view, MODE, MODES.indexOf(mode));
    Atomics.store(view, GATE, ++round);
    Atomics.notify(view, GATE);
    await wait(roundMs);
    Atomics.store(view, STOP, round);
    while (Atomics.load(view, DONE) < READERS + 1) await wait(1);
    const longest = Atomics.load(view, LONGEST_WAIT_US) / 1000;
    const writes = Atomics.load(view, WRITES);
    console.log(
      `${titles[mode].padEnd(31)} ${String(Atomics.load(view, READS)).padStart(6)} ${String(Atomics.load(view, TORN)).padStart(6)}` +
        `${String(Atomics.load(view, MAX_INSIDE)).padStart(25)} ${String(writes).padStart(8)}` +
        `   ${longest.toFixed(1).padStart(7)} ms${longest >= roundMs ? ' (the whole round)' : ''}`,
    );
  }
  Atomics.store(view, GATE, -1);
  Atomics.notify(view, GATE);
  await Promise.all(threads.map((t) => new Promise((resolve) => t.once('exit', resolve))));
}

if (isMainThread) void main();
else thread(workerData as { shared: SharedArrayBuffer; me: number });
