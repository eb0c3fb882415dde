/**
 * What spinning costs. Worker 0 holds a lock for HOLD_MS, asleep, then releases it; the other workers
 * wait for the lock. A spinning waiter tries compareExchange again and again; a sleeping waiter blocks
 * in Atomics.wait until the holder's Atomics.notify (chapter 08 builds locks that way). The lab reads the
 * CPU time the whole process used meanwhile (process.cpuUsage counts every thread of the process). Last, for
 * comparison, two threads that just compute for the same time show how much CPU the machine gives us at all.
 *
 *   npx tsx labs/07-races-and-atomics/spin-cost.ts
 */
import { isMainThread } from 'node:worker_threads';
import { runLab, serveTeam, Team, type Body } from './team';

const HOLD_MS = 300;
const LOCK = 0;
const NAP = 1; // a cell nobody changes: the holder sleeps on it

const holdThenRelease = (d: Int32Array): void => {
  Atomics.wait(d, NAP, 0, HOLD_MS); // hold the lock, asleep: no CPU
  Atomics.store(d, LOCK, 0);
  Atomics.notify(d, LOCK); // wake a sleeping waiter, if there is one
};

const bodies: Record<string, Body> = {
  spin: {
    run: (d, me) => {
      if (me === 0) return (holdThenRelease(d), 0);
      let tries = 0;
      while (Atomics.compareExchange(d, LOCK, 0, 1) !== 0) tries++; // spin
      Atomics.store(d, LOCK, 0);
      return tries;
    },
    settle: (d) => ((d[LOCK] = 1), 0), // taken again, for the next round
  },
  compute: {
    // for comparison: threads that do useful work for HOLD_MS, not waiting for anything
    run: (d, me) => {
      if (me === 0) return (holdThenRelease(d), 0);
      let sum = 0;
      for (const end = performance.now() + HOLD_MS; performance.now() < end;) sum++;
      return sum > 0 ? 0 : 1;
    },
    settle: (d) => ((d[LOCK] = 1), 0),
  },
  sleep: {
    run: (d, me) => {
      if (me === 0) return (holdThenRelease(d), 0);
      let tries = 0;
      while (Atomics.compareExchange(d, LOCK, 0, 1) !== 0) {
        tries++;
        Atomics.wait(d, LOCK, 1, 1000); // sleep while it is still taken
      }
      Atomics.store(d, LOCK, 0);
      Atomics.notify(d, LOCK);
      return tries;
    },
    settle: (d) => ((d[LOCK] = 1), 0),
  },
};

async function measure(waiters: number, name: 'spin' | 'sleep' | 'compute'): Promise<void> {
  const team = await Team.start(__filename, 1 + waiters, Object.keys(bodies));
  try {
    team.data[LOCK] = 1; // worker 0 holds the lock when the round starts
    const before = process.cpuUsage();
    const start = performance.now();
    const { perWorker } = await team.rounds(name, 1);
    const wall = performance.now() - start;
    const used = process.cpuUsage(before);
    const cpu = (used.user + used.system) / 1000;
    const tries = perWorker.slice(1).reduce((a, b) => a + b, 0);
    console.log(
      `   ${(name === 'compute' ? `${waiters} threads computing` : `${waiters} ${name === 'spin' ? 'spinning' : 'sleeping'} waiter${waiters > 1 ? 's' : ''}`).padEnd(22)}` +
        ` wall ${wall.toFixed(0).padStart(4)} ms   CPU ${cpu.toFixed(0).padStart(4)} ms` +
        `   (${(cpu / wall).toFixed(2)} cores)` +
        (name === 'compute' ? '   (for comparison: all the CPU we got)' : `   tries: ${tries.toLocaleString('en')}`),
    );
  } finally {
    await team.close();
  }
}

async function main(): Promise<void> {
  console.log(`the holder keeps the lock for ${HOLD_MS} ms, asleep; CPU time of the whole process meanwhile:`);
  await measure(1, 'spin');
  await measure(2, 'spin');
  await measure(1, 'sleep');
  await measure(2, 'sleep');
  await measure(2, 'compute');
}

if (isMainThread) runLab(main);
else serveTeam(bodies);
