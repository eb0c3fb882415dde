import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { types } from 'node:util';
import { getDefaultHighWaterMark, Writable } from 'node:stream';
import { feed, pump } from '@target/04-ipc/backpressure-pipe';
import { inWords, scaled, waitUntil, within } from '../../support/deadline';
import { isAlive, killAll, processesMentioning } from '../../support/processes';

/*
 * How these tests see backpressure without timing anything: the source is the test's own (TestSource), and
 * counts every byte pulled from it. The consumer process (fixtures/consumer.js) can be started "stalled": it
 * reads nothing until the test sends it SIGUSR2. While it reads nothing, a producer that respects backpressure
 * pulls no more than the pipe and the stream's buffer can hold, however long it is watched; one that ignores
 * write()'s return value pulls everything the source has, at once. Only then is the consumer released, and
 * what it read (byte count and SHA-256, reported by the consumer) is compared with what the source produced.
 */

jest.setTimeout(scaled(20_000));
/** The deadlines below are 8 s on the reference machine, stretched on one with less CPU: this is how long they are. */
const eightSeconds = inWords(scaled(8000));

const node = process.execPath;
const KiB = 1024;
const MiB = 1024 * KiB;
const consumerProgram = path.join(__dirname, 'fixtures', 'consumer.js');

const kib = (bytes: number): string => `${Math.round(bytes / KiB)} KiB`;
const size = (bytes: number): string =>
  bytes >= MiB ? `${(bytes / MiB).toFixed(bytes % MiB === 0 ? 0 : 1)} MiB` : kib(bytes);

/** A source the test watches: what has been pulled from it, whether it was closed, and what it produced. */
class TestSource implements AsyncIterable<Buffer> {
  /** Bytes handed out so far. */
  pulled = 0;
  /** True once every chunk has been pulled and the source has ended normally. */
  exhausted = false;
  /** True once the iterator is finished: ended, failed, or closed early by its consumer (return()). */
  closed = false;
  readonly total: number;
  private readonly hash = createHash('sha256');
  private readonly iterator: AsyncGenerator<Buffer>;

  /**
   * Hands out random chunks of the given sizes. With `failure`, throws it after the last chunk instead of ending,
   * once `beforeFailing` (if given) has resolved.
   */
  constructor(
    private readonly sizes: number[],
    private readonly failure?: Error,
    private readonly beforeFailing?: () => Promise<void>,
  ) {
    this.total = sizes.reduce((sum, n) => sum + n, 0);
    this.iterator = this.generate();
  }

  [Symbol.asyncIterator](): AsyncGenerator<Buffer> {
    return this.iterator;
  }

  /** Byte count and SHA-256 of everything handed out so far. */
  produced(): Delivery {
    return { bytes: this.pulled, sha256: this.hash.copy().digest('hex') };
  }

  private async *generate(): AsyncGenerator<Buffer> {
    try {
      for (const n of this.sizes) {
        const chunk = randomBytes(n);
        this.hash.update(chunk);
        this.pulled += n;
        yield chunk;
      }
      if (this.failure) {
        await this.beforeFailing?.();
        throw this.failure;
      }
      this.exhausted = true;
    } finally {
      this.closed = true;
    }
  }
}

/** `total` bytes in chunks of `chunk` bytes. */
const evenChunks = (total: number, chunk: number): number[] =>
  Array.from({ length: Math.ceil(total / chunk) }, () => chunk);

interface Delivery {
  bytes: number;
  sha256: string;
}

/** One line of the consumer's report file (see fixtures/consumer.js). */
interface Report extends Partial<Delivery> {
  pid: number;
  event: 'ready' | 'eof' | 'exiting';
}

/** Every test gets its own directory, named in the command line of every consumer it starts. */
let dir: string;
let reportFile: string;
/** The consumers this test started itself (pump()'s tests). */
const started: ChildProcess[] = [];
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'backpressure-pipe-'));
  reportFile = path.join(dir, 'report.jsonl');
});
afterEach(async () => {
  // Every consumer this test started, and every one the code under test started and left running.
  for (const child of started.splice(0))
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  killAll(processesMentioning(dir));
  await rm(dir, { recursive: true, force: true });
});

