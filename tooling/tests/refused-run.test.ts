/**
 * A grading run that cannot start says why in one line, never with a stack trace, and never leaves a
 * results file that could pass for a complete grade; Jest commands that run no suite exit at once.
 */
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { WORKBOOK_ROOT, loadManifest } from '../manifest';
import type { ResultsFile } from '../results-file';

const JEST_BIN = require.resolve('jest/bin/jest');
const scratch = mkdtempSync(path.join(tmpdir(), 'workbook-refused-'));
/**
 * Each test starts Jest and waits up to its own limit (30–60 s) for it: Jest's 5 s default would end the
 * test first on a busy machine, where starting Jest alone can take longer.
 */
const TEST_TIMEOUT = 120_000;
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

interface Outcome {
  code: number | null;
  stdout: string;
  stderr: string;
  seconds: number;
}

/** Runs Jest as `npm test` does, with `environment` added; kills it after `limitMs`. */
function jest(args: string[], environment: NodeJS.ProcessEnv, limitMs = 60_000): Promise<Outcome> {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [JEST_BIN, '--ci', ...args], {
      cwd: WORKBOOK_ROOT,
      env: { ...process.env, FORCE_COLOR: '0', ...environment },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), limitMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, seconds: (Date.now() - started) / 1000 });
    });
  });
}

function readResults(file: string): ResultsFile {
  return JSON.parse(readFileSync(file, 'utf8')) as ResultsFile;
}

/** What a learner or instructor reads: the message lines, without blank ones. */
const linesOf = (text: string): string[] => text.split('\n').filter((line) => line.trim() !== '');

describe('Jest commands that run no suite', () => {
  test.each([['--listTests'], ['--showConfig']])(
    '%s exits promptly, with code 0',
    async (flag) => {
      const outcome = await jest([flag], {}, 30_000);
      expect(outcome.code).toBe(0);
      if (flag === '--listTests') expect(linesOf(outcome.stdout)).toHaveLength(loadManifest().exercises.length);
    },
    TEST_TIMEOUT,
  );
});

describe('a submission that cannot be graded', () => {
  test.each([
    ['a path that does not exist', () => path.join(scratch, 'missing'), /does not exist/],
    ['a file', () => path.join(WORKBOOK_ROOT, 'workbook.json'), /is a file; expected a folder or a \.zip/],
    [
      'a folder with none of the exercises',
      () => {
        const dir = path.join(scratch, 'unrelated');
        mkdirSync(path.join(dir, 'src'), { recursive: true });
        writeFileSync(path.join(dir, 'src', 'main.ts'), 'export {};\n');
        return dir;
      },
      /found no exercises in .*Expected the exercises\/ folder/,
    ],
  ])(
    '%s: exit 2, one line saying what was expected, and every exercise at 0 with that reason',
    async (_, given, said) => {
      const results = path.join(scratch, `${Math.random()}.json`);
      const outcome = await jest([], { WORKBOOK_TARGET: given(), WORKBOOK_RESULTS: results });
      expect(outcome.code).toBe(2);
      expect(linesOf(outcome.stderr)).toHaveLength(1);
      expect(outcome.stderr).toMatch(said);
      const written = readResults(results);
      expect(written.score).toBe(0);
      expect(written.extra_data.exercises.map((e) => [e.id, e.status])).toEqual(
        loadManifest().exercises.map((e) => [e.id, 'not graded']),
      );
      expect(written.output).toMatch(said);
      expect(written.tests.every((test) => test.status === 'failed' && said.test(test.output))).toBe(true);
    },
    TEST_TIMEOUT,
  );
});

describe('a set-up that cannot grade', () => {
  /** A copy of the workbook's manifest and suites whose manifest is replaced by `manifest`. */
  function treeWithManifest(name: string, manifest: string): string {
    const root = path.join(scratch, name);
    mkdirSync(root, { recursive: true });
    cpSync(path.join(WORKBOOK_ROOT, 'tests'), path.join(root, 'tests'), { recursive: true });
    writeFileSync(path.join(root, 'workbook.json'), manifest);
    return root;
  }

  test.each([
    [
      'a workbook.json that is not JSON',
      () => ({ WORKBOOK_ROOT: treeWithManifest('corrupt', '{ "title": ') }),
      /workbook\.json is invalid/,
    ],
    [
      'a workbook.json with a bad field',
      () => ({
        WORKBOOK_ROOT: treeWithManifest(
          'bad-field',
          JSON.stringify({ title: 'T', chapters: [{ id: 'x', title: 'X', exercises: [] }] }),
        ),
      }),
      /workbook\.json is invalid:[\s\S]*chapters/,
    ],
    [
      'a results path that is a folder',
      () => ({ WORKBOOK_RESULTS: scratch }),
      /WORKBOOK_RESULTS=.*cannot write the results file/,
    ],
    [
      'an unknown visibility',
      () => ({ WORKBOOK_VISIBILITY: 'sometimes' }),
      /WORKBOOK_VISIBILITY=sometimes: use one of visible/,
    ],
    [
      'a time scale that is not a number',
      () => ({ WORKBOOK_TIME_SCALE: 'slow' }),
      /WORKBOOK_TIME_SCALE=slow: use a number/,
    ],
  ])(
    '%s: exit 2, the problem named, and no results file left to mistake for a grade',
    async (_, setting, said) => {
      const results = path.join(scratch, 'stale-results.json');
      writeFileSync(results, '{"score": 270}\n');
      const environment = { WORKBOOK_RESULTS: results, ...setting() };
      const outcome = await jest([], environment);
      expect(outcome.code).toBe(2);
      expect(outcome.stderr).toMatch(said);
      expect(outcome.stderr).not.toMatch(/^\s+at /m);
      if (environment.WORKBOOK_RESULTS === results) expect(existsSync(results)).toBe(false);
    },
    TEST_TIMEOUT,
  );
});
