/**
 * Why a lock should sleep, not spin. One thread holds a lock while it does about 100 ms of CPU work; two
 * other threads want the same lock. They wait for it either by spinning (retrying compareExchange in a
 * loop) or by sleeping in Atomics.wait (the futex-style lock() of sync.ts). The lab measures how much CPU
 * each waiter burns while it waits, and how long the holder's work takes with them around.
 *
 *   npx tsx labs/08-locks-and-conditions/spin-or-sleep.ts
 */
import { readFileSync } from 'node:fs';
import { isMainThread } from 'node:worker_threads';
import { joinTeam, startTeam } from './team';
import { lock, unlock } from './sync';

const LOCK = 0; // the lock's cell
type Mode = 'calibrate' | 'alone' | 'spin' | 'sleep';
interface Result {
  wallMs: number; // holder: its critical section; waiter: how long it waited for the lock
  cpuMs: number; // CPU time this thread used in that time
  tries: number; // spinning waiter: how many compareExchange calls failed
  at: number; // holder: when it released the lock; waiter: when it got it (ms since the epoch)
}

const clock = (): number => performance.timeOrigin + performance.now(); // comparable across threads

/** CPU time this thread has used, in ms (Linux: /proc/thread-self/stat, in 10 ms steps). */
function threadCpuMs(): number {
  try {
    const stat = readFileSync('/proc/thread-self/stat', 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10; // utime + stime, in 1/100 s
  } catch {
    return NaN; // not Linux: no per-thread CPU time
  }
}

function work(iterations: number): number {
  let x = 1;
  for (let i = 0; i < iterations; i++) x = (x * 1103515245 + 12345) % 2147483648;
  return x;
}

function member(task: unknown, { index, view }: { index: number; view: Int32Array }): Result | null {
  const { mode, iterations } = task as { mode: Mode; iterations: number };
  if (mode === 'calibrate') {
    if (index !== 0) return null;
    work(iterations); // let the JIT compile it first
    const t0 = performance.now();
    work(iterations);
    return { wallMs: performance.now() - t0, cpuMs: 0, tries: 0, at: 0 };
  }
  if (index === 0) {
    // the holder: take the lock, work, release
    if (mode === 'sleep') lock(view, LOCK);
    else while (Atomics.compareExchange(view, LOCK, 0, 1) !== 0);
    const [t0, c0] = [performance.now(), threadCpuMs()];
    work(iterations);
    const result = { wallMs: performance.now() - t0, cpuMs: threadCpuMs() - c0, tries: 0, at: clock() };
    if (mode === 'sleep') unlock(view, LOCK);
    else Atomics.store(view, LOCK, 0);
    return result;
  }
  if (mode === 'alone') return null;
  while (Atomics.load(view, LOCK) === 0); // until the holder has the lock
  const [t0, c0] = [performance.now(), threadCpuMs()];
  let tries = 0;
  if (mode === 'sleep') lock(view, LOCK);
  else while (Atomics.compareExchange(view, LOCK, 0, 1) !== 0) tries++;
  const result = { wallMs: performance.now() - t0, cpuMs: threadCpuMs() - c0, tries, at: clock() };
  if (mode === 'sleep') unlock(view, LOCK);
  else Atomics.store(view, LOCK, 0);
  return result;
}

async function main(): Promise<void> {
  const team = await startTeam(__filename, 3, new SharedArrayBuffer(4));
  // calibrate: about 100 ms of work for one thread on this machine, now
  const [probe] = await team.round<Result>({ mode: 'calibrate', iterations: 5_000_000 });
  const iterations = Math.round((5_000_000 * 100) / probe!.wallMs);

  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const f = (ms: number): string => `${ms.toFixed(0).padStart(4)} ms`;
  console.log('a holder does ~100 ms of work inside the lock; 2 other threads wait for it (median of 3 rounds)');
  for (const mode of ['alone', 'spin', 'sleep'] as const) {
    const rounds: (Result | null)[][] = [];
    for (let r = 0; r < 3; r++) rounds.push(await team.round<Result | null>({ mode, iterations }));
    const holder = rounds.map((r) => r[0]!);
    const label = { alone: 'nobody waits', spin: 'waiters spin', sleep: 'waiters sleep' }[mode];
    let line = `${label.padEnd(14)} holder's work took ${f(median(holder.map((h) => h.wallMs)))}`;
    if (mode !== 'alone') {
      const waiters = rounds.flatMap((r) => [r[1]!, r[2]!]);
      line +=
        `; each waiter waited ${f(median(waiters.map((w) => w.wallMs)))} and burned ` +
        `${f(median(waiters.map((w) => w.cpuMs)))} of CPU` +
        (mode === 'spin' ? ` (${(median(waiters.map((w) => w.tries)) / 1e6).toFixed(1)} M failed tries)` : '');
      const handover = rounds.map((r) => (Math.min(r[1]!.at, r[2]!.at) - r[0]!.at) * 1000);
      line += `\n${''.padEnd(15)}the lock passed to the next thread ${(median(handover) / 1000).toFixed(2)} ms after its release`;
    }
    console.log(line);
  }
  await team.stop();
}

if (isMainThread) void main();
else joinTeam(member);
