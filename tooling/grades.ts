/**
 * Turns Jest's per-suite results into grades per exercise: status, points earned of points possible,
 * and the first failure in words a learner can act on. Pure: no I/O, so it is easy to test.
 */
import type { TestResult } from '@jest/test-result';
import { exerciseIdOfTestFile, type Exercise, type Manifest } from './manifest';
import { SUITE_FAILURE_KINDS, type SuiteFailureKind } from './suite-failure';

/** Marker every stub's error message starts with; a failure carrying it means "not started". */
export const NOT_IMPLEMENTED = 'Not implemented';

export type ExerciseStatus = 'passed' | 'failing' | 'not started' | 'not graded' | SuiteFailureKind;

export interface TestGrade {
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

function gradeSuite(exercise: Exercise, suite: TestResult, output: string): ExerciseGrade {
  const durationMs = suite.perfStats.runtime || suite.perfStats.end - suite.perfStats.start || 0;
  const error = suite.testExecError;
  if (error || suite.testResults.length === 0) {
    const kind = SUITE_FAILURE_KINDS.find((k) => k === error?.type);
    const reason = error ? cleanFailureMessage(String(error.message)) : 'the suite contains no tests';
    const notStarted = reason.includes(NOT_IMPLEMENTED);
    return {
      exercise,
      status: kind ?? (notStarted ? 'not started' : 'failing'),
      score: 0,
      maxScore: exercise.points,
      tests: [
        {
          title: kind ? `(${kind})` : '(suite could not run)',
          passed: false,
          score: 0,
          maxScore: exercise.points,
          message: reason,
        },
      ],
      firstFailure: kind ? `${kind}: ${reason}` : `the suite could not run: ${reason}`,
      output: trimOutput(output),
      durationMs,
    };
  }
  const share = exercise.points / suite.testResults.length;
  const tests: TestGrade[] = suite.testResults.map((test) => {
    const passed = test.status === 'passed';
    return {
      title: [...test.ancestorTitles, test.title].join(' › '),
      passed,
      score: passed ? roundPoints(share) : 0,
      maxScore: roundPoints(share),
      message: passed ? '' : cleanFailureMessage(test.failureMessages.join('\n') || `test ${test.status}`),
    };
  });
  const failures = tests.filter((test) => !test.passed);
  const score = failures.length === 0 ? exercise.points : roundPoints(tests.reduce((sum, test) => sum + test.score, 0));
  const hung = suite.testResults.some((test) => JEST_TIMEOUT.test(test.failureMessages.join('\n')));
  const status: ExerciseStatus =
    failures.length === 0
      ? 'passed'
      : hung
        ? 'hung'
        : failures.length === tests.length && failures.every((test) => test.message.includes(NOT_IMPLEMENTED))
          ? 'not started'
          : 'failing';
  const first = failures[0];
  return {
    exercise,
    status,
    score,
    maxScore: exercise.points,
    tests,
    firstFailure: first && `${first.title}: ${first.message}`,
    output: status === 'passed' || status === 'not started' ? undefined : trimOutput(output),
    durationMs,
  };
}

/** An exercise this run did not grade, and why. */
function notGraded(exercise: Exercise, reason: string): ExerciseGrade {
  return {
    exercise,
    status: 'not graded',
    score: 0,
    maxScore: exercise.points,
    tests: [{ title: '(not graded)', passed: false, score: 0, maxScore: exercise.points, message: reason }],
    firstFailure: reason,
    durationMs: 0,
  };
}

export interface GradeOptions {
  /** What each suite printed (console calls, then its process's stdout and stderr), by test file path. */
  outputs?: ReadonlyMap<string, string>;
  /** Why an exercise whose suite did not run was not graded. */
  whyNotGraded?: (exercise: Exercise) => string;
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
  const exercises = manifest.exercises.map((exercise) => {
    const suite = byExercise.get(exercise.id);
    return suite
      ? gradeSuite(exercise, suite, options.outputs?.get(suite.testFilePath) ?? '')
      : notGraded(exercise, whyNotGraded(exercise));
  });
  return {
    exercises,
    strays,
    score: roundPoints(exercises.reduce((sum, grade) => sum + grade.score, 0)),
    maxScore: exercises.reduce((sum, grade) => sum + grade.maxScore, 0),
  };
}
