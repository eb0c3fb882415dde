/**
 * Gradescope, as it runs the autograder: the zip `npm run gradescope-zip` writes is unpacked into a folder
 * laid out like /autograder (source, submission, results), setup.sh installs the packages, and
 * run_autograder grades a submission and writes results/results.json, which must follow Gradescope's
 * specification (gradescope-autograders.readthedocs.io/en/latest/specs/).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { unzipSync } from 'fflate';
import { z } from 'zod';
import { loadCatalogue } from '../catalogue';
import { autograderEntries, buildAutograderZip } from '../gradescope-zip';
import { loadManifest, WORKBOOK_ROOT } from '../manifest';

const visibility = z.enum(['hidden', 'after_due_date', 'after_published', 'visible']);
const format = z.enum(['text', 'html', 'simple_format', 'md', 'ansi']);

/** Gradescope's results.json, as its specification lists the fields (unknown fields are refused). */
const gradescopeResults = z.strictObject({
  score: z.number().optional(),
  execution_time: z.number().int().nonnegative().optional(),
  output: z.string().optional(),
  output_format: format.optional(),
  test_output_format: format.optional(),
  test_name_format: format.optional(),
  visibility: visibility.optional(),
  stdout_visibility: visibility.optional(),
  extra_data: z.record(z.string(), z.unknown()).optional(),
  tests: z
    .array(
      z.strictObject({
        score: z.number().optional(),
        max_score: z.number().optional(),
        status: z.enum(['passed', 'failed']).optional(),
        name: z.string().optional(),
        name_format: format.optional(),
        number: z.string().optional(),
        output: z.string().optional(),
        output_format: format.optional(),
        tags: z.array(z.string()).optional(),
        visibility: visibility.optional(),
        extra_data: z.record(z.string(), z.unknown()).optional(),
      }),
    )
    .optional(),
  leaderboard: z.array(z.unknown()).optional(),
  // Not in the specification: read by other tools, ignored by Gradescope, which takes the assignment's points.
  max_score: z.number().optional(),
});

/** Each entry's Unix permissions, from the zip's central directory (the high half of its external attributes). */
function unixModes(zip: Buffer): Map<string, number> {
  const end = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  const modes = new Map<string, number>();
  for (let at = zip.readUInt32LE(end + 16), count = zip.readUInt16LE(end + 10); count > 0; count -= 1) {
    const nameLength = zip.readUInt16LE(at + 28);
    const name = zip.toString('utf8', at + 46, at + 46 + nameLength);
    modes.set(name, (zip.readUInt32LE(at + 38) >>> 16) & 0o777);
    at += 46 + nameLength + zip.readUInt16LE(at + 30) + zip.readUInt16LE(at + 32);
  }
  return modes;
}

const manifest = loadManifest();
const catalogue = loadCatalogue();
const total = manifest.exercises.reduce((sum, exercise) => sum + exercise.points, 0);
const scratch = mkdtempSync(path.join(tmpdir(), 'workbook-gradescope-'));
const autograder = path.join(scratch, 'autograder');
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** Runs run_autograder on `submission` (a folder to copy into /autograder/submission). */
function runAutograder(submission: (into: string) => void): {
  status: number | null;
  stdout: string;
  results: z.infer<typeof gradescopeResults>;
} {
  const into = path.join(autograder, 'submission');
  rmSync(into, { recursive: true, force: true });
  mkdirSync(into);
  submission(into);
  rmSync(path.join(autograder, 'results'), { recursive: true, force: true });
  const run = spawnSync(path.join(autograder, 'source', 'run_autograder'), {
    cwd: autograder,
    env: { ...process.env, AUTOGRADER_ROOT: autograder },
    encoding: 'utf8',
  });
  const json: unknown = JSON.parse(readFileSync(path.join(autograder, 'results', 'results.json'), 'utf8'));
  return { status: run.status, stdout: run.stdout, results: gradescopeResults.parse(json) };
}

describe('the autograder zip', () => {
  const entries = unzipSync(buildAutograderZip());

  test('has setup.sh and run_autograder at its root, executable', () => {
    const modes = unixModes(Buffer.from(buildAutograderZip()));
    expect([modes.get('setup.sh'), modes.get('run_autograder')]).toEqual([0o755, 0o755]);
    expect(modes.get('package.json')).toBe(0o644);
  });

  test('holds what grading needs and neither the solutions nor the known-wrong variants', () => {
    const names = Object.keys(entries);
    for (const needed of [
      'package.json',
      'package-lock.json',
      'jest.config.js',
      'workbook.json',
      'tests/catalogue.json',
    ])
      expect(names).toContain(needed);
    expect(names.filter((name) => name.startsWith('solutions/') || /\/wrong\//.test(name))).toEqual([]);
    expect(names.length).toBe(autograderEntries().size);
  });
});

describe('run_autograder in a folder laid out like /autograder', () => {
  beforeAll(() => {
    const source = path.join(autograder, 'source');
    mkdirSync(source, { recursive: true });
    for (const [name, data] of Object.entries(unzipSync(buildAutograderZip()))) {
      mkdirSync(path.dirname(path.join(source, name)), { recursive: true });
      writeFileSync(path.join(source, name), data);
    }
    // Gradescope runs setup.sh once when it builds the image: here Node.js is present, so it installs the packages.
    execFileSync('bash', [path.join(source, 'setup.sh')], {
      env: { ...process.env, AUTOGRADER_ROOT: autograder },
      stdio: 'ignore',
    });
  }, 180_000);

  test('gives a complete submission full marks, in a results.json that follows the specification', () => {
    const { status, stdout, results } = runAutograder((into) =>
      cpSync(path.join(WORKBOOK_ROOT, 'solutions'), into, { recursive: true }),
    );
    expect(status).toBe(0);
    expect(results.score).toBe(total);
    expect(results.stdout_visibility).toBe('visible');
    expect(results.output_format).toBe('md');
    expect(results.output).toContain(`**${total} / ${total} points**`);
    expect(stdout).toContain(`Total ${total} / ${total} points`);
    const tests = results.tests ?? [];
    expect(tests.every((test) => test.status === 'passed' && test.score === test.max_score)).toBe(true);
    // One row per catalogued test, numbered <chapter>.<exercise>.<test>, with each exercise's rows adding up to its points.
    const expected = manifest.chapters.flatMap((chapter, c) =>
      chapter.exercises.flatMap((exercise, e) =>
        (catalogue[exercise.id] ?? []).map((title, t) => [`${c + 1}.${e + 1}.${t + 1}`, `${exercise.id} › ${title}`]),
      ),
    );
    expect(tests.map((test) => [test.number, test.name])).toEqual(expected);
    for (const exercise of manifest.exercises) {
      const rows = tests.filter((test) => test.name!.startsWith(`${exercise.id} › `));
      expect([exercise.id, Math.round(rows.reduce((sum, test) => sum + test.max_score!, 0) * 100) / 100]).toEqual([
        exercise.id,
        exercise.points,
      ]);
    }
  }, 600_000);

  test('gives a submission in an unexpected shape 0, every row present, and tells the student what was expected', () => {
    const { status, results } = runAutograder((into) =>
      writeFileSync(path.join(into, 'answers.txt'), 'see attached\n'),
    );
    expect(status).toBe(0);
    expect(results.score).toBe(0);
    expect(results.output).toMatch(/found no exercises in .*Expected the exercises\/ folder/);
    expect(results.tests?.length).toBe(Object.values(catalogue).reduce((sum, titles) => sum + titles.length, 0));
  }, 60_000);
});
