/**
 * What "sequentially consistent" buys. Two workers run the classic store-buffering test, many times:
 *
 *   worker 0:  x = 1;  r1 = y;          worker 1:  y = 1;  r2 = x;          (x = y = 0 before each round)
 *
 * If the four steps happened in some single order, one of the stores comes first, so at least one of r1, r2
 * is 1. With plain reads and writes, the processor (and the compiler) may let a read overtake an earlier
 * write to another place, and both reads can see 0. With Atomics.load and Atomics.store they cannot.
 *
 *   npx tsx labs/07-races-and-atomics/reorder.ts [rounds, default 20000]
 */
import { isMainThread } from 'node:worker_threads';
import { runLab, serveTeam, Team, type Body } from './team';

const X = 0;
const Y = 1;
const R1 = 2;
const R2 = 3;

const settle = (d: Int32Array): number => {
  const bothZero = d[R1] === 0 && d[R2] === 0 ? 1 : 0;
  d[X] = d[Y] = d[R1] = d[R2] = 0;
  return bothZero;
};

const bodies: Record<string, Body> = {
  plain: {
    run: (d, me) => {
      if (me === 0) {
        d[X] = 1;
        d[R1] = d[Y]!;
      } else {
        d[Y] = 1;
        d[R2] = d[X]!;
      }
      return 0;
    },
    settle,
  },
  atomic: {
    run: (d, me) => {
      if (me === 0) {
        Atomics.store(d, X, 1);
        d[R1] = Atomics.load(d, Y);
      } else {
        Atomics.store(d, Y, 1);
        d[R2] = Atomics.load(d, X);
      }
      return 0;
    },
    settle,
  },
};

async function main(): Promise<void> {
  const rounds = Number(process.argv[2] ?? 20_000);
  const team = await Team.start(__filename, 2, Object.keys(bodies));
  try {
    console.log(`store buffering, ${rounds.toLocaleString('en')} rounds each: how often did both reads see 0?`);
    for (const [name, title] of [
      ['plain', 'x = 1; r1 = y          (plain)'],
      ['atomic', 'Atomics.store; Atomics.load'],
    ]) {
      const { results } = await team.rounds(name!, rounds);
      const both = results.reduce((a, b) => a + b, 0);
      console.log(
        `   ${title!.padEnd(32)} r1 = r2 = 0 in ${both.toLocaleString('en').padStart(6)} rounds ` +
          `(${((100 * both) / rounds).toFixed(2)}%)`,
      );
    }
  } finally {
    await team.close();
  }
}

if (isMainThread) runLab(main);
else serveTeam(bodies);
