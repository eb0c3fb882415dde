/**
 * The speedup of YOUR parallelSum, from the parallel-sum exercise (exercises/05-threads/parallel-sum):
 * the same sum over 0 ≤ i < 2,400,000 (about 1 s of CPU on one core) with k = 1, 2 and 4 worker threads,
 * and with os.availableParallelism() if that is more. It checks that every k gives the same total and
 * prints the wall time and the speedup of each. Reported, never promised: it depends on your cores and on
 * what else runs on them. Until parallelSum works, it says so in one line.
 *
 * Your parallelSum starts worker.ts, a TypeScript file, so run this lab with tsx's CommonJS hook preloaded
 * in Node itself — every worker thread inherits it — not with `npx tsx`, whose hook worker threads do not
 * inherit on Node 20 (chapter 01, "Loading a TypeScript entry file"):
 *
 *   node --require tsx/cjs labs/05-threads/your-speedup.ts        (one run per k)
 *   node --require tsx/cjs labs/05-threads/your-speedup.ts 3      (three rounds: the median run per k)
 *
 * WORKBOOK_TARGET chooses the tree whose parallelSum runs, as it does for `npm test`: unset or `exercises`
 * is yours; `solutions` is the workbook's reference solution, to compare with yours; anything else is the
 * path of a tree laid out like exercises/. For example:
 *
 *   WORKBOOK_TARGET=solutions node --require tsx/cjs labs/05-threads/your-speedup.ts
 */
import os from 'node:os';
import path from 'node:path';
import type { parallelSum as ParallelSum } from '../../exercises/05-threads/parallel-sum';

/** Elements summed: the given work costs roughly 0.43 µs each, so about 1 s of CPU in all. */
const N = 2_400_000;

/** The tree to run, chosen as `npm test` chooses it (tooling/target.ts). */
const target = process.env.WORKBOOK_TARGET?.trim() || 'exercises';
const root = path.join(__dirname, '..', '..');
const treeDir = target === 'exercises' || target === 'solutions' ? path.join(root, target) : path.resolve(target);
// eslint-disable-next-line @typescript-eslint/no-require-imports -- the tree is chosen at run time
const { parallelSum } = require(path.join(treeDir, '05-threads', 'parallel-sum')) as {
  parallelSum: typeof ParallelSum;
};

interface Run {
  ms: number; // wall time of one parallelSum call: starting the workers, the sum, and their exit
  total: bigint;
  busy: number; // CPU time of the whole process (all its threads) in that span, divided by the wall time
}

async function run(n: number, k: number): Promise<Run> {
  const cpu = process.cpuUsage();
  const start = performance.now();
  const { total } = await parallelSum(n, k);
  const ms = performance.now() - start;
  const used = process.cpuUsage(cpu);
  return { ms, total, busy: (used.user + used.system) / 1000 / ms };
}

/** The median run (by wall time) of a list. */
const median = (runs: Run[]): Run => [...runs].sort((a, b) => a.ms - b.ms)[Math.floor((runs.length - 1) / 2)]!;

/** Explains, in one line, a failure that means "not ready yet" or "started the wrong way"; else undefined. */
function explain(error: unknown): string | undefined {
  const message = error instanceof Error ? error.message : String(error);
  if (message.includes('Not implemented')) {
    return `parallelSum is not implemented yet: implement ${path.relative(root, treeDir)}/05-threads/parallel-sum (chapter 05, Exercise: parallel-sum) to see its speedup here.`;
  }
  if (message.includes('ERR_UNKNOWN_FILE_EXTENSION') || message.includes('Unknown file extension')) {
    return 'a worker could not load worker.ts: run this lab as node --require tsx/cjs labs/05-threads/your-speedup.ts';
  }
  return undefined;
}

async function main(): Promise<void> {
  const repeats = Math.max(1, Number(process.argv[2] ?? 1) || 1);
  try {
    await parallelSum(1000, 2); // a warm-up: compiles worker.ts and work.ts once, and fails fast if not ready
  } catch (error) {
    const line = explain(error);
    if (line === undefined) throw error;
    console.log(line);
    if (!line.startsWith('parallelSum is not implemented')) process.exitCode = 1; // started the wrong way
    return;
  }
  const cores = os.availableParallelism();
  console.log(`parallelSum from ${path.relative(root, treeDir)}/05-threads/parallel-sum`);
  console.log(`cores this process may use (os.availableParallelism()): ${cores}`);
  console.log(
    `sum over 0 ≤ i < ${N.toLocaleString('en')}, ${repeats === 1 ? 'one run' : `the median of ${repeats} runs`} per k`,
  );
  const ks = [...new Set([1, 2, 4, cores])].sort((a, b) => a - b);
  // Round after round, every k in turn: a change in the machine's load then hits every k alike.
  const runs = new Map(ks.map((k) => [k, [] as Run[]]));
  const empty = new Map(ks.map((k) => [k, [] as Run[]]));
  for (let round = 0; round < repeats; round++) {
    for (const k of ks) {
      empty.get(k)!.push(await run(k, k)); // one element per worker: starting and stopping k workers, nearly alone
      runs.get(k)!.push(await run(N, k));
    }
  }
  const base = median(runs.get(1)!).ms;
  const first = runs.get(1)![0]!.total;
  let agree = true;
  console.log('  k   wall time   speedup   cores busy for us   k workers, no work   total');
  for (const k of ks) {
    const { ms, busy } = median(runs.get(k)!);
    const wrong = runs.get(k)!.find((r) => r.total !== first);
    if (wrong) agree = false;
    console.log(
      `${String(k).padStart(3)} ${ms.toFixed(0).padStart(8)} ms ${(base / ms).toFixed(2).padStart(8)}x ` +
        `${busy.toFixed(2).padStart(19)} ${median(empty.get(k)!).ms.toFixed(0).padStart(17)} ms   ` +
        (wrong ? `${wrong.total}, NOT ${first}` : `${first}`),
    );
  }
  // One worker alone keeps a core busy: far less means that other programs had the CPU. Two workers on two
  // cores should be clearly faster than one: if not, either others had the CPU or the slices took turns.
  const busyOf = (k: number): number => median(runs.get(k)!).busy;
  const again = repeats === 1 ? '\n      Pass a number of rounds (e.g. 3) for medians, or run it again later.' : '';
  const twice = base / median(runs.get(2)!).ms;
  if (busyOf(1) < 0.75) {
    console.log(
      `note: k = 1 kept only ${busyOf(1).toFixed(2)} of a core busy: other programs were using the CPU, ` +
        `so these times are noisy.${again}`,
    );
  } else if (cores >= 2 && twice < 1.3) {
    console.log(
      `note: k = 2 was only ${twice.toFixed(2)}x as fast as k = 1, keeping ${busyOf(2).toFixed(2)} of 2 cores busy:\n` +
        `      either other programs were using the CPU, and these times are noisy,\n` +
        `      or your two slices did not run at the same time.${again}`,
    );
  }
  if (agree) {
    console.log('the totals agree for every k');
  } else {
    console.log(
      'the totals differ: a slice was lost, doubled or added wrongly; run npm test -- 05-threads/parallel-sum',
    );
    process.exitCode = 1;
  }
}

main().catch((error: unknown) => {
  console.error(`parallelSum failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
});
