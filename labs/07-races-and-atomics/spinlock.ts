/**
 * A spinlock: one Int32 cell, 0 = free and 1 = taken. Part 1 protects a plain, non-atomic counter with
 * no lock, with a "lock" that checks and then sets in two steps, and with locks that take the cell in one
 * atomic step (compareExchange, exchange). Part 2 measures how many lock/unlock pairs per second 1, 2 and 4
 * workers get through, next to Atomics.add, and the same on one core.
 *
 *   npx tsx labs/07-races-and-atomics/spinlock.ts
 */
import { spawnSync } from 'node:child_process';
import { isMainThread } from 'node:worker_threads';
import { runLab, serveTeam, Team, type Body } from './team';

const LOCK = 0; // 0 = free, 1 = taken
const COUNTER = 1; // read and written with plain, non-atomic code: the lock must protect it
const N = 5_000; // lock, increment, unlock: per worker and round
const ROUNDS = 30;

function lockCas(d: Int32Array): void {
  while (Atomics.compareExchange(d, LOCK, 0, 1) !== 0); // take it if it is free, in one step; else try again
}
function lockExchange(d: Int32Array): void {
  while (Atomics.exchange(d, LOCK, 1) !== 0); // write "taken"; if it was already taken, we did not get it
}
function lockCheckThenSet(d: Int32Array): void {
  while (Atomics.load(d, LOCK) !== 0); // wait until it looks free ...
  Atomics.store(d, LOCK, 1); // ... then take it: two atomic steps, and another thread can come between them
}
function unlock(d: Int32Array): void {
  Atomics.store(d, LOCK, 0);
}

/** Increments lost in the round: entries made minus what the counter shows. */
const lost = (d: Int32Array, _n: number, ops: number[]): number => {
  const total = d[COUNTER]!;
  d[COUNTER] = 0;
  return ops.reduce((a, b) => a + b, 0) - total;
};
const withLock = (lock: (d: Int32Array) => void): Body => ({
  run: (d, _me, n) => {
    for (let i = 0; i < n; i++) {
      lock(d);
      d[COUNTER] = d[COUNTER]! + 1; // the critical section: a plain read-modify-write
      unlock(d);
    }
    return 0;
  },
  settle: lost,
});

const bodies: Record<string, Body> = {
  none: {
    run: (d, _me, n) => {
      for (let i = 0; i < n; i++) d[COUNTER] = d[COUNTER]! + 1;
      return 0;
    },
    settle: lost,
  },
  checkThenSet: withLock(lockCheckThenSet),
  cas: withLock(lockCas),
  exchange: withLock(lockExchange),
  add: {
    run: (d, _me, n) => {
      for (let i = 0; i < n; i++) Atomics.add(d, COUNTER, 1);
      return 0;
    },
    settle: lost,
  },
};

async function correctness(size: number): Promise<void> {
  console.log(
    `1. ${size} workers, each ${N.toLocaleString('en')}+ times: lock; counter = counter + 1; unlock (${ROUNDS} rounds)`,
  );
  const team = await Team.start(__filename, size, Object.keys(bodies));
  try {
    for (const [name, title] of [
      ['none', 'no lock'],
      ['checkThenSet', 'while (load(L) !== 0); store(L, 1)'],
      ['cas', 'while (compareExchange(L, 0, 1) !== 0);'],
      ['exchange', 'while (exchange(L, 1) !== 0);'],
    ]) {
      const { results } = await team.rounds(name!, ROUNDS, N, { untilAll: true });
      console.log(
        `   ${title!.padEnd(42)} lost updates in ${String(results.filter((l) => l > 0).length).padStart(3)} of ${ROUNDS} rounds`,
      );
    }
  } finally {
    await team.close();
  }
}

/** Million operations per second for the compareExchange spinlock and for Atomics.add, with `size` workers. */
async function throughput(size: number): Promise<string> {
  const team = await Team.start(__filename, size, Object.keys(bodies));
  try {
    const n = 200_000;
    const rate = async (name: string): Promise<string> => {
      await team.rounds(name, 1, n); // warm-up
      const { ms } = await team.rounds(name, 5, n);
      return ((5 * size * n) / ms / 1000).toFixed(1);
    };
    return `${String(size).padStart(8)}   ${(await rate('cas')).padStart(22)}   ${(await rate('add')).padStart(19)}`;
  } finally {
    await team.close();
  }
}

async function main(): Promise<void> {
  if (process.argv[2] === 'throughput') {
    console.log(`${await throughput(Number(process.argv[3]))}   (1 core: taskset -c 0)`);
    return;
  }
  await correctness(4);
  console.log('2. million lock+increment+unlock per second, against Atomics.add alone');
  console.log(' workers   spinlock M ops/s (cas)   Atomics.add M ops/s');
  for (const size of [1, 2, 4]) console.log(await throughput(size));
  const pinned = spawnSync(
    'taskset',
    ['-c', '0', process.execPath, ...process.execArgv, __filename, 'throughput', '2'],
    { encoding: 'utf8', timeout: 60_000 },
  );
  if (pinned.status === 0) process.stdout.write(pinned.stdout);
  else console.log(`   1 core: could not run under taskset (${pinned.error?.message ?? pinned.stderr.trim()})`);
}

if (isMainThread) runLab(main);
else serveTeam(bodies);
