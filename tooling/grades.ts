/**
 * Turns Jest's per-suite results into grades per exercise: status, points earned of points possible,
 * and the first failure in words a learner can act on. Pure: no I/O, so it is easy to test.
 */
import type { TestResult } from '@jest/test-result';
import { exerciseIdOfTestFile, type Exercise, type Manifest } from './manifest';
import { SUITE_FAILURE_KINDS, type SuiteFailureKind } from './suite-failure';

/** Marker every stub's error message starts with; a failure carrying it means "not started". */
export const NOT_IMPLEMENTED = 'Not implemented';

export type ExerciseStatus = 'passed' | 'failing' | 'not started' | SuiteFailureKind;

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
  durationMs: number;
}

export interface Grades {
  exercises: ExerciseGrade[];
  /** Suites that belong to no exercise in the manifest (the consistency check names them too). */
  strays: string[];
  score: number;
  maxScore: number;
}

// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;]*m/g;

/** The part of a Jest failure message a learner needs: the message, not the stack or Jest's framing. */
export function cleanFailureMessage(raw: string): string {
  const lines = raw.replace(ANSI, '').split('\n');
  const firstFrame = lines.findIndex((line) => /^\s+at /.test(line));
  const kept = (firstFrame === -1 ? lines : lines.slice(0, firstFrame)).join('\n').trim();
  // Jest reformats node:assert errors; the test's own words are under "Message:".
  const own = /\nMessage:\n([\s\S]*?)(?:\n\+ actual - expected|\n\nDifference:|$)/.exec(kept);
  if (own) return own[1]!.replace(/^ {2}/gm, '').trim();
  return kept
    .replace(/^(?:AssertionError|Error)(?: \[ERR_ASSERTION\])?: /, '')
    .replace(/^● .*\n+/, '')
    .trim();
}

function roundPoints(value: number): number {
  return Math.round(value * 100) / 100;
}

function gradeSuite(exercise: Exercise, suite: TestResult): ExerciseGrade {
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
  const status: ExerciseStatus =
    failures.length === 0
      ? 'passed'
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
    durationMs,
  };
}

/** Grades every suite that ran, in manifest order. */
export function gradeResults(manifest: Manifest, suites: TestResult[]): Grades {
  const byExercise = new Map<string, TestResult>();
  const strays: string[] = [];
  for (const suite of suites) {
    const id = exerciseIdOfTestFile(suite.testFilePath);
    const known = id !== undefined && manifest.exercises.some((exercise) => exercise.id === id);
    if (!known || byExercise.has(id)) strays.push(suite.testFilePath);
    else byExercise.set(id, suite);
  }
  const exercises = manifest.exercises.flatMap((exercise) => {
    const suite = byExercise.get(exercise.id);
    return suite ? [gradeSuite(exercise, suite)] : [];
  });
  return {
    exercises,
    strays,
    score: roundPoints(exercises.reduce((sum, grade) => sum + grade.score, 0)),
    maxScore: exercises.reduce((sum, grade) => sum + grade.maxScore, 0),
  };
}
