/**
 * Jest reporter: prints the scorecard instead of Jest's own report and writes the results file.
 */
import path from 'node:path';
import type { AggregatedResult, Reporter, TestContext } from '@jest/reporters';
import { gradeResults } from '../grades';
import { loadManifest } from '../manifest';
import { toResultsFile, writeResultsFile } from '../results-file';
import { renderScorecard } from '../scorecard';
import { resolveTarget } from '../target';

export default class ScorecardReporter implements Pick<Reporter, 'onRunComplete' | 'getLastError'> {
  #error: Error | undefined;

  onRunComplete(_contexts: Set<TestContext>, aggregated: AggregatedResult): void {
    const manifest = loadManifest();
    const target = resolveTarget();
    const grades = gradeResults(manifest, aggregated.testResults);
    const seconds = (Date.now() - aggregated.startTime) / 1000;
    const file = writeResultsFile(toResultsFile(grades, target.label, seconds));
    const color = process.env.FORCE_COLOR
      ? process.env.FORCE_COLOR !== '0'
      : Boolean(process.stdout.isTTY) && !process.env.NO_COLOR;
    process.stdout.write(
      renderScorecard(grades, {
        color,
        targetLabel: target.label,
        seconds,
        resultsFile: path.relative(process.cwd(), file),
      }),
    );
    if (grades.strays.length > 0)
      this.#error = new Error(`${grades.strays.length} suite(s) belong to no exercise in workbook.json`);
  }

  getLastError(): Error | undefined {
    return this.#error;
  }
}
