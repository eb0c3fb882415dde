/**
 * The test catalogue, `tests/catalogue.json`: every exercise's test titles, in the order Jest runs them.
 * It gives every submission the same rows, numbered the same way, whatever its code does: a suite that
 * crashes after two tests still has a row for each of its tests. `npm run catalogue` writes it from a
 * grading of the reference solutions; `npm run verify` fails when it no longer matches the suites.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { exerciseIdOfTestFile, ManifestError, WORKBOOK_ROOT } from './manifest';

export type Catalogue = Record<string, string[]>;

export const CATALOGUE_FILE = path.join(WORKBOOK_ROOT, 'tests', 'catalogue.json');

const catalogueSchema = z.record(z.string(), z.array(z.string().min(1)));

/** The catalogue; empty when the file does not exist (a workbook without one grades the tests that ran). */
export function loadCatalogue(file = CATALOGUE_FILE): Catalogue {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return {};
  }
  let parsed;
  try {
    parsed = catalogueSchema.safeParse(JSON.parse(text));
  } catch (error) {
    throw new ManifestError(file, `✖ ${(error as Error).message}`);
  }
  if (!parsed.success) throw new ManifestError(file, z.prettifyError(parsed.error));
  return parsed.data;
}

/** Jest's `--json` output, as far as the catalogue needs it. */
interface JestJson {
  testResults: {
    name: string;
    status: string;
    message: string;
    assertionResults: { ancestorTitles: string[]; title: string; status: string }[];
  }[];
}

/** The catalogue of a Jest `--json` report, by exercise id, in manifest order. */
export function catalogueOf(report: JestJson, exerciseIds: string[]): Catalogue {
  const byId = new Map<string, string[]>();
  for (const suite of report.testResults) {
    const id = exerciseIdOfTestFile(suite.name);
    if (id !== undefined)
      byId.set(
        id,
        suite.assertionResults.map((test) => [...test.ancestorTitles, test.title].join(' › ')),
      );
  }
  return Object.fromEntries(exerciseIds.filter((id) => byId.has(id)).map((id) => [id, byId.get(id)!]));
}

/**
 * Grades the reference solutions of the given exercises and returns the catalogue of what ran (with
 * `only`, just those exercises' suites are graded).
 */
export async function buildCatalogue(exerciseIds: string[], only = false): Promise<Catalogue> {
  const { gradingRun } = await import('./grading-run');
  const scratch = mkdtempSync(path.join(tmpdir(), 'workbook-catalogue-'));
  try {
    const jsonFile = path.join(scratch, 'jest.json');
    // Whether the solutions are at full marks is for verify to say: an out-of-date catalogue costs them points.
    const patterns = only ? exerciseIds.map((id) => `tests/${id}/`) : [];
    const run = await gradingRun('solutions', patterns, {}, ['--json', `--outputFile=${jsonFile}`]);
    let report: JestJson;
    try {
      report = JSON.parse(readFileSync(jsonFile, 'utf8')) as JestJson;
    } catch {
      throw new Error(`Jest wrote no report:\n${run.output}`);
    }
    const failed = report.testResults.filter((suite) => suite.status !== 'passed');
    if (failed.length > 0)
      throw new Error(
        `these suites failed on the solutions:\n${failed.map((s) => `${s.name}: ${s.message}`).join('\n')}`,
      );
    return catalogueOf(report, exerciseIds);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

export function writeCatalogue(catalogue: Catalogue, file = CATALOGUE_FILE): void {
  writeFileSync(file, `${JSON.stringify(catalogue, null, 2)}\n`);
}
