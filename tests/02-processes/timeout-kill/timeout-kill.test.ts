import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runWithTimeout, type TimedRun, type TimeoutOptions } from '@target/02-processes/timeout-kill';
import { inWords, scaled, track, waitUntil, within } from '../../support/deadline';
import { isAlive, killAll, processesMentioning } from '../../support/processes';

/*
 * How these tests know what must be dead: the fixture programs (fixtures/) append to a report file the pid of
 * every process they are made of, once its signal handlers are installed ('ready'), and when they get SIGTERM.
 * A run only counts if every process was ready before its time limit ran out (see runFixture).
 */

const node = process.execPath;
// A test may repeat its run with longer time limits on a busy machine (see runFixture).
jest.setTimeout(scaled(25_000));
const fixture = (name: string): string => path.join(__dirname, 'fixtures', name);
/**
 * A time limit a run must never reach in its test. It is behaviour, passed to the code under test, but it is
 * stretched like the test's deadlines (8 s each, stretched) so that it stays well beyond them: else, on a slow
 * machine, a run resolving only when its limit runs out would still beat the deadline, and a command the test
 * takes its time to finish could be timed out first.
 */
const LONG_MS = scaled(20_000);

/** One line of a fixture's report file (see fixtures/report.js). */
interface Report {
  role: string;
  pid: number;
  event: 'ready' | 'sigterm';
  /** Date.now() when it was reported. */
  at: number;
  obeysSigterm?: boolean;
}

const roleNames: Record<string, string> = {
  command: 'command',
  'grandchild-obeying': 'grandchild that obeys SIGTERM',
  'grandchild-ignoring': 'grandchild that ignores SIGTERM',
};

/** Every test gets its own temporary directory, and every process it starts has that directory in its arguments. */
let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'timeout-kill-'));
});
afterEach(async () => {
  // Whatever a wrong solution leaked: every process with this test's directory in its command line. That is
  // every fixture process (their report file is one of their arguments), also one killed or left behind before
  // it could report, and never a stranger that was given the pid of a process that ended long ago.
  killAll(processesMentioning(dir));
  await rm(dir, { recursive: true, force: true });
});

function readReports(file: string): Report[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Report);
}

/**
 * What went wrong with processes of the group that are still alive when they should not be, and what to do,
 * from what each reported: whether it obeys SIGTERM, and whether it got SIGTERM.
 */
function explain(alive: Report[], reports: Report[]): string {
  const gotSigterm = (report: Report): boolean =>
    reports.some((other) => other.pid === report.pid && other.event === 'sigterm');
  const advice = new Set<string>();
  const described = alive.map((report) => {
    const name = `the ${roleNames[report.role] ?? report.role} (pid ${report.pid})`;
    if (!gotSigterm(report)) {
      advice.add(
        'Signalling the child (child.kill) reaches the command alone: start it in a process group of its own ' +
          '(spawn with detached: true) and signal the whole group, process.kill(-child.pid, signal).',
      );
      return report.obeysSigterm
        ? `${name}, which exits on SIGTERM, was never sent SIGTERM`
        : `${name}, which ignores SIGTERM, was sent neither SIGTERM nor SIGKILL`;
    }
    if (report.obeysSigterm) {
      advice.add('Wait until no process of the group is alive before resolving.');
      return `${name} had got SIGTERM and was still stopping`;
    }
    advice.add(
      'If any process of the group is still alive graceMs after SIGTERM, send SIGKILL to the whole group, and ' +
        'resolve only once none is alive.',
    );
    return `${name} got SIGTERM, ignored it, and was never sent SIGKILL`;
  });
  return `${described.join('; ')}. ${[...advice].join(' ')}`;
}

/**
 * Waits for a run to settle, with a deadline of several seconds past its time limit and grace period. If it
 * never settles, the failure says which processes of the group are still running, or that none is.
 */
async function settled(pending: Promise<TimedRun>, options: TimeoutOptions, reportFile: string): Promise<TimedRun> {
  const limitMs = options.timeoutMs + options.graceMs + 3000;
  const never = `never settled (${limitMs} ms)`;
  try {
    return await within(pending, limitMs, never);
  } catch (error) {
    if (!(error instanceof Error) || error.message !== never) throw error;
    const reports = readReports(reportFile);
    const alive = reports.filter((report) => report.event === 'ready' && isAlive(report.pid));
    const waited = inWords(scaled(limitMs));
    assert.fail(
      alive.length > 0
        ? `runWithTimeout (timeoutMs ${options.timeoutMs}, graceMs ${options.graceMs}) had not resolved after ` +
            `${waited}, and processes of the command's group were still running: ${explain(alive, reports)}`
        : `runWithTimeout had not resolved after ${waited}, although every process the command started is ` +
            `dead. Some may be zombies: a grandchild killed after its parent died is adopted by PID 1, which may ` +
            `reap it late or never, and until then it stays in the group, so process.kill(-pgid, 0) keeps ` +
            `succeeding. A zombie is dead: look at the state of each member of the group (the field after the ` +
            `name in /proc/<pid>/stat, or ps -o stat=) instead of waiting for the group to disappear.`,
    );
  }
}

