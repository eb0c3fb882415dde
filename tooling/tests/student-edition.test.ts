/**
 * The student edition: what the export keeps and leaves out (on a small git checkout, and walking a plain
 * folder), then this workbook's own edition, graded from its own folder with the GitHub Classroom
 * workflow's commands: the stubs at 0, then a few solved exercises and a buggy one, each with its points.
 */
import { execFileSync, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { decodeReporterResult, reportedPoints, type ReporterResult } from '../classroom-format';
import { readWorkbookResults, type WorkbookResults } from '../classroom-results';
import { STUDENT_EDITION_MARKER } from '../edition';
import { differences, fileHashes, fingerprintOf } from '../fingerprint';
import { loadManifest } from '../manifest';
import { exportStudentEdition, type StudentEdition } from '../student-edition';
import { variantsOf } from '../variants';
import { findStep, loadWorkflow, runStep, stepsOf, type StepRun } from './classroom-workflow';

const WORKBOOK = path.resolve(__dirname, '..', '..');

/** Every file under `dir`, relative, with forward slashes, sorted. */
function filesIn(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => !entry.isDirectory())
    .map((entry) => path.relative(dir, path.join(entry.parentPath, entry.name)).split(path.sep).join('/'))
    .sort();
}

function write(root: string, files: Record<string, string>): void {
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(root, name)), { recursive: true });
    writeFileSync(path.join(root, name), text);
  }
}

function tsx(args: string[], cwd = WORKBOOK): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, ['--require', 'tsx/cjs', ...args], { cwd, encoding: 'utf8' });
}

describe('exporting a workbook', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'student-edition-fixture-'));
  const source = path.join(dir, 'source');
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  write(source, {
    'workbook.json': '{}\n',
    'package.json': '{}\n',
    '.gitignore': 'node_modules/\n.workbook/\n*.log\n',
    'exercises/01-a/x/index.ts': 'stub\n',
    'solutions/01-a/x/index.ts': 'solution\n',
    'tests/01-a/x/x.test.ts': 'suite\n',
    'tests/01-a/x/fixtures/input.txt': 'fixture\n',
    'tests/01-a/x/wrong/bug/index.ts': 'variant\n',
    'tests/support/helper.ts': 'helper\n',
    '.ci/run': 'ci\n',
  });
  execFileSync('git', ['init', '-q'], { cwd: source, stdio: 'ignore' });
  execFileSync('git', ['add', '-A'], { cwd: source, stdio: 'ignore' });
  write(source, {
    'notes.txt': 'untracked\n',
    'debug.log': 'ignored\n',
    '.workbook/results.json': '{}\n',
    'node_modules/p/index.js': 'dependency\n',
  });
  const kept = [
    '.gitignore',
    STUDENT_EDITION_MARKER,
    'exercises/01-a/x/index.ts',
    'package.json',
    'tests/01-a/x/fixtures/input.txt',
    'tests/01-a/x/x.test.ts',
    'tests/support/helper.ts',
    'workbook.json',
  ].sort();

  test('from a git checkout: what git tracks, without solutions, variants and CI; untracked files named', () => {
    const destination = path.join(dir, 'existing-empty-folder');
    mkdirSync(destination);
    const edition = exportStudentEdition(source, destination);
    expect(filesIn(destination)).toEqual(kept);
    expect(edition).toMatchObject({ via: 'git', files: kept.length, variants: 1, untracked: ['notes.txt'] });
    expect(readFileSync(path.join(destination, 'exercises/01-a/x/index.ts'), 'utf8')).toBe('stub\n');
  });

  test('with includeUntracked: also what git neither tracks nor ignores', () => {
    const destination = path.join(dir, 'with-untracked');
    const edition = exportStudentEdition(source, destination, { includeUntracked: true });
    expect(filesIn(destination)).toEqual([...kept, 'notes.txt'].sort());
    expect(edition.untracked).toEqual([]);
  });

  test('from a plain folder: every file, but never node_modules/ or .workbook/', () => {
    const plain = path.join(dir, 'plain');
    cpSync(source, plain, { recursive: true, filter: (file) => path.basename(file) !== '.git' });
    const destination = path.join(dir, 'from-plain');
    expect(exportStudentEdition(plain, destination)).toMatchObject({ via: 'walk', variants: 1 });
    expect(filesIn(destination)).toEqual([...kept, 'debug.log', 'notes.txt'].sort());
  });

  test('refuses a non-empty destination, or one inside the workbook, in one line, writing nothing', () => {
    const full = path.join(dir, 'full');
    write(full, { 'mine.txt': 'keep me\n' });
    expect(() => exportStudentEdition(source, full)).toThrow(
      `${full} is not empty: export into a new or empty folder.`,
    );
    expect(filesIn(full)).toEqual(['mine.txt']);
    const inside = path.join(source, 'edition');
    expect(() => exportStudentEdition(source, inside)).toThrow(
      /is inside the workbook: export to a folder outside it\.$/,
    );
    expect(existsSync(inside)).toBe(false);
  });

  test('the command says what is wrong in one line and exits 2', () => {
    const full = path.join(dir, 'full-for-cli');
    write(full, { 'mine.txt': 'keep me\n' });
    const cases: [string[], RegExp][] = [
      [[full], /^export-student-edition: .* is not empty: export into a new or empty folder\.\n$/],
      [[], /^export-student-edition: name one folder to write to\. Usage: npm run export-student-edition -- /],
      [
        ['--nope', full],
        /^export-student-edition: Unknown option '--nope'.* Usage: npm run export-student-edition -- /,
      ],
    ];
    for (const [args, message] of cases) {
      const run = tsx(['tooling/student-edition.ts', ...args]);
      expect([run.status, run.stdout]).toEqual([2, '']);
      expect(run.stderr).toMatch(message);
      expect(run.stderr.trim().split('\n')).toHaveLength(1);
    }
  });
});

