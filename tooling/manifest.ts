/**
 * The workbook manifest (`workbook.json`): the single, ordered source of chapters, exercises, points,
 * time limits and staged hints. Everything else (grader, scorecard, hints, verify) reads it from here.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';

/**
 * The folder holding workbook.json, tests/, exercises/ and solutions/: this repository, unless
 * WORKBOOK_ROOT names another tree laid out the same way (the grader's own tests grade throwaway trees).
 */
export const WORKBOOK_ROOT = path.resolve(process.env.WORKBOOK_ROOT || path.join(__dirname, '..'));
export const MANIFEST_FILE = path.join(WORKBOOK_ROOT, 'workbook.json');

/** Default wall-clock limit for grading one exercise, when the manifest gives none. */
export const DEFAULT_TIME_LIMIT_SECONDS = 20;

/** Who may see a test on Gradescope, and when (its `visibility` field). */
export const VISIBILITIES = ['visible', 'hidden', 'after_due_date', 'after_published'] as const;
export type Visibility = (typeof VISIBILITIES)[number];

const slug = z
  .string()
  .regex(/^[a-z0-9]+(-[a-z0-9]+)*$/, 'must be lower-case words joined by dashes, like "run-command"');

const exerciseSchema = z.strictObject({
  name: slug,
  title: z.string().min(1),
  points: z.number().int().positive(),
  timeLimitSeconds: z.number().positive().max(300).optional(),
  hints: z.array(z.string().min(1)).min(1, 'give at least one hint'),
  /** Gradescope visibility of this exercise's tests; unset: WORKBOOK_VISIBILITY, else visible. */
  visibility: z.enum(VISIBILITIES).optional(),
});

const chapterSchema = z.strictObject({
  id: z.string().regex(/^\d\d-[a-z0-9]+(-[a-z0-9]+)*$/, 'must look like "02-processes"'),
  title: z.string().min(1),
  exercises: z.array(exerciseSchema).min(1),
});

const manifestSchema = z.strictObject({
  title: z.string().min(1),
  chapters: z.array(chapterSchema).min(1),
});

export type ManifestFile = z.infer<typeof manifestSchema>;

/** One exercise, with everything derived from its place in the manifest. */
export interface Exercise {
  /** `<chapter folder>/<exercise>`, e.g. `02-processes/run-command`. */
  id: string;
  chapterId: string;
  chapterTitle: string;
  name: string;
  title: string;
  points: number;
  timeLimitSeconds: number;
  hints: string[];
  visibility?: Visibility;
}

export interface Chapter {
  id: string;
  title: string;
  exercises: Exercise[];
}

export interface Manifest {
  title: string;
  chapters: Chapter[];
  exercises: Exercise[];
}

export class ManifestError extends Error {
  constructor(file: string, detail: string) {
    super(`The workbook manifest ${path.relative(process.cwd(), file) || file} is invalid:\n${detail}`);
    this.name = 'ManifestError';
  }
}

/** Validates raw manifest data; throws a ManifestError naming the file and each bad field. */
export function parseManifest(data: unknown, file = MANIFEST_FILE): Manifest {
  const parsed = manifestSchema.safeParse(data);
  if (!parsed.success) throw new ManifestError(file, z.prettifyError(parsed.error));
  const chapters = parsed.data.chapters.map((chapter) => ({
    id: chapter.id,
    title: chapter.title,
    exercises: chapter.exercises.map((exercise) => ({
      id: `${chapter.id}/${exercise.name}`,
      chapterId: chapter.id,
      chapterTitle: chapter.title,
      name: exercise.name,
      title: exercise.title,
      points: exercise.points,
      timeLimitSeconds: exercise.timeLimitSeconds ?? DEFAULT_TIME_LIMIT_SECONDS,
      hints: exercise.hints,
      ...(exercise.visibility && { visibility: exercise.visibility }),
    })),
  }));
  const exercises = chapters.flatMap((chapter) => chapter.exercises);
  const seen = new Set<string>();
  for (const { id } of [...chapters, ...exercises]) {
    if (seen.has(id)) throw new ManifestError(file, `✖ "${id}" is listed twice`);
    seen.add(id);
  }
  return { title: parsed.data.title, chapters, exercises };
}

export function loadManifest(file = MANIFEST_FILE): Manifest {
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new ManifestError(file, `✖ ${(error as Error).message}`);
  }
  return parseManifest(data, file);
}

/**
 * The exercise a grading suite belongs to: `tests/<chapter>/<exercise>/<anything>.test.ts`.
 * Returns undefined for a path outside that layout.
 */
export function exerciseIdOfTestFile(testPath: string, root = WORKBOOK_ROOT): string | undefined {
  const parts = path.relative(path.join(root, 'tests'), testPath).split(path.sep);
  if (parts.length !== 3 || parts[0] === '..' || !parts[2]!.endsWith('.test.ts')) return undefined;
  return `${parts[0]}/${parts[1]}`;
}

/** Finds an exercise by its id, or by its bare name when that is unambiguous. */
export function findExercise(manifest: Manifest, idOrName: string): Exercise | undefined {
  const wanted = idOrName.replace(/\/+$/, '');
  const exact = manifest.exercises.find((exercise) => exercise.id === wanted);
  if (exact) return exact;
  const byName = manifest.exercises.filter((exercise) => exercise.name === wanted);
  return byName.length === 1 ? byName[0] : undefined;
}

/**
 * The exercises that `--only` arguments name: each an exercise id, an exercise name, or a chapter id (all
 * its exercises), in manifest order and without repeats. Throws on an argument that matches nothing.
 */
export function selectExercises(manifest: Manifest, wanted: string[]): Exercise[] {
  const ids = new Set<string>();
  for (const item of wanted) {
    const chapter = manifest.exercises.filter((exercise) => exercise.id.startsWith(`${item.replace(/\/+$/, '')}/`));
    const found = chapter.length > 0 ? chapter : [findExercise(manifest, item)].filter((e) => e !== undefined);
    if (found.length === 0) throw new Error(`no exercise or chapter "${item}"`);
    for (const exercise of found) ids.add(exercise.id);
  }
  return manifest.exercises.filter((exercise) => ids.has(exercise.id));
}
