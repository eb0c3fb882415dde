import assert from 'node:assert/strict';
import { fork, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Outcome } from '@target/06-processes-vs-threads/which-survives';
import { inWords, scaled, within } from '../../support/deadline';

/*
 * How these tests watch the dispatcher: a task run in the wrong place can kill the process that runs
 * runAll. So runAll never runs in the test's own process: fixtures/harness.js, a process the test starts (in
 * a process group of its own, killed after each test with everything in it), loads the graded module, calls
 * runAll with the tasks the test names, and sends back the outcomes and the shared memory. If the harness
 * dies instead, that is the dispatcher's process dying, and the test says which task did it.
 */

/** The graded module, for the harness to require (it loads .ts through the preloaded tsx hook). */
const MODULE = require.resolve('@target/06-processes-vs-threads/which-survives');
const HARNESS = path.join(__dirname, 'fixtures', 'harness.js');
const fixture = (name: string): string => path.join(__dirname, 'fixtures', name);
/**
 * Only turns "runAll never settled" into a clear failure: an honest run takes well under two seconds. Like every
 * deadline here it is stretched on a machine with less CPU (tests/support/deadline.ts).
 */
const RUN_DEADLINE_MS = 8_000;
jest.setTimeout(scaled(RUN_DEADLINE_MS + 6_000));

/** A task as the test describes it to the harness; `shared: true` gets the harness's SharedArrayBuffer. */
interface TaskSpec {
  module: string;
  input?: unknown;
  needsSharedMemory: boolean;
  mayCrashProcess: boolean;
  shared?: boolean;
}

type Report =
  | { kind: 'resolved'; outcomes: Outcome[]; memory: number[]; running: number }
  | { kind: 'rejected'; message: string }
  | { kind: 'crashed'; message: string };

/** How a harness run ended, and the harness's pid (the process that called runAll). */
type HarnessEnd = ({ report: Report } | { died: { code: number | null; signal: NodeJS.Signals | null } }) & {
  pid: number;
};

