import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { inWords, scaled } from '../../support/deadline';
import { isAlive } from '../../support/processes';

/*
 * How these tests see both processes: they run a small program, fixtures/forks-and-reports.js, that calls
 * forkSelf once. Its parent and its child share its stdout, and every process that runs the program writes
 * one JSON line per event to it: 'start' (first thing, before forkSelf: so the test counts the processes),
 * then 'parent' or 'child' (what forkSelf resolved with), 'exited' (what `exited` reported, and the parent's
 * own state afterwards) or 'rejected'. The program runs in a process group of its own, killed after each test.
 *
 * Each program run serves several tests: the first test that needs a run starts it and waits for it to end,
 * and the tests after it read the same run (so a run never outlives the test that started it).
 */

/** The graded module, for the fixture program to require (it loads .ts through the preloaded tsx hook). */
const MODULE = require.resolve('@target/03-fork/returns-twice');
const FIXTURE = path.join(__dirname, 'fixtures', 'forks-and-reports.js');
/**
 * Only turns "the program never finished" into a clear failure: an honest run takes well under a second (a few
 * on a slow machine). Stretched on a machine with less CPU, as Jest's limit for a test that waits for a run.
 */
const RUN_DEADLINE_MS = scaled(10_000);
jest.setTimeout(RUN_DEADLINE_MS + scaled(5_000));

type Described = unknown;
interface Line {
  pid: number;
  event: 'start' | 'parent' | 'child' | 'exited' | 'rejected';
  ppid?: number;
  argv?: string[];
  role?: string;
  childPid?: number;
  parentPid?: number;
  snapshot?: Record<string, Described>;
  end?: Described;
  state?: Record<string, Described>;
  name?: string;
  message?: string;
}

interface ProgramRun {
  /** How the program was started: with an IPC channel of its own or not. */
  ipc: boolean;
  lines: Line[];
  stderr: string;
  /** The program's first process: the one the test started. */
  programPid: number;
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** Process groups started by the current test; killed after it, whatever happened. */
const groups: number[] = [];
afterEach(() => {
  for (const group of groups.splice(0)) killGroup(group);
});

function killGroup(group: number): void {
  try {
    process.kill(-group, 'SIGKILL');
  } catch {
    // Already gone.
  }
}

const starts = (run: { lines: Line[] }): Line[] => run.lines.filter((line) => line.event === 'start');
const eventsOf = (run: { lines: Line[] }, event: Line['event']): Line[] =>
  run.lines.filter((line) => line.event === event);

function stderrPart(stderr: string): string {
  const text = stderr.trim();
  return text === ''
    ? ''
    : `\nWhat the program wrote to stderr (last lines):\n${text.split('\n').slice(-12).join('\n')}`;
}

function linesPart(lines: Line[]): string {
  return `\nWhat its processes reported:\n${lines.map((line) => JSON.stringify(line)).join('\n') || '(nothing)'}`;
}

/**
 * Runs the fixture program in `mode` and resolves once it has ended, with every line its processes wrote.
 * Rejects, after killing the program's process group, as soon as a third process runs the program, or if the
 * program has not ended within RUN_DEADLINE_MS; the message says what was seen and what it means.
 */
function runProgram(mode: string, { ipc }: { ipc: boolean }): Promise<ProgramRun> {
  return new Promise((resolve, reject) => {
    const program = spawn(process.execPath, [FIXTURE, mode], {
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe', ...(ipc ? (['ipc'] as const) : [])],
      env: { ...process.env, RETURNS_TWICE_MODULE: MODULE },
    });
    const programPid = program.pid!;
    groups.push(programPid);
    const lines: Line[] = [];
    let stderr = '';
    let pending = '';
    let done = false;
    const fail = (message: string, { details = true } = {}): void => {
      if (done) return;
      done = true;
      clearTimeout(deadline);
      killGroup(programPid);
      reject(new Error(details ? message + linesPart(lines) + stderrPart(stderr) : message));
    };
    program.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    program.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      pending += chunk;
      const complete = pending.split('\n');
      pending = complete.pop()!;
      for (const text of complete) {
        if (text.trim() === '') continue;
        try {
          lines.push(JSON.parse(text) as Line);
        } catch {
          continue; // not one of the program's reports
        }
        const seen = starts({ lines });
        if (seen.length > 2) {
          const pids = seen.map((line) => line.pid).join(', ');
          fail(
            seen[2]!.ppid === programPid
              ? `three processes ran the program (pids ${pids}): the program itself started a second child. One ` +
                  `call of forkSelf starts exactly one child. (The program was stopped.)`
              : `three processes ran the program (pids ${pids}): the child forked again, and a child that forks ` +
                  `again forks for ever. The child re-runs the program from the top and reaches the same forkSelf ` +
                  `call; there it must see that it is the child and take that role WITHOUT forking. Decide the ` +
                  `role first (from a marker that only the parent puts in the child's environment), and call ` +
                  `fork() only in the parent. (The program was stopped.)`,
          );
        }
      }
    });
    const deadline = setTimeout(() => fail(diagnoseUnfinished({ ipc, lines, programPid })), RUN_DEADLINE_MS);
    program.on('error', (error) => fail(`the test could not start the program: ${error.message}`));
    // 'close': the program has exited AND every process sharing its stdout/stderr (its child) has closed them.
    program.on('close', (code, signal) => {
      if (done) return;
      const stub = /^\w*Error: (Not implemented[^\n]*)/m.exec(stderr);
      if (stub) return fail(`${stub[1]} (thrown when the program called forkSelf)`, { details: false });
      const alive = starts({ lines }).filter((line) => isAlive(line.pid));
      if (alive.length > 0) {
        return fail(
          `the program ended but process ${alive.map((line) => line.pid).join(', ')} that ran it is still alive.`,
        );
      }
      done = true;
      clearTimeout(deadline);
      resolve({ ipc, lines, stderr, programPid, code, signal });
    });
  });
}

