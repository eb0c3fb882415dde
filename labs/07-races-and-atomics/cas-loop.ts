/**
 * A compare-and-swap loop makes any function of one cell atomic: read the cell, compute the new value,
 * and store it with Atomics.compareExchange only if the cell still holds what was read; otherwise retry.
 * Here the function is x -> x * 3 mod 1,000,003 (Atomics has add, but no multiply). 1, 2 and 4 kept-alive
 * workers apply it; the lab checks the result, counts the retries and measures the rate, next to a plain
 * load-compute-store version and to Atomics.add.
 *
 *   npx tsx labs/07-races-and-atomics/cas-loop.ts
 */
import { isMainThread } from 'node:worker_threads';
import { runLab, serveTeam, Team, type Body } from './team';

const P = 1_000_003; // a prime: x * 3 mod P never reaches 0 from 1, and 3 * x stays far below 2^31
const N = 100_000; // operations per worker and round
const ROUNDS = 5;
const step = (x: number): number => (x * 3) % P;

/** The cell's value after k steps from 1: 3^k mod P. */
function expected(k: number): number {
  let result = 1n;
  let base = 3n;
  for (let e = BigInt(k); e > 0n; e >>= 1n, base = (base * base) % BigInt(P)) {
    if (e & 1n) result = (result * base) % BigInt(P);
  }
  return Number(result);
}

/** 1 if the cell is not 3^(operations done) mod P, 0 if it is; then back to 1 for the next round. */
const settle = (d: Int32Array, _n: number, ops: number[]): number => {
  const wrong = d[0] === expected(ops.reduce((a, b) => a + b, 0)) ? 0 : 1;
  d[0] = 1;
  return wrong;
};

const bodies: Record<string, Body> = {
  racy: {
    run: (d, _me, n) => {
      for (let i = 0; i < n; i++) Atomics.store(d, 0, step(Atomics.load(d, 0)));
      return 0;
    },
    settle,
  },
  cas: {
    run: (d, _me, n) => {
      let retries = 0;
      for (let i = 0; i < n; i++) {
        let seen = Atomics.load(d, 0); // 1. read
        for (;;) {
          const next = step(seen); // 2. compute, from what we read
          const found = Atomics.compareExchange(d, 0, seen, next); // 3. store next, only if the cell still holds seen
          if (found === seen) break; // it did: done
          seen = found; // somebody changed it: `next` is stale; go again from what the cell holds now
          retries++;
        }
      }
      return retries;
    },
    settle,
  },
  add: {
    run: (d, _me, n) => {
      for (let i = 0; i < n; i++) Atomics.add(d, 0, 1);
      return 0;
    },
    settle: (d, _n, ops) => {
      const wrong = d[0] === 1 + ops.reduce((a, b) => a + b, 0) ? 0 : 1;
      d[0] = 1;
      return wrong;
    },
  },
};

async function main(): Promise<void> {
  console.log(
    `x = x * 3 mod ${P.toLocaleString('en')}, ${N.toLocaleString('en')}+ times per worker and round, ${ROUNDS} rounds`,
  );
  console.log(
    ` workers   load, compute, store   CAS loop    retries per 1,000 ops   CAS M ops/s   Atomics.add M ops/s`,
  );
  for (const size of [1, 2, 4]) {
    const team = await Team.start(__filename, size, Object.keys(bodies));
    try {
      team.data[0] = 1;
      await team.rounds('cas', 1, N); // warm-up: let V8 optimize the loops
      await team.rounds('add', 1, N);
      const racy = await team.rounds('racy', ROUNDS, N, { untilAll: true });
      const cas = await team.rounds('cas', ROUNDS, N, { untilAll: true });
      const add = await team.rounds('add', ROUNDS, N, { untilAll: true });
      const retries = cas.perWorker.reduce((a, b) => a + b, 0);
      const rate = ({ ops, ms }: { ops: number; ms: number }): string => (ops / ms / 1000).toFixed(1);
      const wrong = ({ results }: { results: number[] }): number => results.filter((r) => r !== 0).length;
      console.log(
        ` ${String(size).padStart(7)}   ${`wrong in ${wrong(racy)} of ${ROUNDS}`.padEnd(21)}  ` +
          `${`wrong in ${wrong(cas)}`.padEnd(10)}  ${((1000 * retries) / cas.ops).toFixed(1).padStart(21)}` +
          `   ${rate(cas).padStart(11)}   ${rate(add).padStart(19)}`,
      );
    } finally {
      await team.close();
    }
  }
}

if (isMainThread) runLab(main);
else serveTeam(bodies);