const harnesses: ChildProcess[] = [];
const tempDirs: string[] = [];
afterEach(async () => {
  for (const harness of harnesses.splice(0)) {
    const exited = new Promise((resolve) => {
      if (harness.exitCode !== null || harness.signalCode !== null) resolve(undefined);
      else harness.once('exit', resolve);
    });
    try {
      // The whole group: the harness and every child process the dispatcher forked.
      process.kill(-harness.pid!, 'SIGKILL');
    } catch {
      // Already gone.
    }
    await within(exited, 5000, 'the harness did not end after SIGKILL').catch(() => {});
  }
  for (const dir of tempDirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

/** Runs runAll(tasks) in a harness process; resolves with its report, or with how it died without one. */
function runInHarness(tasks: TaskSpec[], deadlineMs = RUN_DEADLINE_MS): Promise<HarnessEnd> {
  const harness = fork(HARNESS, [MODULE], { detached: true, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  harnesses.push(harness);
  const pid = harness.pid!;
  const ended = new Promise<HarnessEnd>((resolve) => {
    // Copied into this realm: objects that arrive over IPC have another realm's prototypes.
    harness.once('message', (report: Report) => resolve({ report: JSON.parse(JSON.stringify(report)) as Report, pid }));
    harness.once('exit', (code, signal) => resolve({ died: { code, signal }, pid }));
    harness.on('error', () => {}); // a send to a harness that already died: its 'exit' says how
  });
  harness.send({ tasks });
  return within(
    ended,
    deadlineMs,
    `runAll() never settled: ${inWords(scaled(deadlineMs))} after it was called with these tasks, it had neither ` +
      `resolved nor rejected:\n${describeTasks(tasks)}\nEvery task here ends quickly by itself. Does each ` +
      `task's promise settle when its thread or process exits (also when it exits without replying)? Does ` +
      `the process runner disconnect the child once its reply arrived (child.ts waits for that to exit)?`,
  );
}

function describeTasks(tasks: TaskSpec[]): string {
  return tasks
    .map(
      (task, index) =>
        `  task ${index}: ${path.basename(task.module)}(${JSON.stringify(task.input) ?? ''}), ` +
        `needsSharedMemory: ${task.needsSharedMemory}, mayCrashProcess: ${task.mayCrashProcess}`,
    )
    .join('\n');
}

type Resolved = Extract<Report, { kind: 'resolved' }>;

/**
 * The report of a harness that survived and whose runAll resolved; otherwise fails, saying what happened.
 * `killer` says which task kills its process and where it should have run, for when the harness was killed.
 */
function resolvedReport(end: HarnessEnd, tasks: TaskSpec[], killer: string): Resolved {
  if ('died' in end) {
    const { code, signal } = end.died;
    assert.fail(
      signal === 'SIGKILL'
        ? `the process running your dispatcher was killed by SIGKILL before runAll() settled, so none of the ` +
            `outcomes ever reached the caller. A signal is sent to a whole process: every thread in it ends ` +
            `at once, and no 'error' or 'exit' listener gets to run. ${killer}\nThe tasks were:\n` +
            describeTasks(tasks)
        : `the process running your dispatcher ended (${signal ? `signal ${signal}` : `exit code ${code}`}) ` +
            `before runAll() settled. runAll must keep the caller's process running, whatever the tasks do.` +
            `\nThe tasks were:\n${describeTasks(tasks)}`,
    );
  }
  const { report } = end;
  if (report.kind === 'crashed') {
    assert.fail(
      `while runAll() ran, an exception nothing caught reached the process running your dispatcher: ` +
        `${report.message}\nIn a plain program this ends the process. An uncaught exception in a worker is ` +
        `thrown in the parent unless the Worker has an 'error' listener; a ChildProcess emits 'error' when a ` +
        `send fails and no callback was given.`,
    );
  }
  if (report.kind === 'rejected') {
    assert.fail(
      `runAll() threw or rejected: ${report.message}\nIt must resolve with one outcome per task; a task that ` +
        `fails is an outcome ('threw', 'died' or 'refused'), not a rejection of runAll.`,
    );
  }
  assert.ok(
    Array.isArray(report.outcomes) && report.outcomes.length === tasks.length,
    `runAll() resolved with ${JSON.stringify(report.outcomes)}; expected an array of ${tasks.length} ` +
      `outcomes, one per task, in task order.`,
  );
  return report;
}

/** What one task's outcome must be: a test, and the message for when it does not hold. */
interface Expected {
  holds: (outcome: Outcome) => boolean;
  otherwise: (outcome: Outcome) => string;
}

const isExactly =
  (expected: Outcome) =>
  (outcome: Outcome): boolean =>
    JSON.stringify(outcome) === JSON.stringify(expected);

/**
 * Checks each task's outcome. When every outcome is there but some stand at another task's index, says
 * that the order is wrong (the tasks finished in another order), not that an outcome is wrong.
 */
function assertOutcomes(outcomes: Outcome[], expected: Expected[]): void {
  const wrong = expected.findIndex((each, index) => !each.holds(outcomes[index]!));
  if (wrong === -1) return;
  const owners = outcomes.map((outcome) => expected.findIndex((each) => each.holds(outcome)));
  if (owners.every((owner) => owner !== -1) && new Set(owners).size === owners.length) {
    const moved = owners.map((owner, index) => ({ owner, index })).filter(({ owner, index }) => owner !== index);
    assert.fail(
      `runAll() resolved with ${JSON.stringify(outcomes)}: every task's outcome is there, but not at its ` +
        `task's index (${moved.map(({ owner, index }) => `outcomes[${index}] is task ${owner}'s`).join(', ')}). ` +
        `That is the order in which the tasks finished, not the order of the tasks. outcomes[i] must be the ` +
        `outcome of tasks[i]: store each outcome at its task's index (Promise.all over tasks.map(...) does ` +
        `this); do not push them as they arrive.`,
    );
  }
  assert.fail(expected[wrong]!.otherwise(outcomes[wrong]!));
}

/** runAll resolves only once every process it started has exited: none may be left running behind it. */
function assertNoProcessLeft(report: Resolved, tasks: TaskSpec[]): void {
  assert.equal(
    report.running,
    0,
    `when runAll() resolved, ${report.running} child process(es) it had started were still running. runAll ` +
      `resolves only once every thread and process it started has exited: a child left behind keeps its ` +
      `memory and its process slot for ever (child.ts exits only once you disconnect it, when its reply has ` +
      `arrived). Settle each process task on the child's 'exit' event.\nThe tasks were:\n${describeTasks(tasks)}`,
  );
}

const NO_KILLER =
  'No task here kills its process, so what killed it came from the dispatcher itself (did it signal itself?).';

/** Expects `{ status: 'ok', value }` from a task that returned `value`. */
function returned(index: number, what: string, value: unknown): Expected {
  const expected: Outcome = { status: 'ok', value };
  return {
    holds: isExactly(expected),
    otherwise: (outcome) =>
      `task ${index} (${what}) returned ${JSON.stringify(value)}, but its outcome was ${JSON.stringify(outcome)}, ` +
      `expected ${JSON.stringify(expected)}.`,
  };
}

describe('runAll()', () => {
  test('runs tasks that need shared memory where the caller sees what they wrote', async () => {
    const tasks: TaskSpec[] = [
      { module: fixture('adds-to-shared.js'), input: 5, needsSharedMemory: true, mayCrashProcess: false, shared: true },
      { module: fixture('doubles.js'), input: 21, needsSharedMemory: false, mayCrashProcess: false },
      { module: fixture('adds-to-shared.js'), input: 7, needsSharedMemory: true, mayCrashProcess: false, shared: true },
    ];
    const report = resolvedReport(await runInHarness(tasks), tasks, NO_KILLER);
    const { outcomes, memory } = report;
    assert.equal(
      memory[0],
      12,
      `tasks 0 and 2 (needsSharedMemory: true) each add their input (5 and 7) to slot 0 of the caller's ` +
        `SharedArrayBuffer, but after runAll() resolved the caller read ${memory[0]} there, not 12. Their ` +
        `outcomes were ${JSON.stringify(outcomes[0])} and ${JSON.stringify(outcomes[2])}. A child process ` +
        `has memory of its own: a SharedArrayBuffer cannot be sent to it (send() refuses it, or JSON turns it ` +
        `into {}), so a task run there never reaches the caller's memory. Run these tasks in a worker thread ` +
        `and give it the buffer itself in workerData: a thread lives in the caller's process and shares its memory.`,
    );
    assertOutcomes(outcomes, [
      returned(0, 'adds-to-shared.js of 5', 'added 5'),
      returned(1, 'doubles.js of 21', 42),
      returned(2, 'adds-to-shared.js of 7', 'added 7'),
    ]);
    assertNoProcessLeft(report, tasks);
  });

  test('survives a task that kills its own process, and reports it as killed by SIGKILL', async () => {
    const tasks: TaskSpec[] = [
      { module: fixture('doubles.js'), input: 21, needsSharedMemory: false, mayCrashProcess: false },
      { module: fixture('kills-its-process.js'), needsSharedMemory: false, mayCrashProcess: true },
      { module: fixture('doubles.js'), input: 50, needsSharedMemory: false, mayCrashProcess: false },
    ];
    const killer =
      "Task 1 (mayCrashProcess: true) runs process.kill(process.pid, 'SIGKILL'): it kills the process it runs " +
      'in, and run in a worker thread, that is the process running your dispatcher. A thread cannot contain ' +
      "such a task; a child process of its own can (fork child.ts), and its parent then sees an 'exit' with " +
      "signal 'SIGKILL'.";
    const report = resolvedReport(await runInHarness(tasks), tasks, killer);
    const died: Outcome = { status: 'died', code: null, signal: 'SIGKILL' };
    assertOutcomes(report.outcomes, [
      returned(0, 'doubles.js of 21', 42),
      {
        holds: isExactly(died),
        otherwise: (outcome) =>
          `task 1 killed its process with SIGKILL, but its outcome was ${JSON.stringify(outcome)}. A task whose ` +
          `process ended without replying is { status: 'died', code, signal }, with the code and signal of the ` +
          `child's 'exit' event: here ${JSON.stringify(died)}.`,
      },
      returned(2, 'doubles.js of 50', 100),
    ]);
    assertNoProcessLeft(report, tasks);
  });

  test('reports a task that throws, and one that calls process.exit, each as its own outcome', async () => {
    const tasks: TaskSpec[] = [
      { module: fixture('throws.js'), input: 'no such record', needsSharedMemory: false, mayCrashProcess: false },
      { module: fixture('exits-with.js'), input: 3, needsSharedMemory: false, mayCrashProcess: false },
      { module: fixture('doubles.js'), input: 4, needsSharedMemory: false, mayCrashProcess: false },
    ];
    const report = resolvedReport(await runInHarness(tasks), tasks, NO_KILLER);
    const threw: Outcome = { status: 'threw', message: 'no such record' };
    const exited: Outcome = { status: 'died', code: 3, signal: null };
    assertOutcomes(report.outcomes, [
      {
        holds: isExactly(threw),
        otherwise: (outcome) =>
          `task 0 throws new Error('no such record'); its outcome was ${JSON.stringify(outcome)}, expected ` +
          `${JSON.stringify(threw)} (the reply worker.ts and child.ts send for it).`,
      },
      {
        holds: isExactly(exited),
        otherwise: (outcome) =>
          `task 1 calls process.exit(3), which ends its thread (in a worker, only that worker) or its process ` +
          `before any reply is sent; its outcome was ${JSON.stringify(outcome)}, expected ` +
          `${JSON.stringify(exited)}. When a worker or child exits without having replied, the outcome comes ` +
          `from its 'exit' event.`,
      },
      returned(2, 'doubles.js of 4', 8),
    ]);
    assertNoProcessLeft(report, tasks);
  });

  test('gives the outcomes in task order, not in the order the tasks finished', async () => {
    // Task 0 waits until task 1's process has ended, so task 1 always finishes first.
    const dir = await mkdtemp(path.join(tmpdir(), 'which-survives-'));
    tempDirs.push(dir);
    const pidFile = path.join(dir, 'pid');
    // How long task 0 waits for task 1 before it gives up and says so: a liveness deadline of the fixture, so
    // stretched here (the fixture runs wherever the graded dispatcher puts it, maybe with an environment of its own).
    const giveUpBaseMs = 6_000;
    const giveUpMs = scaled(giveUpBaseMs);
    const tasks: TaskSpec[] = [
      {
        module: fixture('waits-for-pid.js'),
        input: { pidFile, giveUpMs },
        needsSharedMemory: false,
        mayCrashProcess: false,
      },
      { module: fixture('writes-its-pid.js'), input: { pidFile }, needsSharedMemory: false, mayCrashProcess: true },
    ];
    const end = await runInHarness(tasks, giveUpBaseMs + RUN_DEADLINE_MS / 2); // stretched by within()
    const report = resolvedReport(end, tasks, NO_KILLER);
    const { outcomes } = report;
    const waited: Outcome = { status: 'ok', value: 'saw the other task end' };
    const wrote: Outcome = { status: 'ok', value: 'wrote its pid' };
    const got = JSON.stringify(outcomes);
    assert.ok(
      !(isExactly(wrote)(outcomes[0]!) && isExactly(waited)(outcomes[1]!)),
      `runAll() resolved with ${got}: task 1's outcome first, then task 0's. That is the order in which they ` +
        `finished (task 0 waits until task 1's process has ended, so task 1 always finishes first), not the ` +
        `order of the tasks. outcomes[i] must be the outcome of tasks[i]: store each outcome at its task's ` +
        `index (Promise.all over tasks.map(...) does this); do not push them as they arrive.`,
    );
    const said = String((outcomes[0] as { value?: unknown }).value);
    assert.ok(
      !said.startsWith('gave up: the other task never wrote'),
      `task 0's outcome was ${JSON.stringify(outcomes[0])}: it waited ${inWords(giveUpMs)} for task 1 to start, ` +
        `and task 1 never did in that time. runAll must start every task at once: a task may need another one ` +
        `to run at the same time. Start them all, then wait for all of them (Promise.all), not one after the other.`,
    );
    if (said.startsWith('gave up: the other task’s process never ended')) {
      const pid = Number(readFileSync(pidFile, 'utf8'));
      assert.notEqual(
        pid,
        end.pid,
        `task 1 (mayCrashProcess: true) ran in the process that called runAll() (pid ${pid}), not in a child ` +
          `process of its own: task 0 waited ${inWords(giveUpMs)} for that process to end. A task that may ` +
          `crash its process must run in a process of its own (fork child.ts).`,
      );
      assert.fail(
        `task 0's outcome was ${JSON.stringify(outcomes[0])}: task 1 ran in a child process and replied, but ` +
          `${inWords(giveUpMs)} later its process still had not exited. child.ts exits only once its parent has ` +
          `disconnected it: call child.disconnect() when the reply has arrived, and settle the task on 'exit'.`,
      );
    }
    assert.deepEqual(
      outcomes,
      [waited, wrote],
      `runAll() resolved with ${got}; expected ${JSON.stringify([waited, wrote])}.`,
    );
    assertNoProcessLeft(report, tasks);
  });

  test('refuses, without running it, a task that needs shared memory and may kill its process', async () => {
    const tasks: TaskSpec[] = [
      { module: fixture('doubles.js'), input: 8, needsSharedMemory: false, mayCrashProcess: false },
      { module: fixture('kills-its-process.js'), needsSharedMemory: true, mayCrashProcess: true, shared: true },
    ];
    const noPlace =
      "No place is safe for a task with both flags: only a thread in the caller's process shares the caller's " +
      'memory, and a task that can kill its process would then kill the caller; a child process would keep the ' +
      'caller safe but could not reach the memory the task needs. Do not run it: its outcome is ' +
      "{ status: 'refused', reason }, with the reason in words.";
    const killer =
      "Task 1 has both flags, and it runs process.kill(process.pid, 'SIGKILL'): run in a worker thread, it " +
      `killed the process running your dispatcher. ${noPlace}`;
    const report = resolvedReport(await runInHarness(tasks), tasks, killer);
    assertOutcomes(report.outcomes, [
      returned(0, 'doubles.js of 8', 16),
      {
        holds: (outcome) =>
          outcome.status === 'refused' && typeof outcome.reason === 'string' && outcome.reason.length > 0,
        otherwise: (outcome) =>
          `task 1 needs the caller's shared memory and may kill its process; its outcome was ` +
          `${JSON.stringify(outcome)}. ${noPlace}`,
      },
    ]);
    assertNoProcessLeft(report, tasks);
  });
});