function readReports(): Report[] {
  if (!existsSync(reportFile)) return [];
  return readFileSync(reportFile, 'utf8')
    .split('\n')
    .filter((line) => line.endsWith('}'))
    .map((line) => JSON.parse(line) as Report);
}

/** Waits until the consumer has reported `event`, and returns that report. */
async function reported(event: Report['event'], never: string): Promise<Report> {
  let found: Report | undefined;
  await waitUntil(() => (found = readReports().find((report) => report.event === event)) !== undefined, 8000, never);
  return found!;
}

/** The consumer arguments for `feed(node, consumerArgs(mode), …)`. */
const consumerArgs = (mode: string, ...rest: string[]): string[] => [consumerProgram, reportFile, mode, ...rest];

/** Starts a consumer whose stdin the test hands to pump(). */
function startConsumer(mode: string, ...rest: string[]): { stdin: Writable; errors: Error[] } {
  const child = spawn(node, consumerArgs(mode, ...rest), { stdio: ['pipe', 'ignore', 'inherit'] });
  started.push(child);
  // The test's own listener: when the consumer goes away, an EPIPE on its stdin must not crash the suite,
  // whatever pump() does. (Without it, a pump() that never listens for 'error' would crash the process.)
  const errors: Error[] = [];
  child.stdin!.on('error', (error) => errors.push(error));
  return { stdin: child.stdin!, errors };
}

type Outcome<T> = { value: T } | { error: unknown };

/** Watches a promise from the start, so that its rejection is handled at once, whenever the test looks at it. */
function settle<T>(promise: Promise<T>): { outcome: Promise<Outcome<T>>; settled: () => boolean } {
  let done = false;
  const outcome = promise.then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );
  void outcome.then(() => (done = true));
  return { outcome, settled: () => done };
}

/** Like `within`, but the message is made when the time runs out, from what happened meanwhile. */
async function settledWithin<T>(outcome: Promise<Outcome<T>>, ms: number, explain: () => string): Promise<Outcome<T>> {
  const never = Symbol('never');
  const result = await within(outcome, ms, 'never settled').catch(() => never);
  if (result === never) assert.fail(explain());
  return result as Outcome<T>;
}

/** Errors made by Node itself come from another realm than the test's: `instanceof Error` is false for them. */
const isError = (value: unknown): value is Error => types.isNativeError(value) || value instanceof Error;
const describeError = (error: unknown): string => (isError(error) ? error.message : String(error));

/**
 * Waits until `amount()` has stopped growing (unchanged for 50 turns of the event loop and at least 100 ms) or has
 * gone past `limit`, and returns it. This only decides when to look: a producer that respects backpressure stays
 * within the limit however long it is watched, and one that does not goes past it as soon as it runs. So a slow
 * machine cannot make it wrong either way: ignores-write-result and checks-every-64th-write pull past the limit in
 * microtasks, before this looks even once; a throttled process makes no progress at all while it is stopped, so
 * 50 turns without growth are 50 turns in which it ran. Only the 8 s deadline is stretched.
 */
async function untilSteady(amount: () => number, limit: number, neverStarted: string, tick = (): void => {}) {
  const give = Date.now() + scaled(8000);
  let last = amount();
  let turns = 0;
  let since = Date.now();
  for (;;) {
    await new Promise((resolve) => setImmediate(resolve));
    tick();
    const now = amount();
    if (now > limit) return now;
    if (now !== last || now === 0) {
      last = now;
      turns = 0;
      since = Date.now();
    } else if (++turns >= 50 && Date.now() - since >= 100) {
      return now;
    }
    if (Date.now() > give) {
      assert.fail(
        now === 0
          ? neverStarted
          : `the amount pulled from the source was still growing after ${eightSeconds} (${kib(now)}).`,
      );
    }
  }
}

/**
 * How many bytes the pipe to a child process takes while nobody reads it, measured on this machine (Node connects
 * a child's stdin through a socket pair whose buffer depends on the system: about 200 KiB on Linux).
 */
