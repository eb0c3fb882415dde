/**
 * Variants of the reference solutions, which prove the grading suites right in both directions:
 *
 * - known-wrong variants, in `tests/<exercise id>/wrong/<variant>/`: the solution with one realistic mistake,
 *   named in a `KNOWN-WRONG VARIANT:` comment; each must lose points;
 * - known-right variants, in `tests/<exercise id>/right/<variant>/`: a correct implementation of another
 *   design (often an adapter over a well-known npm package), described in a `KNOWN-RIGHT VARIANT:` comment;
 *   each must get full marks, so that no test ever rejects correct code.
 *
 * A variant's files overlay the exercise's reference solution. To grade them cheaply, variants of one kind
 * are assembled into "rounds": round k is a copy of `solutions/` with the k-th variant of every exercise
 * laid over it, so one grading pass checks many variants at once.
 */
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { WORKBOOK_ROOT, type Manifest } from './manifest';

export type VariantKind = 'wrong' | 'right';

/** The comment every variant carries, naming its mistake (wrong) or its design (right). */
export const VARIANT_MARKS: Record<VariantKind, string> = {
  wrong: 'KNOWN-WRONG VARIANT:',
  right: 'KNOWN-RIGHT VARIANT:',
};

/**
 * Whether a path relative to the workbook root (with forward slashes) is a variants folder,
 * `tests/<chapter>/<exercise>/wrong` or `…/right`, or inside one. Variants never decide a grade.
 */
export function isInVariantFolder(relative: string): boolean {
  return /^tests\/[^/]+\/[^/]+\/(?:wrong|right)(?:\/|$)/.test(relative);
}

export interface Variant {
  exerciseId: string;
  kind: VariantKind;
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

export function variantsOf(exerciseId: string, root = WORKBOOK_ROOT, kind: VariantKind = 'wrong'): Variant[] {
  const base = path.join(root, 'tests', exerciseId, kind);
  if (!existsSync(base)) return [];
  return readdirSync(base, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => ({ exerciseId, kind, name: entry.name, dir: path.join(base, entry.name) }))
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

/** Builds every round of variants of `kind` under `into` and returns them. */
export function assembleRounds(
  manifest: Manifest,
  into: string,
  only?: (variant: Variant) => boolean,
  kind: VariantKind = 'wrong',
): VariantRound[] {
  const perExercise = manifest.exercises.map((exercise) =>
    variantsOf(exercise.id, WORKBOOK_ROOT, kind).filter(only ?? (() => true)),
  );
  const count = Math.max(0, ...perExercise.map((variants) => variants.length));
  const rounds: VariantRound[] = [];
  for (let index = 0; index < count; index += 1) {
    const dir = path.join(into, `${kind}-round-${index + 1}`);
    mkdirSync(dir, { recursive: true });
    cpSync(path.join(WORKBOOK_ROOT, 'solutions'), dir, { recursive: true });
    const variants = perExercise.flatMap((list) => (list[index] ? [list[index]!] : []));
    for (const variant of variants) cpSync(variant.dir, path.join(dir, variant.exerciseId), { recursive: true });
    rounds.push({ index: index + 1, dir, variants });
  }
  return rounds;
}

/**
 * The suites a round needs: those of the exercises it has a variant of. The other exercises of the round
 * are the reference solutions, graded on their own elsewhere, so each variant costs one grading of its
 * own exercise, however many rounds there are.
 */
export function suitesOfRound(round: VariantRound): string[] {
  return [...new Set(round.variants.map((variant) => `tests/${variant.exerciseId}/`))];
}
