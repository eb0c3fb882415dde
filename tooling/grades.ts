/**
 * Turns Jest's per-suite results into grades per exercise: status, points earned of points possible,
 * and the first failure in words a learner can act on. Pure: no I/O, so it is easy to test.
 */
import type { AssertionResult, TestResult } from '@jest/test-result';
import type { Catalogue } from './catalogue';
import { exerciseIdOfTestFile, type Exercise, type Manifest } from './manifest';
import { SUITE_FAILURE_KINDS, type SuiteFailureKind } from './suite-failure';

/** Marker every stub's error message starts with; a failure carrying it means "not started". */
export const NOT_IMPLEMENTED = 'Not implemented';

export type ExerciseStatus = 'passed' | 'failing' | 'not started' | 'not graded' | SuiteFailureKind;

export interface TestGrade {
  /** Stable across runs and submissions: `<chapter>.<exercise>.<test>`, each counted from 1, e.g. `2.1.3`. */
  number: string;
  /** The test's title, with its describe blocks, e.g. `run() › reports a signal`. */
  title: string;
  passed: boolean;
  score: number;
  maxScore: number;
  /** Why it failed, cleaned of stack frames; empty when it passed. */
  message: string;
}

export interface ExerciseGrade {
  exercise: Exercise;
  /** `<chapter>.<exercise>`, each counted from 1 in manifest order, e.g. `2.1`. */
  number: string;
  status: ExerciseStatus;
  score: number;
  maxScore: number;
  tests: TestGrade[];
  /** The first failure's message, or the reason the suite produced no results. */
  firstFailure?: string;
  /** What the graded code printed (trimmed), kept only when the exercise did not pass. */
  output?: string;
  durationMs: number;
}

export interface Grades {
  /** Every exercise in the manifest, in order; those this run did not grade have status 'not graded'. */
  exercises: ExerciseGrade[];
  /** Suites that belong to no exercise in the manifest (the consistency check names them too). */
  strays: string[];
  score: number;
  maxScore: number;
}

// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;]*m/g;
/** Jest's words when a test outlives its timeout; the suite is then graded as hung. */
const JEST_TIMEOUT = /Exceeded timeout of (\d+) ms for a (?:test|hook)[^\n]*(?:\n[^\n]*increase the timeout[^\n]*)?/;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f]/g;
/** How much of a failing exercise's output is shown. */
const OUTPUT_LINES = 20;
const OUTPUT_CHARS = 2000;

/** The part of a Jest failure message a learner needs: the message, not the stack or Jest's framing. */
export function cleanFailureMessage(raw: string): string {
  const lines = raw.replace(ANSI, '').split('\n');
  const firstFrame = lines.findIndex((line) => /^\s+at /.test(line));
  const kept = (firstFrame === -1 ? lines : lines.slice(0, firstFrame)).join('\n').trim();
  const timeout = JEST_TIMEOUT.exec(kept);
  if (timeout) return hungTestMessage(Number(timeout[1]));
  // Jest reformats node:assert errors; the test's own words are under "Message:".
  const own = /\nMessage:\n([\s\S]*?)(?:\n\+ actual - expected|\n\nDifference:|$)/.exec(kept);
  if (own) return own[1]!.replace(/^ {2}/gm, '').trim();
  return kept
    .replace(/^(?:AssertionError|Error)(?: \[ERR_ASSERTION\])?: /, '')
    .replace(/^● .*\n+/, '')
    .trim();
}

function hungTestMessage(ms: number): string {
  return (
    `the test did not finish within ${ms / 1000} s: it waited for something that never happened — a ` +
    `promise that never settles, an event that is never emitted, or a child process that never exits.`
  );
}

