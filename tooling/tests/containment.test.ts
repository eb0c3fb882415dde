/**
 * The grader survives what learner code does: grades the fault tree (see fault-tree.ts) once and checks
 * every exercise's outcome, the scorecard, the results file, and that nothing is left running.
 */
import { randomBytes } from 'node:crypto';
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { gradingRun, type GradingRun } from '../grading-run';
import { WORKBOOK_ROOT } from '../manifest';
import type { ResultsFile } from '../results-file';
import {
  CRASH_LIMIT_SECONDS,
  FAULTS,
  HANG_LIMIT_SECONDS,
  LINGERS_AND_HANGS,
  POINTS,
  buildFaultTree,
  removeFaultTree,
} from './fault-tree';
import { PROCESS_CAP, WORKER_THREAD_CAP } from '../jest/containment';

const MARK = `workbook-fault-${randomBytes(6).toString('hex')}`;

/** Processes still alive that a fault started: MARK in their command line, or (unless `commandLineOnly`) environment. */
function leftovers(commandLineOnly = false): string[] {
  const found: string[] = [];
  for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    try {
      const status = readFileSync(`/proc/${pid}/stat`, 'latin1');
      if (status.slice(status.lastIndexOf(')') + 2).startsWith('Z')) continue;
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'latin1');
      const environ = readFileSync(`/proc/${pid}/environ`, 'latin1');
      if (cmdline.includes(MARK) || (!commandLineOnly && environ.includes(MARK)))
        found.push(`${pid}: ${cmdline.replace(/\0/g, ' ')}`);
    } catch {
      // Gone while we looked.
    }
  }
  return found;
}

/** The first live process whose command line and environment satisfy `matches`. */
function processWith(matches: (cmdline: string, environ: string) => boolean): string | undefined {
  return readdirSync('/proc').find((pid) => {
    try {
      return matches(readFileSync(`/proc/${pid}/cmdline`, 'latin1'), readFileSync(`/proc/${pid}/environ`, 'latin1'));
    } catch {
      return false;
    }
  });
}

