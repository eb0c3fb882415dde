/**
 * Which edition of the workbook a tree is. The full workbook has the reference solutions (solutions/) and
 * the known-wrong variants (tests/<exercise id>/wrong/); the student edition, written by
 * `npm run export-student-edition` (tooling/student-edition.ts), has neither, and carries a marker file at
 * its root saying so. The maintainers' scripts that need the full workbook (verify, repeat, bench) stop
 * with one line instead of failing on the missing files.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { WORKBOOK_ROOT } from './manifest';

/** The student edition's marker, at the root: a short note on where the edition came from. */
export const STUDENT_EDITION_MARKER = '.student-edition';

export function isStudentEdition(root = WORKBOOK_ROOT): boolean {
  return existsSync(path.join(root, STUDENT_EDITION_MARKER)) && !existsSync(path.join(root, 'solutions'));
}

/**
 * Why `what` (e.g. "npm run verify (the maintainers' suite)") cannot run in this tree, in one line, or
 * undefined when this is the full workbook.
 */
export function fullWorkbookMissing(what: string, root = WORKBOOK_ROOT): string | undefined {
  if (existsSync(path.join(root, 'solutions'))) return undefined;
  return isStudentEdition(root)
    ? `This is the student edition of the workbook (no solutions/, no known-wrong variants): ${what} needs the full workbook.`
    : `${what} needs the full workbook: ${path.join(root, 'solutions')} is missing.`;
}
