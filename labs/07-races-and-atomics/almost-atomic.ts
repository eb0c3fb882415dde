/**
 * Code made of atomic operations is not atomic itself. Two kept-alive workers race three "almost atomic"
 * patterns: an increment written as Atomics.load then Atomics.store; a bounded increment that checks the
 * bound with Atomics.load, then adds with Atomics.add; and a pair of numbers written with two Atomics.store
 * calls and read with two Atomics.load calls. In parts 1 and 3 every worker goes on until both have done N
 * operations (team.ts's untilAll), so that the two really run at once.
 *
 *   npx tsx labs/07-races-and-atomics/almost-atomic.ts
 */
import { isMainThread } from 'node:worker_threads';
import { runLab, serveTeam, Team, type Body } from './team';

const N = 10_000; // operations per worker and round
const ROUNDS = 200;
const LIMIT = 5_000; // part 2: the bound; the two workers try N times each, so together they reach it
const A = 1;
const B = 2; // the pair: the writer keeps A and B equal

/** Increments lost in the round: operations done minus what the counter shows. */
const lost = (d: Int32Array, _n: number, ops: number[]): number => {
  const value = d[0]!;
  d[0] = 0;
  return ops[0]! + ops[1]! - value;
};
const total = (d: Int32Array): number => {
  const value = d[0]!;
  d[0] = 0;
  return value;
};

const bodies: Record<string, Body> = {
  loadThenStore: {
    run: (d, _me, n) => {
      for (let i = 0; i < n; i++) Atomics.store(d, 0, Atomics.load(d, 0) + 1); // two atomic steps
      return 0;
    },
    settle: lost,
  },
  add: {
    run: (d, _me, n) => {
      for (let i = 0; i < n; i++) Atomics.add(d, 0, 1); // one atomic step
      return 0;
    },
    settle: lost,
  },
  checkThenAdd: {
    run: (d, _me, n) => {
      for (let i = 0; i < n; i++) if (Atomics.load(d, 0) < LIMIT) Atomics.add(d, 0, 1); // check, then act
      return 0;
    },
    settle: total,
  },
  pair: {
    run: (d, me, n) => {
      let torn = 0;
      if (me === 0) {
        for (let i = 1; i <= n; i++) {
          Atomics.store(d, A, i);
          Atomics.store(d, B, i);
        }
      } else {
        for (let i = 0; i < n; i++) if (Atomics.load(d, A) !== Atomics.load(d, B)) torn++;
      }
      return torn;
    },
    settle: (d, _n, ops) => {
      d[A] = d[B] = 0;
      return ops[1]!; // the reader's reads
    },
  },
};

async function main(): Promise<void> {
  const team = await Team.start(__filename, 2, Object.keys(bodies));
  try {
    console.log(
      `two kept-alive workers, released together, ${ROUNDS} rounds of ${N.toLocaleString('en')}+ operations per worker`,
    );
    console.log('1. an increment: every round should end at the number of increments made');
    for (const [name, title] of [
      ['loadThenStore', 'Atomics.store(v, 0, Atomics.load(v, 0) + 1)'],
      ['add', 'Atomics.add(v, 0, 1)'],
    ]) {
      const { results: lost } = await team.rounds(name!, ROUNDS, N, { untilAll: true });
      console.log(
        `   ${title!.padEnd(45)} lost updates in ${String(lost.filter((l) => l > 0).length).padStart(3)} of ${ROUNDS} ` +
          `rounds; most lost in one: ${Math.max(...lost).toLocaleString('en')}`,
      );
    }
    console.log(`2. a bounded increment: add 1 only while the counter is below ${LIMIT.toLocaleString('en')}`);
    const { results } = await team.rounds('checkThenAdd', ROUNDS, N); // both start together and reach the bound together
    console.log(
      `   ${'if (Atomics.load(v, 0) < LIMIT) Atomics.add(v, 0, 1)'.padEnd(45)} went past ${LIMIT.toLocaleString('en')} ` +
        `in ${results.filter((t) => t > LIMIT).length} of ${ROUNDS} rounds; highest: ${Math.max(...results).toLocaleString('en')}`,
    );
    console.log('3. a pair kept equal: the writer stores A then B; the reader loads A then B');
    const { perWorker, results: reads } = await team.rounds('pair', ROUNDS, N, { untilAll: true });
    const all = reads.reduce((a, b) => a + b, 0);
    console.log(
      `   the reader saw A !== B in ${perWorker[1]!.toLocaleString('en')} of ${all.toLocaleString('en')} reads`,
    );
  } finally {
    await team.close();
  }
}

if (isMainThread) runLab(main);
else serveTeam(bodies);
