/**
 * Which tree is graded. `WORKBOOK_TARGET` unset or `exercises` → `exercises/`; `solutions` →
 * `solutions/`; anything else is a path (absolute, or relative to the current directory) to a tree laid
 * out like `exercises/`, such as a student's submission.
 */
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { WORKBOOK_ROOT } from './manifest';

export interface Target {
  /** What the learner or instructor asked for, for display. */
  label: string;
  /** Absolute path of the graded tree. */
  dir: string;
}

export function resolveTarget(value = process.env.WORKBOOK_TARGET): Target {
  const wanted = value?.trim() || 'exercises';
  const dir =
    wanted === 'exercises' || wanted === 'solutions'
      ? path.join(WORKBOOK_ROOT, wanted)
      : path.resolve(process.cwd(), wanted);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new Error(
      `WORKBOOK_TARGET=${wanted}: ${dir} is not a directory. Use "exercises", "solutions" or the path of a tree laid out like exercises/.`,
    );
  }
  return { label: wanted, dir };
}
