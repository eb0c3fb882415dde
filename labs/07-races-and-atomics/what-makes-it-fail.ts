/**
 * What decides whether a racy counter loses updates: whether the threads really run at the same moment
 * (cores), how long a round lasts (the longer, the likelier that a thread is paused between a read and its
 * write), and what else the machine is doing (load). Two kept-alive workers race rounds of three sizes with
 * 2 cores, with 2 cores and 2 extra busy threads, and pinned to 1 core (Linux's `taskset`).
 *
 *   npx tsx labs/07-races-and-atomics/what-makes-it-fail.ts
 */
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { isMainThread, Worker } from 'node:worker_threads';
import { runLab, serveTeam, Team, type Body } from './team';

const bodies: Record<string, Body> = {
  racy: {
    run: (d, _me, n) => {
      for (let i = 0; i < n; i++) d[0] = d[0]! + 1;
      return 0;
    },
    settle: (d) => {
      const total = d[0]!;
      d[0] = 0;
      return total;
    },
  },
};

const SIZES = [10_000, 1_000_000, 10_000_000]; // increments per worker and round
const ROUNDS = [100, 20, 5];

/** One row of the table: racy rounds of each size; `hogs` busy threads spin meanwhile. */
async function row(title: string, hogs: number): Promise<string> {
  const stop = new Int32Array(new SharedArrayBuffer(4));
  const busy = Array.from(
    { length: hogs },
    () =>
      new Worker(`const { workerData: stop } = require('node:worker_threads'); while (Atomics.load(stop, 0) === 0);`, {
        eval: true,
        workerData: stop,
      }),
  );
  const team = await Team.start(__filename, 2, Object.keys(bodies));
  const cells: string[] = [];
  try {
    for (const [i, n] of SIZES.entries()) {
      await team.rounds('racy', 3, n); // warm-up: let V8 optimize the loop
      const { results, ms } = await team.rounds('racy', ROUNDS[i]!, n);
      const lost = results.map((total) => 2 * n - total);
      const rate = (100 * lost.reduce((a, b) => a + b, 0)) / (2 * n * results.length);
      cells.push(
        `lost in ${String(lost.filter((l) => l > 0).length).padStart(3)} of ${results.length} ` +
          `(${rate.toFixed(1).padStart(4)}%, ${(ms / results.length).toFixed(1).padStart(5)} ms)`,
      );
    }
  } finally {
    await team.close();
    Atomics.store(stop, 0, 1);
    await Promise.all(busy.map((w) => once(w, 'exit')));
  }
  return `   ${title.padEnd(27)}${cells.map((c) => c.padEnd(37)).join('')}`;
}

async function main(): Promise<void> {
  if (process.argv[2] === 'row') {
    console.log(await row(process.argv[3]!, 0)); // started by the parent under `taskset -c 0`
    return;
  }
  console.log('two kept-alive workers, released together; rounds that lost updates (% of increments lost, ms a round)');
  console.log(`   ${''.padEnd(27)}${SIZES.map((n) => `rounds of 2 x ${n.toLocaleString('en')}`.padEnd(37)).join('')}`);
  console.log(await row('2 cores', 0));
  console.log(await row('2 cores, 2 busy threads', 2));
  const pinned = spawnSync(
    'taskset',
    ['-c', '0', process.execPath, ...process.execArgv, __filename, 'row', '1 core (taskset -c 0)'],
    { encoding: 'utf8', timeout: 60_000 },
  );
  if (pinned.status === 0) process.stdout.write(pinned.stdout);
  else console.log(`   1 core: could not run under taskset (${pinned.error?.message ?? pinned.stderr.trim()})`);
}

if (isMainThread) runLab(main);
else serveTeam(bodies);
