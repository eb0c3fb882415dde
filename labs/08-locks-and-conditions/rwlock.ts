/**
 * A readers–writer lock in one Int32 cell: -1 while a writer holds it, otherwise the number of readers
 * holding it. Many readers may hold it at once, or one writer alone. Three readers take turns reading (each
 * read holds the lock about 2 ms, and they overlap); a writer wants the lock now and then. With a lock that
 * lets a reader in whenever no writer holds it, the readers never all leave at once, and the writer starves.
 * A lock that stops letting new readers in while a writer waits lets it in within a read or two.
 *
 *   npx tsx labs/08-locks-and-conditions/rwlock.ts
 */
import { isMainThread } from 'node:worker_threads';
import { sleep } from './sync';
import { joinTeam, startTeam, type Member } from './team';

const STATE = 0; // -1: a writer holds the lock; n >= 0: n readers hold it
const WRITERS_WAITING = 1;
const STOP = 2;
const READERS_IN = 3; // readers inside right now, and the most there ever were:
const PEAK = 4;
const WRITER_IN = 5;
const BROKEN = 6; // times a reader and the writer were inside together

function readLock(v: Int32Array, preferWriters: boolean): void {
  for (;;) {
    const s = Atomics.load(v, STATE);
    const mayEnter = s >= 0 && !(preferWriters && Atomics.load(v, WRITERS_WAITING) > 0);
    if (mayEnter) {
      if (Atomics.compareExchange(v, STATE, s, s + 1) === s) return;
    } else Atomics.wait(v, STATE, s, 50);
  }
}
function readUnlock(v: Int32Array): void {
  if (Atomics.sub(v, STATE, 1) === 1) Atomics.notify(v, STATE); // the last reader out wakes the sleepers
}

/** Takes the lock for writing; gives up and returns false after `giveUpMs`. */
function writeLock(v: Int32Array, giveUpMs: number): boolean {
  const deadline = performance.now() + giveUpMs;
  Atomics.add(v, WRITERS_WAITING, 1);
  try {
    for (;;) {
      if (Atomics.compareExchange(v, STATE, 0, -1) === 0) return true;
      const s = Atomics.load(v, STATE);
      const left = deadline - performance.now();
      if (left <= 0) return false;
      if (s !== 0) Atomics.wait(v, STATE, s, left);
    }
  } finally {
    Atomics.sub(v, WRITERS_WAITING, 1);
  }
}
function writeUnlock(v: Int32Array): void {
  Atomics.store(v, STATE, 0);
  Atomics.notify(v, STATE); // wake every sleeper: the readers may all go in now
}

function reader(v: Int32Array, index: number, preferWriters: boolean): number {
  let reads = 0;
  sleep(index * 0.7); // start at staggered moments, so that reads overlap
  while (Atomics.load(v, STOP) === 0) {
    readLock(v, preferWriters);
    const inside = Atomics.add(v, READERS_IN, 1) + 1;
    for (let peak = Atomics.load(v, PEAK); inside > peak; peak = Atomics.load(v, PEAK))
      if (Atomics.compareExchange(v, PEAK, peak, inside) === peak) break;
    if (Atomics.load(v, WRITER_IN)) Atomics.add(v, BROKEN, 1);
    sleep(2); // the read: about 2 ms
    Atomics.sub(v, READERS_IN, 1);
    readUnlock(v);
    reads++;
  }
  return reads;
}

function writer(v: Int32Array): number[] {
  const waits: number[] = []; // ms per write; -1: gave up
  sleep(20);
  for (let w = 0; w < 5; w++) {
    const t0 = performance.now();
    if (!writeLock(v, 1000)) {
      waits.push(-1);
      break;
    }
    waits.push(performance.now() - t0);
    Atomics.store(v, WRITER_IN, 1);
    if (Atomics.load(v, READERS_IN)) Atomics.add(v, BROKEN, 1);
    sleep(1); // the write
    Atomics.store(v, WRITER_IN, 0);
    writeUnlock(v);
    sleep(10);
  }
  Atomics.store(v, STOP, 1);
  return waits;
}

function member(task: unknown, { index, view }: Member): number | number[] {
  const { preferWriters } = task as { preferWriters: boolean };
  return index === 3 ? writer(view) : reader(view, index, preferWriters);
}

async function main(): Promise<void> {
  const shared = new SharedArrayBuffer(7 * 4);
  const view = new Int32Array(shared);
  const team = await startTeam(__filename, 4, shared);
  console.log('3 readers (each read holds the lock ~2 ms) and 1 writer that wants to write 5 times');
  for (const preferWriters of [false, true]) {
    view.fill(0);
    const t0 = performance.now();
    const results = await team.round<number | number[]>({ preferWriters });
    const ms = performance.now() - t0;
    const waits = results[3] as number[];
    const reads = (results.slice(0, 3) as number[]).reduce((a, b) => a + b, 0);
    const shown = waits.map((w) => (w < 0 ? 'gave up after 1000 ms' : `${w.toFixed(1)} ms`)).join(', ');
    console.log(
      `  ${preferWriters ? 'new readers wait while a writer waits' : 'readers enter whenever no writer holds it'}:`,
    );
    console.log(
      `    most readers inside at once: ${view[PEAK]}; reads done: ${reads}; a reader and the writer inside ` +
        `together: ${view[BROKEN]} times; ${ms.toFixed(0)} ms in all`,
    );
    console.log(`    the writer waited for the lock: ${shown}`);
  }
  await team.stop();
}

if (isMainThread) void main();
else joinTeam(member);