let capacity: Promise<number> | undefined;
function pipeCapacity(): Promise<number> {
  capacity ??= (async () => {
    const sleeper = spawn('sleep', ['30'], { stdio: ['pipe', 'ignore', 'ignore'] });
    sleeper.on('error', () => {}); // no sleep program: then nothing is accepted, and the measurement says so
    try {
      const stdin = sleeper.stdin!;
      stdin.on('error', () => {});
      const chunk = Buffer.alloc(16 * KiB);
      let accepted = 0;
      const offer = (): void => {
        while (stdin.writableLength < 2 * chunk.length) {
          stdin.write(chunk, (error) => error || (accepted += chunk.length));
        }
      };
      offer();
      await untilSteady(() => accepted, Infinity, 'could not measure the pipe capacity: nothing was written.', offer);
      return accepted + stdin.writableLength; // what is still pending may be partly in the pipe already
    } finally {
      sleeper.kill('SIGKILL');
    }
  })();
  return capacity;
}

/** The most a producer may pull from the source while the consumer reads nothing, with its explanation. */
async function stallLimit(highWaterMark: number, chunk: number): Promise<{ limit: number; why: string }> {
  const pipe = await pipeCapacity();
  const expected = pipe + highWaterMark + chunk;
  return {
    limit: Math.round(1.25 * pipe) + highWaterMark + 4 * chunk,
    why:
      `The pipe to the consumer holds about ${kib(pipe)} on this machine and the stream's buffer ` +
      `(writableHighWaterMark) ${kib(highWaterMark)}, so a producer that respects backpressure pulls about ` +
      `${kib(expected)} and then waits`,
  };
}

/**
 * A source size that cannot all be written before a consumer that reads `reads` bytes and exits has exited: much more
 * than it reads plus what the pipe holds.
 */
async function moreThanFits(reads: number): Promise<number> {
  return reads + 2 * (await pipeCapacity()) + MiB;
}

function assertStayedWithin(source: TestSource, stall: { limit: number; why: string }, who: string): void {
  if (source.pulled <= stall.limit) return;
  assert.fail(
    `while the consumer read nothing, ${who} pulled ${size(source.pulled)} of the source's ${size(source.total)}. ` +
      `${stall.why}; the limit here is ${kib(stall.limit)}. Everything beyond what the pipe takes piles up in this ` +
      `process's memory, and with a larger source it runs out. When write() returns false, write nothing and ` +
      `pull nothing more until the destination emits 'drain', and pull each chunk only when you are about to ` +
      `write it.`,
  );
}

/** Asserts that the consumer read exactly what the source produced: all of it, in order, once. */
function assertDelivered(source: TestSource, got: Delivery, who: string): void {
  assert.ok(
    source.exhausted,
    `${who} finished after pulling only ${size(source.pulled)} of the source's ${size(source.total)}: ` +
      `keep pulling until the source is done.`,
  );
  const expected = source.produced();
  if (got.bytes === expected.bytes && got.sha256 === expected.sha256) return;
  const what =
    got.bytes < expected.bytes
      ? `${expected.bytes - got.bytes} bytes were lost (a chunk was dropped, or never written)`
      : got.bytes > expected.bytes
        ? `${got.bytes - expected.bytes} bytes too many arrived (a chunk was written twice)`
        : 'the right number of bytes arrived, but not the same bytes in the same order (chunks were reordered)';
  assert.fail(
    `the consumer read ${got.bytes} bytes, but the source produced ${expected.bytes}: ${what}. Every chunk must be ` +
      `written exactly once, in the order the source gives them, also the one pulled just before waiting for 'drain'.`,
  );
}

