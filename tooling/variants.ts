/**
 * Known-wrong variants: each lives in `tests/<exercise id>/wrong/<variant>/` as files that overlay the
 * exercise's reference solution, and names the mistake it represents in a `KNOWN-WRONG VARIANT:` comment.
 * To grade them cheaply, variants are assembled into "rounds": round k is a copy of `solutions/` with
 * the k-th variant of every exercise laid over it, so one grading pass checks many variants at once.
 */
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { WORKBOOK_ROOT, type Manifest } from './manifest';

export const VARIANT_MARK = 'KNOWN-WRONG VARIANT:';

/**
 * Whether a path relative to the workbook root (with forward slashes) is a variants folder,
 * `tests/<chapter>/<exercise>/wrong`, or inside one. Variants never decide a grade.
 */
export function isInVariantFolder(relative: string): boolean {
  return /^tests\/[^/]+\/[^/]+\/wrong(?:\/|$)/.test(relative);
}

export interface Variant {
  exerciseId: string;
  name: string;
  /** Directory holding the overlay files. */
  dir: string;
}

export interface VariantRound {
  index: number;
  /** The assembled tree to grade. */
  dir: string;
  variants: Variant[];
}

export function variantsOf(exerciseId: string, root = WORKBOOK_ROOT): Variant[] {
  const base = path.join(root, 'tests', exerciseId, 'wrong');
  if (!existsSync(base)) return [];
  return readdirSync(base, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => ({ exerciseId, name: entry.name, dir: path.join(base, entry.name) }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

/**
 * A fresh directory for assembled rounds, inside the workbook (so the trees resolve its node_modules and
 * tsconfig) and private to this process (so concurrent runs never share one). Remove it when done.
 */
export function roundsDirectory(): string {
  const parent = path.join(WORKBOOK_ROOT, '.workbook');
  mkdirSync(parent, { recursive: true });
  return mkdtempSync(path.join(parent, 'variants-'));
}

export function removeRounds(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** Builds every round under `into` and returns them. */
export function assembleRounds(manifest: Manifest, into: string, only?: (variant: Variant) => boolean): VariantRound[] {
  const perExercise = manifest.exercises.map((exercise) => variantsOf(exercise.id).filter(only ?? (() => true)));
  const count = Math.max(0, ...perExercise.map((variants) => variants.length));
  const rounds: VariantRound[] = [];
  for (let index = 0; index < count; index += 1) {
    const dir = path.join(into, `round-${index + 1}`);
    mkdirSync(dir, { recursive: true });
    cpSync(path.join(WORKBOOK_ROOT, 'solutions'), dir, { recursive: true });
    const variants = perExercise.flatMap((list) => (list[index] ? [list[index]!] : []));
    for (const variant of variants) cpSync(variant.dir, path.join(dir, variant.exerciseId), { recursive: true });
    rounds.push({ index: index + 1, dir, variants });
  }
  return rounds;
}
