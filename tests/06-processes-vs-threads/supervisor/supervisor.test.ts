import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  supervise,
  type RestartEvent,
  type SuperviseOptions,
  type Supervisor,
} from '@target/06-processes-vs-threads/supervisor';
import { inWords, scaled, waitUntil, within } from '../../support/deadline';
import { isAlive, killAll, processesMentioning } from '../../support/processes';

/*
 * How these tests know what the children do: every child runs fixtures/child.js with this test's report file as
 * its argument, and appends a line to it when it is ready (its signal handlers installed), when it gets SIGTERM,
 * and so on (see the fixture). Crashes are SIGKILLs sent by the test. No test decides anything by how long it
 * waited: deadlines only turn "never happened" into a failure. The back-off is checked by the order of timers in
 * this process (the supervisor runs in it): a timer the test arms in the loop turn in which the supervisor saw
 * the exit, due well before the back-off ends, must run while the slot is still empty; and by a lower bound (the
 * new child began at least the back-off after the old one was killed), which a busy machine only makes easier.
 */

// Deadlines below are several seconds each; a test may wait for more than one. Every deadline here is stretched on
// a machine with less CPU (tests/support/deadline.ts); backoffMs and stopGraceMs, given to the supervisor, are not.
jest.setTimeout(scaled(30_000));
const script = path.join(__dirname, 'fixtures', 'child.js');
/** How long something the test waits for may take before it counts as "never" (stretched where it is used). */
const NEVER_MS = 8000;
/** NEVER_MS as stretched on this machine, in words, for messages. */
const NEVER = inWords(scaled(NEVER_MS));

interface Report {
  pid: number;
  event: 'ready' | 'sigterm' | 'stubborn' | 'sigterm-ignored';
  /** When the process began: performance.timeOrigin, wall-clock ms. */
  startedAt: number;
  at: number;
}

type Logged = { type: 'restart'; event: RestartEvent } | { type: 'gave-up'; error: unknown };

let dir: string;
let reportFile: string;
const supervisors: Supervisor[] = [];

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'supervisor-'));
  reportFile = path.join(dir, 'reports.jsonl');
});
afterEach(async () => {
  for (const supervisor of supervisors.splice(0)) {
    await within(
      Promise.resolve().then(() => supervisor.stop()),
      5000,
      'stop() never settled',
    ).catch(() => {});
  }
  // Whatever a wrong solution leaked: every child has this test's directory in its command line.
  killAll(processesMentioning(dir));
  await rm(dir, { recursive: true, force: true });
});

/** Starts the supervisor under test with the fixture as its script, and logs its events in order. */
function start(options: Omit<SuperviseOptions, 'script' | 'args'>): { supervisor: Supervisor; log: Logged[] } {
  const supervisor = supervise({ script, args: [reportFile], ...options });
  supervisors.push(supervisor);
  const log: Logged[] = [];
  supervisor.on('restart', (event) => log.push({ type: 'restart', event: { ...event } }));
  supervisor.on('gave-up', (error) => log.push({ type: 'gave-up', error }));
  return { supervisor, log };
}

