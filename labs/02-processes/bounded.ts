/**
 * Why bound how many children run at once, and where. Six CPU-bound jobs (each a Node process that counts
 * to 200 million) run twice: all at once, then at most one per CPU core. Both finish in about the same
 * time, because the cores are the limit, but all-at-once makes each job wait for a core and keeps every
 * process alive (and its memory in use) the whole time. Then six jobs that only wait (`sleep 0.5`): for
 * those, the cores are not the limit, and running them all at once is three times faster.
 *
 *   npx tsx labs/02-processes/bounded.ts
 */
import { execFile, spawn } from 'node:child_process';
import { availableParallelism } from 'node:os';

const JOBS = 6;
const computes = [process.execPath, '-e', '(() => { let x = 0; for (let i = 0; i < 2e8; i++) x += i; return x; })()'];
const waits = ['sleep', '0.5'];

interface Stats {
  wallMs: number;
  meanJobMs: number;
  peakAlive: number;
  peakRssMiB: number;
}

async function runAll(limit: number, [command, ...args]: string[]): Promise<Stats> {
  const alive = new Set<number>();
  let peakAlive = 0;
  let peakRssMiB = 0;
  const durations: number[] = [];
  // Every 100 ms, add up the resident memory of the children alive right now.
  const sampler = setInterval(() => {
    if (alive.size === 0) return;
    execFile('ps', ['-o', 'rss=', '-p', [...alive].join(',')], (_error, out) => {
      const kib = out.split('\n').reduce((sum, line) => sum + (Number(line.trim()) || 0), 0);
      peakRssMiB = Math.max(peakRssMiB, kib / 1024);
    });
  }, 100);

  const runOne = (): Promise<void> =>
    new Promise((resolve) => {
      const started = performance.now();
      const child = spawn(command!, args, { stdio: 'ignore' });
      alive.add(child.pid!);
      peakAlive = Math.max(peakAlive, alive.size);
      child.on('close', () => {
        alive.delete(child.pid!);
        durations.push(performance.now() - started);
        resolve();
      });
    });

  // `limit` lanes; each lane runs one job after another until none is left.
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < JOBS) {
      next += 1;
      await runOne();
    }
  };
  const start = performance.now();
  await Promise.all(Array.from({ length: limit }, lane));
  clearInterval(sampler);
  return {
    wallMs: performance.now() - start,
    meanJobMs: durations.reduce((a, b) => a + b, 0) / durations.length,
    peakAlive,
    peakRssMiB,
  };
}

async function main(): Promise<void> {
  const cores = availableParallelism();
  console.log(`${JOBS} jobs on ${cores} cores`);
  console.log('jobs       limit   wall time   mean time per job   peak alive   peak memory of the children');
  for (const [kind, job] of [
    ['computing', computes],
    ['waiting', waits],
  ] as const) {
    for (const limit of [JOBS, cores]) {
      const s = await runAll(limit, job);
      console.log(
        `${kind.padEnd(9)} ${String(limit).padStart(6)}   ${(s.wallMs / 1000).toFixed(2).padStart(7)} s   ` +
          `${(s.meanJobMs / 1000).toFixed(2).padStart(15)} s   ${String(s.peakAlive).padStart(10)}   ` +
          `${s.peakRssMiB.toFixed(0).padStart(8)} MiB`,
      );
    }
  }
}

void main();
