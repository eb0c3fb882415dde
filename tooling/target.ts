/**
 * Which tree is graded. `WORKBOOK_TARGET` unset or `exercises` → `exercises/`; `solutions` → `solutions/`;
 * anything else is a path (absolute, or relative to the current directory) to a submission: the
 * `exercises/` folder itself, a copy of the whole repository, a folder holding one of those (as an
 * unpacked download does), or a `.zip` of any of them.
 *
 * A submission outside this repository is copied (or unpacked) into `.workbook/targets/` first, without
 * any `node_modules` it carries. Graded there, its bare imports (`zod`, or any other dependency of the
 * workbook) resolve exactly as they do in `exercises/`: in the suite, and in every worker thread and
 * child process it starts, whatever module system or loader they use.
 */
import { randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { unzipSync } from 'fflate';
import { isAlive } from './jest/process-table';
import type { Manifest } from './manifest';

/** This repository: where node_modules and tsconfig.json are, whichever workbook tree is graded. */
const REPOSITORY = path.resolve(__dirname, '..');
/** Where submissions from outside the repository are copied to be graded. */
export const STAGING_PARENT = path.join(REPOSITORY, '.workbook', 'targets');

export interface Target {
  /** What the learner or instructor asked for, for display. */
  label: string;
  /** Absolute path of the graded tree (laid out like exercises/). */
  dir: string;
  /** Where the exercises were found, when that is not `dir` (a copied or unpacked submission). */
  foundIn?: string;
}

/** A target that cannot be graded; the message is one line that says what was expected. */
export class TargetError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TargetError';
  }
}

const NOT_COPIED = new Set(['node_modules', '.git', '__MACOSX']);

/** Whether `dir` directly holds at least one exercise folder, `<chapter>/<exercise>/`. */
function holdsExercises(dir: string, manifest: Manifest): boolean {
  return manifest.exercises.some((exercise) => isDirectory(path.join(dir, exercise.id)));
}

function isDirectory(file: string): boolean {
  try {
    return statSync(file).isDirectory();
  } catch {
    return false;
  }
}

/**
 * The exercises tree in `dir`: `dir` itself, its `exercises/`, or the same inside the only folder `dir`
 * holds (a download or an archive often wraps everything in one folder), looking two folders deep at most.
 */
export function locateExercises(dir: string, manifest: Manifest, depth = 2): string | undefined {
  if (holdsExercises(dir, manifest)) return dir;
  const inner = path.join(dir, 'exercises');
  if (holdsExercises(inner, manifest)) return inner;
  if (depth === 0) return undefined;
  const folders = readdirSync(dir, { withFileTypes: true }).filter(
    (entry) => entry.isDirectory() && !entry.name.startsWith('.') && !NOT_COPIED.has(entry.name),
  );
  return folders.length === 1 ? locateExercises(path.join(dir, folders[0]!.name), manifest, depth - 1) : undefined;
}

function isInside(file: string, dir: string): boolean {
  const relative = path.relative(dir, file);
  return relative === '' || (!relative.startsWith('..') && !path.isAbsolute(relative));
}

/** A fresh staging folder for this process; removed when the process exits. Stale ones of dead runs go too. */
function stagingFolder(): string {
  mkdirSync(STAGING_PARENT, { recursive: true });
  for (const name of readdirSync(STAGING_PARENT)) {
    const pid = Number(name.split('-')[0]);
    if (Number.isInteger(pid) && pid > 0 && !isAlive(pid))
      rmSync(path.join(STAGING_PARENT, name), { recursive: true, force: true });
  }
  const dir = path.join(STAGING_PARENT, `${process.pid}-${randomBytes(4).toString('hex')}`);
  mkdirSync(dir);
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Unpacks a .zip into `into`, leaving out node_modules and macOS metadata, and refusing entries that escape it. */
function unpack(zipFile: string, into: string, label: string): void {
  let entries: Record<string, Uint8Array>;
  try {
    entries = unzipSync(readFileSync(zipFile), {
      filter: (entry) => !entry.name.split('/').some((part) => NOT_COPIED.has(part)),
    });
  } catch (error) {
    throw new TargetError(
      `WORKBOOK_TARGET=${label}: ${zipFile} is not a readable .zip archive (${(error as Error).message}).`,
    );
  }
  for (const [name, data] of Object.entries(entries)) {
    const file = path.resolve(into, name);
    if (!isInside(file, into))
      throw new TargetError(`WORKBOOK_TARGET=${label}: ${zipFile} has an entry outside its own folder: ${name}.`);
    if (name.endsWith('/')) {
      mkdirSync(file, { recursive: true });
    } else {
      mkdirSync(path.dirname(file), { recursive: true });
      writeFileSync(file, data);
    }
  }
}

function noExercises(label: string, where: string): TargetError {
  return new TargetError(
    `WORKBOOK_TARGET=${label}: found no exercises in ${where}. Expected the exercises/ folder (chapter folders ` +
      `such as 01-why-concurrency/ holding exercise folders such as concurrent-server/), or a copy of the ` +
      `repository or a .zip that contains one.`,
  );
}

/**
 * Resolves `WORKBOOK_TARGET` to the tree to grade, copying or unpacking a submission from outside the
 * repository into a staging folder. Throws a TargetError, in one line, when there is nothing to grade.
 */
export function resolveTarget(value: string | undefined, manifest: Manifest, root: string): Target {
  const label = value?.trim() || 'exercises';
  const wanted =
    label === 'exercises' || label === 'solutions' ? path.join(root, label) : path.resolve(process.cwd(), label);
  if (!existsSync(wanted)) {
    throw new TargetError(
      `WORKBOOK_TARGET=${label}: ${wanted} does not exist. Use "exercises", "solutions", or the path of a submission: its exercises/ folder, a copy of the repository, or a .zip of either.`,
    );
  }
  if (!isDirectory(wanted)) {
    if (!wanted.toLowerCase().endsWith('.zip')) {
      throw new TargetError(`WORKBOOK_TARGET=${label}: ${wanted} is a file; expected a folder or a .zip archive.`);
    }
    const staged = stagingFolder();
    unpack(wanted, staged, label);
    const found = locateExercises(staged, manifest);
    if (!found) throw noExercises(label, wanted);
    return { label, dir: found, foundIn: wanted };
  }
  const found = locateExercises(wanted, manifest);
  if (!found) throw noExercises(label, wanted);
  if (isInside(found, REPOSITORY)) return { label, dir: found };
  const staged = stagingFolder();
  cpSync(found, staged, { recursive: true, filter: (source) => !NOT_COPIED.has(path.basename(source)) });
  return { label, dir: staged, foundIn: found };
}
