/**
 * `npm run bench -- [--runs N] [--only <exercise or chapter id>]...`: how long grading takes, measured end
 * to end (a fresh `jest` process, exactly what `npm test` starts, minus npm's own start-up). Reports the
 * median, min and max of N runs for the whole workbook (with --only: the exercises named, graded together)
 * and for each exercise alone, graded against the reference solutions.
 */
import { parseArgs } from 'node:util';
import { fullWorkbookMissing } from '../tooling/edition';
import { exercisesThatLostPoints, gradingRun } from '../tooling/grading-run';
import { loadManifest, selectExercises } from '../tooling/manifest';

async function time(runs: number, patterns: string[]): Promise<number[]> {
  const seconds: number[] = [];
  for (let run = 0; run < runs; run += 1) {
    const graded = await gradingRun('solutions', patterns);
    const full = graded.exitCode === 0 && exercisesThatLostPoints(graded)?.length === 0;
    if (!full)
      throw new Error(`grading ${patterns.join(' ') || 'everything'} did not give full marks:\n${graded.output}`);
    seconds.push(graded.seconds);
  }
  return seconds.sort((a, b) => a - b);
}

function summary(label: string, seconds: number[]): string {
  const median = seconds[Math.floor(seconds.length / 2)]!;
  return `${label.padEnd(44)} median ${median.toFixed(2)} s   min ${seconds[0]!.toFixed(2)} s   max ${seconds.at(-1)!.toFixed(2)} s`;
}

async function main(): Promise<void> {
  const missing = fullWorkbookMissing("npm run bench (a maintainers' benchmark)");
  if (missing) {
    console.error(missing);
    process.exitCode = 2;
    return;
  }
  const { values } = parseArgs({
    options: { runs: { type: 'string', default: '5' }, only: { type: 'string', multiple: true } },
  });
  const runs = Number(values.runs);
  const manifest = loadManifest();
  const exercises = values.only ? selectExercises(manifest, values.only) : manifest.exercises;
  const together = values.only ? exercises.map((exercise) => `tests/${exercise.id}/`) : [];
  await time(1, together); // warm Jest's transform cache so every measured run starts alike
  console.log(`Grading time against solutions/, ${runs} runs each:`);
  const all = await time(runs, together);
  const label = values.only
    ? `${exercises.length} exercises together`
    : `whole workbook (${exercises.length} exercises)`;
  console.log(summary(label, all));
  const perExercise = all[Math.floor(runs / 2)]! / exercises.length;
  console.log(`${'  per exercise'.padEnd(44)} ${perExercise.toFixed(2)} s`);
  for (const exercise of exercises) {
    console.log(summary(exercise.id, await time(runs, [`tests/${exercise.id}/`])));
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
