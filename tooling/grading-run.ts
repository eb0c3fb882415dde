/**
 * Runs one grading pass (`jest`, exactly what `npm test` runs) against a target in a child process and
 * reads back the results file it writes. Used by verify, the repeat script and the benchmark.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { ResultsExercise, ResultsFile } from './results-file';

const JEST_BIN = require.resolve('jest/bin/jest');
/** This repository: where jest.config.js is, whatever workbook tree is graded. */
const REPOSITORY = path.resolve(__dirname, '..');

export interface GradingRun {
  target: string;
  patterns: string[];
  exitCode: number | null;
  seconds: number;
  results: ResultsFile | undefined;
  /** Everything Jest printed (the scorecard), for diagnosing a failed check. */
  output: string;
}

/**
 * Grades `target` (as WORKBOOK_TARGET); `environment` adds variables, e.g. WORKBOOK_ROOT for another tree;
 * `jestArguments` go to Jest before the patterns; `wrap` may turn the command (program first) into another
 * that runs it, e.g. in a cgroup.
 */
export function gradingRun(
  target: string,
  patterns: string[] = [],
  environment: NodeJS.ProcessEnv = {},
  jestArguments: string[] = [],
  wrap: (command: string[]) => string[] = (command) => command,
): Promise<GradingRun> {
  const scratch = mkdtempSync(path.join(tmpdir(), 'workbook-run-'));
  const resultsFile = path.join(scratch, 'results.json');
  const started = process.hrtime.bigint();
  return new Promise((resolve, reject) => {
    const [program, ...args] = wrap([process.execPath, JEST_BIN, '--ci', ...jestArguments, ...patterns]);
    const child = spawn(program!, args, {
      cwd: REPOSITORY,
      env: {
        ...process.env,
        ...environment,
        WORKBOOK_TARGET: target,
        WORKBOOK_RESULTS: resultsFile,
        FORCE_COLOR: '0',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', reject);
    child.on('close', (exitCode) => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      let results: ResultsFile | undefined;
      try {
        results = JSON.parse(readFileSync(resultsFile, 'utf8')) as ResultsFile;
      } catch {
        results = undefined;
      }
      rmSync(scratch, { recursive: true, force: true });
      resolve({ target, patterns, exitCode, seconds, results, output });
    });
  });
}

/**
 * The exercises a run graded that did not pass. An exercise the run did not grade (a filtered run) does
 * not count; a run that wrote no results file counts as losing everything, reported as undefined.
 */
export function exercisesThatLostPoints(run: GradingRun): ResultsExercise[] | undefined {
  if (!run.results) return undefined;
  return run.results.extra_data.exercises.filter(
    (exercise) => exercise.status !== 'passed' && exercise.status !== 'not graded',
  );
}

/** The tests of one exercise in a results file (each test's name starts with the exercise id). */
export function testsOf(results: ResultsFile, exerciseId: string): ResultsFile['tests'] {
  return results.tests.filter((test) => test.name.startsWith(`${exerciseId} › `));
}

/**
 * Whether a known-wrong variant of an exercise lost points in a grading run: some of the exercise's tests
 * were graded and at least one of them failed. A run that graded none of them did not reject it.
 */
export function variantVerdict(
  results: ResultsFile | undefined,
  exerciseId: string,
): { rejected: boolean; graded: number; failed: number } {
  const tests = results ? testsOf(results, exerciseId) : [];
  const failed = tests.filter((test) => test.status !== 'passed').length;
  return { rejected: tests.length > 0 && failed > 0, graded: tests.length, failed };
}