describe("this workbook's student edition", () => {
  const manifest = loadManifest(path.join(WORKBOOK, 'workbook.json'));
  const totalPoints = manifest.exercises.reduce((sum, exercise) => sum + exercise.points, 0);
  const scratch = mkdtempSync(path.join(tmpdir(), 'student-edition-'));
  const edition = path.join(scratch, 'edition');
  const runnerTemp = path.join(scratch, 'runner-temp');
  const steps = stepsOf(loadWorkflow());
  const gradeStep = findStep(steps, { run: /^npm test$/ });
  const convertStep = findStep(steps, { run: /^npm run -s classroom-results / });
  let exported: StudentEdition;

  beforeAll(() => {
    // Untracked files too: this may be a working tree whose new files are not committed yet.
    exported = exportStudentEdition(WORKBOOK, edition, { includeUntracked: true });
    // The workbook's packages, one link each, so that Jest's cache is the edition's own and goes with it.
    mkdirSync(path.join(edition, 'node_modules'));
    for (const name of readdirSync(path.join(WORKBOOK, 'node_modules')).filter((n) => n !== '.cache')) {
      symlinkSync(path.join(WORKBOOK, 'node_modules', name), path.join(edition, 'node_modules', name));
    }
    mkdirSync(runnerTemp);
  });
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  /** Runs the workflow's grading step (with `patterns`, only those suites), then its conversion step. */
  function gradeLikeTheWorkflow(patterns: string[] = []): {
    grading: StepRun;
    conversion: StepRun;
    results: WorkbookResults;
    reported: ReporterResult;
  } {
    const githubOutput = path.join(runnerTemp, `github-output-${patterns.length}`);
    writeFileSync(githubOutput, '');
    const where = { cwd: edition, runnerTemp, githubOutput };
    const grading = runStep(gradeStep, { ...where, append: patterns.length ? ` -- ${patterns.join(' ')}` : '' });
    const conversion = runStep(convertStep, where);
    if (conversion.status !== 0) throw new Error(`conversion failed:\n${conversion.stderr}\n${grading.stdout}`);
    const lines = readFileSync(githubOutput, 'utf8')
      .split('\n')
      .filter((line) => line.startsWith('result='));
    expect(lines).toHaveLength(1);
    return {
      grading,
      conversion,
      results: readWorkbookResults(path.join(runnerTemp, 'workbook-results.json')),
      reported: decodeReporterResult(lines[0]!.slice('result='.length)),
    };
  }

  test('leaves out solutions/, every known-wrong variant, .ci/ and .workbook/, and is marked', () => {
    for (const name of ['solutions', '.ci', 'gradescope', '.workbook'])
      expect(existsSync(path.join(edition, name))).toBe(false);
    const wrong = filesIn(path.join(edition, 'tests')).filter((file) => file.split('/')[2] === 'wrong');
    expect(wrong).toEqual([]);
    const variants = manifest.exercises.reduce((sum, exercise) => sum + variantsOf(exercise.id, WORKBOOK).length, 0);
    expect(exported.variants).toBe(variants);
    expect(variants).toBeGreaterThan(0);
    for (const kept of [STUDENT_EDITION_MARKER, '.github/workflows/classroom.yml', 'package-lock.json', 'chapters']) {
      expect([kept, existsSync(path.join(edition, kept))]).toEqual([kept, true]);
    }
  });

  test("has the full workbook's grading fingerprint", () => {
    const released = fileHashes(WORKBOOK);
    expect(differences(released, fileHashes(edition))).toEqual([]);
    expect(fingerprintOf(fileHashes(edition))).toBe(fingerprintOf(released));
  });

  test('npm run verify says in one line that it needs the full workbook, and fails; npm run hint works', () => {
    const verify = spawnSync('npm', ['run', '-s', 'verify'], { cwd: edition, encoding: 'utf8' });
    expect([verify.status, verify.stdout]).toEqual([2, '']);
    expect(verify.stderr).toMatch(/^This is the student edition of the workbook .*needs the full workbook\.\n$/);
    const hint = spawnSync('npm', ['run', '-s', 'hint', '--', 'run-command'], { cwd: edition, encoding: 'utf8' });
    expect(hint.status).toBe(0);
    expect(hint.stdout).toMatch(/^Hint 1 of \d+ for 02-processes\/run-command:/);
  });

  test('grades the untouched stubs at 0 of the manifest’s points, every exercise a row', () => {
    const { grading, conversion, results, reported } = gradeLikeTheWorkflow();
    expect(grading.status).not.toBe(0); // why the grading step must continue on error
    expect(results.extra_data.exercises.map((e) => [e.id, e.status])).toEqual(
      manifest.exercises.map((exercise) => [exercise.id, 'not started']),
    );
    expect(reported.tests.map((row) => [row.name.split(':')[0], row.status, row.score])).toEqual(
      manifest.exercises.map((exercise) => [exercise.id, 'fail', 0]),
    );
    expect(reported).toMatchObject({ status: 'fail', max_score: totalPoints });
    expect(reportedPoints([reported])).toEqual({ totalPoints: 0, maxPoints: totalPoints });
    expect(conversion.stdout).toMatch(`GitHub Classroom result: 0 of ${totalPoints} points, 0 of `);
  }, 180_000);

  test('gives solved exercises their points, a buggy one part of them, and the others none', () => {
    const solved = ['02-processes/run-command', '05-threads/worker-pool'];
    const buggy = '04-ipc/frame-decoder';
    // A deliberate bug: one of the exercise's known-wrong variants, which fails some of its tests, not all.
    const bug = variantsOf(buggy, WORKBOOK).find((variant) => variant.name === 'silent-on-truncation');
    if (!bug) throw new Error(`tests/${buggy}/wrong/silent-on-truncation is gone: pick another variant here`);
    for (const id of [...solved, buggy]) {
      cpSync(path.join(WORKBOOK, 'solutions', id), path.join(edition, 'exercises', id), { recursive: true });
    }
    cpSync(bug.dir, path.join(edition, 'exercises', buggy), { recursive: true });

    const { results, reported } = gradeLikeTheWorkflow([...solved, buggy].map((id) => `tests/${id}/`));
    const row = (id: string) => reported.tests.find((test) => test.name.startsWith(`${id}: `))!;
    const points = (id: string) => manifest.exercises.find((exercise) => exercise.id === id)!.points;
    for (const id of solved) expect([id, row(id).status, row(id).score]).toEqual([id, 'pass', points(id)]);

    const partial = row(buggy);
    const graded = results.extra_data.exercises.find((exercise) => exercise.id === buggy)!;
    expect([partial.status, graded.status]).toEqual(['fail', 'failing']);
    expect(partial.score).toBe(graded.score);
    expect(partial.score).toBeGreaterThan(0);
    expect(partial.score).toBeLessThan(points(buggy));
    expect(partial.name).toBe(`${buggy}: ${graded.score}/${points(buggy)} points (failing)`);

    const others = reported.tests.filter((test) => ![...solved, buggy].some((id) => test.name.startsWith(`${id}: `)));
    expect(others).toHaveLength(manifest.exercises.length - 3);
    for (const other of others) expect([other.status, other.score]).toEqual(['error', 0]);

    const { totalPoints: reportedTotal, maxPoints } = reportedPoints([reported]);
    expect(maxPoints).toBe(totalPoints);
    expect(reportedTotal).toBeCloseTo(points(solved[0]!) + points(solved[1]!) + graded.score, 6);
    expect(reportedTotal).toBeCloseTo(results.score, 6);
  }, 180_000);
});
