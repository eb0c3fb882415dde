/**
 * Parallel speedup on your machine: count the primes below 2,000,000 with 1, 2 and 4 worker threads, and
 * with as many as os.availableParallelism() says this process may use. The workers are started first, so
 * the times are the computation's, plus the messages. Reported, not promised: it depends on your cores and
 * on what else runs on them.
 *
 *   npx tsx labs/05-threads/speedup.ts
 */
import { once } from 'node:events';
import os from 'node:os';
import { isMainThread, parentPort, Worker } from 'node:worker_threads';

const TS_HOOK = ['--require', require.resolve('tsx/cjs')];
const LIMIT = 2_000_000;
const CHUNKS = 64; // the range is cut into 64 chunks, dealt out in turn, so that each worker gets a fair share

function isPrime(n: number): boolean {
  if (n < 2) return false;
  if (n % 2 === 0) return n === 2;
  for (let d = 3; d * d <= n; d += 2) if (n % d === 0) return false;
  return true;
}

/** Counts the primes in [from, to) of each range it is given. */
function countPrimes(ranges: [number, number][]): number {
  let count = 0;
  for (const [from, to] of ranges) for (let n = from; n < to; n++) if (isPrime(n)) count++;
  return count;
}

/** Chunks k, k + K, k + 2K, … of [0, LIMIT) for worker k of K. */
function share(k: number, K: number): [number, number][] {
  const size = Math.ceil(LIMIT / CHUNKS);
  const ranges: [number, number][] = [];
  for (let c = k; c < CHUNKS; c += K) ranges.push([c * size, Math.min(LIMIT, (c + 1) * size)]);
  return ranges;
}

interface Run {
  ms: number; // wall time, from the first task posted to the last count received
  total: number; // the joined count
  busy: number; // CPU time our process got in that span, divided by the wall time: cores working for us
}

async function run(K: number): Promise<Run> {
  const workers = Array.from({ length: K }, () => new Worker(__filename, { execArgv: TS_HOOK }));
  await Promise.all(workers.map((w) => once(w, 'online')));
  const start = performance.now();
  const cpu = process.cpuUsage();
  const counts = await Promise.all(
    workers.map(async (w, k) => {
      w.postMessage(share(k, K));
      return ((await once(w, 'message')) as [number])[0];
    }),
  );
  const ms = performance.now() - start;
  const used = process.cpuUsage(cpu);
  await Promise.all(workers.map((w) => w.terminate()));
  return { ms, total: counts.reduce((a, b) => a + b, 0), busy: (used.user + used.system) / 1000 / ms };
}

async function main(): Promise<void> {
  const cores = os.availableParallelism();
  console.log(`cores this process may use (os.availableParallelism()): ${cores}`);
  console.log(`primes below ${LIMIT.toLocaleString('en')}, median of 3 runs each`);
  const ks = [...new Set([1, 2, 4, cores])].sort((a, b) => a - b);
  let base = 0;
  for (const K of ks) {
    const runs: Run[] = [];
    for (let i = 0; i < 3; i++) runs.push(await run(K));
    const { ms, total, busy } = runs.sort((a, b) => a.ms - b.ms)[1]!;
    if (K === 1) base = ms;
    const speedup = base / ms;
    console.log(
      `${String(K).padStart(2)} worker${K === 1 ? ' ' : 's'}: ${ms.toFixed(0).padStart(5)} ms   count ${total}   ` +
        `speedup ${speedup.toFixed(2)}x   cores busy for us ${busy.toFixed(2)}`,
    );
  }
}

if (isMainThread) void main();
else parentPort!.on('message', (ranges: [number, number][]) => parentPort!.postMessage(countPrimes(ranges)));
