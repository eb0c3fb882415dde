/**
 * `npm run mutation -- <exercise or chapter id>... [--concurrency N] [--survivors]`: mutation testing of the reference
 * solutions with StrykerJS. For each exercise, Stryker makes many small changes ("mutants") to the solution's
 * files, one at a time, and grades each with the exercise's own suite (its command runner runs exactly what
 * `npm test -- <id>` runs). A mutant the suite rejects is killed; one that keeps full marks survived: either
 * the suite misses a mistake, or the change makes no difference a caller could see (an equivalent mutant,
 * marked in the solution with a `// Stryker disable next-line <mutator>: <why>` comment).
 *
 * Prints, per exercise, the mutants and the mutation score (killed or timed out, over all that ran), then
 * every survivor with its place and its change; the full reports are in .workbook/mutation/<id>.json.
 *
 * `--survivors` grades again only the lines where the last report has survivors (after new tests were
 * written for them) and updates that report, instead of running every mutant again. It refuses when the
 * solution has changed since the report, whose places would no longer match.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadManifest, selectExercises } from './manifest';

const REPOSITORY = path.resolve(__dirname, '..');
const REPORTS = path.join(REPOSITORY, '.workbook', 'mutation');
const STRYKER_BIN = path.join(path.dirname(require.resolve('@stryker-mutator/core/package.json')), 'bin', 'stryker.js');

/** What of mutation-testing-report-schema's report this script reads. */
interface Report {
  files: Record<string, { source: string; mutants: Mutant[] }>;
}

interface Mutant {
  mutatorName: string;
  replacement?: string;
  status: string;
  statusReason?: string;
  location: { start: { line: number; column: number }; end: { line: number; column: number } };
}

const SURVIVED = new Set(['Survived', 'NoCoverage']);

export interface MutationScore {
  exerciseId: string;
  mutants: number;
  killed: number;
  survived: number;
  /** Mutants Stryker was told to leave alone (equivalent ones), and those that do not compile. */
  ignored: number;
  score: number;
  survivors: string[];
}

/** Counts a report's mutants; the score is Stryker's: killed and timed out over every mutant that ran. */
export function scoreOf(exerciseId: string, report: Report): MutationScore {
  const mutants = Object.entries(report.files).flatMap(([file, { mutants: list }]) =>
    list.map((mutant) => ({ file, ...mutant })),
  );
  const killed = mutants.filter((m) => m.status === 'Killed' || m.status === 'Timeout');
  const survived = mutants.filter((m) => SURVIVED.has(m.status));
  const ran = killed.length + survived.length;
  return {
    exerciseId,
    mutants: mutants.length,
    killed: killed.length,
    survived: survived.length,
    ignored: mutants.length - ran,
    score: ran === 0 ? 100 : Math.round((killed.length / ran) * 1000) / 10,
    survivors: survived.map(
      (m) =>
        `${path.relative(REPOSITORY, path.resolve(REPOSITORY, m.file))}:${m.location.start.line}:${m.location.start.column} ` +
        `${m.mutatorName}${m.replacement === undefined ? '' : ` → ${JSON.stringify(m.replacement.slice(0, 80))}`}`,
    ),
  };
}

const reportName = (exerciseId: string, suffix: string) =>
  path.join(REPORTS, `${exerciseId.replace('/', '--')}${suffix}`);

/** The lines of the report's survivors, as Stryker `mutate` ranges (`file:first-last`). */
function survivorRanges(report: Report): string[] {
  const ranges: string[] = [];
  for (const [file, { source, mutants }] of Object.entries(report.files)) {
    if (readFileSync(path.resolve(REPOSITORY, file), 'utf8') !== source) {
      throw new Error(`${file} has changed since the last full run; run it again without --survivors`);
    }
    for (const m of mutants.filter((mutant) => SURVIVED.has(mutant.status))) {
      ranges.push(`${file}:${m.location.start.line}-${m.location.end.line}`);
    }
  }
  return [...new Set(ranges)];
}

const keyOf = (file: string, m: Mutant) =>
  `${file}:${m.location.start.line}:${m.location.start.column}:${m.mutatorName}:${m.replacement ?? ''}`;

/** The earlier report, with the statuses of the mutants graded again taken from the new one. */
function mergeReports(earlier: Report, again: Report): Report {
  const statuses = new Map<string, Mutant>();
  for (const [file, { mutants }] of Object.entries(again.files)) {
    for (const m of mutants) statuses.set(keyOf(file, m), m);
  }
  for (const [file, entry] of Object.entries(earlier.files)) {
    entry.mutants = entry.mutants.map((m) => {
      const regraded = statuses.get(keyOf(file, m));
      return regraded ? { ...m, status: regraded.status, statusReason: regraded.statusReason } : m;
    });
  }
  return earlier;
}

