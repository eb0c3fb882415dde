/**
 * The conversion from the results file to GitHub Classroom's reporter input: one row per exercise with
 * its partial score, in exactly the shape the reporter reads, and a command that fails in one line.
 */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  decodeReporterResult,
  encodeReporterResult,
  reportedPoints,
  reporterResultSchema,
  type ReporterResult,
} from '../classroom-format';
import { MESSAGE_CHARS, readWorkbookResults, toReporterResult, type WorkbookResults } from '../classroom-results';

const WORKBOOK = path.join(__dirname, '..', '..');

type Row = [title: string, passed: boolean, output?: string];

/** A results file as a grading run writes it, for exercises given as id, status, points and tests. */
function resultsOf(exercises: [id: string, status: string, points: number, tests: Row[]][]): WorkbookResults {
  const graded = exercises.map(([id, status, points, rows]) => {
    const share = Math.round((points / rows.length) * 100) / 100;
    const tests = rows.map(([title, passed, output]) => ({
      name: `${id} › ${title}`,
      score: passed ? share : 0,
      max_score: share,
      status: passed ? ('passed' as const) : ('failed' as const),
      output: output ?? '',
    }));
    const passedAll = rows.every(([, passed]) => passed);
    const score = passedAll ? points : Math.round(tests.reduce((sum, test) => sum + test.score, 0) * 100) / 100;
    return { exercise: { id, status, score, max_score: points }, tests };
  });
  const exerciseRows = graded.map((g) => g.exercise);
  return {
    score: exerciseRows.reduce((sum, e) => sum + e.score, 0),
    max_score: exerciseRows.reduce((sum, e) => sum + e.max_score, 0),
    tests: graded.flatMap((g) => g.tests),
    extra_data: { exercises: exerciseRows },
  };
}

const mixed = resultsOf([
  [
    '02-processes/run-command',
    'passed',
    10,
    [
      ['a', true],
      ['b', true],
    ],
  ],
  [
    '04-ipc/frame-decoder',
    'failing',
    10,
    [
      ['decode() › keeps whole frames', true],
      [
        'decode() › reports a truncated frame',
        false,
        'end() returned nothing\n\nOutput of the code (last lines):\nnoise',
      ],
      ['decode() › survives a bad frame', true],
    ],
  ],
  ['07-races-and-atomics/counter', 'not started', 6, [['c', false, 'Not implemented: counter']]],
]);

describe('toReporterResult', () => {
  test('gives one row per exercise, in order, scored with that exercise’s points', () => {
    const result = toReporterResult(mixed);
    expect(result.tests.map((t) => [t.name, t.status, t.score])).toEqual([
      ['02-processes/run-command: 10/10 points (passed)', 'pass', 10],
      ['04-ipc/frame-decoder: 6.66/10 points (failing)', 'fail', 6.66],
      ['07-races-and-atomics/counter: 0/6 points (not started)', 'fail', 0],
    ]);
    expect(result).toMatchObject({ version: 1, status: 'fail', max_score: 26 });
    const { totalPoints, maxPoints } = reportedPoints([result]);
    expect(maxPoints).toBe(26);
    expect(totalPoints).toBeCloseTo(16.66, 9);
  });

  test('says why an exercise lost points: its first failed test, without the code’s output', () => {
    const [passed, failing, stub] = toReporterResult(mixed).tests;
    expect(passed!.message).toBe('');
    expect(failing!.message).toBe('decode() › reports a truncated frame: end() returned nothing');
    expect(stub!.message).toBe('c: Not implemented: counter');
    expect(failing!.test_code).toBe('npm test -- 04-ipc/frame-decoder');
    expect(failing!.line_no).toBe(0);
  });

  test('is a pass only at full marks, and an error when an exercise was not graded', () => {
    const all = resultsOf([['01-a/x', 'passed', 4, [['t', true]]]]);
    expect(toReporterResult(all).status).toBe('pass');
    const stopped = resultsOf([
      ['01-a/x', 'failing', 4, [['t', false, 'wrong']]],
      ['01-a/y', 'not graded', 4, [['(not graded)', false, 'grading did not finish']]],
    ]);
    const result = toReporterResult(stopped);
    expect(result.status).toBe('error');
    expect(result.tests[1]).toMatchObject({
      status: 'error',
      score: 0,
      message: '01-a/y: 0/4 points (not graded): grading did not finish',
    });
  });

  test('keeps the encoded result small, however much the graded code printed', () => {
    const loud = 'x'.repeat(20_000);
    const many = resultsOf(
      Array.from({ length: 40 }, (_, i): [string, string, number, Row[]] => [
        `01-a/e${i}`,
        'failing',
        10,
        [['t', false, loud]],
      ]),
    );
    const result = toReporterResult(many);
    for (const test of result.tests) expect(test.message.length).toBeLessThanOrEqual(MESSAGE_CHARS);
    expect(encodeReporterResult(result).length).toBeLessThan(32 * 1024);
  });

  test('writes what the reporter schema accepts, and reads back what it encodes', () => {
    const result = toReporterResult(mixed);
    expect(reporterResultSchema.parse(result)).toEqual(result);
    expect(decodeReporterResult(encodeReporterResult(result))).toEqual(result);
  });
});

