/**
 * The machine-readable grade: Gradescope's results.json format, which GitHub Classroom and other
 * autograders can read too. Each test's name starts with its exercise id.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Grades } from './grades';
import { WORKBOOK_ROOT } from './manifest';

export const DEFAULT_RESULTS_FILE = path.join(WORKBOOK_ROOT, '.workbook', 'results.json');

export interface ResultsTest {
  name: string;
  score: number;
  max_score: number;
  status: 'passed' | 'failed';
  output: string;
}

export interface ResultsFile {
  score: number;
  max_score: number;
  execution_time: number;
  output: string;
  tests: ResultsTest[];
}

export function resultsFilePath(): string {
  return process.env.WORKBOOK_RESULTS ? path.resolve(process.env.WORKBOOK_RESULTS) : DEFAULT_RESULTS_FILE;
}

export function toResultsFile(grades: Grades, targetLabel: string, executionSeconds: number): ResultsFile {
  const tests = grades.exercises.flatMap((grade) =>
    grade.tests.map<ResultsTest>((test) => ({
      name: `${grade.exercise.id} › ${test.title}`,
      score: test.score,
      max_score: test.maxScore,
      status: test.passed ? 'passed' : 'failed',
      output: test.passed ? '' : test.message,
    })),
  );
  const passed = grades.exercises.filter((grade) => grade.status === 'passed').length;
  return {
    score: grades.score,
    max_score: grades.maxScore,
    execution_time: Math.round(executionSeconds * 1000) / 1000,
    output: `Graded ${targetLabel}: ${passed} of ${grades.exercises.length} exercises passed.`,
    tests,
  };
}

export function writeResultsFile(results: ResultsFile, file = resultsFilePath()): string {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
  return file;
}
