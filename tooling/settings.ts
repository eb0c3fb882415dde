/**
 * The settings of one grading run, read once in the Jest process (by jest.config.js) and shared by the
 * runner and the reporter, which run in the same process: the manifest, the graded tree, where the results
 * file goes, what students may see of it on Gradescope, and the machine's share of CPU.
 *
 * Environment variables (the only place the grader reads them):
 *   WORKBOOK_TARGET             the tree to grade (see target.ts)
 *   WORKBOOK_RESULTS            the results file; default .workbook/results.json
 *   WORKBOOK_VISIBILITY         Gradescope visibility of every test, unless workbook.json sets an
 *                               exercise's own: visible (default), hidden, after_due_date, after_published
 *   WORKBOOK_STDOUT_VISIBILITY  Gradescope visibility of the scorecard printed on stdout; default visible
 *   WORKBOOK_TIME_SCALE         stretch every time limit by this factor instead of the computed one
 *   WORKBOOK_STOP_AT_FIRST_FAILURE  1: skip each exercise's tests after its first failure (mutation
 *                               testing sets it; read by jest/graded-environment.ts in each suite)
 *   WORKBOOK_TIME_BUDGET        seconds the whole run may take; exercises not graded by then are "not
 *                               graded", so an autograder's own timeout never ends a run without results
 *
 * Graded processes receive WORKBOOK_TIME_SCALE in their environment (grader-environment.ts), for the
 * suites' own deadlines (tests/support/deadline.ts).
 */
import { closeSync, mkdirSync, openSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { loadCatalogue, type Catalogue } from './catalogue';
import { machineShare, type MachineShare } from './machine';
import { loadManifest, WORKBOOK_ROOT, VISIBILITIES, type Manifest, type Visibility } from './manifest';
import { resolveTarget, type Target } from './target';

export const DEFAULT_RESULTS_FILE = path.join(WORKBOOK_ROOT, '.workbook', 'results.json');

export interface Settings {
  manifest: Manifest;
  catalogue: Catalogue;
  target: Target;
  resultsFile: string;
  visibility: Visibility | undefined;
  stdoutVisibility: Visibility;
  machine: MachineShare;
  timeBudgetSeconds: number | undefined;
}

/** A setting that the instructor or the set-up got wrong (not the submission): nothing can be graded. */
export class SettingsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SettingsError';
  }
}

function visibilityFrom(name: string, value: string | undefined): Visibility | undefined {
  if (value === undefined || value === '') return undefined;
  const parsed = z.enum(VISIBILITIES).safeParse(value);
  if (!parsed.success) throw new SettingsError(`${name}=${value}: use one of ${VISIBILITIES.join(', ')}.`);
  return parsed.data;
}

function timeScaleFrom(value: string | undefined): number | undefined {
  if (value === undefined || value === '') return undefined;
  const scale = Number(value);
  if (!Number.isFinite(scale) || scale < 1 || scale > 100) {
    throw new SettingsError(`WORKBOOK_TIME_SCALE=${value}: use a number from 1 to 100, such as 2 on a slow machine.`);
  }
  return scale;
}

/** Where the results file goes: WORKBOOK_RESULTS, else .workbook/results.json. */
export function resultsFilePath(value = process.env.WORKBOOK_RESULTS): string {
  return value ? path.resolve(value) : DEFAULT_RESULTS_FILE;
}

function timeBudgetFrom(value: string | undefined): number | undefined {
  if (value === undefined || value === '') return undefined;
  const seconds = Number(value);
  if (!Number.isFinite(seconds) || seconds < 10) {
    throw new SettingsError(`WORKBOOK_TIME_BUDGET=${value}: use a number of seconds, at least 10, such as 540.`);
  }
  return seconds;
}

/** The results file's path, checked writable now so that a bad path stops the run before any grading. */
export function writableResultsFile(value = process.env.WORKBOOK_RESULTS): string {
  const file = resultsFilePath(value);
  try {
    mkdirSync(path.dirname(file), { recursive: true });
    closeSync(openSync(file, 'a'));
  } catch (error) {
    const { code } = error as NodeJS.ErrnoException;
    throw new SettingsError(
      `WORKBOOK_RESULTS=${value ?? ''}: cannot write the results file ${file} (${code ?? String(error)}). Name a file in a folder you can write to.`,
    );
  }
  return file;
}

/** Reads every setting from the environment; throws a ManifestError, TargetError or SettingsError. */
export function readSettings(environment: NodeJS.ProcessEnv = process.env): Settings {
  const resultsFile = writableResultsFile(environment.WORKBOOK_RESULTS);
  const manifest = loadManifest();
  const catalogue = loadCatalogue();
  const visibility = visibilityFrom('WORKBOOK_VISIBILITY', environment.WORKBOOK_VISIBILITY);
  const stdoutVisibility =
    visibilityFrom('WORKBOOK_STDOUT_VISIBILITY', environment.WORKBOOK_STDOUT_VISIBILITY) ?? 'visible';
  const machine = machineShare(undefined, timeScaleFrom(environment.WORKBOOK_TIME_SCALE));
  const timeBudgetSeconds = timeBudgetFrom(environment.WORKBOOK_TIME_BUDGET);
  const target = resolveTarget(environment.WORKBOOK_TARGET, manifest, WORKBOOK_ROOT);
  return { manifest, catalogue, target, resultsFile, visibility, stdoutVisibility, machine, timeBudgetSeconds };
}

let current: Settings | undefined;

/** This run's settings: read by the first caller (jest.config.js), then the same object for every other. */
export function settings(): Settings {
  current ??= readSettings();
  return current;
}