/** The last lines of what graded code printed, without colours or control characters. */
export function trimOutput(raw: string): string {
  const text = raw.replace(ANSI, '').replace(CONTROL, '').trim();
  if (!text) return '';
  const lines = text.split('\n');
  let kept = lines.slice(-OUTPUT_LINES).join('\n');
  if (kept.length > OUTPUT_CHARS) kept = kept.slice(-OUTPUT_CHARS);
  return kept.length < text.length ? `…\n${kept}` : kept;
}

function roundPoints(value: number): number {
  return Math.round(value * 100) / 100;
}

/**
 * Each test's share of an exercise's points, in hundredths that add up to exactly the points: 10 points
 * over 6 tests are 1.67 four times and 1.66 twice.
 */
export function shares(points: number, count: number): number[] {
  const hundredths = Math.round(points * 100);
  const base = Math.floor(hundredths / count);
  return Array.from({ length: count }, (_, index) => (base + (index < hundredths - base * count ? 1 : 0)) / 100);
}

/** Why a suite's results are incomplete: its kind (hung, crashed, …) if the runner knew it, and the reason. */
interface SuiteStop {
  kind: SuiteFailureKind | undefined;
  reason: string;
}

function suiteStop(suite: TestResult): SuiteStop | undefined {
  const error = suite.testExecError;
  if (!error) return undefined;
  return {
    kind: SUITE_FAILURE_KINDS.find((k) => k === error.type),
    reason: cleanFailureMessage(String(error.message)),
  };
}

function describeStop(stop: SuiteStop): string {
  return stop.kind ? `${stop.kind}: ${stop.reason}` : `the suite could not run: ${stop.reason}`;
}

/** A test as Jest reported it: passed, or failed with a message a learner can act on. */
function reportedOutcome(test: AssertionResult): { passed: boolean; message: string } {
  const passed = test.status === 'passed';
  return {
    passed,
    message: passed ? '' : cleanFailureMessage(test.failureMessages.join('\n') || `test ${test.status}`),
  };
}

const titleOf = (test: AssertionResult): string => [...test.ancestorTitles, test.title].join(' › ');

/**
 * Grades one exercise. Its rows are the tests the catalogue lists for it (so a submission whose suite
 * crashed still has every row, numbered as for everyone else), then any test the run reported that the
 * catalogue does not list. A test that finished is graded as it ended. When the suite stopped early
 * (hung, crashed, exited, runaway, not submitted), the first test that never finished carries the reason
 * and the rest say they did not run; if every test had passed before it stopped, the last one carries it,
 * so a crash never earns full marks.
 */
function gradeExercise(
  exercise: Exercise,
  number: string,
  suite: TestResult,
  output: string,
  catalogued: readonly string[],
): ExerciseGrade {
  const durationMs = suite.perfStats.runtime || suite.perfStats.end - suite.perfStats.start || 0;
  const stop = suiteStop(suite);
  const reported = new Map<string, AssertionResult>();
  for (const test of suite.testResults) if (!reported.has(titleOf(test))) reported.set(titleOf(test), test);
  const titles = [...catalogued, ...[...reported.keys()].filter((title) => !catalogued.includes(title))];
  if (titles.length === 0) titles.push(stop?.kind ? `(${stop.kind})` : '(suite could not run)');
  const points = shares(exercise.points, titles.length);
  let stopShown = false;
  const outcomes = titles.map((title) => {
    const test = reported.get(title);
    if (test) return reportedOutcome(test);
    if (!stop) return { passed: false, message: 'this test did not run: its suite ended without reporting it.' };
    if (stopShown && stop.kind !== 'not submitted')
      return { passed: false, message: `did not run: the suite stopped before it (${stop.kind ?? 'could not run'}).` };
    stopShown = true;
    return { passed: false, message: stop.reason };
  });
  if (stop && !stopShown) {
    const last = outcomes.length - 1;
    outcomes[last] = {
      passed: false,
      message: `${outcomes[last]!.passed ? 'this test passed, but then ' : ''}${describeStop(stop)}`,
    };
  }
  const tests: TestGrade[] = titles.map((title, index) => ({
    number: `${number}.${index + 1}`,
    title,
    passed: outcomes[index]!.passed,
    score: outcomes[index]!.passed ? points[index]! : 0,
    maxScore: points[index]!,
    message: outcomes[index]!.message,
  }));
  const failures = tests.filter((test) => !test.passed);
  const score = failures.length === 0 ? exercise.points : roundPoints(tests.reduce((sum, test) => sum + test.score, 0));
  const hung = suite.testResults.some((test) => JEST_TIMEOUT.test(test.failureMessages.join('\n')));
  const notImplemented = (message: string): boolean => message.includes(NOT_IMPLEMENTED);
  const status: ExerciseStatus = stop
    ? (stop.kind ?? (notImplemented(stop.reason) ? 'not started' : 'failing'))
    : failures.length === 0
      ? 'passed'
      : hung
        ? 'hung'
        : failures.length === tests.length && failures.every((test) => notImplemented(test.message))
          ? 'not started'
          : 'failing';
  const first = failures[0];
  return {
    exercise,
    number,
    status,
    score,
    maxScore: exercise.points,
    tests,
    firstFailure: stop ? describeStop(stop) : first && `${first.title}: ${first.message}`,
    output: status === 'passed' || status === 'not started' ? undefined : trimOutput(output),
    durationMs,
  };
}

