import path from 'node:path';
import { createEmptyTestResult, type AssertionResult, type TestResult } from '@jest/test-result';
import { cleanFailureMessage, gradeResults, trimOutput } from '../grades';
import { parseManifest, WORKBOOK_ROOT } from '../manifest';
import { toResultsFile } from '../results-file';

const manifest = parseManifest({
  title: 'T',
  chapters: [
    {
      id: '02-processes',
      title: 'Processes',
      exercises: [
        { name: 'a', title: 'A', points: 10, hints: ['h'] },
        { name: 'b', title: 'B', points: 6, hints: ['h'] },
      ],
    },
  ],
});

function suite(name: string, tests: [string, 'passed' | 'failed', string?][]): TestResult {
  const result = createEmptyTestResult();
  result.testFilePath = path.join(WORKBOOK_ROOT, 'tests', '02-processes', name, `${name}.test.ts`);
  result.testResults = tests.map(
    ([title, status, message]) =>
      ({
        ancestorTitles: ['d'],
        title,
        status,
        failureMessages: message ? [message] : [],
      }) as unknown as AssertionResult,
  );
  return result;
}

describe('gradeResults', () => {
  test('splits points across tests and orders exercises as the manifest does', () => {
    const grades = gradeResults(manifest, [
      suite('b', [['x', 'passed']]),
      suite('a', [
        ['p', 'passed'],
        ['q', 'failed', 'Error: lost 3 updates\n    at x (y.ts:1:1)'],
      ]),
    ]);
    expect(grades.exercises.map((g) => [g.exercise.name, g.status, g.score, g.maxScore])).toEqual([
      ['a', 'failing', 5, 10],
      ['b', 'passed', 6, 6],
    ]);
    expect(grades.exercises[0]!.firstFailure).toBe('d › q: lost 3 updates');
    expect([grades.score, grades.maxScore]).toEqual([11, 16]);
  });

  test('calls an exercise not started when every failure is the stub error', () => {
    const grades = gradeResults(manifest, [suite('a', [['p', 'failed', 'Error: Not implemented: a']])]);
    expect(grades.exercises[0]!.status).toBe('not started');
  });

  test('reports a suite that produced no results with its kind, at zero points', () => {
    const hung = suite('a', []);
    hung.testExecError = { message: 'did not finish within 20 s', stack: '', type: 'hung' };
    const grades = gradeResults(manifest, [hung], {
      outputs: new Map([[hung.testFilePath, 'working…\nstill working…']]),
    });
    expect(grades.exercises[0]).toMatchObject({ status: 'hung', score: 0, maxScore: 10 });
    const results = toResultsFile(grades, { targetLabel: 'exercises', executionSeconds: 1.5, fingerprint: 'f' });
    expect(results.tests[0]).toEqual({
      name: '02-processes/a › (hung)',
      score: 0,
      max_score: 10,
      status: 'failed',
      output: 'did not finish within 20 s\n\nOutput of the code (last lines):\nworking…\nstill working…',
    });
    expect(results.extra_data.exercises.map((e) => [e.id, e.status])).toEqual([
      ['02-processes/a', 'hung'],
      ['02-processes/b', 'not graded'],
    ]);
  });

  test('lists every exercise, at zero with the reason, when its suite did not run', () => {
    const grades = gradeResults(manifest, [suite('a', [['p', 'passed']])], { whyNotGraded: () => 'filtered out' });
    expect(grades.exercises.map((g) => [g.exercise.name, g.status, g.score])).toEqual([
      ['a', 'passed', 10],
      ['b', 'not graded', 0],
    ]);
    expect(grades.exercises[1]!.firstFailure).toBe('filtered out');
    expect([grades.score, grades.maxScore]).toEqual([10, 16]);
  });

  test("calls an exercise hung when a test outlived Jest's timeout, and says so in a learner's words", () => {
    const timeout =
      'thrown: "Exceeded timeout of 10000 ms for a test.\nAdd a timeout value to this test to increase the timeout, if this is a long-running test. See https://jestjs.io/docs/api#testname-fn-timeout."';
    const grades = gradeResults(manifest, [
      suite('a', [
        ['p', 'passed'],
        ['q', 'failed', timeout],
      ]),
    ]);
    expect(grades.exercises[0]).toMatchObject({ status: 'hung', score: 5 });
    expect(grades.exercises[0]!.firstFailure).toMatch(/^d › q: the test did not finish within 10 s: /);
    expect(grades.exercises[0]!.firstFailure).not.toMatch(/increase the timeout/);
  });

  test('keeps output only for exercises that did not pass', () => {
    const passing = suite('a', [['p', 'passed']]);
    const failing = suite('b', [['p', 'failed', 'Error: wrong']]);
    const outputs = new Map([
      [passing.testFilePath, 'noise'],
      [failing.testFilePath, 'clue'],
    ]);
    const grades = gradeResults(manifest, [passing, failing], { outputs });
    expect(grades.exercises.map((g) => g.output)).toEqual([undefined, 'clue']);
  });

  test('lists a suite that belongs to no exercise as a stray', () => {
    expect(gradeResults(manifest, [suite('zzz', [['p', 'passed']])]).strays).toHaveLength(1);
  });
});

describe('trimOutput', () => {
  test('keeps the last lines, without colours or control characters', () => {
    const lines = Array.from({ length: 30 }, (_, i) => `\u001b[32mline ${i}\u0007\u001b[39m`).join('\n');
    const trimmed = trimOutput(lines);
    expect(trimmed.split('\n')).toEqual(['…', ...Array.from({ length: 20 }, (_, i) => `line ${i + 10}`)]);
  });

  test('caps very long lines', () => {
    expect(trimOutput('x'.repeat(10_000)).length).toBeLessThanOrEqual(2002);
  });
});

describe('cleanFailureMessage', () => {
  test("keeps the test's own message from a reformatted node:assert error", () => {
    const raw =
      'assert.strictEqual(received, expected)\n\nExpected value\n\nMessage:\n  stdout was cut short.\n+ actual - expected\n\n+ a';
    expect(cleanFailureMessage(raw)).toBe('stdout was cut short.');
  });

  test('drops colours, error names and stack frames', () => {
    expect(cleanFailureMessage('\u001b[31mError: boom\u001b[39m\n    at f (x.ts:1:1)')).toBe('boom');
  });
});
