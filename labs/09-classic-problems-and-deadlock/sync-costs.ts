/**
 * What one protected update costs on each of the three roads, with nobody else competing for the lock:
 *   event loop: a plain increment between awaits needs no lock; across an await it needs an async mutex;
 *   threads:    Atomics.add on shared memory, or a lock (compareExchange + store + notify) around a plain update;
 *   processes:  a lock file (open with 'wx', write the pid, close; then read it back and unlink it).
 *
 *   npx tsx labs/09-classic-problems-and-deadlock/sync-costs.ts
 */
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, unlinkSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { tryLock, unlock } from './sab-lock';

class AsyncMutex {
  private tail: Promise<void> = Promise.resolve();
  lock(): Promise<() => void> {
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const acquired = this.tail.then(() => release);
    this.tail = this.tail.then(() => released);
    return acquired;
  }
}

/** Runs `body` n times, five times over, and returns the best time per call in nanoseconds. */
function nsPerCall(n: number, body: () => void): number {
  let best = Infinity;
  for (let round = 0; round < 5; round++) {
    const start = performance.now();
    for (let i = 0; i < n; i++) body();
    best = Math.min(best, ((performance.now() - start) * 1e6) / n);
  }
  return best;
}

/** The same for an async body, each call awaited before the next. */
async function nsPerAsyncCall(n: number, body: () => Promise<void>): Promise<number> {
  let best = Infinity;
  for (let round = 0; round < 5; round++) {
    const start = performance.now();
    for (let i = 0; i < n; i++) await body();
    best = Math.min(best, ((performance.now() - start) * 1e6) / n);
  }
  return best;
}

const show = (ns: number): string => (ns < 1000 ? `${ns.toFixed(0)} ns` : `${(ns / 1000).toFixed(1)} µs`);

async function main(): Promise<void> {
  let counter = 0;
  const view = new Int32Array(new SharedArrayBuffer(8));
  const mutex = new AsyncMutex();
  const dir = mkdtempSync(path.join(tmpdir(), 'sync-costs-'));
  const lockPath = path.join(dir, 'x.lock');

  const rows: [string, string, number][] = [
    ['event loop', 'counter++ (no await inside: nothing to lock)', nsPerCall(2e6, () => void counter++)],
    [
      'event loop',
      'async mutex: lock, counter++, release',
      await nsPerAsyncCall(2e4, async () => {
        const release = await mutex.lock();
        counter++;
        release();
      }),
    ],
    ['threads', 'Atomics.add(view, 0, 1)', nsPerCall(2e6, () => void Atomics.add(view, 0, 1))],
    [
      'threads',
      'lock word: compareExchange, view[0]++, store + notify',
      nsPerCall(2e5, () => {
        tryLock(view, 1, 0);
        view[0]!++;
        unlock(view, 1);
      }),
    ],
    [
      'processes',
      "lock file: open 'wx', write pid, close; read, unlink",
      nsPerCall(500, () => {
        const fd = openSync(lockPath, 'wx');
        writeSync(fd, String(process.pid));
        closeSync(fd);
        if (Number(readFileSync(lockPath, 'utf8')) === process.pid) unlinkSync(lockPath);
      }),
    ],
  ];
  rmSync(dir, { recursive: true, force: true });
  console.log('one protected update, nobody competing for it (best of 5 runs)');
  for (const [road, what, ns] of rows) console.log(`${road.padEnd(10)} ${what.padEnd(54)} ${show(ns).padStart(9)}`);
}

void main();