/** Why a program run has not ended by the deadline, from what its processes reported so far. */
function diagnoseUnfinished({ ipc, lines, programPid }: { ipc: boolean; lines: Line[]; programPid: number }): string {
  const limit = inWords(RUN_DEADLINE_MS);
  const child = starts({ lines }).find((line) => line.pid !== programPid);
  const reported = (event: Line['event'], pid?: number): boolean =>
    lines.some((line) => line.event === event && (pid === undefined || line.pid === pid));
  if (!reported('start')) return `the program did not even start within ${limit}.`;
  if (reported('rejected', programPid)) {
    return (
      `forkSelf rejected in the program, but the program never ended (waited ${limit})` +
      (child ? `: its child (pid ${child.pid}) is still running, waiting for a snapshot that will never come` : '') +
      `. If the snapshot cannot be sent, kill the child you started (child.kill()) before you reject.`
    );
  }
  if (!reported('parent', programPid) && !child) {
    return ipc
      ? `forkSelf never resolved in the program (waited ${limit}) and started no child. This program was started ` +
          `with an IPC channel of its own, as programs started by child_process.fork, a process pool or a test ` +
          `runner are, so process.send is defined in it. If forkSelf takes that for "I am the forked child", it ` +
          `waits for a snapshot that no one will ever send. Decide the role by a marker that only forkSelf puts ` +
          `in its child's environment.`
      : `forkSelf never resolved in the program (waited ${limit}) and started no child.`;
  }
  if (child && !reported('child', child.pid)) {
    return (
      `the child (pid ${child.pid}) started, but forkSelf never resolved in it (waited ${limit}). The parent ` +
      `must send the snapshot over the IPC channel (child.send) and the child must wait for it ` +
      `(process.on('message')).`
    );
  }
  if (!reported('parent', programPid)) {
    return `forkSelf never resolved in the parent (waited ${limit}), although the child runs: resolve once it has started.`;
  }
  if (child && isAlive(child.pid)) {
    return (
      `the child (pid ${child.pid}) got its role and its program had nothing left to do, but it has not ended ` +
      `(waited ${limit}), so the parent waits for it for ever. Something keeps it alive: a 'message' or ` +
      `'disconnect' listener on process keeps the IPC channel, and with it the child, alive. Remove your ` +
      `listeners once the snapshot has arrived (process.off), or use process.once.`
    );
  }
  if (child && !reported('exited', programPid)) {
    return (
      `the child (pid ${child.pid}) has ended, but the parent's \`exited\` never settled (waited ${limit}). Listen ` +
      `for the child's 'exit' event as soon as you start it.`
    );
  }
  return `the program did not end within ${limit}.`;
}

