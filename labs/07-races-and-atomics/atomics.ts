/**
 * The Atomics operations: what each one does and returns (part 1), and each read-modify-write against the
 * plain JavaScript that looks the same, raced by two kept-alive workers (part 2). In each round every worker
 * goes on until both have done N operations (team.ts's untilAll), so that the two really run at once.
 *
 *   npx tsx labs/07-races-and-atomics/atomics.ts
 */
import { isMainThread } from 'node:worker_threads';
import { runLab, serveTeam, Team, type Body } from './team';

const N = 10_000; // operations per worker and round
const ROUNDS = 200;
const COUNTER = 0;
const FLAGS = 1;
const VANISHED = 2; // times a worker's bit was gone right after the worker had set it

// with untilAll the two workers may do different numbers of operations: the end should be adds - subtractions
const settleZero = (d: Int32Array, _n: number, ops: number[]): number => {
  const wrong = d[COUNTER] !== ops[0]! - ops[1]! ? 1 : 0;
  d[COUNTER] = 0;
  return wrong;
};
const settleFlags = (d: Int32Array): number => {
  const vanished = d[VANISHED]!;
  d[FLAGS] = 0;
  d[VANISHED] = 0;
  return vanished;
};

const bodies: Record<string, Body> = {
  // worker 0 adds 1, worker 1 subtracts 1, as often as each other: the counter should end where it started
  plainAddSub: {
    run: (d, me, n) => {
      if (me === 0) for (let i = 0; i < n; i++) d[COUNTER] += 1;
      else for (let i = 0; i < n; i++) d[COUNTER] -= 1;
      return 0;
    },
    settle: settleZero,
  },
  atomicAddSub: {
    run: (d, me, n) => {
      if (me === 0) for (let i = 0; i < n; i++) Atomics.add(d, COUNTER, 1);
      else for (let i = 0; i < n; i++) Atomics.sub(d, COUNTER, 1);
      return 0;
    },
    settle: settleZero,
  },
  // each worker sets its own bit in one shared word, checks it is there, and clears it again, n times
  plainOrAnd: {
    run: (d, me, n) => {
      const bit = 1 << me;
      for (let i = 0; i < n; i++) {
        d[FLAGS] |= bit;
        if ((Atomics.load(d, FLAGS) & bit) === 0) Atomics.add(d, VANISHED, 1);
        d[FLAGS] &= ~bit;
      }
      return 0;
    },
    settle: settleFlags,
  },
  atomicOrAnd: {
    run: (d, me, n) => {
      const bit = 1 << me;
      for (let i = 0; i < n; i++) {
        Atomics.or(d, FLAGS, bit);
        if ((Atomics.load(d, FLAGS) & bit) === 0) Atomics.add(d, VANISHED, 1);
        Atomics.and(d, FLAGS, ~bit);
      }
      return 0;
    },
    settle: settleFlags,
  },
};

function tour(): void {
  console.log('1. each operation returns the value that was there before it (one thread, view[0] starts at 10)');
  const view = new Int32Array(new SharedArrayBuffer(4));
  view[0] = 10;
  const show = (call: string, result: number): void =>
    console.log(`   ${call.padEnd(40)} returns ${String(result).padStart(3)}   view[0] is now ${view[0]}`);
  show('Atomics.add(view, 0, 5)', Atomics.add(view, 0, 5));
  show('Atomics.sub(view, 0, 3)', Atomics.sub(view, 0, 3));
  show('Atomics.and(view, 0, 0b0110)', Atomics.and(view, 0, 0b0110));
  show('Atomics.or(view, 0, 0b1001)', Atomics.or(view, 0, 0b1001));
  show('Atomics.xor(view, 0, 0b0011)', Atomics.xor(view, 0, 0b0011));
  show('Atomics.exchange(view, 0, 99)', Atomics.exchange(view, 0, 99));
  show('Atomics.compareExchange(view, 0, 99, 7)', Atomics.compareExchange(view, 0, 99, 7));
  show('Atomics.compareExchange(view, 0, 99, 8)', Atomics.compareExchange(view, 0, 99, 8));
  show('Atomics.load(view, 0)', Atomics.load(view, 0));
  show('Atomics.store(view, 0, 3)', Atomics.store(view, 0, 3)); // returns the value it stored
  try {
    Atomics.add(new Float64Array(new SharedArrayBuffer(8)) as unknown as Int32Array, 0, 1);
  } catch (error) {
    console.log(`   Atomics.add on a Float64Array: ${(error as Error).name}: ${(error as Error).message}`);
  }
}

async function race(): Promise<void> {
  console.log(`2. two kept-alive workers, released together, ${ROUNDS} rounds`);
  const team = await Team.start(__filename, 2, Object.keys(bodies));
  try {
    console.log(
      `   one adds 1 and the other subtracts 1, ${N.toLocaleString('en')}+ times each: it should end at (adds - subtractions)`,
    );
    for (const [name, title] of [
      ['plainAddSub', 'view[0] += 1   /   view[0] -= 1'],
      ['atomicAddSub', 'Atomics.add   /   Atomics.sub'],
    ]) {
      const { results } = await team.rounds(name!, ROUNDS, N, { untilAll: true });
      console.log(
        `     ${title!.padEnd(42)} ended elsewhere in ${results.filter((r) => r > 0).length} of ${ROUNDS} rounds`,
      );
    }
    console.log(`   each sets its own bit in one shared word, checks it, clears it, ${N.toLocaleString('en')}+ times`);
    for (const [name, title] of [
      ['plainOrAnd', 'view[1] |= bit   /   view[1] &= ~bit'],
      ['atomicOrAnd', 'Atomics.or      /   Atomics.and'],
    ]) {
      const { results } = await team.rounds(name!, ROUNDS, N, { untilAll: true });
      const vanished = results.reduce((a, b) => a + b, 0);
      console.log(
        `     ${title!.padEnd(42)} a bit vanished right after it was set: ${vanished.toLocaleString('en')} times, ` +
          `in ${results.filter((r) => r > 0).length} of ${ROUNDS} rounds`,
      );
    }
  } finally {
    await team.close();
  }
}

async function main(): Promise<void> {
  tour();
  await race();
}

if (isMainThread) runLab(main);
else serveTeam(bodies);
