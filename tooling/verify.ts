/**
 * `npm run verify`: the workbook's own test suite. It proves that the manifest and the files agree, that
 * everything type-checks and is linted, that the reference solutions earn full marks, that every test
 * fails on the untouched stubs because they are not implemented, and that every known-wrong variant
 * loses points.
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { loadCatalogue } from './catalogue';
import { checkConsistency } from './consistency';
import { fullWorkbookMissing } from './edition';
import { NOT_IMPLEMENTED } from './grades';
import { gradingRun, testsOf, variantVerdict, type GradingRun } from './grading-run';
import { loadManifest, WORKBOOK_ROOT, type Manifest } from './manifest';
import type { ResultsFile } from './results-file';
import { onStop } from './on-stop';
import { assembleRounds, removeRounds, roundsDirectory, suitesOfRound, type VariantRound } from './variants';

interface StepReport {
  name: string;
  ok: boolean;
  seconds: number;
  detail: string[];
}

function command(program: string, args: string[]): Promise<{ ok: boolean; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(program, args, { cwd: WORKBOOK_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', (error) => resolve({ ok: false, output: String(error) }));
    child.on('close', (code) => resolve({ ok: code === 0, output }));
  });
}

const bin = (name: string): string => path.join(WORKBOOK_ROOT, 'node_modules', '.bin', name);

async function step(name: string, body: () => Promise<string[]> | string[]): Promise<StepReport> {
  const started = Date.now();
  let detail: string[];
  let ok: boolean;
  try {
    detail = await body();
    ok = detail.every((line) => !line.startsWith('✗'));
  } catch (error) {
    detail = [`✗ ${(error as Error).stack ?? String(error)}`];
    ok = false;
  }
  const report = { name, ok, seconds: (Date.now() - started) / 1000, detail };
  console.log(`${ok ? '✓' : '✗'} ${name} (${report.seconds.toFixed(1)} s)`);
  for (const line of detail) console.log(`    ${line.replace(/\n/g, '\n    ')}`);
  return report;
}

function describeRun(run: GradingRun): string {
  return `${run.results?.score ?? '?'} / ${run.results?.max_score ?? '?'} points, exit code ${run.exitCode}, ${run.seconds.toFixed(1)} s`;
}

function checkSolutions(run: GradingRun, manifest: Manifest): string[] {
  const results = run.results;
  if (!results) return [`✗ no results file was written:\n${run.output}`];
  const failed = results.tests.filter((test) => test.status !== 'passed');
  const lines = failed.map((test) => `✗ ${test.name}: ${test.output}`);
  const total = manifest.exercises.reduce((sum, exercise) => sum + exercise.points, 0);
  if (results.score !== total) lines.push(`✗ solutions scored ${results.score} of ${total}`);
  if (run.exitCode !== 0) lines.push(`✗ npm test exited ${run.exitCode} at full marks; it must exit 0`);
  return [`solutions: ${describeRun(run)}`, ...lines, ...checkCatalogue(results, manifest)];
}

/** Every exercise's rows are exactly its catalogued tests: the suites and tests/catalogue.json agree. */
function checkCatalogue(results: ResultsFile, manifest: Manifest): string[] {
  const catalogue = loadCatalogue();
  return manifest.exercises
    .filter((exercise) => {
      const ran = testsOf(results, exercise.id).map((test) => test.name.slice(exercise.id.length + 3));
      return JSON.stringify(ran) !== JSON.stringify(catalogue[exercise.id] ?? []);
    })
    .map(
      (exercise) =>
        `✗ ${exercise.id}: its tests differ from tests/catalogue.json; run \`npm run catalogue\` after changing a suite`,
    );
}

function checkStubs(run: GradingRun, manifest: Manifest): string[] {
  const results = run.results;
  if (!results) return [`✗ no results file was written:\n${run.output}`];
  const lines = [`exercises: ${describeRun(run)}, ${results.tests.length} tests`];
  for (const test of results.tests) {
    if (test.status === 'passed') lines.push(`✗ passes on the untouched stub: ${test.name}`);
    else if (!test.output.includes(NOT_IMPLEMENTED))
      lines.push(`✗ fails on the stub for another reason than "${NOT_IMPLEMENTED}": ${test.name}: ${test.output}`);
  }
  for (const exercise of manifest.exercises) {
    if (testsOf(results, exercise.id).length === 0) lines.push(`✗ ${exercise.id}: no tests were graded`);
  }
  if (run.exitCode === 0) lines.push('✗ npm test exited 0 below full marks; it must exit non-zero');
  return lines;
}

function checkRound(run: GradingRun, round: VariantRound): string[] {
  const results = run.results;
  if (!results) return [`✗ round ${round.index}: no results file was written:\n${run.output}`];
  const lines: string[] = [];
  for (const variant of round.variants) {
    const { rejected, graded, failed } = variantVerdict(results, variant.exerciseId);
    const label = `${variant.exerciseId} ✗ ${variant.name}`;
    if (rejected) lines.push(`rejected ${label}: failed ${failed} of ${graded} tests`);
    else lines.push(`✗ NOT rejected: ${label} (${graded} tests, all passed)`);
  }
  return lines;
}