/** Starts a run the first time it is asked for; later calls get the same run (its outcome, never a rejection). */
function memo(start: () => Promise<ProgramRun>): () => Promise<ProgramRun> {
  let outcome: Promise<{ run: ProgramRun } | { error: unknown }> | undefined;
  return async () => {
    outcome ??= start().then(
      (run) => ({ run }),
      (error: unknown) => ({ error }),
    );
    const settled = await outcome;
    if ('error' in settled) throw settled.error;
    return settled.run;
  };
}

const plainRun = memo(() => runProgram('exit-code', { ipc: false }));
const ipcRun = memo(() => runProgram('killed', { ipc: true }));
const functionRun = memo(() => runProgram('function', { ipc: false }));

/** The program's two processes and what each reported; fails with a clear message if that is not what ran. */
function twoRoles(run: ProgramRun): { parent: Line; child: Line; childStart: Line; parentStart: Line } {
  const all = starts(run);
  const parentStart = all.find((line) => line.pid === run.programPid)!;
  const rejected = eventsOf(run, 'rejected')[0];
  if (rejected)
    assert.fail(`forkSelf rejected in the program: ${rejected.name}: ${rejected.message}${stderrPart(run.stderr)}`);
  const childStart = all.find((line) => line.pid !== run.programPid);
  assert.ok(
    childStart,
    `only one process reported running the program: forkSelf started no child running it, or the child's ` +
      `output did not reach the program's stdout. In the parent, start the program's main module ` +
      `(require.main.filename) again with child_process.fork, and keep fork's default stdio, which the child ` +
      `shares with its parent (not silent: true).${linesPart(run.lines)}` +
      stderrPart(run.stderr),
  );
  assert.equal(
    childStart.ppid,
    run.programPid,
    `the second process that ran the program (pid ${childStart.pid}) was started by ${childStart.ppid}, not by ` +
      `the program (pid ${run.programPid}).`,
  );
  const parents = eventsOf(run, 'parent');
  const children = eventsOf(run, 'child');
  assert.ok(
    parents.length === 1 && parents[0]!.pid === run.programPid,
    `forkSelf should resolve with role 'parent' exactly once, in the program's own process (pid ` +
      `${run.programPid}); it did in ${parents.map((line) => `pid ${line.pid}`).join(', ') || 'no process'}.` +
      linesPart(run.lines) +
      stderrPart(run.stderr),
  );
  assert.ok(
    children.length === 1 && children[0]!.pid === childStart.pid,
    `forkSelf should resolve with role 'child' exactly once, in the child (pid ${childStart.pid}); it did in ` +
      `${children.map((line) => `pid ${line.pid}`).join(', ') || 'no process'}.` +
      linesPart(run.lines) +
      stderrPart(run.stderr),
  );
  return { parent: parents[0]!, child: children[0]!, childStart, parentStart };
}

/** The 'exited' report of the parent, or a clear failure. */
function exitedReport(run: ProgramRun): Line {
  const exited = eventsOf(run, 'exited')[0];
  assert.ok(
    exited,
    `the parent never reported what \`exited\` settled with.${linesPart(run.lines)}${stderrPart(run.stderr)}`,
  );
  return exited;
}

