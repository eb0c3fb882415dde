/**
 * `npm run export-student-edition -- <new or empty folder> [--include-untracked]`: writes the student
 * edition of the workbook, the one to use as a GitHub Classroom assignment's template repository (the
 * repository itself would hand every student the solutions). It has everything a learner needs to read,
 * solve and grade (`npm ci && npm test`, `npm run hint`), and leaves out the reference solutions
 * (solutions/), the known-wrong variants (tests/<exercise id>/wrong/), the maintainers' CI (.ci/), the
 * Gradescope autograder's scripts (gradescope/) and what a checkout gathers (.workbook/, node_modules/). A
 * marker file (tooling/edition.ts) tells the maintainers' scripts that this is the student edition. The grading files are copied unchanged, so the edition's
 * grading fingerprint is the full workbook's.
 *
 * From a git checkout it exports the files git tracks, as they are in the working tree, so untracked files
 * stay behind (it names those git does not ignore; --include-untracked exports them too). Elsewhere it
 * walks the folder, skipping node_modules/, .git/, .workbook/ and coverage/.
 */
import { execFileSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readlinkSync,
  realpathSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { STUDENT_EDITION_MARKER } from './edition';
import { WORKBOOK_ROOT } from './manifest';
import { isInVariantFolder } from './variants';

/** Left out wherever they are: top-level folders (and the marker, which is written afresh). */
const LEFT_OUT_AT_ROOT = new Set([
  'solutions',
  '.ci',
  'gradescope', // the instructor's autograder scripts (npm run gradescope-zip)
  '.workbook',
  'node_modules',
  '.git',
  STUDENT_EDITION_MARKER,
]);
/** Folders the tree walk never enters (what .gitignore names, and git's own). */
const NOT_WALKED = new Set(['node_modules', '.git', '.workbook', 'coverage']);
const USAGE = 'Usage: npm run export-student-edition -- <new or empty folder> [--include-untracked]';
/** How many untracked files the command names. */
const UNTRACKED_NAMED = 10;

/** A reason not to export, said in one line. */
export class StudentEditionError extends Error {}

/** Whether a file (path relative to the workbook root, forward slashes) stays out of the student edition. */
export function isLeftOut(relative: string): boolean {
  const parts = relative.split('/');
  return LEFT_OUT_AT_ROOT.has(parts[0]!) || parts.includes('node_modules') || isInVariantFolder(relative);
}

export interface WorkbookFiles {
  /** Every file found, relative to the root with forward slashes, sorted; left-out ones included. */
  files: string[];
  via: 'git' | 'walk';
  /** From git without --include-untracked: untracked files git does not ignore, which stay behind. */
  untracked: string[];
}

function git(args: string[], cwd: string): string | undefined {
  try {
    return execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  } catch {
    return undefined;
  }
}

const splitNul = (text: string): string[] => text.split('\0').filter((name) => name !== '');

function exists(file: string): boolean {
  try {
    lstatSync(file);
    return true;
  } catch {
    return false;
  }
}

function walk(root: string): string[] {
  const files: string[] = [];
  const visit = (relative: string): void => {
    for (const entry of readdirSync(path.join(root, relative), { withFileTypes: true })) {
      const child = relative ? `${relative}/${entry.name}` : entry.name;
      if (!entry.isDirectory()) files.push(child);
      else if (!NOT_WALKED.has(entry.name)) visit(child);
    }
  };
  visit('');
  return files;
}

/**
 * The workbook's files: what git tracks (and with `includeUntracked` what it does not ignore) when `root`
 * is in a git checkout that tracks workbook.json, or else every file found walking the folder.
 */
export function workbookFiles(root: string, includeUntracked = false): WorkbookFiles {
  const tracked = git(['ls-files', '-z', '--cached'], root);
  if (tracked !== undefined && splitNul(tracked).includes('workbook.json')) {
    const untracked = splitNul(git(['ls-files', '-z', '--others', '--exclude-standard'], root) ?? '');
    const listed = includeUntracked ? [...splitNul(tracked), ...untracked] : splitNul(tracked);
    return {
      // A file deleted from the working tree is still in git's index until the deletion is committed.
      files: [...new Set(listed)].filter((file) => exists(path.join(root, file))).sort(),
      via: 'git',
      untracked: includeUntracked ? [] : untracked.filter((file) => !isLeftOut(file)).sort(),
    };
  }
  return { files: walk(root).sort(), via: 'walk', untracked: [] };
}

function checkDestination(source: string, destination: string): void {
  const inside = path.relative(source, destination);
  if (inside === '' || (!inside.startsWith('..') && !path.isAbsolute(inside))) {
    throw new StudentEditionError(`${destination} is inside the workbook: export to a folder outside it.`);
  }
  if (!existsSync(destination)) return;
  if (!statSync(destination).isDirectory()) throw new StudentEditionError(`${destination} is a file, not a folder.`);
  if (readdirSync(destination).length > 0) {
    throw new StudentEditionError(`${destination} is not empty: export into a new or empty folder.`);
  }
}

function markerText(source: string, via: WorkbookFiles['via']): string {
  const commit = via === 'git' ? git(['rev-parse', '--short', 'HEAD'], source)?.trim() : undefined;
  const dirty = via === 'git' && (git(['status', '--porcelain', '--untracked-files=no'], source) ?? '') !== '';
  const from = commit ? `commit ${commit}${dirty ? ' with uncommitted changes' : ''}` : 'a copy of the full workbook';
  return (
    `Student edition of the workbook, exported on ${new Date().toISOString().slice(0, 10)} from ${from}.\n` +
    `It has no reference solutions (solutions/) and no known-wrong variants (tests/*/*/wrong/): learners\n` +
    `grade their work with npm test. The maintainers' suite (npm run verify) needs the full workbook.\n`
  );
}

export interface StudentEdition {
  destination: string;
  /** Files written, the marker included. */
  files: number;
  via: WorkbookFiles['via'];
  /** Known-wrong variants left out. */
  variants: number;
  /** Untracked files that were not exported (from git, without includeUntracked). */
  untracked: string[];
}

/** Writes the student edition of the workbook at `source` into `destination`, a new or empty folder. */
export function exportStudentEdition(
  source: string,
  destination: string,
  options: { includeUntracked?: boolean } = {},
): StudentEdition {
  const from = realpathSync(path.resolve(source));
  if (!existsSync(path.join(from, 'workbook.json'))) {
    throw new StudentEditionError(`${from} is not a workbook: it has no workbook.json.`);
  }
  const to = path.resolve(destination);
  checkDestination(from, existsSync(to) ? realpathSync(to) : to);
  const found = workbookFiles(from, options.includeUntracked);
  const kept = found.files.filter((file) => !isLeftOut(file));
  mkdirSync(to, { recursive: true });
  for (const file of kept) {
    const target = path.join(to, file);
    mkdirSync(path.dirname(target), { recursive: true });
    const original = path.join(from, file);
    if (lstatSync(original).isSymbolicLink()) symlinkSync(readlinkSync(original), target);
    else copyFileSync(original, target);
  }
  writeFileSync(path.join(to, STUDENT_EDITION_MARKER), markerText(from, found.via));
  const variants = new Set(found.files.filter(isInVariantFolder).map((file) => file.split('/').slice(0, 5).join('/')))
    .size;
  return { destination: to, files: kept.length + 1, via: found.via, variants, untracked: found.untracked };
}

function main(argv: string[]): number {
  let parsed: { values: { 'include-untracked'?: boolean }; positionals: string[] };
  try {
    parsed = parseArgs({
      args: argv,
      options: { 'include-untracked': { type: 'boolean' } },
      strict: true,
      allowPositionals: true,
    });
  } catch (error) {
    console.error(`export-student-edition: ${(error as Error).message.split('\n')[0]!.replace(/\.$/, '')}. ${USAGE}`);
    return 2;
  }
  if (parsed.positionals.length !== 1) {
    console.error(`export-student-edition: name one folder to write to. ${USAGE}`);
    return 2;
  }
  let edition: StudentEdition;
  try {
    edition = exportStudentEdition(WORKBOOK_ROOT, parsed.positionals[0]!, {
      includeUntracked: parsed.values['include-untracked'],
    });
  } catch (error) {
    if (!(error instanceof StudentEditionError)) throw error;
    console.error(`export-student-edition: ${error.message}`);
    return 2;
  }
  const listedBy =
    edition.via === 'walk'
      ? 'every file in the folder: not a git checkout'
      : parsed.values['include-untracked']
        ? 'the files git tracks, and those it neither tracks nor ignores'
        : 'the files git tracks';
  console.log(
    `Wrote the student edition to ${edition.destination}: ${edition.files} files (${listedBy}), without ` +
      `solutions/, the ${edition.variants} known-wrong variants or .ci/; ${STUDENT_EDITION_MARKER} marks it.`,
  );
  if (edition.untracked.length > 0) {
    console.log(
      `Not exported: ${edition.untracked.length} untracked file(s) (git add them, or export with ` +
        `--include-untracked): ${edition.untracked.slice(0, UNTRACKED_NAMED).join(', ')}` +
        (edition.untracked.length > UNTRACKED_NAMED ? `, and ${edition.untracked.length - UNTRACKED_NAMED} more` : ''),
    );
  }
  console.log(`Next: cd ${edition.destination} && npm ci && npm test, then push it as the assignment's template.`);
  return 0;
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));
