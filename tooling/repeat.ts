/**
 * `npm run repeat -- [--runs N] [--busy] [--only <exercise or chapter id>]...`: grades the solutions and
 * every known-wrong variant round N times (with --only, which may be repeated, just those exercises) and
 * reports any run where a solution lost points or a variant kept full marks. With --busy, every core is
 * kept busy by a CPU hog for the whole time, to show the grading does not depend on an idle machine.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { fullWorkbookMissing } from './edition';
import { exercisesThatLostPoints, gradingRun, testsOf, variantVerdict } from './grading-run';
import { loadManifest, selectExercises } from './manifest';
import { onStop } from './on-stop';
import { assembleRounds, removeRounds, roundsDirectory, suitesOfRound } from './variants';

function startHogs(): ChildProcess[] {
  return Array.from({ length: availableParallelism() }, () =>
    // Spins, and ends itself if this script dies without stopping it.
    spawn(
      process.execPath,
      [
        '-e',
        'const parent = process.ppid; for (;;) { for (let i = 0; i < 1e7; i++); try { process.kill(parent, 0); } catch { process.exit(); } }',
      ],
      {
        stdio: 'ignore',
      },
    ),
  );
}

async function main(): Promise<number> {
  const missing = fullWorkbookMissing("npm run repeat (a maintainers' check)");
  if (missing) {
    console.error(missing);
    return 2;
  }
  const { values } = parseArgs({
    options: {
      runs: { type: 'string', default: '10' },
      busy: { type: 'boolean', default: false },
      only: { type: 'string', multiple: true },
    },
  });
  const runs = Number(values.runs);
  const manifest = loadManifest();
  const ids = values.only ? new Set(selectExercises(manifest, values.only).map((exercise) => exercise.id)) : undefined;
  const patterns = ids ? [...ids].map((id) => `tests/${id}/`) : [];
  const roundsDir = roundsDirectory();
  const rounds = assembleRounds(manifest, roundsDir, (v) => !ids || ids.has(v.exerciseId));
  const rightRounds = assembleRounds(manifest, roundsDir, (v) => !ids || ids.has(v.exerciseId), 'right');
  const hogs = values.busy ? startHogs() : [];
  // Stopped early (Ctrl-C, a kill): stop the hogs and remove the rounds before going.
  onStop(() => {
    for (const hog of hogs) hog.kill('SIGKILL');
    removeRounds(roundsDir);
  });
  const problems: string[] = [];
  const times: number[] = [];
  let variantChecks = 0;
  try {
    for (let run = 1; run <= runs; run += 1) {
      const solutions = await gradingRun('solutions', patterns);
      times.push(solutions.seconds);
      const lost = exercisesThatLostPoints(solutions);
      if (!lost || lost.length > 0 || solutions.exitCode !== 0) {
        const failed = (lost ?? []).flatMap((exercise) =>
          testsOf(solutions.results!, exercise.id).filter((test) => test.status !== 'passed'),
        );
        problems.push(
          `run ${run}: solutions not at full marks: ${failed.map((t) => `${t.name}: ${t.output}`).join('; ') || solutions.output}`,
        );
      }
      for (const round of rightRounds) {
        const graded = await gradingRun(round.dir, suitesOfRound(round));
        for (const variant of round.variants) {
          variantChecks += 1;
          const tests = graded.results ? testsOf(graded.results, variant.exerciseId) : [];
          const lostPoints = tests.length === 0 || tests.some((test) => test.status !== 'passed');
          if (lostPoints)
            problems.push(`run ${run}: known-right variant ${variant.exerciseId} ✓ ${variant.name} lost points`);
        }
      }
      for (const round of rounds) {
        const graded = await gradingRun(round.dir, suitesOfRound(round));
        for (const variant of round.variants) {
          variantChecks += 1;
          if (!variantVerdict(graded.results, variant.exerciseId).rejected) {
            problems.push(`run ${run}: variant ${variant.exerciseId} ✗ ${variant.name} kept full marks`);
          }
        }
      }
      console.log(
        `run ${run}/${runs}: solutions ${lost?.length === 0 ? 'at full marks' : `lost points in ${lost?.length ?? 'every'} exercise(s)`} in ${solutions.seconds.toFixed(1)} s; ${rounds.length} variant rounds graded`,
      );
    }
  } finally {
    for (const hog of hogs) hog.kill('SIGKILL');
    removeRounds(roundsDir);
  }
  const sorted = [...times].sort((a, b) => a - b);
  console.log(
    `\n${values.busy ? 'a CPU hog on every core' : 'no CPU hogs'}: solutions graded ${runs}× — median ${sorted[Math.floor(runs / 2)]!.toFixed(2)} s, max ${sorted.at(-1)!.toFixed(2)} s`,
  );
  console.log(`variant checks: ${variantChecks}, problems: ${problems.length}`);
  for (const problem of problems) console.log(`  ✗ ${problem}`);
  return problems.length === 0 ? 0 : 1;
}

main().then(
  (code) => (process.exitCode = code),
  (error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  },
);