describe('forkSelf()', () => {
  test('runs the program twice: once as the parent, once as the child it started, with the same arguments', async () => {
    const run = await plainRun();
    const { childStart, parentStart } = twoRoles(run);
    assert.deepEqual(
      childStart.argv,
      parentStart.argv,
      `the child ran the program with the arguments ${JSON.stringify(childStart.argv)}, the parent with ` +
        `${JSON.stringify(parentStart.argv)}. The child re-runs the program from the top, so it must get the same ` +
        `arguments: pass process.argv.slice(2) to child_process.fork.`,
    );
  });

  test("tells the parent the child's pid, and the child the parent's pid", async () => {
    const run = await plainRun();
    const { parent, child, childStart } = twoRoles(run);
    assert.equal(
      parent.childPid,
      childStart.pid,
      `the parent was told pid ${parent.childPid}, but its child's process.pid is ${childStart.pid}. Give the ` +
        `parent child.pid.`,
    );
    assert.equal(
      child.parentPid,
      run.programPid,
      `the child was told parentPid ${child.parentPid}, but its parent's pid is ${run.programPid} ` +
        `(process.ppid in the child).`,
    );
  });

  test('gives the child a deep copy of the snapshot: nested data, Maps and Dates intact', async () => {
    const run = await plainRun();
    const { child } = twoRoles(run);
    const expected = {
      title: 'a snapshot',
      nested: { list: [1, [2, [3, { four: 4 }]]], flag: true, nothing: null },
      tags: {
        '<Map>': [
          ['red', { hex: '#f00' }],
          ['green', { hex: '#0f0' }],
        ],
      },
      when: { '<Date>': '2024-02-29T12:34:56.000Z' },
    };
    const got = child.snapshot?.deep;
    const lostTypes = JSON.stringify((got as { tags?: unknown } | undefined)?.tags) === '{}';
    assert.deepEqual(
      got,
      expected,
      `the child's snapshot.deep (Maps and Dates shown as {"<Map>": entries}, {"<Date>": ISO string}) is not ` +
        `what the parent passed.` +
        (lostTypes
          ? ` Its Map arrived as {}: that is what JSON makes of a Map (and a Date becomes a string). Fork with ` +
            `serialization: 'advanced', so the snapshot crosses as a structured clone.`
          : ''),
    );
  });

  test('takes the snapshot at the call: later changes on either side stay on that side', async () => {
    const run = await plainRun();
    const { child } = twoRoles(run);
    const snapshot = child.snapshot!;
    assert.deepEqual(
      { counter: snapshot.counter, log: snapshot.log },
      { counter: 1, log: ['before the call'] },
      `the program called forkSelf(state) with state.counter = 1 and then, before awaiting its promise, set ` +
        `state.counter = 99 and pushed to state.log; the child saw ${JSON.stringify({ counter: snapshot.counter, log: snapshot.log })}. ` +
        `The snapshot must be taken at the call, as fork() copies memory at the call: send it (child.send ` +
        `serializes at once) before forkSelf returns, not later on 'spawn', after an await, or when the child ` +
        `asks for it.`,
    );
    const { state } = exitedReport(run);
    assert.deepEqual(
      { counter: state?.counter, log: state?.log },
      { counter: 99, log: ['before the call', 'changed by the parent after the call'] },
      `after the child had changed its copy (counter = -1, one more log entry) and ended, the parent's state was ` +
        `${JSON.stringify({ counter: state?.counter, log: state?.log })}: the child's changes must never reach ` +
        `the parent.`,
    );
  });

  test("settles exited with the child's exit code once the child has ended", async () => {
    const run = await plainRun();
    twoRoles(run);
    assert.deepEqual(
      exitedReport(run).end,
      { code: 7, signal: null },
      `the child ended with exit code 7, and \`exited\` should settle with { code: 7, signal: null }; it settled ` +
        `with ${JSON.stringify(exitedReport(run).end)}. Resolve it from the child's 'exit' event (code, signal).`,
    );
  });

  test('treats a program started with an IPC channel of its own as the parent', async () => {
    const run = await ipcRun();
    twoRoles(run);
  });

  test('settles exited with the signal that killed the child, and a null exit code', async () => {
    const run = await ipcRun();
    twoRoles(run);
    assert.deepEqual(
      exitedReport(run).end,
      { code: null, signal: 'SIGTERM' },
      `the child was killed by SIGTERM, so \`exited\` should settle with { code: null, signal: 'SIGTERM' }; it ` +
        `settled with ${JSON.stringify(exitedReport(run).end)}. The 'exit' event's second argument is the signal.`,
    );
  });

  test('rejects a snapshot holding a function, and leaves no child running', async () => {
    // runProgram fails if the program does not end, or if a process that ran it outlives it.
    const run = await functionRun();
    const child = eventsOf(run, 'child')[0];
    assert.equal(
      child,
      undefined,
      `the snapshot held a function, yet forkSelf resolved in a child, whose snapshot was ` +
        `${JSON.stringify(child?.snapshot)}. A function (a closure) cannot cross to another process: with ` +
        `serialization: 'advanced', child.send throws for it, and forkSelf must reject.`,
    );
    const rejected = eventsOf(run, 'rejected')[0];
    assert.ok(
      rejected && rejected.pid === run.programPid,
      `forkSelf should reject in the program when the snapshot cannot be copied (it held a function).` +
        linesPart(run.lines) +
        stderrPart(run.stderr),
    );
  });
});
