import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { isolate, type IsolateOptions, type Outcome } from '@target/06-processes-vs-threads/isolate';
import { inWords, scaled, waitUntil, within } from '../../support/deadline';
import { isAlive, killAll, processesMentioning } from '../../support/processes';

/*
 * Every task is a fixture module (fixtures/*.js) run by the graded isolate(). Fixtures that must be watched
 * write the ids of the processes they are made of to input.pidFile, inside this test's temporary directory.
 */

// A test may repeat its timeout run with a longer limit on a busy machine (see the timeout test). Stretched on a
// machine with less CPU (tests/support/deadline.ts), like every deadline below.
jest.setTimeout(scaled(30_000));

const fixture = (name: string): string => path.join(__dirname, 'fixtures', name);
/**
 * For tasks that end by themselves: the time limit is never what ends them, however busy the machine. It is
 * passed to the graded isolate(), so it is not stretched: these tasks finish in well under a second of CPU,
 * and 20 s leaves room for a start-up many times slower than on half a CPU.
 */
const ROOMY: IsolateOptions = { timeoutMs: 20_000, maxHeapMb: 256 };
/** How long a call may take, beyond its own time limit, before the test calls it "never resolved" (stretched). */
const NEVER_MS = 15_000;
/** How long a child isolate() should have ended may take to be gone before the test says it was left running. */
const GONE_MS = 5000;

let dir: string;
let descendantsBefore: Set<number>;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'isolate-'));
  descendantsBefore = new Set(descendantsOf(process.pid));
});
afterEach(async () => {
  // Whatever a wrong solution left running: every new descendant of this process (the children isolate()
  // started, and what they started), and every process with this test's directory on its command line (the
  // fixture's grandchild, also once its parent's death has orphaned it). Never a pid read from a file: the
  // process may be long gone and its pid given to a stranger.
  killAll(descendantsOf(process.pid).filter((pid) => !descendantsBefore.has(pid)));
  killAll(processesMentioning(dir));
  await rm(dir, { recursive: true, force: true });
});

/** Ids of all processes descended from `root`, from the parent id of every process. */
function descendantsOf(root: number): number[] {
  const parents = new Map<number, number>();
  if (existsSync('/proc/self/stat')) {
    for (const entry of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
      try {
        const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
        parents.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
      } catch {
        // It ended meanwhile.
      }
    }
  } else {
    for (const line of execFileSync('ps', ['-A', '-o', 'pid=,ppid='], { encoding: 'utf8' }).split('\n')) {
      const [pid, ppid] = line.trim().split(/\s+/).map(Number);
      if (pid && ppid !== undefined) parents.set(pid, ppid);
    }
  }
  const found: number[] = [];
  let frontier = [root];
  while (frontier.length > 0) {
    const next = [...parents].filter(([, ppid]) => frontier.includes(ppid)).map(([pid]) => pid);
    found.push(...next);
    frontier = next;
  }
  return found;
}

/** The process ids a fixture wrote to `file`, or undefined if it has not (yet). */
function readPids(file: string): Record<string, number> | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Record<string, number>;
  } catch {
    return undefined;
  }
}

/** Runs fixtures/<name> through the graded isolate(), with a deadline that turns "never" into a failure. */
function run(name: string, input: Record<string, unknown>, options = ROOMY, never = ''): Promise<Outcome> {
  // within() stretches the whole wait: a liveness deadline only, so stretching the task's own share is harmless.
  const limitMs = options.timeoutMs + NEVER_MS;
  return within(
    isolate({ module: fixture(name), input }, options),
    limitMs,
    `isolate() never resolved for fixtures/${name} with input ${JSON.stringify(input)} and options ` +
      `${JSON.stringify(options)} (waited ${inWords(scaled(limitMs))}). ${never}`.trim(),
  );
}

const show = (value: unknown): string => JSON.stringify(value) ?? String(value);

/**
 * An outcome as plain data of this realm. What arrives over IPC is built by Node's own realm, not Jest's,
 * so its objects fail a strict deepEqual with literals written here even when they look the same.
 */
function plain(outcome: Outcome): unknown {
  const text = JSON.stringify(outcome) as string | undefined;
  return text === undefined ? outcome : (JSON.parse(text) as unknown);
}

