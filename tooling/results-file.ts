/**
 * The machine-readable grade: Gradescope's results.json format, which GitHub Classroom and other
 * autograders can read too. Each test's name starts with its exercise id.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { ExerciseStatus, Grades } from './grades';
import { WORKBOOK_ROOT } from './manifest';

export const DEFAULT_RESULTS_FILE = path.join(WORKBOOK_ROOT, '.workbook', 'results.json');

export interface ResultsTest {
  name: string;
  score: number;
  max_score: number;
  status: 'passed' | 'failed';
  output: string;
}

export interface ResultsExercise {
  id: string;
  status: ExerciseStatus;
  score: number;
  max_score: number;
}

export interface ResultsFile {
  score: number;
  max_score: number;
  execution_time: number;
  output: string;
  tests: ResultsTest[];
  /** Gradescope keeps this as is: each exercise's status, and the grading files' fingerprint. */
  extra_data: { fingerprint: string; target: string; exercises: ResultsExercise[] };
}

export function resultsFilePath(): string {
  return process.env.WORKBOOK_RESULTS ? path.resolve(process.env.WORKBOOK_RESULTS) : DEFAULT_RESULTS_FILE;
}

export interface ResultsContext {
  targetLabel: string;
  executionSeconds: number;
  fingerprint: string;
}

export function toResultsFile(grades: Grades, context: ResultsContext): ResultsFile {
  const tests = grades.exercises.flatMap((grade) => {
    const firstFailed = grade.tests.findIndex((test) => !test.passed);
    return grade.tests.map<ResultsTest>((test, index) => ({
      name: `${grade.exercise.id} › ${test.title}`,
      score: test.score,
      max_score: test.maxScore,
      status: test.passed ? 'passed' : 'failed',
      output: test.passed
        ? ''
        : index === firstFailed && grade.output
          ? `${test.message}\n\nOutput of the code (last lines):\n${grade.output}`
          : test.message,
    }));
  });
  const passed = grades.exercises.filter((grade) => grade.status === 'passed').length;
  return {
    score: grades.score,
    max_score: grades.maxScore,
    execution_time: Math.round(context.executionSeconds * 1000) / 1000,
    output:
      `Graded ${context.targetLabel}: ${passed} of ${grades.exercises.length} exercises passed. ` +
      `Grading files fingerprint: ${context.fingerprint}.`,
    tests,
    extra_data: {
      fingerprint: context.fingerprint,
      target: context.targetLabel,
      exercises: grades.exercises.map((grade) => ({
        id: grade.exercise.id,
        status: grade.status,
        score: grade.score,
        max_score: grade.maxScore,
      })),
    },
  };
}

export function writeResultsFile(results: ResultsFile, file = resultsFilePath()): string {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
  return file;
}
