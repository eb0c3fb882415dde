import path from 'node:path';
import { createEmptyTestResult, type AssertionResult, type TestResult } from '@jest/test-result';
import { cleanFailureMessage, gradeResults, shares, trimOutput } from '../grades';
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
      number: '1.1.1',
      name: '02-processes/a › (hung)',
      score: 0,
      max_score: 10,
      status: 'failed',
      output: 'did not finish within 20 s\n\nOutput of the code (last lines):\nworking…\nstill working…',
      tags: ['02-processes', 'a'],
      extra_data: { exercise: '02-processes/a', exercise_status: 'hung' },
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

describe('rows from the catalogue', () => {
  const catalogue = { '02-processes/a': ['d › p', 'd › q', 'd › r'], '02-processes/b': ['d › x'] };

  test('shares split points in hundredths that add up to exactly the points', () => {
    expect(shares(10, 6)).toEqual([1.67, 1.67, 1.67, 1.67, 1.66, 1.66]);
    expect(shares(10, 3).reduce((sum, share) => Math.round((sum + share) * 100) / 100, 0)).toBe(10);
    expect(shares(6, 1)).toEqual([6]);
  });

  test('a suite that crashed after some tests keeps every row: finished ones as they ended, the rest failed', () => {
    const crashed = suite('a', [['p', 'passed']]);
    crashed.testExecError = { message: 'boom from a timer', stack: '', type: 'crashed' };
    const [grade] = gradeResults(manifest, [crashed], { catalogue }).exercises;
    expect(grade!.status).toBe('crashed');
    expect(grade!.tests.map((t) => [t.number, t.title, t.passed, t.score, t.maxScore])).toEqual([
      ['1.1.1', 'd › p', true, 3.34, 3.34],
      ['1.1.2', 'd › q', false, 0, 3.33],
      ['1.1.3', 'd › r', false, 0, 3.33],
    ]);
    expect(grade!.tests[1]!.message).toBe('boom from a timer');
    expect(grade!.tests[2]!.message).toMatch(/did not run: the suite stopped before it \(crashed\)/);
    expect(grade!.score).toBe(3.34);
  });

  test('a suite that crashed after every test had passed still loses the last test', () => {
    const crashed = suite('a', [
      ['p', 'passed'],
      ['q', 'passed'],
      ['r', 'passed'],
    ]);
    crashed.testExecError = { message: 'called process.exit(0)', stack: '', type: 'exited' };
    const [grade] = gradeResults(manifest, [crashed], { catalogue }).exercises;
    expect([grade!.status, grade!.score]).toEqual(['exited', 6.67]);
    expect(grade!.tests[2]!.message).toBe('this test passed, but then exited: called process.exit(0)');
  });

  test('an exercise missing from the submission is "not submitted", every row saying why', () => {
    const missing = suite('a', []);
    missing.testExecError = { message: 'its folder 02-processes/a/ is not in sub', stack: '', type: 'not submitted' };
    const [grade] = gradeResults(manifest, [missing], { catalogue }).exercises;
    expect([grade!.status, grade!.score, grade!.tests.length]).toEqual(['not submitted', 0, 3]);
    expect(grade!.tests.every((t) => t.message === 'its folder 02-processes/a/ is not in sub')).toBe(true);
  });

  test('a test the catalogue does not list is graded after the catalogued ones; a catalogued test that never ran fails', () => {
    const [grade] = gradeResults(
      manifest,
      [
        suite('a', [
          ['p', 'passed'],
          ['new', 'passed'],
        ]),
      ],
      { catalogue },
    ).exercises;
    expect(grade!.tests.map((t) => [t.number, t.title, t.passed])).toEqual([
      ['1.1.1', 'd › p', true],
      ['1.1.2', 'd › q', false],
      ['1.1.3', 'd › r', false],
      ['1.1.4', 'd › new', true],
    ]);
    expect(grade!.tests[1]!.message).toMatch(/did not run/);
  });

  test('an exercise that was not graded still has its catalogued rows, at 0', () => {
    const grades = gradeResults(manifest, [], { catalogue, whyNotGraded: () => 'stopped' });
    expect(grades.exercises[0]!.tests.map((t) => [t.number, t.maxScore, t.message])).toEqual([
      ['1.1.1', 3.34, 'stopped'],
      ['1.1.2', 3.33, 'stopped'],
      ['1.1.3', 3.33, 'stopped'],
    ]);
  });
});

describe('toResultsFile', () => {
  const visible = parseManifest({
    title: 'T',
    chapters: [
      {
        id: '02-processes',
        title: 'Processes',
        exercises: [
          { name: 'a', title: 'A', points: 10, hints: ['h'], visibility: 'after_due_date' },
          { name: 'b', title: 'B', points: 6, hints: ['h'] },
        ],
      },
    ],
  });

  test("gives each test its exercise's visibility, else the run's, and summarises the scorecard in Markdown", () => {
    const grades = gradeResults(visible, [suite('a', [['p', 'passed']]), suite('b', [['x', 'failed', 'Error: nope']])]);
    const results = toResultsFile(grades, {
      targetLabel: 'submission',
      executionSeconds: 61.6,
      fingerprint: 'abc',
      visibility: 'hidden',
      stdoutVisibility: 'after_published',
    });
    expect(results.tests.map((t) => t.visibility)).toEqual(['after_due_date', 'hidden']);
    expect(results).toMatchObject({
      visibility: 'hidden',
      stdout_visibility: 'after_published',
      execution_time: 62,
      output_format: 'md',
    });
    expect(results.output.split('\n')).toEqual([
      '**10 / 16 points** · 1 of 2 exercises passed · graded submission in 62 s',
      '',
      '**02 Processes**',
      '',
      '- ✓ 1.1 **a**: passed, 10 / 10',
      '- ✗ 1.2 **b**: failing, 0 / 6 (d › x: nope)',
      '',
      'Grading files fingerprint: abc',
    ]);
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
