/**
 * WORKBOOK_TARGET finds a submission's exercises in every layout a student hands in (the exercises/ folder,
 * the whole repository, either wrapped in one more folder, or a .zip of any of these), and a submission
 * graded from outside the workbook gets exactly the grade it gets in place, because its bare imports, in
 * the suite and in every worker and child process, resolve to the workbook's own packages.
 */
import { execFileSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { zipSync, type Zippable } from 'fflate';
import { gradingRun } from '../grading-run';
import { loadManifest, WORKBOOK_ROOT } from '../manifest';
import { resolveTarget, STAGING_PARENT, TargetError } from '../target';

const manifest = loadManifest();
const SOLUTIONS = path.join(WORKBOOK_ROOT, 'solutions');
/** An exercise whose code imports zod, a dependency of the workbook. */
const IMPORTS_A_PACKAGE = '04-ipc/frame-decoder';

// Made when the file loads: the layouts are test.each tables, built before any hook runs.
const scratch = mkdtempSync(path.join(tmpdir(), 'workbook-target-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** A fresh folder under the scratch folder. */
function folder(name: string): string {
  const dir = path.join(scratch, name);
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** A zip of every file under `dir`, each named `prefix` + its path relative to `dir`. */
function zipOf(dir: string, prefix = ''): Uint8Array {
  const files: Zippable = {};
  for (const name of readdirSync(dir, { recursive: true }) as string[]) {
    const file = path.join(dir, name);
    if (statSync(file).isFile()) files[`${prefix}${name.split(path.sep).join('/')}`] = readFileSync(file);
  }
  return zipSync(files);
}

/** The layouts a student hands in, each with the solutions as its exercises. */
function layouts(): Record<string, string> {
  const exercisesOnly = folder('exercises-only');
  cpSync(SOLUTIONS, exercisesOnly, { recursive: true });
  const repository = folder('repository');
  cpSync(SOLUTIONS, path.join(repository, 'exercises'), { recursive: true });
  writeFileSync(path.join(repository, 'README.md'), '# my work\n');
  // A node_modules of the submission's own must not be used: this zod would throw on import.
  mkdirSync(path.join(repository, 'node_modules', 'zod'), { recursive: true });
  writeFileSync(
    path.join(repository, 'node_modules', 'zod', 'index.js'),
    'throw new Error("the submission\'s zod");\n',
  );
  const wrapped = folder('wrapped');
  cpSync(repository, path.join(wrapped, 'concurrency-workbook-main'), { recursive: true });
  const zipOfExercises = path.join(scratch, 'exercises.zip');
  writeFileSync(zipOfExercises, zipOf(exercisesOnly));
  const zipOfRepository = path.join(scratch, 'repository.zip');
  writeFileSync(zipOfRepository, zipOf(repository, 'concurrency-workbook-main/'));
  return {
    'the exercises/ folder': exercisesOnly,
    'the whole repository': repository,
    'the repository inside one more folder': wrapped,
    'a .zip of the exercises/ folder': zipOfExercises,
    'a .zip of the repository in one folder': zipOfRepository,
  };
}

const LAYOUTS = Object.entries(layouts());

describe('resolveTarget', () => {
  test('names exercises/ and solutions/ of the workbook by their words', () => {
    expect(resolveTarget(undefined, manifest, WORKBOOK_ROOT).dir).toBe(path.join(WORKBOOK_ROOT, 'exercises'));
    expect(resolveTarget('solutions', manifest, WORKBOOK_ROOT)).toEqual({ label: 'solutions', dir: SOLUTIONS });
  });

  test.each(LAYOUTS)('finds the exercises in %s, and copies them inside the workbook', (_, given) => {
    const target = resolveTarget(given, manifest, WORKBOOK_ROOT);
    expect(target.dir.startsWith(STAGING_PARENT)).toBe(true);
    expect(existsSync(path.join(target.dir, IMPORTS_A_PACKAGE, 'index.ts'))).toBe(true);
    expect(existsSync(path.join(target.dir, 'node_modules'))).toBe(false);
    expect(readdirSync(target.dir).sort()).toEqual(readdirSync(SOLUTIONS).sort());
  });

  test.each([
    [
      'a path that does not exist',
      () => path.join(scratch, 'missing'),
      /does not exist\. Use "exercises", "solutions"/,
    ],
    [
      'a file that is not a .zip',
      () => path.join(SOLUTIONS, IMPORTS_A_PACKAGE, 'index.ts'),
      /is a file; expected a folder or a \.zip/,
    ],
    [
      'a folder with no exercise in it',
      () => folder('empty'),
      /found no exercises in .*Expected the exercises\/ folder/,
    ],
    [
      'a .zip that is not one',
      () => {
        const file = path.join(scratch, 'broken.zip');
        writeFileSync(file, 'not a zip');
        return file;
      },
      /is not a readable \.zip archive/,
    ],
    [
      'a .zip with an entry that escapes its folder',
      () => {
        const file = path.join(scratch, 'escapes.zip');
        writeFileSync(file, zipSync({ '../outside.ts': new Uint8Array([1]) }));
        return file;
      },
      /has an entry outside its own folder/,
    ],
  ])('refuses %s in one line that says what it expected', (_, given, expected) => {
    let error: unknown;
    try {
      resolveTarget(given(), manifest, WORKBOOK_ROOT);
    } catch (thrown) {
      error = thrown;
    }
    expect(error).toBeInstanceOf(TargetError);
    expect((error as Error).message).toMatch(expected);
    expect((error as Error).message).not.toContain('\n');
  });
});

describe('a submission outside the workbook', () => {
  test('resolves the workbook’s packages in a worker thread and in a child process its code starts', () => {
    const submission = folder('probe');
    cpSync(SOLUTIONS, submission, { recursive: true });
    const probe = path.join(submission, IMPORTS_A_PACKAGE, 'probe.ts');
    writeFileSync(
      probe,
      `import { fork } from 'node:child_process';
import { Worker, isMainThread, parentPort } from 'node:worker_threads';
import { z } from 'zod';
const kind = process.argv[2] ?? (isMainThread ? 'main' : 'worker');
if (kind === 'main') {
  const worker = new Worker(__filename);
  worker.once('message', (inWorker) => {
    const child = fork(__filename, ['child'], { stdio: 'inherit' });
    child.once('exit', (code) => console.log(['main:' + z.string().parse('ok'), inWorker, code === 0 ? 'child:ok' : 'child:failed'].join(' ')));
  });
} else if (kind === 'worker') parentPort!.postMessage('worker:' + z.string().parse('ok'));
else z.string().parse('ok');
`,
    );
    const target = resolveTarget(submission, manifest, WORKBOOK_ROOT);
    const staged = path.join(target.dir, IMPORTS_A_PACKAGE, 'probe.ts');
    const hook = path.join(WORKBOOK_ROOT, 'tooling', 'jest', 'typescript-on-demand.cjs');
    const printed = execFileSync(process.execPath, [staged], {
      encoding: 'utf8',
      env: { ...process.env, NODE_OPTIONS: `--require ${hook}`, NODE_PATH: '' },
    });
    expect(printed.trim()).toBe('main:ok worker:ok child:ok');
  });

  test.each(LAYOUTS)(
    'graded from %s, gets full marks for an exercise that imports a package',
    async (_, given) => {
      const run = await gradingRun(given, [`tests/${IMPORTS_A_PACKAGE}/`]);
      expect(run.results?.extra_data.exercises.find((e) => e.id === IMPORTS_A_PACKAGE)).toMatchObject({
        status: 'passed',
        score: 10,
      });
      expect(run.exitCode).toBe(0);
    },
    60_000,
  );
});
