/**
 * GitHub Classroom with partial credit: turns the results file a grading run writes into the result
 * GitHub Classroom's grading reporter reads (tooling/classroom-format.ts), one row per exercise carrying
 * that exercise's score, so a learner gets the points of every exercise they solved, and of every test
 * passed in an exercise they have not finished. The workflow in .github/workflows/classroom.yml runs:
 *
 *   npm run -s classroom-results -- [--results <file>] [--github-output]
 *
 * It prints `result=<base64>`, or with --github-output appends that line to the file $GITHUB_OUTPUT names,
 * so that the reporter step reads it as `steps.<id>.outputs.result`. Without --results it reads the file
 * `npm test` writes (.workbook/results.json, or WORKBOOK_RESULTS). Exit 2, with one line, on bad arguments
 * or a missing or corrupt results file.
 */
import { appendFileSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { encodeReporterResult, reportedPoints, reporterResultSchema, type ReporterResult } from './classroom-format';
import { resultsFilePath } from './settings';

/** The part of the results file (tooling/results-file.ts) the conversion relies on; other fields may come and go. */
export const workbookResultsSchema = z.object({
  score: z.number().finite().nonnegative(),
  max_score: z.number().finite().positive(),
  tests: z.array(
    z.object({
      name: z.string(),
      score: z.number().finite(),
      max_score: z.number().finite(),
      status: z.enum(['passed', 'failed']),
      output: z.string(),
    }),
  ),
  extra_data: z.object({
    exercises: z
      .array(
        z.object({
          id: z.string().min(1),
          status: z.string().min(1),
          score: z.number().finite().nonnegative(),
          max_score: z.number().finite().positive(),
        }),
      )
      .min(1),
  }),
});

export type WorkbookResults = z.infer<typeof workbookResultsSchema>;

/** How much of a failure a row's message keeps: the reporter's result travels in an environment variable. */
export const MESSAGE_CHARS = 400;
const CODE_OUTPUT = '\n\nOutput of the code (last lines):\n';
const USAGE = 'Usage: npm run -s classroom-results -- [--results <file>] [--github-output]';

/** A problem the command reports in one line (exit 2), not as a stack trace. */
export class ClassroomResultsError extends Error {}

const points = (value: number): string => String(Math.round(value * 100) / 100);

function shorten(text: string): string {
  return text.length <= MESSAGE_CHARS ? text : `${text.slice(0, MESSAGE_CHARS - 1)}…`;
}

/**
 * Why an exercise lost points: its first failed test and that test's message, without the code's output;
 * for an exercise the run did not grade, the reason.
 */
function whyNot(results: WorkbookResults, exerciseId: string, notGraded: boolean): string {
  const prefix = `${exerciseId} › `;
  const failed = results.tests.find((test) => test.name.startsWith(prefix) && test.status !== 'passed');
  if (!failed) return '';
  const message = failed.output.split(CODE_OUTPUT)[0]!.trim();
  return notGraded ? message : `${failed.name.slice(prefix.length)}: ${message}`;
}

/**
 * The reporter's result for a grading run: one test per exercise, in the results file's order, scored
 * with the exercise's points (partial when some of its tests failed). An exercise the run did not grade
 * (the run was stopped, or its suite is missing) is an 'error' row at 0, which the reporter shows with
 * the reason.
 */
export function toReporterResult(results: WorkbookResults): ReporterResult {
  const exercises = results.extra_data.exercises;
  const tests = exercises.map((exercise) => {
    const status = exercise.status === 'passed' ? 'pass' : exercise.status === 'not graded' ? 'error' : 'fail';
    const name = `${exercise.id}: ${points(exercise.score)}/${points(exercise.max_score)} points (${exercise.status})`;
    const why = status === 'pass' ? '' : whyNot(results, exercise.id, status === 'error');
    return {
      name,
      status,
      score: exercise.score,
      // The reporter prints an 'error' row's message instead of its name.
      message: shorten(status === 'error' ? `${name}: ${why}` : why),
      test_code: `npm test -- ${exercise.id}`,
      line_no: 0,
    } as const;
  });
  return {
    version: 1,
    status: tests.every((test) => test.status === 'pass')
      ? 'pass'
      : tests.some((test) => test.status === 'error')
        ? 'error'
        : 'fail',
    max_score: exercises.reduce((sum, exercise) => sum + exercise.max_score, 0),
    tests,
  };
}

/** Reads and checks a results file; throws a ClassroomResultsError saying in one line what is wrong. */
export function readWorkbookResults(file: string): WorkbookResults {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ClassroomResultsError(
      code === 'ENOENT'
        ? `no results file at ${file}: grade first (npm test writes it)`
        : `cannot read ${file}: ${(error as Error).message}`,
    );
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new ClassroomResultsError(`${file} is not JSON: ${(error as Error).message}`);
  }
  const parsed = workbookResultsSchema.safeParse(data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const where = issue.path.length > 0 ? ` at ${issue.path.join('.')}` : '';
    throw new ClassroomResultsError(`${file} is not a workbook results file${where}: ${issue.message}`);
  }
  const results = parsed.data;
  const maxOfExercises = results.extra_data.exercises.reduce((sum, exercise) => sum + exercise.max_score, 0);
  if (Math.abs(maxOfExercises - results.max_score) > 1e-6) {
    throw new ClassroomResultsError(
      `${file} is inconsistent: its exercises are worth ${maxOfExercises} points, its max_score is ${results.max_score}`,
    );
  }
  return results;
}

function main(argv: string[]): number {
  let values: { results?: string; 'github-output'?: boolean };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: { results: { type: 'string' }, 'github-output': { type: 'boolean' } },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    console.error(`classroom-results: ${(error as Error).message.split('\n')[0]!.replace(/\.$/, '')}. ${USAGE}`);
    return 2;
  }
  const githubOutput = process.env.GITHUB_OUTPUT;
  if (values['github-output'] && !githubOutput) {
    console.error('classroom-results: --github-output needs GITHUB_OUTPUT, which a GitHub Actions step sets.');
    return 2;
  }
  const file = values.results === undefined ? resultsFilePath() : path.resolve(values.results);
  let result: ReporterResult;
  try {
    result = reporterResultSchema.parse(toReporterResult(readWorkbookResults(file)));
  } catch (error) {
    if (!(error instanceof ClassroomResultsError)) throw error;
    console.error(`classroom-results: ${error.message}`);
    return 2;
  }
  const line = `result=${encodeReporterResult(result)}\n`;
  if (!values['github-output']) {
    process.stdout.write(line);
    return 0;
  }
  appendFileSync(githubOutput!, line);
  const passed = result.tests.filter((test) => test.status === 'pass').length;
  const { totalPoints, maxPoints } = reportedPoints([result]);
  console.log(
    `GitHub Classroom result: ${points(totalPoints)} of ${maxPoints} points, ` +
      `${passed} of ${result.tests.length} exercises passed (written to GITHUB_OUTPUT as "result").`,
  );
  return 0;
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));