/** A round of known-right variants: each gets full marks. */
function checkRightRound(run: GradingRun, round: VariantRound): string[] {
  const results = run.results;
  if (!results) return [`✗ round ${round.index}: no results file was written:\n${run.output}`];
  const lines: string[] = [];
  for (const variant of round.variants) {
    const tests = testsOf(results, variant.exerciseId);
    const failed = tests.filter((test) => test.status !== 'passed');
    const label = `${variant.exerciseId} ✓ ${variant.name}`;
    if (tests.length === 0) lines.push(`✗ known-right variant ${label}: no tests were graded`);
    else if (failed.length === 0) lines.push(`full marks: ${label}`);
    for (const test of failed) lines.push(`✗ known-right variant ${label} lost points: ${test.name}: ${test.output}`);
  }
  return lines;
}

function variantTsconfig(dir: string): string {
  const file = path.join(dir, 'tsconfig.json');
  const config = {
    extends: path.relative(dir, path.join(WORKBOOK_ROOT, 'tsconfig.json')),
    include: ['*-round-*/**/*.ts'],
    // The workbook's own exclude list names .workbook/, where these rounds live.
    exclude: [],
  };
  writeFileSync(file, JSON.stringify(config, null, 2));
  return file;
}

async function main(): Promise<void> {
  const missing = fullWorkbookMissing("npm run verify (the maintainers' suite)");
  if (missing) {
    console.error(missing);
    process.exitCode = 2;
    return;
  }
  const started = Date.now();
  const reports: StepReport[] = [];
  let manifest: Manifest | undefined;
  reports.push(
    await step('manifest and consistency', () => {
      manifest = loadManifest();
      const problems = checkConsistency(manifest);
      return [
        `${manifest.chapters.length} chapters, ${manifest.exercises.length} exercises`,
        ...problems.map((p) => `✗ ${p}`),
      ];
    }),
  );
  reports.push(
    await step('type-check (tsc --noEmit, strict)', async () => {
      const { ok, output } = await command(bin('tsc'), ['--noEmit', '-p', 'tsconfig.json']);
      return ok ? [] : [`✗ ${output.trim()}`];
    }),
  );
  reports.push(
    await step('lint (eslint, prettier --check)', async () => {
      const [eslint, prettier] = await Promise.all([
        command(bin('eslint'), ['--max-warnings=0', '.']),
        command(bin('prettier'), ['--check', '.']),
      ]);
      return [
        ...(eslint.ok ? [] : [`✗ eslint:\n${eslint.output.trim()}`]),
        ...(prettier.ok ? [] : [`✗ prettier:\n${prettier.output.trim()}`]),
      ];
    }),
  );
  reports.push(
    await step('tooling unit tests', async () => {
      const { ok, output } = await command(process.execPath, [
        require.resolve('jest/bin/jest'),
        '-c',
        'jest.tooling.config.js',
        '--ci',
      ]);
      const counts = /Tests:.*$/m.exec(output)?.[0];
      return ok ? [counts ?? ''] : [`✗ ${output.trim()}`];
    }),
  );
  if (!manifest) return finish(reports, started);
  const m = manifest;
  reports.push(
    await step('grade solutions/: full marks', async () => checkSolutions(await gradingRun('solutions'), m)),
  );
  reports.push(
    await step('grade exercises/: every test fails as not implemented', async () =>
      checkStubs(await gradingRun('exercises'), m),
    ),
  );
  const roundsDir = roundsDirectory();
  onStop(() => removeRounds(roundsDir));
  const rounds = assembleRounds(m, roundsDir);
  const variantCount = rounds.reduce((sum, round) => sum + round.variants.length, 0);
  const rightRounds = assembleRounds(m, roundsDir, undefined, 'right');
  const rightCount = rightRounds.reduce((sum, round) => sum + round.variants.length, 0);
  reports.push(
    await step(`type-check the ${variantCount} known-wrong and ${rightCount} known-right variants`, async () => {
      const { ok, output } = await command(bin('tsc'), ['--noEmit', '-p', variantTsconfig(roundsDir)]);
      return ok ? [] : [`✗ ${output.trim()}`];
    }),
  );
  reports.push(
    await step(
      `grade ${rightCount} known-right variants in ${rightRounds.length} rounds: each gets full marks`,
      async () => {
        const lines: string[] = [];
        for (const round of rightRounds) {
          const run = await gradingRun(round.dir, suitesOfRound(round));
          lines.push(`round ${round.index}: ${describeRun(run)}`, ...checkRightRound(run, round));
        }
        return lines;
      },
    ),
  );
  reports.push(
    await step(`grade ${variantCount} known-wrong variants in ${rounds.length} rounds: each loses points`, async () => {
      const lines: string[] = [];
      for (const round of rounds) {
        const run = await gradingRun(round.dir, suitesOfRound(round));
        lines.push(`round ${round.index}: ${describeRun(run)}`, ...checkRound(run, round));
      }
      return lines;
    }),
  );
  removeRounds(roundsDir);
  finish(reports, started);
}

function finish(reports: StepReport[], started: number): void {
  const failed = reports.filter((report) => !report.ok);
  console.log(`\nverify took ${((Date.now() - started) / 1000).toFixed(1)} s`);
  console.log(`verify: ${reports.length - failed.length} passed, ${failed.length} failed`);
  process.exitCode = failed.length === 0 ? 0 : 1;
}

void main();