describe('isolate()', () => {
  test('resolves with the value a task returns or resolves, and leaves no child running', async () => {
    const pidFile = path.join(dir, 'later.json');
    const [atOnce, later] = await Promise.all([
      run('returns.js', { numbers: [1, 2, 3, 4] }),
      run(
        'resolves-later.js',
        { word: 'later', pidFile },
        ROOMY,
        'That task answers and then leaves a timer running, which keeps a Node process alive for ever: once ' +
          'the answer has arrived, end the child (exit the runner once its message is sent, or kill the child).',
      ),
    ]);
    const expectedAtOnce = { kind: 'result', value: { sum: 10, got: { numbers: [1, 2, 3, 4] } } };
    assert.deepEqual(
      plain(atOnce),
      expectedAtOnce,
      `a task that returns { sum: 10, got: <its input> } should give ${show(expectedAtOnce)} (exactly those ` +
        `fields), got ${show(atOnce)}.` +
        (atOnce.kind === 'exited'
          ? " The child exited without answering: did runner.ts fail to start or crash (the stub throws 'Not " +
            "implemented')? What it wrote to stderr says why."
          : ''),
    );
    const expectedLater = { kind: 'result', value: { word: 'later', async: true } };
    assert.deepEqual(
      plain(later),
      expectedLater,
      `an async task whose promise resolves with { word: 'later', async: true } should give ` +
        `${show(expectedLater)}, got ${show(later)}. Await what the task function returns before sending it.`,
    );
    const { child } = readPids(pidFile)!;
    await waitUntil(
      () => !isAlive(child!),
      GONE_MS,
      `the child that ran the async task (pid ${child}) was still running ${inWords(scaled(GONE_MS))} after ` +
        `isolate() resolved. The task ` +
        `left a timer running, which keeps a Node process alive: once the answer has arrived, end the child.`,
    );
  });

  test('reports a throw or rejection by the error name and message, and a thrown non-error by its string', async () => {
    const [typeError, rejection, notAnError] = await Promise.all([
      run('throws.js', { how: 'type-error' }),
      run('throws.js', { how: 'rejects' }),
      run('throws.js', { how: 'string' }),
    ]);
    const cases: [string, Outcome, object][] = [
      [
        'throws new TypeError(\'expected a number, got "seven"\')',
        typeError,
        { kind: 'threw', name: 'TypeError', message: 'expected a number, got "seven"' },
      ],
      [
        "rejects with new RangeError('rejected after a tick: 7 is out of range')",
        rejection,
        { kind: 'threw', name: 'RangeError', message: 'rejected after a tick: 7 is out of range' },
      ],
      [
        "throws the string 'a plain string, not an Error'",
        notAnError,
        { kind: 'threw', name: null, message: 'a plain string, not an Error' },
      ],
    ];
    for (const [what, outcome, expected] of cases) {
      const lost =
        outcome.kind === 'threw' && (typeof outcome.message !== 'string' || outcome.message === '')
          ? ' The message was lost on its way: an Error sent over the IPC channel arrives as {} (JSON keeps only ' +
            'own enumerable properties; message is not enumerable and name is on the prototype). Send ' +
            'error.name and error.message as strings.'
          : '';
      assert.deepEqual(
        plain(outcome),
        expected,
        `a task that ${what} should give ${show(expected)}, got ${show(outcome)}.${lost}`,
      );
    }
  });

  test('reports process.exit as exited with its code: exit code 0 without an answer is not a result', async () => {
    const [three, zero] = await Promise.all([run('exits.js', { code: 3 }), run('exits.js', { code: 0 })]);
    assert.deepEqual(
      plain(three),
      { kind: 'exited', code: 3 },
      `a task that calls process.exit(3) should give { kind: 'exited', code: 3 }, got ${show(three)}.`,
    );
    assert.deepEqual(
      plain(zero),
      { kind: 'exited', code: 0 },
      `a task that calls process.exit(0) before answering should give { kind: 'exited', code: 0 }, got ` +
        `${show(zero)}. Exit code 0 only says the process ended "normally"; the task never answered. Only a ` +
        `message from the runner is a result: decide by what arrived over the IPC channel, not by the exit code.`,
    );
  });

  test('reports a child killed by a signal as that signal, process.abort() as SIGABRT and not out of memory', async () => {
    const signals = ['SIGKILL', 'SIGSEGV', 'abort'] as const;
    const outcomes = await Promise.all(signals.map((signal) => run('signals.js', { signal })));
    signals.forEach((how, index) => {
      const outcome = outcomes[index]!;
      const signal = how === 'abort' ? 'SIGABRT' : how;
      const what = how === 'abort' ? 'calls process.abort()' : `sends itself ${how}`;
      let why = '';
      if (outcome.kind === 'exited') {
        why =
          " A process ended by a signal has no exit code: 'exit' and 'close' give code null and the signal as " +
          'their second argument. null is not 0.';
      } else if (outcome.kind === 'out-of-memory') {
        why =
          ' process.abort() ends a process with SIGABRT too, as V8 does when the heap is full, but it is not ' +
          'out of memory. Only V8 writes "JavaScript heap out of memory" to stderr: look for it there.';
      }
      assert.deepEqual(
        plain(outcome),
        { kind: 'signal', signal },
        `a task that ${what} should give { kind: 'signal', signal: '${signal}' }, got ${show(outcome)}.${why}`,
      );
    });
  });

  test('reports a task that outgrows maxHeapMb as out-of-memory, and one that fits as its result', async () => {
    const tooBig = { timeoutMs: 20_000, maxHeapMb: 32 };
    const roomy = { timeoutMs: 20_000, maxHeapMb: 512 };
    const [outgrows, fits] = await Promise.all([
      run('allocates.js', { mb: 256 }, tooBig),
      run('allocates.js', { mb: 32 }, roomy),
    ]);
    let why = '';
    if (outgrows.kind === 'result') {
      why =
        ' It kept 256 MiB although maxHeapMb was 32: the limit was not applied. Start the child with ' +
        'execArgv: [`--max-old-space-size=${maxHeapMb}`] (the value is in MiB).';
    } else if (outgrows.kind === 'signal' && outgrows.signal === 'SIGABRT') {
      why =
        ' V8 ends a process that reaches its heap limit with SIGABRT, after writing "FATAL ERROR: … JavaScript heap ' +
        'out of memory" to stderr. Pipe the child\'s stderr, read it, and report SIGABRT with that line as ' +
        "{ kind: 'out-of-memory' }.";
    }
    assert.deepEqual(
      plain(outgrows),
      { kind: 'out-of-memory' },
      `a task that keeps 256 MiB of arrays, run with maxHeapMb 32, should give { kind: 'out-of-memory' }, got ` +
        `${show(outgrows)}.${why}`,
    );
    assert.deepEqual(
      plain(fits),
      { kind: 'result', value: { allocatedMb: 32 } },
      `a task that keeps 32 MiB of arrays, run with maxHeapMb 512, should give { kind: 'result', value: ` +
        `{ allocatedMb: 32 } }, got ${show(fits)}. Is maxHeapMb passed in MiB, as --max-old-space-size=<maxHeapMb>?`,
    );
  });

  test('on timeout kills the child and every process it started, and reports the timeout', async () => {
    // Each run only counts if both tasks had started (written their pid files) before the time limit ran out:
    // a child killed while still loading proves nothing. On a busy machine, the run is repeated with a longer limit.
    // The limits given to isolate() are always 500 ms × 2^k; only how far the ladder goes is stretched on a
    // machine with less CPU, where a child takes longer to load (the time it needs is not behaviour under test).
    const longestTimeoutMs = scaled(8000);
    let triedMs = 0;
    for (let timeoutMs = 500; timeoutMs <= longestTimeoutMs; timeoutMs *= 2) {
      triedMs = timeoutMs;
      const options = { timeoutMs, maxHeapMb: 256 };
      const loopsFile = path.join(dir, `loops-${timeoutMs}.json`);
      const pendingFile = path.join(dir, `never-${timeoutMs}.json`);
      const started = performance.now();
      const [loops, pending] = await Promise.all([
        run('loops-forever.js', { pidFile: loopsFile, dir }, options),
        run('never-settles.js', { pidFile: pendingFile }, options),
      ]);
      const elapsedMs = performance.now() - started;
      const loopsPids = readPids(loopsFile);
      const pendingPids = readPids(pendingFile);
      if (!loopsPids?.grandchild || !pendingPids?.child) {
        // Not conclusive. Stop what a wrong solution may have left running before trying again.
        killAll(descendantsOf(process.pid).filter((pid) => !descendantsBefore.has(pid)));
        killAll(processesMentioning(dir));
        continue;
      }
      const expected = { kind: 'timeout', ms: timeoutMs };
      for (const [what, outcome] of [
        ['loops for ever', loops],
        ['returns a promise that never settles (and keeps a timer running)', pending],
      ] as const) {
        assert.deepEqual(
          plain(outcome),
          expected,
          `a task that ${what}, run with timeoutMs ${timeoutMs}, should give ${show(expected)}, got ` +
            `${show(outcome)}.${outcome.kind === 'signal' ? ' The signal is the one the time limit sent: report the timeout, not the kill.' : ''}`,
        );
      }
      // A lower bound only: a slow or throttled machine can only make the call take longer, never shorter, so
      // it cannot fail a correct isolate(); it catches a timer started early or a limit read as seconds / 1000.
      assert.ok(
        elapsedMs >= timeoutMs - 20,
        `isolate() reported a timeout ${Math.round(elapsedMs)} ms after the call, before timeoutMs (${timeoutMs}) ` +
          `had passed. The task may run for timeoutMs milliseconds.`,
      );
      for (const [what, pid] of [
        ['that loops for ever', loopsPids.child!],
        ['whose promise never settles', pendingPids.child!],
      ] as const) {
        await waitUntil(
          () => !isAlive(pid),
          GONE_MS,
          `isolate() reported the timeout, but the child running the task ${what} (pid ${pid}) was still ` +
            `running ${inWords(scaled(GONE_MS))} later. A timeout must end the task: kill the child (SIGKILL: a task stuck in a loop ` +
            `never gets to run a signal handler), and resolve once it has exited.`,
        );
      }
      await waitUntil(
        () => !isAlive(loopsPids.grandchild!),
        GONE_MS,
        `the child was killed on timeout, but the process its task had started (pid ${loopsPids.grandchild}) ` +
          `was still running ${inWords(scaled(GONE_MS))} later: killing a child does not kill its children, they are orphaned. Fork the ` +
          `runner with detached: true, so that it leads a process group of its own, and kill the whole group: ` +
          `process.kill(-child.pid, 'SIGKILL').`,
      );
      return;
    }
    assert.fail(
      `the timeout tasks never started before their time limit ran out, even with timeoutMs ${triedMs}. Is ` +
        'timeoutMs used as milliseconds, counted from the call? (Or is the machine extremely busy?)',
    );
  });
});
