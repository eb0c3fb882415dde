/**
 * A counting semaphore in one Int32 cell: the number of free permits. acquire() takes one, sleeping while
 * there are none; release() gives one back and wakes a sleeper. Six threads each enter a "room" 20 times
 * and stay about 1 ms; the lab records the most threads that were ever in the room at once.
 *
 *   npx tsx labs/08-locks-and-conditions/semaphore.ts
 */
import { isMainThread } from 'node:worker_threads';
import { sleep } from './sync';
import { joinTeam, startTeam, type Member } from './team';

const PERMITS = 0; // the semaphore: free permits
const INSIDE = 1; // how many threads are in the room now
const PEAK = 2; // the most that ever were

export function acquire(v: Int32Array, i: number): void {
  for (;;) {
    const free = Atomics.load(v, i);
    if (free > 0) {
      if (Atomics.compareExchange(v, i, free, free - 1) === free) return; // took one
    } else {
      Atomics.wait(v, i, free); // none free: sleep until the count is no longer `free` (0)
    }
  }
}

export function release(v: Int32Array, i: number): void {
  Atomics.add(v, i, 1);
  Atomics.notify(v, i, 1);
}

function enterRoom(v: Int32Array): void {
  const now = Atomics.add(v, INSIDE, 1) + 1;
  for (let peak = Atomics.load(v, PEAK); now > peak; peak = Atomics.load(v, PEAK))
    if (Atomics.compareExchange(v, PEAK, peak, now) === peak) break; // an atomic max (chapter 07)
  sleep(1); // stay about 1 ms
  Atomics.sub(v, INSIDE, 1);
}

function member(task: unknown, { view }: Member): number {
  const { guarded, passes } = task as { guarded: boolean; passes: number };
  let waited = 0;
  for (let k = 0; k < passes; k++) {
    const t0 = performance.now();
    if (guarded) acquire(view, PERMITS);
    waited += performance.now() - t0;
    enterRoom(view);
    if (guarded) release(view, PERMITS);
  }
  return waited;
}

async function main(): Promise<void> {
  const shared = new SharedArrayBuffer(3 * 4);
  const view = new Int32Array(shared);
  const THREADS = 6;
  const PASSES = 20;
  const team = await startTeam(__filename, THREADS, shared);
  await team.round({ guarded: false, passes: PASSES }); // warm up
  console.log(`${THREADS} threads each enter the room ${PASSES} times and stay about 1 ms`);
  for (const permits of [0, 1, 2, 4]) {
    view.fill(0);
    view[PERMITS] = permits;
    const t0 = performance.now();
    const waited = await team.round<number>({ guarded: permits > 0, passes: PASSES });
    const ms = performance.now() - t0;
    const label = permits === 0 ? 'no semaphore' : `semaphore(${permits})`;
    console.log(
      `  ${label.padEnd(13)}: most in the room at once ${view[PEAK]}; ${ms.toFixed(0).padStart(4)} ms in all; ` +
        `each thread waited ${(waited.reduce((a, b) => a + b, 0) / THREADS).toFixed(0).padStart(3)} ms for permits; ` +
        `permits at the end: ${view[PERMITS]}`,
    );
  }
  await team.stop();
}

if (isMainThread) void main();
else joinTeam(member);
