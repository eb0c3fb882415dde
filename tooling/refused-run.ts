/**
 * What a grading run that cannot start does: says why in one line (no stack trace), and leaves no results
 * file that could pass for this run's grade. When the submission is at fault (no exercises in it, an
 * unreadable archive), it writes a complete results file with every exercise at 0 and the reason, so an
 * autograder shows the student what was expected; when the set-up is at fault (a corrupt workbook.json,
 * an unwritable results path, a bad setting), it removes any results file left from an earlier run.
 */
import { rmSync } from 'node:fs';
import { loadCatalogue } from './catalogue';
import { gradingFingerprint } from './fingerprint';
import { gradeResults } from './grades';
import { loadManifest, ManifestError } from './manifest';
import { toResultsFile, writeResultsFile } from './results-file';
import { resultsFilePath, SettingsError, writableResultsFile } from './settings';
import { TargetError } from './target';

export function refuseRun(error: unknown, environment: NodeJS.ProcessEnv = process.env): never {
  if (!(error instanceof TargetError || error instanceof ManifestError || error instanceof SettingsError)) throw error;
  console.error(`\n${error.message}\n`);
  if (error instanceof TargetError) {
    const grades = gradeResults(loadManifest(), [], {
      catalogue: loadCatalogue(),
      whyNotGraded: () => `not graded: ${error.message}`,
    });
    const results = toResultsFile(grades, {
      targetLabel: environment.WORKBOOK_TARGET ?? 'exercises',
      executionSeconds: 0,
      fingerprint: gradingFingerprint(),
    });
    writeResultsFile(
      { ...results, output: `${error.message}\n\n${results.output}` },
      writableResultsFile(environment.WORKBOOK_RESULTS),
    );
  } else {
    try {
      rmSync(resultsFilePath(environment.WORKBOOK_RESULTS), { force: true });
    } catch {
      // Not ours to remove (a folder, or no permission): the message above already says what is wrong.
    }
  }
  process.exit(2);
}
