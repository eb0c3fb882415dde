/**
 * Deadlock and livelock with no thread at all. Two async tasks each need two locks, taken in opposite orders:
 *   1. with locks that wait, they deadlock — and since nothing is left for the event loop to do, Node simply
 *      exits, as if the program had finished (run in a child process, to show how it ends);
 *   2. with try-locks and a fixed back-off, they livelock: busy for ever, in lock step, and nothing done;
 *   3. with a random back-off, the lock step breaks and both finish.
 * In parts 2 and 3 each lock operation is a "round trip" of one turn of the event loop, as a lock kept in a
 * database or another service would be (a real one takes longer, and less evenly: the lab keeps it exact).
 *
 *   npx tsx labs/09-classic-problems-and-deadlock/async-deadlock.ts
 */
import { spawnSync } from 'node:child_process';
import { setImmediate as turn } from 'node:timers/promises';

/** Waits for `n` turns of the event loop. */
async function turns(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await turn();
}

// Part 1 runs as plain JavaScript in a child process of its own: its end is what we want to see.
const DEADLOCK = `
const makeLock = () => {
  let held = false;
  const waiting = [];
  return {
    async acquire() { if (!held) { held = true; return; } await new Promise((resolve) => waiting.push(resolve)); },
    release() { const next = waiting.shift(); if (next) next(); else held = false; },
  };
};
const A = makeLock(), B = makeLock();
async function transfer(name, first, second) {
  await first.acquire();
  await new Promise((resolve) => setTimeout(resolve, 10)); // some work while holding the first lock
  await second.acquire();
  console.log(name + ' done');
  second.release(); first.release();
}
const both = Promise.all([transfer('A->B', A, B), transfer('B->A', B, A)]);
console.log('started two transfers');
`;
const COMMONJS = `${DEADLOCK}both.then(() => console.log('both done'));`;
const ESM = `${DEADLOCK}await both; console.log('both done');`;

/** A lock kept somewhere else: every operation is a round trip; the check and the set are one step there. */
class RemoteLock {
  private holder: string | null = null;
  async tryLock(who: string): Promise<boolean> {
    await turn();
    if (this.holder !== null) return false;
    this.holder = who;
    return true;
  }
  async unlock(): Promise<void> {
    await turn();
    this.holder = null;
  }
}

async function polite(name: string, first: RemoteLock, second: RemoteLock, backoff: () => number, until: number) {
  let attempts = 0;
  while (performance.now() < until) {
    attempts++;
    if (!(await first.tryLock(name))) {
      await turns(backoff());
      continue;
    }
    if (await second.tryLock(name)) {
      await second.unlock(); // the work is done: release both
      await first.unlock();
      return { done: true, attempts };
    }
    await first.unlock(); // the second is taken: put the first back, step aside, and try again
    await turns(backoff());
  }
  return { done: false, attempts };
}

async function main(): Promise<void> {
  console.log('1. two async transfers take locks A and B in opposite orders');
  for (const [what, args] of [
    ['a CommonJS script', ['-e', COMMONJS]],
    ['an ES module (top-level await)', ['--input-type=module', '-e', ESM]],
  ] as const) {
    const child = spawnSync(process.execPath, args, { encoding: 'utf8', timeout: 10_000 });
    const out = child.stdout.trim().split('\n').join(' | ');
    const stderr = child.stderr.trim() === '' ? 'nothing' : child.stderr.trim().split('\n')[0];
    console.log(`   as ${what}: printed "${out}", then ended with exit code ${child.status}`);
    console.log(`     and on stderr: ${stderr}`);
  }

  const LIMIT_MS = 300;
  for (const [title, backoff] of [
    ['2. try-locks, and a fixed back-off of 2 turns of the event loop', () => 2],
    ['3. try-locks, and a random back-off of 0 to 3 turns', () => Math.floor(Math.random() * 4)],
  ] as const) {
    const A = new RemoteLock();
    const B = new RemoteLock();
    const start = performance.now();
    const until = start + LIMIT_MS;
    const results = await Promise.all([polite('A->B', A, B, backoff, until), polite('B->A', B, A, backoff, until)]);
    const ms = performance.now() - start;
    console.log(title);
    console.log(
      `   in ${ms.toFixed(1)} ms: ${results.filter((r) => r.done).length} of 2 transfers done, ` +
        `after ${results.map((r) => r.attempts).join(' and ')} attempts`,
    );
  }
}

void main();