function readReports(): Report[] {
  if (!existsSync(reportFile)) return [];
  return readFileSync(reportFile, 'utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Report);
}

function reportOf(pid: number, event: Report['event']): Report | undefined {
  return readReports().find((report) => report.pid === pid && report.event === event);
}

/** Waits until the child `pid` has reported `event`, and returns that report. */
async function reported(pid: number, event: Report['event'], message: string): Promise<Report> {
  await waitUntil(() => reportOf(pid, event) !== undefined, NEVER_MS, message);
  return reportOf(pid, event)!;
}

/** Waits until each pid is a child running the script with its arguments, its signal handlers installed. */
async function allReady(pids: number[]): Promise<void> {
  for (const pid of pids) {
    await reported(
      pid,
      'ready',
      `the child with pid ${pid} never started the script: a supervisor must start each child running ` +
        `options.script with options.args (fork(script, args)), and pids() must list the pids of those children.`,
    );
  }
}

/** pids() must be `count` distinct pids right after supervise() returns. */
function firstPids(supervisor: Supervisor, count: number): number[] {
  const pids = supervisor.pids();
  assert.ok(
    Array.isArray(pids) &&
      pids.length === count &&
      pids.every((pid) => typeof pid === 'number') &&
      new Set(pids).size === count,
    `right after supervise({ count: ${count} }) returned, pids() should list ${count} distinct pids, one per ` +
      `slot, but it returned ${JSON.stringify(pids)}. Start every child before supervise() returns.`,
  );
  return pids as number[];
}

/** Waits until the log has more than `index` entries, and returns entry `index`. */
async function entry(log: Logged[], index: number, message: string): Promise<Logged> {
  await waitUntil(() => log.length > index, NEVER_MS, message);
  return log[index]!;
}

function describeEvent(logged: Logged): string {
  return logged.type === 'restart' ? `'restart' ${JSON.stringify(logged.event)}` : `'gave-up'`;
}

test('runs count children and replaces the one that crashed, leaving the others untouched', async () => {
  const { supervisor, log } = start({ count: 3, backoffMs: 50, maxRestarts: 5 });
  const [first, crashed, third] = firstPids(supervisor, 3) as [number, number, number];
  await allReady([first, crashed, third]);

  process.kill(crashed, 'SIGKILL');
  await waitUntil(
    () => log.some((logged) => logged.type === 'restart' && logged.event.slot === 1),
    NEVER_MS,
    `the child in slot 1 (pid ${crashed}) was killed, and no 'restart' event for slot 1 came within ` +
      `${NEVER}. On a child's 'exit', wait ` +
      `out the back-off, start a new child in the same slot and emit 'restart' { slot, previousPid, pid }.`,
  );
  const restart = log.find((logged) => logged.type === 'restart' && logged.event.slot === 1) as Logged & {
    type: 'restart';
  };
  assert.equal(
    restart.event.previousPid,
    crashed,
    `the 'restart' event for slot 1 should name the child that exited as previousPid (${crashed}), but it ` +
      `said ${restart.event.previousPid}.`,
  );
  await allReady([restart.event.pid]);

  const others = log.filter((logged) => !(logged.type === 'restart' && logged.event.slot === 1));
  const now = supervisor.pids();
  const disturbed = [
    { slot: 0, pid: first },
    { slot: 2, pid: third },
  ].filter(({ slot, pid }) => now[slot] !== pid || !isAlive(pid));
  assert.ok(
    others.length === 0 && disturbed.length === 0,
    `only the child in slot 1 crashed, but ${
      disturbed.length > 0
        ? disturbed
            .map(
              ({ slot, pid }) =>
                `the child in slot ${slot} (pid ${pid}) was ${isAlive(pid) ? 'replaced' : now[slot] === pid ? 'stopped' : 'stopped and replaced'}`,
            )
            .join(' and ')
        : `the supervisor also reported ${others.map(describeEvent).join(', ')}`
    }. A crash concerns its own slot alone: restarting every child when one dies throws away the work of ` +
      `healthy ones and turns one fault into many. Restart only the slot whose child exited.`,
  );
  assert.equal(
    now[1],
    restart.event.pid,
    `after slot 1 was restarted, pids()[1] should be the new child's pid ${restart.event.pid}, but pids() is ` +
      `${JSON.stringify(now)}.`,
  );
});

/**
 * Waits, one event-loop turn at a time (setImmediate), until `changed()` holds, so that it is seen in the very
 * loop turn in which the supervisor handled the child's exit: the loop's clock, from which every setTimeout
 * counts, has not moved since the supervisor armed its back-off timer.
 */
async function nextTurnWhere(changed: () => boolean, message: string): Promise<void> {
  const give = Date.now() + scaled(NEVER_MS);
  while (!changed()) {
    if (Date.now() > give) throw new Error(message);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

test('waits backoffMs before restarting a crashed child, and twice as long before restarting it again', async () => {
  const backoffMs = 150;
  const { supervisor, log } = start({ count: 1, backoffMs, maxRestarts: 5 });
  let [pid] = firstPids(supervisor, 1) as [number];
  await allReady([pid]);

  for (const restart of [1, 2]) {
    const promised = backoffMs * 2 ** (restart - 1);
    const which = restart === 1 ? 'first restart' : 'second restart of the same slot';
    const doubling =
      restart === 1
        ? 'Restarting at once turns a child that crashes on start into a tight crash loop that burns a core: ' +
          "on 'exit', wait backoffMs (setTimeout) before starting the replacement."
        : 'The back-off doubles with each restart of a slot: backoffMs × 2^(k−1) before its k-th restart. Count ' +
          'the restarts of each slot.';
    const killedAt = Date.now();
    process.kill(pid, 'SIGKILL');
    await nextTurnWhere(
      () => supervisor.pids()[0] !== pid,
      `the only child (pid ${pid}) was killed, and pids()[0] still showed it ${NEVER} later. Listen ` +
        `for each child's 'exit'; while a slot waits out its back-off, pids() shows null for it.`,
    );
    const seen = supervisor.pids()[0];
    if (seen !== null) {
      // The slot went straight from the dead child to a new one. Was there a back-off at all?
      const started =
        typeof seen === 'number' ? await reported(seen, 'ready', 'never ready').catch(() => undefined) : undefined;
      const gap = started ? started.startedAt - killedAt : 0;
      const noWait =
        `the ${which} did not wait for its back-off (with backoffMs ${backoffMs} it must wait ${promised} ms ` +
        `after the exit). ${doubling}`;
      assert.fail(
        `pids()[0] went straight from the dead child (pid ${pid}) to ${JSON.stringify(seen)}, never null: ` +
          (gap < promised - 5
            ? `the new child began ${gap.toFixed(0)} ms after the old one was killed, so ${noWait}`
            : `either ${noWait} Or pids() kept showing the dead child while the slot waited: it must show null then.`),
      );
    }
    if (restart === 2) {
      // The supervisor armed its back-off in this loop turn (or a moment before, a few ms at most), so a timer
      // armed now that is due well before that back-off ends runs first, however busy the machine: the slot must
      // still be empty then. A back-off that did not double (only backoffMs) would be due before this timer.
      // Slowness cannot change this: both timers count from the same loop clock, and Node runs due timers in the
      // order of their due times, however late it gets to them (a throttled process runs both late, in order).
      await new Promise((resolve) => setTimeout(resolve, promised * 0.6));
      assert.ok(
        supervisor.pids()[0] === null && log.length === 1,
        `the ${which} came less than ${promised} ms after the exit (${
          log.slice(1).map(describeEvent).join(', ') || `pids()[0] is ${JSON.stringify(supervisor.pids()[0])}`
        }): with backoffMs ${backoffMs} it must wait at least ${promised} ms. ${doubling}`,
      );
    }
    const logged = await entry(
      log,
      restart - 1,
      `the only child (pid ${pid}) was killed, and no 'restart' event came within ${NEVER}. Once ` +
        `the back-off has passed, start a new child in the same slot and emit 'restart'.`,
    );
    assert.equal(
      logged.type,
      'restart',
      `expected a 'restart' event, got ${describeEvent(logged)} (maxRestarts is 5).`,
    );
    const replacement = (logged as Logged & { type: 'restart' }).event.pid;
    await allReady([replacement]);
    // Lower bound only: the new process cannot have begun before the supervisor started it. A slow machine only
    // makes the gap longer, so it cannot fail a correct back-off; restarts-at-once is caught above by the slot
    // never showing null, and a back-off that did not double by the timer order.
    const gap = reportOf(replacement, 'ready')!.startedAt - killedAt;
    assert.ok(
      gap >= promised - 5,
      `the ${which} started its new child ${gap.toFixed(0)} ms after the old one was killed, but with ` +
        `backoffMs ${backoffMs} it must wait at least ${promised} ms after the exit. ${doubling}`,
    );
    pid = replacement;
  }
});

test('gives up when a crash finds the restart budget of all children spent: stops every child, restarts none', async () => {
  const maxRestarts = 2;
  const { supervisor, log } = start({ count: 2, backoffMs: 20, maxRestarts, stopGraceMs: 500 });
  const pids = firstPids(supervisor, 2);
  const seen = new Set(pids);
  await allReady(pids);

  // Two crashes use up the budget: one in slot 0, one in slot 1. The third (slot 0 again) must give up.
  const crashes: number[] = [0, 1, 0];
  for (const [index, slot] of crashes.entries()) {
    const pid = supervisor.pids()[slot];
    assert.ok(
      typeof pid === 'number',
      `slot ${slot} should have a running child here, but pids() is ${JSON.stringify(supervisor.pids())}.`,
    );
    const before = log.length;
    const answer = (): Logged | undefined =>
      log
        .slice(before)
        .find((logged) => logged.type === 'gave-up' || (logged.type === 'restart' && logged.event.slot === slot));
    process.kill(pid, 'SIGKILL');
    await waitUntil(
      () => answer() !== undefined,
      NEVER_MS,
      index < maxRestarts
        ? `the child in slot ${slot} (pid ${pid}) was killed, and no 'restart' event came within ` +
            `${NEVER} (maxRestarts is ${maxRestarts}, and ${index} restart(s) were made before).`
        : `the budget was spent (maxRestarts ${maxRestarts}, ${maxRestarts} restarts made) and the child in slot ` +
            `${slot} (pid ${pid}) was killed, but neither 'gave-up' nor 'restart' came within ${NEVER}. ` +
            `Give up: stop every other child (SIGTERM, then SIGKILL after stopGraceMs), and once all have exited ` +
            `emit 'gave-up' with an Error.`,
    );
    const logged = answer()!;
    if (index < maxRestarts) {
      assert.ok(
        logged.type === 'restart' && logged.event.slot === slot,
        `crash ${index + 1} (slot ${slot}) is within the budget of ${maxRestarts} restarts and should have been ` +
          `restarted, but the supervisor reported ${describeEvent(logged)}.`,
      );
      seen.add((logged as Logged & { type: 'restart' }).event.pid);
      continue;
    }
    assert.ok(
      logged.type === 'gave-up',
      `after ${maxRestarts} restarts (one in slot 0, one in slot 1) with maxRestarts ${maxRestarts}, a third crash ` +
        `was restarted (${describeEvent(logged)}) instead of making the supervisor give up. The budget is for all ` +
        `children together, over the supervisor's whole life: a child that keeps crashing (or a bad release ` +
        `that makes every child crash) would otherwise be restarted for ever, one slot at a time. Count every ` +
        `restart granted, whatever its slot, and give up when a crash finds maxRestarts already granted.`,
    );
  }

  const gaveUpAt = log.findIndex((logged) => logged.type === 'gave-up');
  const gaveUp = log[gaveUpAt] as Logged & { type: 'gave-up' };
  assert.ok(
    gaveUp.error instanceof Error && new RegExp(`\\b${maxRestarts}\\b`).test(gaveUp.error.message),
    `'gave-up' should come with an Error whose message names the budget (maxRestarts ${maxRestarts}), so that ` +
      `whoever reads the log knows why everything stopped; it came with ${String(gaveUp.error)}.`,
  );
  const alive = [...seen].filter(isAlive);
  assert.deepEqual(
    alive,
    [],
    `'gave-up' was emitted while children were still running (pids ${alive.join(', ')}). Giving up stops every ` +
      `child as stop() does, and emits 'gave-up' only once all of them have exited.`,
  );
  assert.deepEqual(
    supervisor.pids(),
    [null, null],
    `after giving up no slot has a child, so pids() should be [null, null], but it is ` +
      `${JSON.stringify(supervisor.pids())}.`,
  );
  assert.deepEqual(
    log.slice(gaveUpAt + 1).map(describeEvent),
    [],
    `the supervisor went on after giving up. Once it gives up, nothing is ever started again.`,
  );
});

test('stop() sends SIGTERM, kills a child that ignores it after stopGraceMs, and restarts nothing', async () => {
  const stopGraceMs = 200;
  const { supervisor, log } = start({ count: 2, backoffMs: 50, maxRestarts: 5, stopGraceMs });
  const [obeying, stubborn] = firstPids(supervisor, 2) as [number, number];
  await allReady([obeying, stubborn]);
  process.kill(stubborn, 'SIGUSR1');
  await reported(stubborn, 'stubborn', `the child ${stubborn} never confirmed that it ignores SIGTERM.`);

  // Liveness only: within() stretches the whole wait, the grace period included (stopGraceMs itself is not).
  const stopWaitMs = stopGraceMs + 5000;
  const stopped = await within(
    Promise.resolve()
      .then(() => supervisor.stop())
      .then(
        () => ({ ok: true as const }),
        (error: unknown) => ({ ok: false as const, error }),
      ),
    stopWaitMs,
    'never',
  ).catch(() => undefined);
  const stillAlive = [obeying, stubborn].filter(isAlive);
  if (stopped === undefined) {
    assert.fail(
      `stop() had not resolved ${inWords(scaled(stopWaitMs))} after it was called (stopGraceMs ${stopGraceMs}). ` +
        (stillAlive.includes(stubborn)
          ? `The child ${stubborn} ignores SIGTERM and is still running: ${
              reportOf(stubborn, 'sigterm-ignored') ? 'it got SIGTERM, but' : 'it never even got SIGTERM, and'
            } it was never sent SIGKILL. Send SIGKILL to any child still running stopGraceMs after SIGTERM.`
          : `Every child has exited: resolve once the last one's 'exit' event has come.`),
    );
  }
  assert.ok(stopped.ok, `stop() rejected: ${String(stopped.ok ? '' : stopped.error)}. It should resolve.`);
  assert.deepEqual(
    stillAlive,
    [],
    `stop() resolved while children were still running (pids ${stillAlive.join(', ')}${
      stillAlive.includes(stubborn) ? `; ${stubborn} ignores SIGTERM` : ''
    }). Resolve only once every child has exited, and SIGKILL any still running stopGraceMs after SIGTERM.`,
  );
  assert.ok(
    reportOf(obeying, 'sigterm') !== undefined && reportOf(stubborn, 'sigterm-ignored') !== undefined,
    `${reportOf(obeying, 'sigterm') ? `the child ${stubborn}` : `the child ${obeying}`} was never sent SIGTERM. ` +
      `stop() must ask first (SIGTERM lets a child finish its work and clean up) and use SIGKILL only on a child ` +
      `still running stopGraceMs later.`,
  );
  assert.deepEqual(
    log.map(describeEvent),
    [],
    `children that stop() ended were restarted. An exit that stop() caused is not a crash: once stop() is ` +
      `called, nothing is started again.`,
  );
  assert.deepEqual(
    supervisor.pids(),
    [null, null],
    `after stop() resolved no slot has a child, so pids() should be [null, null], but it is ` +
      `${JSON.stringify(supervisor.pids())}.`,
  );
});