describe('pump()', () => {
  test('delivers every byte to a consumer process, in order and exactly once, whatever the chunk sizes', async () => {
    const consumer = startConsumer('eager');
    const pattern = [16 * KiB, 1, 64 * KiB, 4093, 200_000, 16 * KiB, 777, 128 * KiB, 3];
    const sizes: number[] = [];
    for (let total = 0; total < 2 * MiB; total += sizes.at(-1)!) sizes.push(pattern[sizes.length % pattern.length]!);
    sizes.push(12_345);
    const source = new TestSource(sizes);
    const outcome = await settledWithin(
      settle(pump(source, consumer.stdin)).outcome,
      8000,
      () =>
        `pump() had not settled ${eightSeconds} after it started streaming ${size(source.total)} to a consumer that reads at ` +
        `full speed (it pulled ${size(source.pulled)}). ${
          consumer.stdin.writableEnded
            ? "It ended the destination: resolve once it emits 'finish' (destination.end(callback) calls back then)."
            : 'It never ended the destination: when the source is done, call destination.end().'
        }`,
    );
    if ('error' in outcome) assert.fail(`pump() rejected: ${describeError(outcome.error)}`);
    const eof = await reported(
      'eof',
      'pump() resolved, but the consumer never saw the end of its input. Call destination.end() when the source is done.',
    );
    assertDelivered(source, eof as Delivery, 'pump()');
  });

  test('pulls no more than the pipe can hold while the consumer reads nothing, and loses nothing after', async () => {
    const chunk = 16 * KiB;
    const consumer = startConsumer('stalled');
    const stall = await stallLimit(consumer.stdin.writableHighWaterMark, chunk);
    const source = new TestSource(evenChunks(Math.max(2 * MiB, 4 * stall.limit), chunk));
    const pending = settle(pump(source, consumer.stdin));
    const ready = await reported('ready', 'the consumer program never started.');
    await untilSteady(() => source.pulled, stall.limit, 'pump() never pulled anything from the source.');
    assertStayedWithin(source, stall, 'pump()');
    if (pending.settled()) {
      const early = await pending.outcome;
      assert.fail(
        `pump() ${'error' in early ? `rejected (${describeError(early.error)})` : 'resolved'} while the consumer ` +
          `had read nothing of the source's ${size(source.total)}.`,
      );
    }

    process.kill(ready.pid, 'SIGUSR2'); // the consumer starts reading, at full speed
    const outcome = await settledWithin(
      pending.outcome,
      8000,
      () =>
        `pump() had not settled ${eightSeconds} after the consumer started reading (it pulled ${size(source.pulled)} of ` +
        `${size(source.total)}). After write() returns false, wait for 'drain' and then go on with the next chunk.`,
    );
    if ('error' in outcome) assert.fail(`pump() rejected: ${describeError(outcome.error)}`);
    const eof = await reported('eof', 'pump() resolved, but the consumer never saw the end of its input.');
    assertDelivered(source, eof as Delivery, 'pump()');
  });

  test("resolves only once the destination has emitted 'finish', not as soon as it has called end()", async () => {
    // An in-process destination that takes every write at once but finishes (flushes, like a socket's shutdown)
    // only when the test lets it: until then it cannot emit 'finish'.
    let finishNow: (() => void) | undefined;
    const received: Buffer[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        received.push(chunk);
        callback();
      },
      final(callback) {
        finishNow = () => callback();
      },
    });
    destination.on('error', () => {});
    const source = new TestSource([1000, 2000, 3000]);
    const pending = settle(pump(source, destination));
    await waitUntil(
      () => finishNow !== undefined || pending.settled(),
      8000,
      `pump() never called end() on the destination after the source was done (it pulled ${source.pulled} of ` +
        `${source.total} bytes, and every write completed at once).`,
    );
    for (let turn = 0; turn < 20; turn += 1) await new Promise((resolve) => setImmediate(resolve));
    if (pending.settled()) {
      const outcome = await pending.outcome;
      assert.fail(
        'error' in outcome
          ? `pump() rejected: ${describeError(outcome.error)}`
          : `pump() resolved while the destination was still finishing: end() had been called, but it had not ` +
              `emitted 'finish' (for a pipe or socket: the data may not have been handed on yet, and an error may ` +
              `still come). The caller cannot know the data has arrived. Resolve when the destination emits ` +
              `'finish' (destination.end(callback) calls back then), not right after calling end().`,
      );
    }

    finishNow!();
    const outcome = await settledWithin(
      pending.outcome,
      8000,
      () => "pump() never settled after the destination emitted 'finish'.",
    );
    if ('error' in outcome) assert.fail(`pump() rejected: ${describeError(outcome.error)}`);
    const all = Buffer.concat(received);
    assertDelivered(source, { bytes: all.length, sha256: createHash('sha256').update(all).digest('hex') }, 'pump()');
  });

  test('rejects, and closes the source, when the consumer exits before reading everything', async () => {
    const consumer = startConsumer('exit-after', String(256 * KiB), '3');
    const source = new TestSource(evenChunks(await moreThanFits(256 * KiB), 16 * KiB));
    const outcome = await settledWithin(settle(pump(source, consumer.stdin)).outcome, 8000, () => {
      const [error] = consumer.errors;
      return error
        ? `the consumer exited after reading 256 KiB, and the destination emitted 'error' ("${error.message}"), but ` +
            `pump() never settled: it waited for a 'drain' that never comes. Listen for 'error' on the destination ` +
            `the whole time, and reject with it. (This test listens for 'error' too; without that, your pump() ` +
            `would have crashed the process with an unhandled 'error' event.)`
        : `the consumer exited after reading 256 KiB, and pump() had not settled ${eightSeconds} later.`;
    });
    assert.ok(
      'error' in outcome,
      `pump() resolved, though the consumer exited after reading 256 KiB of ${size(source.total)}: the rest never ` +
        `arrived. Reject with the destination's error.`,
    );
    assert.ok(
      isError(outcome.error),
      `pump() should reject with the destination's error, not ${String(outcome.error)}.`,
    );
    await waitUntil(
      () => source.closed,
      2000,
      `pump() rejected (${outcome.error.message}) but left the source open after ${size(source.pulled)}: stop ` +
        `pulling and close it (leaving a for await loop by throw or break calls the iterator's return()).`,
    );
  });

  test('rejects with the error the source threw, and does not end the destination', async () => {
    const received: Buffer[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        received.push(chunk);
        callback();
      },
    });
    destination.on('error', () => {});
    const failure = new Error('the source broke down after three chunks');
    const source = new TestSource([4096, 4096, 4096], failure);
    const outcome = await settledWithin(
      settle(pump(source, destination)).outcome,
      8000,
      () => `pump() never settled after the source threw "${failure.message}". Reject with that error.`,
    );
    assert.ok('error' in outcome, 'pump() resolved, though the source threw an error: reject with that error.');
    assert.ok(
      outcome.error === failure || describeError(outcome.error).includes(failure.message),
      `pump() should reject with the error the source threw ("${failure.message}"), but rejected with ` +
        `"${describeError(outcome.error)}".`,
    );
    assert.ok(
      !destination.writableEnded,
      `pump() called end() on the destination after the source failed. Whoever reads from it then sees a normal ` +
        `end of the data, and takes the ${received.length} chunks it got for all of it. End the destination only ` +
        `when the source is done; when the source fails, leave the destination to the caller.`,
    );
  });
});