/** Jest grading the workbook tree `root` (not a suite's process, which carries a tag). */
function isJestOf(root: string, cmdline: string, environ: string): boolean {
  return (
    cmdline.includes('jest') && environ.includes(`WORKBOOK_ROOT=${root}\0`) && !environ.includes('WORKBOOK_GRADED_TAG')
  );
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits until `condition` holds, checking every 50 ms; false if it still does not after `ms`. */
async function eventually(condition: () => boolean, ms: number): Promise<boolean> {
  for (const deadline = Date.now() + ms; !condition(); await sleep(50)) if (Date.now() > deadline) return false;
  return true;
}

const onLinux = process.platform === 'linux';
/** Where each run records the processes its graded code started (tooling/jest/containment.ts). */
const LEDGER_FOLDER = path.join(WORKBOOK_ROOT, '.workbook', 'runs');
const tree = buildFaultTree(path.join(WORKBOOK_ROOT, '.workbook'));
// Time limits as written, whatever this machine's CPU share: these tests check containment, not scaling.
const environment = { WORKBOOK_ROOT: tree, FAULT_MARK: MARK, WORKBOOK_TIME_SCALE: '1' };
let run: GradingRun;
let results: ResultsFile;

function exercise(name: string): ResultsFile['extra_data']['exercises'][number] {
  const found = results.extra_data.exercises.find((e) => e.id === `01-faults/${name}`);
  if (!found) throw new Error(`no exercise ${name} in the results file`);
  return found;
}

function outputOfRun(graded: GradingRun, name: string): string {
  return graded
    .results!.tests.filter((test) => test.name.startsWith(`01-faults/${name} › `))
    .map((test) => test.output)
    .join('\n');
}

function outputOf(name: string): string {
  return results.tests
    .filter((test) => test.name.startsWith(`01-faults/${name} › `))
    .map((test) => test.output)
    .join('\n');
}

beforeAll(async () => {
  run = await gradingRun(path.join(tree, 'solutions'), [], environment);
  if (!run.results) throw new Error(`no results file was written:\n${run.output}`);
  results = run.results;
}, 120_000);

afterAll(() => removeFaultTree(tree));

describe('a run over every fault', () => {
  test('writes a complete results file: every exercise, each with its points possible', () => {
    expect(results.extra_data.exercises.map((e) => e.id)).toEqual(FAULTS.map((f) => `01-faults/${f.name}`));
    expect(results.max_score).toBe(FAULTS.length * POINTS);
  });

  test('keeps every point of the healthy exercises, including one that prints a lot', () => {
    for (const name of ['healthy-a', 'healthy-b', 'noisy-passing', 'leaves-processes']) {
      expect([name, exercise(name).status, exercise(name).score]).toEqual([name, 'passed', POINTS]);
    }
  });

  test('ends with a failing exit code, well before the crashing exercises’ long limits', () => {
    expect(run.exitCode).not.toBe(0);
    expect(run.seconds).toBeLessThan(CRASH_LIMIT_SECONDS - 10);
  });

  test.each(['exit-at-import', 'exit-in-test', 'exit-from-timer'])('%s: an exit is "exited", never a pass', (name) => {
    expect(exercise(name)).toMatchObject({ status: 'exited', score: 0 });
    expect(outputOf(name)).toMatch(/called process\.exit\((0|1)\)/);
  });

  test.each(['busy-loop', 'atomics-wait', 'never-settles', 'child-never-exits'])(
    '%s: a hang is "hung" at the time limit',
    (name) => {
      expect(exercise(name)).toMatchObject({ status: 'hung', score: 0 });
      expect(outputOf(name)).toContain(`time limit of ${HANG_LIMIT_SECONDS} s`);
    },
  );

  test("jest-timeout: a test that outlives Jest's timeout is hung, in words a learner can act on", () => {
    expect(exercise('jest-timeout')).toMatchObject({ status: 'hung', score: 0 });
    expect(outputOf('jest-timeout')).toMatch(/did not finish within 0\.3 s/);
  });

  test.each([
    ['timer-throws', /nothing could catch it[\s\S]*boom from a timer/],
    ['unhandled-rejection', /nothing handled the rejection[\s\S]*nobody handles this/],
    ['worker-throws', /boom in a worker/],
    ['signals-itself', /killed by SIGTERM/],
  ])('%s: a crash is "crashed" at once, with the cause', (name, cause) => {
    expect(exercise(name)).toMatchObject({ status: 'crashed', score: 0 });
    expect(outputOf(name)).toMatch(cause);
  });

  test('process-bomb and worker-bomb: stopped at the cap, which the message names', () => {
    expect(exercise('process-bomb')).toMatchObject({ status: 'runaway', score: 0 });
    expect(outputOf('process-bomb')).toContain(`the cap is ${PROCESS_CAP}`);
    expect(exercise('worker-bomb')).toMatchObject({ status: 'runaway', score: 0 });
    expect(outputOf('worker-bomb')).toContain(`the cap is ${WORKER_THREAD_CAP}`);
  });

  test("shows a failing exercise's output, trimmed, and never a passing one's", () => {
    expect(exercise('noisy-failing')).toMatchObject({ status: 'failing', score: 0 });
    expect(outputOf('noisy-failing')).toContain('NOISY-FAILING line 100');
    expect(outputOf('noisy-failing')).not.toContain('NOISY-FAILING line 50\n');
    expect(run.output).toContain('NOISY-FAILING raw write');
    expect(run.output).not.toContain('NOISY-PASSING');
  });

  test('prints one scorecard row per exercise, in order, ungarbled', () => {
    const rows = run.output.split('\n').filter((line) => /^ {2}\S /.test(line));
    expect(rows.map((row) => row.trim().split(/\s+/)[1])).toEqual(FAULTS.map((f) => f.name));
    expect(run.output).toMatch(/Grading files fingerprint: [0-9a-f]{16}/);
  });

  (onLinux ? test : test.skip)('leaves nothing running: children, grandchildren, detached processes', () => {
    expect(leftovers()).toEqual([]);
  });
});

describe('a run that is stopped before it ends', () => {
  test('still leaves a complete results file and nothing running', async () => {
    // A roomy time limit: the hanging child must still be running when Jest is stopped, however slowly a
    // loaded machine starts the suite.
    const hanging = FAULTS.filter((f) => f.name === 'child-never-exits' || f.name === 'healthy-a').map((f) => ({
      ...f,
      timeLimitSeconds: CRASH_LIMIT_SECONDS,
    }));
    const small = buildFaultTree(path.join(WORKBOOK_ROOT, '.workbook'), hanging);
    try {
      const stopped = gradingRun(path.join(small, 'solutions'), [], { ...environment, WORKBOOK_ROOT: small });
      // Stop Jest (as a closing terminal would) once the hanging suite's child is running. On a loaded machine
      // starting Jest and the first suite can take tens of seconds: this only turns "never" into a failure.
      expect(await eventually(() => leftovers(true).length > 0, 60_000)).toBe(true);
      const jest = processWith((cmdline, environ) => isJestOf(small, cmdline, environ));
      expect(jest).toBeDefined();
      spawn('kill', ['-TERM', jest!]);
      const ended = await stopped;
      expect(ended.results?.extra_data.exercises.map((e) => e.status)).toEqual(['not graded', 'not graded']);
      expect(ended.results?.tests[0]?.output).toMatch(/grading did not finish/);
      expect(leftovers()).toEqual([]);
    } finally {
      removeFaultTree(small);
    }
  }, 120_000);
});

describe('a run with a time budget (WORKBOOK_TIME_BUDGET)', () => {
  test('stops grading when the budget runs out, with every exercise in the results file and nothing running', async () => {
    // A hang whose own limit is far longer than the budget, and a healthy exercise, graded side by side.
    const slow = FAULTS.filter((f) => ['healthy-a', 'never-settles'].includes(f.name)).map((f) => ({
      ...f,
      timeLimitSeconds: CRASH_LIMIT_SECONDS,
    }));
    const tree = buildFaultTree(path.join(WORKBOOK_ROOT, '.workbook'), slow);
    try {
      const budget = 10;
      const graded = await gradingRun(
        path.join(tree, 'solutions'),
        [],
        { ...environment, WORKBOOK_ROOT: tree, WORKBOOK_TIME_BUDGET: String(budget) },
        ['--maxWorkers=2'],
      );
      expect(graded.seconds).toBeLessThan(CRASH_LIMIT_SECONDS - 10);
      const statuses = graded.results!.extra_data.exercises.map((e) => [e.id, e.status]);
      expect(statuses).toEqual([
        ['01-faults/healthy-a', 'passed'],
        ['01-faults/never-settles', 'out of time'],
      ]);
      expect(outputOfRun(graded, 'never-settles')).toContain(
        `time budget of ${budget} s (WORKBOOK_TIME_BUDGET) ran out`,
      );
      expect(leftovers()).toEqual([]);
    } finally {
      removeFaultTree(tree);
    }
  }, 120_000);
});

describe('a run whose Jest is killed outright (SIGKILL), so none of its own clean-up runs', () => {
  const lingering = [LINGERS_AND_HANGS];
  /** Starts a grading of a tree whose suite leaves processes behind and hangs; resolves once they run. */
  async function startLingering(): Promise<{ tree: string; jest: string; run: Promise<GradingRun> }> {
    const tree = buildFaultTree(path.join(WORKBOOK_ROOT, '.workbook'), lingering);
    const run = gradingRun(path.join(tree, 'solutions'), [], { ...environment, WORKBOOK_ROOT: tree });
    // The suite leaves 3 processes marked in their command lines: wait until all run (a loaded machine is slow).
    expect(await eventually(() => leftovers(true).length >= 3, 60_000)).toBe(true);
    const jest = processWith((cmdline, environ) => isJestOf(tree, cmdline, environ));
    expect(jest).toBeDefined();
    // Containment finds a new process at its next scan (every 50 ms) and records it in the run's ledger; one
    // that escaped its parent with an empty environment can be found only from there. Kill Jest once all are in.
    const inLedger = (): boolean => {
      const ledger = readdirSync(LEDGER_FOLDER).find((name) => name.startsWith(`${jest}-`));
      const text = ledger ? readFileSync(path.join(LEDGER_FOLDER, ledger), 'utf8') : '';
      const recorded = new Set(text.split('\n').map((line) => line.split(' ')[0]));
      return leftovers(true).every((found) => recorded.has(found.split(':')[0]!));
    };
    expect(await eventually(inLedger, 10_000)).toBe(true);
    return { tree, jest: jest!, run };
  }

  (onLinux ? test : test.skip)(
    'the watchdog kills everything the graded code started within a few seconds',
    async () => {
      const { tree, jest, run } = await startLingering();
      try {
        process.kill(Number(jest), 'SIGKILL');
        await run;
        // Jest is gone; its watchdog must find and kill the suite's process and all three escapees.
        expect(await eventually(() => leftovers().length === 0, 5_000)).toBe(true);
      } finally {
        removeFaultTree(tree);
      }
    },
    120_000,
  );

  (onLinux ? test : test.skip)(
    'when the watchdog was killed too, the next run starts by killing what was left',
    async () => {
      const { tree, jest, run } = await startLingering();
      const next = buildFaultTree(
        path.join(WORKBOOK_ROOT, '.workbook'),
        FAULTS.filter((f) => f.name === 'healthy-a'),
      );
      try {
        const watchdog = processWith((cmdline) => cmdline.includes('watchdog.ts') && cmdline.includes(`\0${jest}-`));
        expect(watchdog).toBeDefined();
        process.kill(Number(watchdog), 'SIGKILL');
        process.kill(Number(jest), 'SIGKILL');
        await run;
        await sleep(500);
        expect(leftovers(true).length).toBeGreaterThanOrEqual(3);
        const graded = await gradingRun(path.join(next, 'solutions'), [], { ...environment, WORKBOOK_ROOT: next });
        expect(graded.results?.extra_data.exercises.map((e) => e.status)).toEqual(['passed']);
        expect(await eventually(() => leftovers().length === 0, 5_000)).toBe(true);
      } finally {
        removeFaultTree(tree);
        removeFaultTree(next);
      }
    },
    180_000,
  );
});