interface Outcome {
  result: TimedRun;
  /** The processes that had reported ready and were still alive the moment runWithTimeout resolved. */
  aliveAtEnd: Report[];
  /** The report file of the conclusive run. */
  reportFile: string;
  elapsedMs: number;
  /**
   * Whether a timer of timeoutMs + graceMs, started by the test just before the call, had fired by the time
   * runWithTimeout resolved: see the grace-period test.
   */
  graceOver: boolean;
  options: TimeoutOptions;
}

/**
 * How many times longer than asked the time limits of fixture runs are made, so that the fixtures can start
 * before their time runs out. It grows with what the runs show: how long the fixtures took to be ready, and
 * every run in which they were not ready in time (a busy machine).
 */
let slowness = 1;

/**
 * Runs `node <fixture> <report file> command …args` under runWithTimeout until a run is conclusive: every
 * process in `roles` reported ready (its signal handlers installed) before the time limit ran out. A run where
 * the limit ran out first, because the programs started slowly on a busy machine, proves nothing about the
 * code under test; it is repeated with a longer limit.
 */
async function runFixture(name: string, args: string[], roles: string[], options: TimeoutOptions): Promise<Outcome> {
  for (let attempt = 1; attempt <= 4; attempt += 1) {
    const reportFile = path.join(dir, `report-${attempt}.jsonl`);
    const attemptOptions = { ...options, timeoutMs: Math.round(options.timeoutMs * slowness) };
    const calledAt = Date.now();
    let graceOver = false;
    // Started before the call, so it counts from the same event-loop clock as the code's own timers, and fires
    // before any of them that are due at the same moment.
    const graceClock = setTimeout(() => (graceOver = true), attemptOptions.timeoutMs + attemptOptions.graceMs);
    const started = performance.now();
    const result = await settled(
      runWithTimeout(node, [fixture(name), reportFile, 'command', ...args], attemptOptions),
      attemptOptions,
      reportFile,
    ).finally(() => clearTimeout(graceClock));
    const elapsedMs = performance.now() - started;
    // Right away, before anything else can run: which processes are still alive now that it has resolved?
    const reports = readReports(reportFile);
    const aliveAtEnd = reports.filter((report) => report.event === 'ready' && isAlive(report.pid));
    const ready = roles.map((role) => reports.find((report) => report.role === role && report.event === 'ready'));
    if (ready.every((report) => report !== undefined)) {
      const readyAfterMs = Math.max(...ready.map((report) => report!.at)) - calledAt;
      slowness = Math.max(slowness, (1.5 * readyAfterMs) / options.timeoutMs);
      return { result, aliveAtEnd, reportFile, elapsedMs, graceOver, options: attemptOptions };
    }
    assert.ok(
      result.timedOut,
      `the test program ${name} ended by itself before it was ready, and runWithTimeout did not report a ` +
        `timeout: ${JSON.stringify(result)}`,
    );
    slowness *= 2;
  }
  assert.fail(
    `the test program ${name} was never ready before its time limit ran out, even with timeoutMs ` +
      `${Math.round((options.timeoutMs * slowness) / 2)}. Is runWithTimeout using timeoutMs as milliseconds? ` +
      `(Or is the machine extremely busy?)`,
  );
}