describe('feed()', () => {
  test('pulls no more than the pipe can hold while the consumer reads nothing, then resolves with its exit code and output', async () => {
    const chunk = 16 * KiB;
    const stall = await stallLimit(getDefaultHighWaterMark(false), chunk);
    const source = new TestSource(evenChunks(Math.max(2 * MiB, 4 * stall.limit), chunk));
    const pending = settle(feed(node, consumerArgs('stalled'), source));
    const ready = await reported(
      'ready',
      'the consumer never started: is feed() spawning the command with its arguments?',
    );
    await untilSteady(() => source.pulled, stall.limit, 'feed() never pulled anything from the source.');
    assertStayedWithin(source, stall, 'feed()');

    process.kill(ready.pid, 'SIGUSR2'); // the consumer starts reading, at full speed
    const outcome = await settledWithin(
      pending.outcome,
      8000,
      () =>
        `feed() had not settled ${eightSeconds} after the consumer started reading (${size(source.pulled)} of ` +
        `${size(source.total)} pulled${readReports().some((r) => r.event === 'eof') ? '; the consumer saw the end of its input' : ''}).`,
    );
    if ('error' in outcome) assert.fail(`feed() rejected: ${describeError(outcome.error)}`);
    const result = outcome.value;
    const eof = readReports().find((report) => report.event === 'eof');
    assert.ok(eof, `feed() resolved (${JSON.stringify(result)}) before the consumer had read all of its input.`);
    assertDelivered(source, eof as Delivery, 'feed()');
    const expected = { code: 0, signal: null, stdout: `${JSON.stringify(eof)}\n` };
    assert.deepEqual(
      { code: result.code, signal: result.signal, stdout: result.stdout },
      expected,
      `the consumer exited with code 0 after writing one line to stdout. Expected ${JSON.stringify(expected)}, got ` +
        `${JSON.stringify(result)}. Resolve on the child's 'close' (it has exited and its stdout is read).`,
    );
  });

  test('kills the consumer instead of ending its input when the source throws, then rejects with that error', async () => {
    const failure = new Error('the source broke down');
    let consumerPid: number | undefined;
    // The source fails only once the consumer is running and reading.
    const source = new TestSource(evenChunks(80 * KiB, 16 * KiB), failure, async () => {
      consumerPid = (await reported('ready', 'the consumer never started: is feed() spawning the command?')).pid;
    });
    const outcome = await settledWithin(
      settle(feed(node, consumerArgs('eager'), source)).outcome,
      8000,
      () =>
        `feed() had not settled ${eightSeconds} after the source threw "${failure.message}". ${
          consumerPid !== undefined && isAlive(consumerPid)
            ? 'The consumer is still running, waiting for more input: kill it (child.kill()), wait for it to end, then reject.'
            : 'Wait for the consumer to end, then reject with the source’s error.'
        }`,
    );
    const aliveAtEnd = consumerPid !== undefined && isAlive(consumerPid);
    const eof = readReports().find((report) => report.event === 'eof');
    if (eof) {
      assert.fail(
        `after the source failed, the consumer saw the end of its input and took the ${eof.bytes} bytes it had ` +
          `read for all of it (it exited normally). A consumer cannot tell a closed stdin from complete data: do ` +
          `not end or close its stdin when the source fails; kill the consumer (child.kill()), wait for it to end, ` +
          `then reject.`,
      );
    }
    assert.ok('error' in outcome, `feed() resolved (${JSON.stringify(outcome)}), though the source threw an error.`);
    assert.ok(
      outcome.error === failure || describeError(outcome.error).includes(failure.message),
      `feed() should reject with the error the source threw ("${failure.message}"), but rejected with ` +
        `"${describeError(outcome.error)}".`,
    );
    assert.ok(
      !aliveAtEnd,
      `feed() rejected while the consumer (pid ${consumerPid}) was still running. Kill it, and reject only once it ` +
        `has ended (the child's 'close' event).`,
    );
  });

  test('rejects, saying how the consumer ended, when it exits before reading all of its input', async () => {
    const source = new TestSource(evenChunks(await moreThanFits(256 * KiB), 16 * KiB));
    const outcome = await settledWithin(
      settle(feed(node, consumerArgs('exit-after', String(256 * KiB), '3'), source)).outcome,
      8000,
      () =>
        readReports().some((report) => report.event === 'exiting')
          ? `the consumer exited with code 3 after reading 256 KiB of ${size(source.total)}, and feed() had not ` +
            `settled ${eightSeconds} later. Writing to the stdin of a process that has exited fails (EPIPE, an 'error' event ` +
            `on child.stdin): reject then, once the child has ended.`
          : 'the consumer never started, or never read its input: is feed() writing the source to its stdin?',
    );
    assert.ok(
      'error' in outcome,
      `feed() resolved (${JSON.stringify(outcome)}), though the consumer exited after reading 256 KiB of ` +
        `${size(source.total)}: reject when it ends before reading all of its input.`,
    );
    assert.match(
      describeError(outcome.error),
      /exited with code 3/,
      `the consumer exited with code 3 before reading all of its input, and feed() rejected with ` +
        `"${describeError(outcome.error)}". Say how it ended: wait for it to end (the child's 'close' event gives ` +
        `the exit code and signal), then reject with a message like "the consumer exited with code 3 before ` +
        `reading all of its input". A bare EPIPE tells whoever reads it nothing about why.`,
    );
    await waitUntil(
      () => source.closed,
      2000,
      `feed() rejected but left the source open after ${size(source.pulled)}: stop pulling and close it.`,
    );
  });
});
