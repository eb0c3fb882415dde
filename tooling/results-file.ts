/**
 * The machine-readable grade: Gradescope's results.json format (gradescope-autograders.readthedocs.io,
 * "Autograder Specifications"), which other autograders can read too. Every exercise has one row per test
 * in the catalogue, numbered `<chapter>.<exercise>.<test>` and named `<exercise id> › <test title>`, whose
 * points add up to the exercise's points; the top-level `output` summarises the scorecard in Markdown.
 */
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { ExerciseGrade, ExerciseStatus, Grades } from './grades';
import type { Visibility } from './manifest';

export interface ResultsTest {
  number: string;
  name: string;
  score: number;
  max_score: number;
  status: 'passed' | 'failed';
  output: string;
  /** The chapter id and the exercise name, to filter rows by topic. */
  tags: string[];
  visibility?: Visibility;
  extra_data: { exercise: string; exercise_status: ExerciseStatus };
}

export interface ResultsExercise {
  id: string;
  status: ExerciseStatus;
  score: number;
  max_score: number;
  /** Wall-clock seconds its suite took. */
  seconds: number;
}

export interface ResultsFile {
  score: number;
  /** Not read by Gradescope (it takes the assignment's points), but by anything else that reads the file. */
  max_score: number;
  /** Whole seconds, as Gradescope's specification shows it. */
  execution_time: number;
  output: string;
  output_format: 'md';
  test_output_format: 'text';
  test_name_format: 'text';
  visibility?: Visibility;
  stdout_visibility: Visibility;
  tests: ResultsTest[];
  /** Gradescope keeps this as is: each exercise's status, the grading files' fingerprint, the machine's share. */
  extra_data: {
    fingerprint: string;
    target: string;
    machine?: { cpus: number; lanes: number; time_scale: number };
    exercises: ResultsExercise[];
  };
}

export interface ResultsContext {
  targetLabel: string;
  executionSeconds: number;
  fingerprint: string;
  /** Visibility of every test whose exercise sets none (WORKBOOK_VISIBILITY); unset means visible. */
  visibility?: Visibility;
  /** Who sees what the run printed (the scorecard); default visible. */
  stdoutVisibility?: Visibility;
  machine?: { cpus: number; lanes: number; timeScale: number };
}

const MARKS: Record<ExerciseStatus, string> = {
  passed: '✓',
  failing: '✗',
  'not started': '·',
  'not graded': '·',
  'not submitted': '·',
  'out of time': '⧗',
  hung: '⧗',
  exited: '!',
  crashed: '!',
  runaway: '!',
};

function formatPoints(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toFixed(2);
}

/** The first line of a failure, for the one-line summary of an exercise. */
function firstLine(text: string | undefined): string {
  const line = (text ?? '').split('\n')[0]!.trim();
  return line.length > 200 ? `${line.slice(0, 199)}…` : line;
}

/** The scorecard in Markdown: the total, then each chapter's exercises with status, points and first failure. */
export function summaryMarkdown(grades: Grades, context: ResultsContext): string {
  const passed = grades.exercises.filter((grade) => grade.status === 'passed').length;
  const lines = [
    `**${formatPoints(grades.score)} / ${grades.maxScore} points** · ${passed} of ${grades.exercises.length} exercises passed · graded ${context.targetLabel} in ${Math.round(context.executionSeconds)} s`,
  ];
  let chapter = '';
  const row = (grade: ExerciseGrade): string => {
    const failure = grade.status === 'passed' || grade.status === 'not started' ? '' : firstLine(grade.firstFailure);
    return `- ${MARKS[grade.status]} ${grade.number} **${grade.exercise.name}**: ${grade.status}, ${formatPoints(grade.score)} / ${grade.maxScore}${failure ? ` (${failure})` : ''}`;
  };
  for (const grade of grades.exercises) {
    if (grade.exercise.chapterId !== chapter) {
      chapter = grade.exercise.chapterId;
      lines.push('', `**${chapter.slice(0, 2)} ${grade.exercise.chapterTitle}**`, '');
    }
    lines.push(row(grade));
  }
  lines.push('', `Grading files fingerprint: ${context.fingerprint}`);
  return lines.join('\n');
}

export function toResultsFile(grades: Grades, context: ResultsContext): ResultsFile {
  const tests = grades.exercises.flatMap((grade) => {
    const firstFailed = grade.tests.findIndex((test) => !test.passed);
    const visibility = grade.exercise.visibility ?? context.visibility;
    return grade.tests.map<ResultsTest>((test, index) => ({
      number: test.number,
      name: `${grade.exercise.id} › ${test.title}`,
      score: test.score,
      max_score: test.maxScore,
      status: test.passed ? 'passed' : 'failed',
      output: test.passed
        ? ''
        : index === firstFailed && grade.output
          ? `${test.message}\n\nOutput of the code (last lines):\n${grade.output}`
          : test.message,
      tags: [grade.exercise.chapterId, grade.exercise.name],
      ...(visibility && { visibility }),
      extra_data: { exercise: grade.exercise.id, exercise_status: grade.status },
    }));
  });
  return {
    score: grades.score,
    max_score: grades.maxScore,
    execution_time: Math.round(context.executionSeconds),
    output: summaryMarkdown(grades, context),
    output_format: 'md',
    test_output_format: 'text',
    test_name_format: 'text',
    ...(context.visibility && { visibility: context.visibility }),
    stdout_visibility: context.stdoutVisibility ?? 'visible',
    tests,
    extra_data: {
      fingerprint: context.fingerprint,
      target: context.targetLabel,
      ...(context.machine && {
        machine: { cpus: context.machine.cpus, lanes: context.machine.lanes, time_scale: context.machine.timeScale },
      }),
      exercises: grades.exercises.map((grade) => ({
        id: grade.exercise.id,
        status: grade.status,
        score: grade.score,
        max_score: grade.maxScore,
        seconds: Math.round(grade.durationMs) / 1000,
      })),
    },
  };
}

/** Writes the file whole or not at all (a temporary file renamed over it), so no reader sees half of one. */
export function writeResultsFile(results: ResultsFile, file: string): string {
  mkdirSync(path.dirname(file), { recursive: true });
  const partial = `${file}.${process.pid}.tmp`;
  writeFileSync(partial, `${JSON.stringify(results, null, 2)}\n`);
  renameSync(partial, file);
  return file;
}