describe('the reporter schema', () => {
  const valid = toReporterResult(mixed);
  const broken = (change: (result: ReporterResult) => void): boolean => {
    const copy = structuredClone(valid);
    change(copy);
    return reporterResultSchema.safeParse(copy).success;
  };

  test('rejects what the reporter would miscount or misprint', () => {
    expect(broken(() => undefined)).toBe(true);
    expect(broken((r) => Object.assign(r, { max_score: 0 }))).toBe(false);
    expect(broken((r) => Object.assign(r, { tests: [] }))).toBe(false);
    expect(broken((r) => delete (r.tests[0] as Partial<ReporterResult['tests'][number]>).score)).toBe(false);
    expect(broken((r) => delete (r.tests[0] as Partial<ReporterResult['tests'][number]>).line_no)).toBe(false);
    expect(broken((r) => Object.assign(r.tests[0]!, { status: 'passed' }))).toBe(false);
    expect(broken((r) => Object.assign(r.tests[0]!, { score: 30 }))).toBe(false);
    expect(broken((r) => Object.assign(r, { extra: 1 }))).toBe(false);
  });
});

describe('readWorkbookResults', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'classroom-results-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const write = (name: string, text: string): string => {
    const file = path.join(dir, name);
    writeFileSync(file, text);
    return file;
  };

  test('reads a results file, ignoring fields it does not rely on', () => {
    const file = write('ok.json', JSON.stringify({ ...mixed, output: 'x', extra_data: { ...mixed.extra_data, f: 1 } }));
    expect(readWorkbookResults(file)).toEqual(mixed);
  });

  test('says in one line what is wrong with a missing, corrupt or inconsistent file', () => {
    const inconsistent = { ...mixed, max_score: 99 };
    const cases: [string, RegExp][] = [
      [path.join(dir, 'missing.json'), /^no results file at .*missing\.json: grade first/],
      [write('text.json', 'not json'), /text\.json is not JSON: /],
      [write('shape.json', '{"score": 1}'), /shape\.json is not a workbook results file at max_score: /],
      [write('sums.json', JSON.stringify(inconsistent)), /exercises are worth 26 points, its max_score is 99/],
    ];
    for (const [file, message] of cases) {
      expect(() => readWorkbookResults(file)).toThrow(message);
      try {
        readWorkbookResults(file);
      } catch (error) {
        expect((error as Error).message).not.toContain('\n');
      }
    }
  });
});

describe('npm run -s classroom-results', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'classroom-cli-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const resultsFile = path.join(dir, 'results.json');
  writeFileSync(resultsFile, JSON.stringify(mixed));

  /** The command through npm, as the workflow runs it, or (faster) straight through tsx. */
  function cli(args: string[], env: NodeJS.ProcessEnv = {}, viaNpm = false): SpawnSyncReturns<string> {
    const inherited = { ...process.env };
    delete inherited.GITHUB_OUTPUT;
    delete inherited.WORKBOOK_RESULTS;
    const [program, ...start] = viaNpm
      ? ['npm', 'run', '-s', 'classroom-results', '--']
      : [process.execPath, '--require', 'tsx/cjs', 'tooling/classroom-results.ts'];
    return spawnSync(program!, [...start, ...args], { cwd: WORKBOOK, env: { ...inherited, ...env }, encoding: 'utf8' });
  }

  test('appends result=<base64> to $GITHUB_OUTPUT and says what it found', () => {
    const output = path.join(dir, 'github-output');
    writeFileSync(output, 'earlier=1\n');
    const run = cli(['--results', resultsFile, '--github-output'], { GITHUB_OUTPUT: output }, true);
    expect(run).toMatchObject({ status: 0, stderr: '' });
    expect(run.stdout).toMatch(/^GitHub Classroom result: 16\.66 of 26 points, 1 of 3 exercises passed/);
    const lines = readFileSync(output, 'utf8').split('\n');
    expect(lines[0]).toBe('earlier=1');
    expect(lines[1]).toMatch(/^result=[A-Za-z0-9+/]+=*$/);
    expect(decodeReporterResult(lines[1]!.slice('result='.length))).toEqual(toReporterResult(mixed));
  });

  test('prints result=<base64> without --github-output, reading WORKBOOK_RESULTS by default', () => {
    const run = cli([], { WORKBOOK_RESULTS: resultsFile });
    expect(run.status).toBe(0);
    expect(decodeReporterResult(run.stdout.trim().replace(/^result=/, ''))).toEqual(toReporterResult(mixed));
  });

  test.each([
    [['--nope'], /^classroom-results: Unknown option '--nope'\. Usage: npm run -s classroom-results -- /],
    [['stray'], /^classroom-results: Unexpected argument 'stray'.* Usage: /],
    [['--results'], /^classroom-results: Option '--results <value>' argument missing.* Usage: /],
    [['--results', resultsFile, '--github-output'], /^classroom-results: --github-output needs GITHUB_OUTPUT/],
  ])('%j: exit 2 with one line, no stack trace', (args, message) => {
    const run = cli(args);
    expect(run.status).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(message);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
  });

  test('through npm, a missing results file is one line too, and exit 2', () => {
    const run = cli(['--results', path.join(dir, 'missing.json')], {}, true);
    expect(run.status).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(
      /^classroom-results: no results file at .*missing\.json: grade first \(npm test writes it\)\n$/,
    );
  });
});
