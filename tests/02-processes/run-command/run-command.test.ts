import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { run } from '@target/02-processes/run-command';
import { track, waitUntil, within } from '../../support/deadline';
import { killAll } from '../../support/processes';

const node = process.execPath;

/** True once `pid` has been reaped by its parent: not running, and not a zombie either. */
function isReaped(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/** Waits until a fixture has written `file`, and returns what `parse` makes of it. */
async function readWhenWritten<T>(file: string, parse: (text: string) => T): Promise<T> {
  let value: T | undefined;
  await waitUntil(
    () => {
      try {
        value = parse(readFileSync(file, 'utf8'));
      } catch {
        return false; // not written yet, or only partly
      }
      return true;
    },
    8000,
    'the test program never started (is run() spawning the command with its arguments?).',
  );
  return value!;
}
const fixture = (name: string): string => path.join(__dirname, 'fixtures', name);
const started: number[] = [];
afterEach(() => killAll(started.splice(0)));

describe('run()', () => {
  test('collects stdout, stderr and the exit code', async () => {
    const script = "process.stdout.write('to stdout'); process.stderr.write('to stderr'); process.exitCode = 3";
    const result = await within(
      run(node, ['-e', script]),
      8000,
      'run() never resolved for a child that exits at once.',
    );
    assert.deepEqual(
      { ...result },
      { code: 3, signal: null, stdout: 'to stdout', stderr: 'to stderr' },
      `expected { code: 3, signal: null, stdout: 'to stdout', stderr: 'to stderr' }, got ${JSON.stringify(result)}`,
    );
  });

  test('reports a child killed by a signal as that signal, with a null exit code', async () => {
    const result = await within(
      run(node, ['-e', "process.kill(process.pid, 'SIGTERM')"]),
      8000,
      'run() never resolved for a child killed by SIGTERM.',
    );
    assert.equal(
      result.signal,
      'SIGTERM',
      `the child was killed by SIGTERM, but run() reported signal ${JSON.stringify(result.signal)}. The second argument of the 'exit'/'close' event is the signal.`,
    );
    assert.equal(
      result.code,
      null,
      `a child ended by a signal has no exit code (null), but run() reported code ${result.code}.`,
    );
  });

  test('keeps output written after the child exited, by a process still holding its stdout', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'run-command-'));
    try {
      const pidFile = path.join(dir, 'pids.json');
      const pending = track(run(node, [fixture('exits-before-its-output.js'), pidFile]));
      const pids = await readWhenWritten(pidFile, (text) => JSON.parse(text) as { child: number; grandchild: number });
      started.push(pids.grandchild);
      // Node reaps its children itself (waitpid) and emits 'exit' in the same callback: once the child's
      // pid is gone altogether (not even a zombie), its 'exit' event has been emitted in this process.
      await waitUntil(() => isReaped(pids.child), 8000, 'the child never exited.');
      await new Promise((resolve) => setImmediate(resolve));
      assert.ok(
        !pending.settled(),
        "run() resolved as soon as the child exited, while another process still held the child's stdout " +
          "and had more to write. Resolve on 'close' (all stdio streams ended), not on 'exit'.",
      );
      process.kill(pids.grandchild, 'SIGUSR2');
      const result = await within(
        pending.promise,
        8000,
        'run() did not resolve after every writer of stdout had finished.',
      );
      assert.equal(
        result.stdout,
        'early\nlate\n',
        `stdout should be "early\\nlate\\n", got ${JSON.stringify(result.stdout)}.`,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('keeps a multi-byte character that arrives split across two chunks', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'run-command-'));
    try {
      const readyFile = path.join(dir, 'ready');
      const pending = run(node, [fixture('splits-a-character.js'), readyFile]);
      const pid = await readWhenWritten(readyFile, (text) => {
        if (!/^\d+$/.test(text)) throw new Error('not written yet');
        return Number(text);
      });
      started.push(pid);
      // The first byte was written before the ready file: by the end of this loop turn's poll phase,
      // Node has read it as a chunk of its own. Only then does the child write the rest.
      await new Promise((resolve) => setImmediate(resolve));
      process.kill(pid, 'SIGUSR2');
      const result = await within(pending, 8000, 'run() never resolved for a child that writes one character.');
      for (const stream of ['stdout', 'stderr'] as const) {
        assert.equal(
          result[stream],
          '€',
          `${stream} should be "€" (bytes E2 82 AC, sent as E2 and then 82 AC), got ${JSON.stringify(result[stream])}. ` +
            `Decoding each chunk on its own turns the halves of a split character into U+FFFD. Collect the ` +
            `Buffers and decode once at the end, or use setEncoding('utf8'), which keeps an unfinished character for the next chunk.`,
        );
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('keeps every byte of large output on both streams, multi-byte characters intact', async () => {
    const rounds = 4000;
    const line = 'ünïcödé €uro ✓ 漢字 — '.repeat(8) + '\n';
    const result = await within(
      run(node, [fixture('floods-both-streams.js'), String(rounds)]),
      8000,
      'run() never resolved for a child writing a lot to stdout and stderr. If only one stream is read, the ' +
        'other fills its pipe and the child blocks for ever on its next write.',
    );
    for (const stream of ['stdout', 'stderr'] as const) {
      const text = result[stream];
      const expected = line.repeat(rounds);
      if (text === expected) continue;
      const garbled = text.includes('\ufffd');
      assert.fail(
        garbled
          ? `${stream} contains U+FFFD replacement characters: a multi-byte UTF-8 character was split between two ` +
              `chunks and each half was decoded on its own. Collect the Buffers and decode once, or use setEncoding('utf8').`
          : `${stream} has ${text.length} characters, expected ${expected.length}: some output was lost.`,
      );
    }
  });

  test('rejects with an error naming the command when it cannot be started', async () => {
    const missing = 'no-such-command-in-this-workbook';
    const outcome = await within(
      run(missing).then(
        () => 'resolved',
        (error: unknown) => error,
      ),
      8000,
      "run() never settled for a command that does not exist. Listen for the child's 'error' event.",
    );
    assert.ok(
      outcome instanceof Error,
      `run() should reject for a missing command, but it ${outcome === 'resolved' ? 'resolved' : 'threw a non-Error'}.`,
    );
    assert.match(
      outcome.message,
      new RegExp(missing),
      `the error should name the command; it said: ${outcome.message}`,
    );
  });
});
