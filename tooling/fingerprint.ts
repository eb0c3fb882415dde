/**
 * Tamper evidence: a fingerprint of everything that decides a grade (the grading suites, the grader,
 * the manifest, the package's scripts and the GitHub Classroom workflow). The known-wrong variants in
 * tests/ are left out: they never decide a grade, and the student edition does not have them, so its
 * fingerprint is the full workbook's. The scorecard and results file carry it; an instructor compares it,
 * or the files behind it, with the released workbook:
 *
 *   npm run fingerprint                          the fingerprint of this copy
 *   npm run fingerprint -- --list                one line per file: hash and path (save it at release)
 *   npm run fingerprint -- --compare <released>  differences from a released copy: a folder, a saved
 *                                                --list file, or a fingerprint; exit 1 if any
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { WORKBOOK_ROOT } from './manifest';
import { isInVariantFolder } from './variants';

/** What decides a grade, relative to the workbook root. Folders are taken whole. */
export const GRADING_FILES = [
  'tests',
  'tooling',
  'jest.config.js',
  'workbook.json',
  'package.json',
  '.github/workflows/classroom.yml',
];
const SKIPPED_NAMES = new Set(['node_modules', '.DS_Store']);

/** Hash of each grading file, by path relative to the root (with forward slashes), sorted by path. */
export function fileHashes(root = WORKBOOK_ROOT): Map<string, string> {
  const hashes = new Map<string, string>();
  const visit = (relative: string): void => {
    const full = path.join(root, relative);
    const posix = relative.split(path.sep).join('/');
    if (!existsSync(full) || isInVariantFolder(posix)) return;
    if (statSync(full).isDirectory()) {
      for (const name of readdirSync(full).sort()) if (!SKIPPED_NAMES.has(name)) visit(path.join(relative, name));
      return;
    }
    hashes.set(posix, createHash('sha256').update(readFileSync(full)).digest('hex'));
  };
  for (const entry of GRADING_FILES) visit(entry);
  return new Map([...hashes].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** One line per file, `<sha256>  <path>`, the format `sha256sum` prints. */
export function listing(hashes: Map<string, string>): string {
  return [...hashes].map(([file, hash]) => `${hash}  ${file}\n`).join('');
}

/** The fingerprint: a short hash of the listing. */
export function fingerprintOf(hashes: Map<string, string>): string {
  return createHash('sha256').update(listing(hashes)).digest('hex').slice(0, 16);
}

export function gradingFingerprint(root = WORKBOOK_ROOT): string {
  return fingerprintOf(fileHashes(root));
}

export function parseListing(text: string): Map<string, string> {
  const hashes = new Map<string, string>();
  for (const line of text.split('\n')) {
    const match = /^([0-9a-f]{64}) {2}(.+)$/.exec(line.trim());
    if (match) hashes.set(match[2]!, match[1]!);
  }
  return hashes;
}

/** Lines describing how `actual` differs from `released`: files added, removed or changed. */
export function differences(released: Map<string, string>, actual: Map<string, string>): string[] {
  const lines: string[] = [];
  for (const [file, hash] of actual) {
    if (!released.has(file)) lines.push(`added    ${file}`);
    else if (released.get(file) !== hash) lines.push(`changed  ${file}`);
  }
  for (const file of released.keys()) if (!actual.has(file)) lines.push(`removed  ${file}`);
  return lines;
}

function main(): number {
  const { values, positionals } = parseArgs({
    options: { list: { type: 'boolean', default: false }, compare: { type: 'string' } },
    allowPositionals: true,
  });
  const root = path.resolve(positionals[0] ?? WORKBOOK_ROOT);
  const actual = fileHashes(root);
  if (values.list) {
    process.stdout.write(listing(actual));
    return 0;
  }
  if (values.compare === undefined) {
    console.log(fingerprintOf(actual));
    return 0;
  }
  const reference = values.compare;
  if (/^[0-9a-f]{16}$/.test(reference)) {
    const same = fingerprintOf(actual) === reference;
    console.log(
      same
        ? `The grading files match fingerprint ${reference}.`
        : `The grading files differ: fingerprint ${fingerprintOf(actual)}, expected ${reference}. ` +
            `Compare with the released folder or a saved --list file to see which files.`,
    );
    return same ? 0 : 1;
  }
  if (!existsSync(reference)) throw new Error(`--compare ${reference}: no such folder or file`);
  const released = statSync(reference).isDirectory()
    ? fileHashes(path.resolve(reference))
    : parseListing(readFileSync(reference, 'utf8'));
  const changed = differences(released, actual);
  if (changed.length === 0) {
    console.log(`The grading files match the released ones (fingerprint ${fingerprintOf(actual)}).`);
    return 0;
  }
  console.log(`${changed.length} grading file(s) differ from the released ones:`);
  for (const line of changed) console.log(`  ${line}`);
  return 1;
}

if (require.main === module) process.exitCode = main();