describe('runWithTimeout()', () => {
  test('resolves with the exit code and stdout of a command that finishes in time, without signalling it', async () => {
    const script = "process.stdout.write('all done'); process.exitCode = 3";
    const result = await within(
      // Its time limit stays well beyond the test's deadline on any machine: resolving when it runs out is wrong.
      runWithTimeout(node, ['-e', script, dir], { timeoutMs: LONG_MS, graceMs: 1000 }),
      8000,
      `runWithTimeout did not resolve for a command that exits at once (with timeoutMs ${inWords(LONG_MS)}). ` +
        "Resolve as soon as the command has finished ('close'), without waiting for its time limit.",
    );
    assert.deepEqual(
      { ...result },
      { timedOut: false, code: 3, signal: null, stdout: 'all done' },
      `expected { timedOut: false, code: 3, signal: null, stdout: 'all done' }, got ${JSON.stringify(result)}`,
    );
  });

  test('stops a command that obeys SIGTERM with SIGTERM alone, keeping its clean-up output', async () => {
    const { result, options } = await runFixture('obeys-sigterm.js', [], ['command'], {
      timeoutMs: 300,
      graceMs: 10_000,
    });
    const expected = { timedOut: true, code: 0, signal: null, stdout: 'command working\ncommand cleaned up\n' };
    if (result.signal === 'SIGKILL') {
      assert.fail(
        `the command was killed by SIGKILL, though it exits by itself on SIGTERM and had a grace period of ` +
          `${options.graceMs} ms to do so; its clean-up never ran (stdout: ${JSON.stringify(result.stdout)}). ` +
          `Send SIGTERM first, and SIGKILL only to what is still alive once graceMs has passed.`,
      );
    }
    assert.deepEqual(
      { ...result },
      expected,
      `the command handles SIGTERM by writing "cleaned up" and exiting with code 0; expected ` +
        `${JSON.stringify(expected)}, got ${JSON.stringify(result)}`,
    );
  });

  test('sends SIGKILL to a command that ignores SIGTERM, but only after the grace period', async () => {
    const { result, elapsedMs, graceOver, options } = await runFixture('ignores-sigterm.js', [], ['command'], {
      timeoutMs: 300,
      graceMs: 400,
    });
    assert.deepEqual(
      { timedOut: result.timedOut, code: result.code, signal: result.signal },
      { timedOut: true, code: null, signal: 'SIGKILL' },
      `a command that ignores SIGTERM can only be stopped by SIGKILL: expected timedOut true, code null, signal ` +
        `SIGKILL; got ${JSON.stringify(result)}`,
    );
    // Correct code SIGKILLs no earlier than timeoutMs + graceMs after the call; kills-at-once SIGKILLs at timeoutMs
    // and resolves a few ms later, graceMs (400 ms) before that. Slowness only ever delays correct code, but the
    // wall clock alone cannot say when "the call" was: Node's timers count from the event loop's clock, read when
    // the turn began, and on a throttled CPU (a cgroup quota stops the process for up to a 100 ms period) the
    // call can come that much later in the turn, so correct timers fire "early" by the wall clock. Two witnesses,
    // either of which correct code always satisfies: graceClock (a timer of timeoutMs + graceMs started just before
    // the call, on the same clock: correct code's SIGKILL timer fires in its turn or later, and the run resolves
    // only after the kill is seen, a later event) and the wall clock with 20 ms to spare (for code that times
    // with Date.now()). kills-at-once satisfies neither unless its SIGKILL took 380 ms to be reaped.
    const earliest = options.timeoutMs + options.graceMs;
    assert.ok(
      graceOver || elapsedMs >= earliest - 20,
      `runWithTimeout resolved ${Math.round(elapsedMs)} ms after the call, but the command may run for timeoutMs ` +
        `(${options.timeoutMs}) and then has graceMs (${options.graceMs}) to stop after SIGTERM: it cannot have been ` +
        `SIGKILLed before ${earliest} ms. Send SIGKILL only once the grace period has passed.`,
    );
  });

  test('leaves no process of the group alive, grandchildren that ignore SIGTERM included', async () => {
    const { result, aliveAtEnd, reportFile } = await runFixture(
      'starts-grandchildren.js',
      [],
      ['command', 'grandchild-obeying', 'grandchild-ignoring'],
      { timeoutMs: 600, graceMs: 400 },
    );
    assert.equal(
      result.timedOut,
      true,
      `the command runs until it is stopped, yet timedOut is false: ${JSON.stringify(result)}`,
    );
    if (aliveAtEnd.length > 0) {
      // The verdict is in. Only so that the message can say what each one had been sent: give their SIGTERM
      // handlers a moment to report.
      const gotSigterm = (): boolean =>
        aliveAtEnd.every((alive) =>
          readReports(reportFile).some((report) => report.pid === alive.pid && report.event === 'sigterm'),
        );
      await waitUntil(gotSigterm, 1000, '').catch(() => {});
      assert.fail(
        `runWithTimeout resolved while processes of the command's group were still running: ` +
          `${explain(aliveAtEnd, readReports(reportFile))} The command ending is not the end of its group.`,
      );
    }
  });

  test('times each run on its own: one run timing out does not affect another', async () => {
    const reportFile = path.join(dir, 'report-told.jsonl');
    const short = runWithTimeout(node, ['-e', 'setInterval(() => {}, 1000)', dir], { timeoutMs: 300, graceMs: 5000 });
    const long = track(
      runWithTimeout(node, [fixture('finishes-when-told.js'), reportFile, 'command'], {
        timeoutMs: LONG_MS,
        graceMs: 5000,
      }),
    );
    const first = await within(short, 8000, 'the run with timeoutMs 300 never resolved.');
    assert.equal(first.timedOut, true, `the run with timeoutMs 300 should have timed out: ${JSON.stringify(first)}`);
    await waitUntil(
      () => long.settled() || readReports(reportFile).some((report) => report.event === 'ready'),
      8000,
      `the second command (timeoutMs ${inWords(LONG_MS)}) never started.`,
    );
    const [told] = readReports(reportFile);
    if (told) process.kill(told.pid, 'SIGUSR2');
    const second = await within(
      long.promise,
      8000,
      `the run with timeoutMs ${inWords(LONG_MS)} never resolved after its command finished.`,
    );
    assert.deepEqual(
      { ...second },
      { timedOut: false, code: 0, signal: null, stdout: 'finished\n' },
      `a run with timeoutMs ${inWords(LONG_MS)}, started together with one of timeoutMs 300 and finished (when the test told it) ` +
        `after that one had timed out, should report { timedOut: false, code: 0, signal: null, stdout: ` +
        `'finished\\n' }, but got ${JSON.stringify(second)}. Keep the timer, the child and the timedOut flag ` +
        `of each run inside that call, not in variables shared by all runs.`,
    );
  });
});
