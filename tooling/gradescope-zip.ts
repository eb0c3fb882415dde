/**
 * `npm run gradescope-zip -- [--out <file>]`: writes the autograder zip to upload to Gradescope
 * ("Configure Autograder" → "Zip file upload"). Gradescope's specification: setup.sh and run_autograder at
 * the root of the archive; the archive's contents land in /autograder/source. Besides those two (from
 * gradescope/), it holds what grading needs and nothing a student should see: the manifest, the catalogue
 * and grading suites without their known-wrong variants, the grader, and the package files. No solutions.
 */
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { zipSync, type Zippable } from 'fflate';
import { workbookFiles } from './student-edition';
import { isInVariantFolder } from './variants';

const REPOSITORY = path.resolve(__dirname, '..');
export const DEFAULT_ZIP = path.join(REPOSITORY, '.workbook', 'gradescope-autograder.zip');

/** What grading needs, relative to the repository: files, and folders taken whole. */
const GRADING_NEEDS = [
  'package.json',
  'package-lock.json',
  'jest.config.js',
  'tsconfig.json',
  'workbook.json',
  'tooling',
  'tests',
];
/** Files from gradescope/ that go to the archive's root, as Gradescope requires. */
const AT_ROOT = ['setup.sh', 'run_autograder'];

/** The archive's entries: path inside the zip → the file it comes from. */
export function autograderEntries(): Map<string, string> {
  const entries = new Map<string, string>();
  for (const name of AT_ROOT) entries.set(name, path.join(REPOSITORY, 'gradescope', name));
  // Untracked files too (not ignored ones): a zip built before a commit must hold what the tests just ran.
  for (const file of workbookFiles(REPOSITORY, true).files) {
    const needed = GRADING_NEEDS.some((need) => file === need || file.startsWith(`${need}/`));
    if (needed && !isInVariantFolder(file)) entries.set(file, path.join(REPOSITORY, file));
  }
  return entries;
}

/** The zip, with Unix permissions kept (run_autograder and setup.sh stay executable). */
export function buildAutograderZip(): Uint8Array {
  const files: Zippable = {};
  for (const [name, source] of autograderEntries()) {
    const mode = statSync(source).mode & 0o777;
    files[name] = [
      readFileSync(source),
      { os: 3, attrs: ((0o100000 | mode) << 16) >>> 0, mtime: new Date('2026-01-01') },
    ];
  }
  return zipSync(files, { level: 9 });
}

function main(): void {
  const { values } = parseArgs({ options: { out: { type: 'string', default: DEFAULT_ZIP } }, strict: true });
  const file = path.resolve(values.out);
  const zip = buildAutograderZip();
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, zip);
  console.log(
    `${path.relative(process.cwd(), file)}: ${autograderEntries().size} files, ${Math.round(zip.length / 1024)} KiB`,
  );
  console.log('Upload it on Gradescope: your assignment → Configure Autograder → Zip file upload.');
}

if (require.main === module) {
  try {
    main();
  } catch (error) {
    console.error(`gradescope-zip: ${(error as Error).message}`);
    process.exitCode = 2;
  }
}
