/**
 * Why a racy counter is usually right, and how to make it fail on purpose. Part 1 runs the racy counter the
 * naive way — two new workers per trial, each adding 1 a million times as soon as it has started — and
 * records when each worker's loop ran, to see whether the two loops overlapped at all. Part 2 keeps two
 * workers alive and releases them together, with a spin barrier, for many short rounds.
 *
 *   npx tsx labs/07-races-and-atomics/usually-right.ts [fresh-worker trials, default 20]
 */
import { once } from 'node:events';
import { isMainThread, Worker } from 'node:worker_threads';
import { runLab, serveTeam, Team, type Body } from './team';

// Part 1's workers are plain JavaScript (no TypeScript loader to start), so they start as fast as a worker can.
const FRESH = `
const { workerData } = require('node:worker_threads');
const { view, times, me, created } = workerData;
const start = performance.timeOrigin + performance.now();
for (let i = 0; i < 1e6; i++) view[0] = view[0] + 1;       // racy: read, add, write
const end = performance.timeOrigin + performance.now();
times[3 * me] = start - created; times[3 * me + 1] = start; times[3 * me + 2] = end;
`;

const ROUND = 10_000; // increments per worker and round, part 2
const bodies: Record<string, Body> = {
  racy: {
    run: (d, _me, n) => {
      for (let i = 0; i < n; i++) d[0] = d[0]! + 1;
      return 0;
    },
    settle: (d, n) => {
      const lost = 2 * n - d[0]!;
      d[0] = 0;
      return lost;
    },
  },
  atomic: {
    run: (d, _me, n) => {
      for (let i = 0; i < n; i++) Atomics.add(d, 0, 1);
      return 0;
    },
    settle: (d, n) => {
      const lost = 2 * n - d[0]!;
      d[0] = 0;
      return lost;
    },
  },
};

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

async function fresh(trials: number): Promise<void> {
  console.log(`1. a new pair of workers per trial, each adds 1 a million times as soon as it starts; ${trials} trials`);
  let lostTrials = 0;
  let overlapped = 0;
  let lostOverlapped = 0;
  const startup: number[] = [];
  const loop: number[] = [];
  for (let t = 0; t < trials; t++) {
    const view = new Int32Array(new SharedArrayBuffer(4));
    const times = new Float64Array(new SharedArrayBuffer(6 * 8));
    const created = performance.timeOrigin + performance.now();
    const workers = [0, 1].map((me) => new Worker(FRESH, { eval: true, workerData: { view, times, me, created } }));
    await Promise.all(workers.map((w) => once(w, 'exit')));
    const [s0, a0, b0, s1, a1, b1] = Array.from(times);
    startup.push(s0!, s1!);
    loop.push(b0! - a0!, b1! - a1!);
    const overlap = Math.min(b0!, b1!) > Math.max(a0!, a1!);
    const lost = view[0] !== 2_000_000;
    if (overlap) overlapped++;
    if (lost) lostTrials++;
    if (lost && overlap) lostOverlapped++;
  }
  console.log(
    `   a worker started its loop ${median(startup).toFixed(1)} ms after new Worker() (median); ` +
      `its million increments took ${median(loop).toFixed(1)} ms`,
  );
  console.log(
    `   the two loops overlapped in time in ${overlapped} of ${trials} trials; ` +
      `lost updates in ${lostTrials} of ${trials} (${lostOverlapped} of the ${overlapped} that overlapped, ` +
      `${lostTrials - lostOverlapped} of the ${trials - overlapped} that did not)`,
  );
}

async function keptAlive(): Promise<void> {
  const TRIALS = 20;
  const MAX_ROUNDS = 200;
  console.log(
    `2. two workers kept alive, released together by a spin barrier, rounds of 2 x ${ROUND.toLocaleString('en')} ` +
      `increments; each trial stops at its first round that loses updates (at most ${MAX_ROUNDS} rounds)`,
  );
  const team = await Team.start(__filename, 2, Object.keys(bodies));
  try {
    const needed: number[] = [];
    let caught = 0;
    for (let t = 0; t < TRIALS; t++) {
      const { results } = await team.rounds('racy', MAX_ROUNDS, ROUND, { stopEarly: true });
      if (results.at(-1)! > 0) {
        caught++;
        needed.push(results.length);
      }
    }
    console.log(
      `   view[0] = view[0] + 1   caught lost updates in ${caught} of ${TRIALS} trials` +
        (caught ? `, after ${Math.min(...needed)}–${Math.max(...needed)} rounds (median ${median(needed)})` : ''),
    );
    const { results } = await team.rounds('atomic', 1000, ROUND);
    console.log(`   Atomics.add(view, 0, 1) rounds that lost updates: ${results.filter((r) => r > 0).length} of 1,000`);
  } finally {
    await team.close();
  }
}

async function main(): Promise<void> {
  await fresh(Number(process.argv[2] ?? 20));
  await keptAlive();
}

if (isMainThread) runLab(main);
else serveTeam(bodies);