/** Runs Stryker on one exercise's reference solution (or on its last survivors' lines); returns its score. */
function mutate(exerciseId: string, concurrency: number, survivorsOnly: boolean): MutationScore {
  mkdirSync(REPORTS, { recursive: true });
  const reportFile = reportName(exerciseId, '.json');
  const earlier = survivorsOnly ? (JSON.parse(readFileSync(reportFile, 'utf8')) as Report) : undefined;
  const ranges = earlier ? survivorRanges(earlier) : [`solutions/${exerciseId}/**/*.ts`];
  if (earlier && ranges.length === 0) return scoreOf(exerciseId, earlier);
  const runReport = earlier ? reportName(exerciseId, '.survivors.json') : reportFile;
  const configFile = reportName(exerciseId, '.config.json');
  const config = {
    testRunner: 'command',
    // Exactly what `npm test -- <id>` runs, against the (mutated) reference solutions.
    commandRunner: { command: `node node_modules/jest/bin/jest.js --ci tests/${exerciseId}/` },
    mutate: ranges,
    checkers: ['typescript'],
    tsconfigFile: 'tsconfig.json',
    reporters: ['json', 'progress'],
    jsonReporter: { fileName: path.relative(REPOSITORY, runReport) },
    concurrency,
    coverageAnalysis: 'off',
    // A mutant that hangs is stopped by the grader's own time limit first; Stryker's is a back-stop.
    timeoutMS: 60_000,
    // One folder per exercise, so that two exercises can be mutated at once.
    tempDirName: `.workbook/stryker-tmp/${exerciseId.replace('/', '--')}`,
    ignorePatterns: [
      '/chapters',
      '/labs',
      '/bench',
      '/exercises',
      '/.workbook',
      '/.github',
      '/gradescope',
      '/coverage',
      '/tests/*/*/wrong',
      '/tests/*/*/right',
    ],
    cleanTempDir: true,
  };
  writeFileSync(configFile, JSON.stringify(config, null, 2));
  rmSync(runReport, { force: true });
  const run = spawnSync(process.execPath, [STRYKER_BIN, 'run', configFile], {
    cwd: REPOSITORY,
    stdio: 'inherit',
    // One failing test kills a mutant: the rest of its suite is skipped.
    env: { ...process.env, WORKBOOK_TARGET: 'solutions', WORKBOOK_STOP_AT_FIRST_FAILURE: '1', FORCE_COLOR: '0' },
  });
  if (run.status !== 0) throw new Error(`Stryker failed on ${exerciseId} (exit code ${run.status})`);
  const report = JSON.parse(readFileSync(runReport, 'utf8')) as Report;
  if (!earlier) return scoreOf(exerciseId, report);
  const merged = mergeReports(earlier, report);
  writeFileSync(reportFile, JSON.stringify(merged));
  rmSync(runReport, { force: true });
  return scoreOf(exerciseId, merged);
}

function main(): number {
  const { values, positionals } = parseArgs({
    options: {
      concurrency: { type: 'string', default: String(availableParallelism()) },
      survivors: { type: 'boolean', default: false },
    },
    allowPositionals: true,
    strict: true,
  });
  if (positionals.length === 0) {
    console.error('Usage: npm run mutation -- <exercise or chapter id>... [--concurrency N] [--survivors]');
    return 2;
  }
  const exercises = selectExercises(loadManifest(), positionals);
  const scores = exercises.map((exercise) => mutate(exercise.id, Number(values.concurrency), values.survivors));
  console.log('\nexercise                                      mutants  killed  survived  ignored  score');
  for (const s of scores) {
    console.log(
      `${s.exerciseId.padEnd(44)} ${String(s.mutants).padStart(8)} ${String(s.killed).padStart(7)} ` +
        `${String(s.survived).padStart(9)} ${String(s.ignored).padStart(8)} ${s.score.toFixed(1).padStart(5)}%`,
    );
  }
  for (const s of scores.filter((score) => score.survivors.length > 0)) {
    console.log(`\nSurvived in ${s.exerciseId}:`);
    for (const survivor of s.survivors) console.log(`  ${survivor}`);
  }
  return 0;
}

if (require.main === module) {
  try {
    process.exitCode = main();
  } catch (error) {
    console.error(`mutation: ${(error as Error).message}`);
    process.exitCode = 2;
  }
}
