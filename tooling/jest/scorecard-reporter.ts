/**
 * Jest reporter: prints the scorecard instead of Jest's own report and writes the results file. The
 * results file is first written when the run starts, with every exercise at 0 and not graded, so that an
 * autograder finds a complete file even if the run is killed before it ends.
 */
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import type { AggregatedResult, Reporter, TestContext } from '@jest/reporters';
import { gradingFingerprint } from '../fingerprint';
import { gradeResults, type GradeOptions, type Grades } from '../grades';
import { WORKBOOK_ROOT, type Exercise } from '../manifest';
import { toResultsFile, writeResultsFile } from '../results-file';
import { renderScorecard } from '../scorecard';
import { settings } from '../settings';
import { suiteOutput } from './suite-output';

/** Why an exercise's suite did not run: the run was limited to other exercises, or the suite is missing. */
function whyNotGraded(exercise: Exercise): string {
  const dir = path.join(WORKBOOK_ROOT, 'tests', exercise.id);
  const hasSuite = existsSync(dir) && readdirSync(dir).some((name) => name.endsWith('.test.ts'));
  return hasSuite
    ? 'not graded in this run (the run was limited to other exercises)'
    : `its grading suite is missing: no tests/${exercise.id}/*.test.ts. Restore the tests/ folder as it was released.`;
}

export default class ScorecardReporter implements Pick<Reporter, 'onRunStart' | 'onRunComplete' | 'getLastError'> {
  #error: Error | undefined;
  readonly #fingerprint = gradingFingerprint();

  readonly #settings = settings();

  #grade(suites: AggregatedResult['testResults'], options: GradeOptions): Grades {
    return gradeResults(this.#settings.manifest, suites, { catalogue: this.#settings.catalogue, ...options });
  }

  #write(grades: Grades, seconds: number): string {
    const { target, visibility, stdoutVisibility, machine, resultsFile } = this.#settings;
    return writeResultsFile(
      toResultsFile(grades, {
        targetLabel: target.label,
        executionSeconds: seconds,
        fingerprint: this.#fingerprint,
        visibility,
        stdoutVisibility,
        machine,
      }),
      resultsFile,
    );
  }

  onRunStart(): void {
    const unfinished = 'grading did not finish: the run was stopped or killed before this exercise was graded';
    this.#write(this.#grade([], { whyNotGraded: () => unfinished }), 0);
  }

  onRunComplete(_contexts: Set<TestContext>, aggregated: AggregatedResult): void {
    const grades = this.#grade(aggregated.testResults, { outputs: suiteOutput, whyNotGraded });
    const seconds = (Date.now() - aggregated.startTime) / 1000;
    const file = this.#write(grades, seconds);
    const color = process.env.FORCE_COLOR
      ? process.env.FORCE_COLOR !== '0'
      : Boolean(process.stdout.isTTY) && !process.env.NO_COLOR;
    process.stdout.write(
      renderScorecard(grades, {
        color,
        targetLabel: this.#settings.target.label,
        seconds,
        resultsFile: path.relative(process.cwd(), file),
        fingerprint: this.#fingerprint,
      }),
    );
    if (grades.strays.length > 0)
      this.#error = new Error(`${grades.strays.length} suite(s) belong to no exercise in workbook.json`);
  }

  getLastError(): Error | undefined {
    return this.#error;
  }
}