/** An exercise this run did not grade, and why: every catalogued row, failed with the reason. */
function notGraded(exercise: Exercise, number: string, reason: string, catalogued: readonly string[]): ExerciseGrade {
  const titles = catalogued.length > 0 ? catalogued : ['(not graded)'];
  const points = shares(exercise.points, titles.length);
  return {
    exercise,
    number,
    status: 'not graded',
    score: 0,
    maxScore: exercise.points,
    tests: titles.map((title, index) => ({
      number: `${number}.${index + 1}`,
      title,
      passed: false,
      score: 0,
      maxScore: points[index]!,
      message: reason,
    })),
    firstFailure: reason,
    durationMs: 0,
  };
}

export interface GradeOptions {
  /** What each suite printed (console calls, then its process's stdout and stderr), by test file path. */
  outputs?: ReadonlyMap<string, string>;
  /** Why an exercise whose suite did not run was not graded. */
  whyNotGraded?: (exercise: Exercise) => string;
  /** The titles of each exercise's tests, in order, by exercise id (tests/catalogue.json). */
  catalogue?: Catalogue;
}

/** Grades every exercise in manifest order, from the suites that ran. */
export function gradeResults(manifest: Manifest, suites: TestResult[], options: GradeOptions = {}): Grades {
  const byExercise = new Map<string, TestResult>();
  const strays: string[] = [];
  for (const suite of suites) {
    const id = exerciseIdOfTestFile(suite.testFilePath);
    const known = id !== undefined && manifest.exercises.some((exercise) => exercise.id === id);
    if (!known || byExercise.has(id)) strays.push(suite.testFilePath);
    else byExercise.set(id, suite);
  }
  const whyNotGraded = options.whyNotGraded ?? (() => 'its grading suite did not run');
  const exercises = manifest.chapters.flatMap((chapter, chapterIndex) =>
    chapter.exercises.map((exercise, exerciseIndex) => {
      const number = `${chapterIndex + 1}.${exerciseIndex + 1}`;
      const catalogued = options.catalogue?.[exercise.id] ?? [];
      const suite = byExercise.get(exercise.id);
      return suite
        ? gradeExercise(exercise, number, suite, options.outputs?.get(suite.testFilePath) ?? '', catalogued)
        : notGraded(exercise, number, whyNotGraded(exercise), catalogued);
    }),
  );
  return {
    exercises,
    strays,
    score: roundPoints(exercises.reduce((sum, grade) => sum + grade.score, 0)),
    maxScore: exercises.reduce((sum, grade) => sum + grade.maxScore, 0),
  };
}
