import assert from 'node:assert/strict';
import { types } from 'node:util';
// First: records the worker threads the graded code starts, so leaked ones can be stopped after each test.
import { liveWorkers, stopLeakedWorkers } from '../../support/worker-tracker';
import { createTransformer, type Transformer } from '@target/05-threads/transfer';
import { inWords, scaled, waitUntil, within } from '../../support/deadline';

const MiB = 1024 * 1024;
/** Jest's limit for the test that blocks this thread for a while (stretched on a slower machine, as every deadline is). */
const SLOW_TEST_MS = scaled(20000);

const transformers: Transformer[] = [];
/** Creates the transformer under test and remembers it, so it is closed even when the test fails. */
function startTransformer(): Transformer {
  const transformer = createTransformer();
  transformers.push(transformer);
  return transformer;
}

afterEach(async () => {
  for (const transformer of transformers.splice(0)) {
    await within(
      Promise.resolve().then(() => transformer.close()),
      5000,
      'close() never settled',
    ).catch(() => {});
  }
  await stopLeakedWorkers();
});

/** `length` bytes that differ from their neighbours and from another seed's, in an ArrayBuffer of their own. */
function pattern(length: number, seed: number): Uint8Array {
  // A block of a prime length, computed once and repeated with set() (a memory copy): fast for many MiB.
  const block = new Uint8Array(4099);
  for (let i = 0; i < block.length; i += 1) block[i] = (i * 7 + seed * 13 + (i >> 8)) & 0xff;
  const bytes = new Uint8Array(length);
  for (let at = 0; at < length; at += block.length) bytes.set(block.subarray(0, length - at), at);
  return bytes;
}

/** What transform() must produce for `bytes`: every byte b as 255 - b. A copy; `bytes` is not touched. */
function inverted(bytes: Uint8Array): Buffer {
  const out = new Uint8Array(bytes); // a copy, in a buffer of its own
  // 255 - b is b XOR 0xff: four bytes at a time, then the few left over.
  const words = new Uint32Array(out.buffer, 0, out.length >> 2);
  for (let i = 0; i < words.length; i += 1) words[i] = ~words[i];
  for (let i = words.length * 4; i < out.length; i += 1) out[i] = 255 - out[i];
  return Buffer.from(out.buffer);
}

/** The bytes of a view, as a Buffer to compare (works for views from any realm or thread). */
const bytesOf = (view: Uint8Array): Buffer => Buffer.from(view.buffer, view.byteOffset, view.byteLength);

/** A settled outcome, with its handler attached at once: a rejection is never left unhandled. */
type Outcome<T> = { value: T } | { error: unknown };
const outcomeOf = <T>(promise: Promise<T>): Promise<Outcome<T>> =>
  promise.then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );

function messageOf(reason: unknown): string {
  if (typeof reason === 'object' && reason !== null && typeof (reason as Error).message === 'string') {
    return (reason as Error).message;
  }
  return String(reason);
}

/** Waits for a transform() outcome and returns its result, checked to be a Uint8Array of `length` bytes. */
async function resultOf(outcome: Promise<Outcome<Uint8Array>>, what: string, length: number): Promise<Uint8Array> {
  const settled = await within(
    outcome,
    8000,
    `${what} never settled. Does the worker post a reply for every request, and does the main thread resolve ` +
      `the call when that reply arrives?`,
  );
  if ('error' in settled) assert.fail(`${what} was rejected: ${messageOf(settled.error)}`);
  const result = settled.value;
  assert.ok(
    types.isUint8Array(result),
    `${what} resolved with ${Object.prototype.toString.call(result)}; it should resolve with a Uint8Array.`,
  );
  assert.equal(
    result.byteLength,
    length,
    `${what} resolved with ${result.byteLength} bytes, expected ${length}: the result has the length of the ` +
      `input.` +
      (result.byteLength === result.buffer.byteLength && result.byteLength > length
        ? ` It covers a whole ArrayBuffer of ${result.buffer.byteLength} bytes: was the result rebuilt as ` +
          `new Uint8Array(buffer), losing the view's byteOffset and length?`
        : ''),
  );
  return result;
}

/**
 * Blocks this thread (no event loop turn, so no message can be handled) until `condition` holds or `ms` pass
 * (stretched on a slower machine).
 */
function blockUntil(condition: () => boolean, ms: number): boolean {
  const sleeper = new Int32Array(new SharedArrayBuffer(4));
  const give = Date.now() + scaled(ms);
  while (!condition()) {
    if (Date.now() > give) return false;
    Atomics.wait(sleeper, 0, 0, 2);
  }
  return true;
}

describe('createTransformer()', () => {
  test('resolves with every byte inverted, in an array of the same length', async () => {
    const transformer = startTransformer();
    for (const length of [1, 1000, 0, 1 * MiB + 7]) {
      const bytes = pattern(length, length);
      const expected = inverted(bytes);
      const what = `transform() of ${length} byte(s)`;
      const result = await resultOf(outcomeOf(transformer.transform(bytes)), what, length);
      if (!bytesOf(result).equals(expected)) {
        const at = expected.findIndex((byte, i) => result[i] !== byte);
        assert.fail(
          `${what} resolved with the wrong bytes: at index ${at} it holds ${result[at]}, expected ${expected[at]} ` +
            `(255 minus the input byte there). Every byte b of the input becomes 255 - b.`,
        );
      }
    }
  });

  test('moves an array that covers its whole buffer to the worker: detached as soon as transform() returns', async () => {
    const transformer = startTransformer();
    const length = 8 * MiB;
    const bytes = pattern(length, 1);
    const expected = inverted(bytes);
    const outcome = outcomeOf(transformer.transform(bytes));
    // Read synchronously, before any message could have come back.
    const left = bytes.byteLength;
    assert.equal(
      left,
      0,
      `right after transform() returned, the caller's 8 MiB array still had all ${left} of its bytes: they ` +
        `were not moved. postMessage(value) copies every ArrayBuffer it reaches (8 MiB here, and the memory is ` +
        `then in two places); postMessage(value, [bytes.buffer]) transfers it instead — the memory changes ` +
        `owner, and the caller's array is detached (byteLength 0) at once. Post before transform() returns, ` +
        `with no await in between: a worker that is still starting queues the message.`,
    );
    const result = await resultOf(outcome, 'transform() of 8 MiB', length);
    assert.ok(bytesOf(result).equals(expected), 'transform() of 8 MiB resolved with the wrong bytes.');
  });

  test('copies a window into a larger buffer, leaving the caller’s array and its buffer attached and unchanged', async () => {
    const transformer = startTransformer();
    const whole = pattern(1 * MiB, 2);
    const before = Buffer.from(whole); // a copy, to compare with afterwards
    const window = whole.subarray(1000, 1000 + 64 * 1024 + 5);
    const windowLength = window.length;
    const expected = inverted(window);
    const outcome = outcomeOf(transformer.transform(window));
    const wholeLeft = whole.byteLength;
    const windowLeft = window.byteLength;
    assert.ok(
      wholeLeft === 1 * MiB && windowLeft === windowLength,
      `transform(whole.subarray(1000, ${1000 + windowLength})) detached memory that was not its to give: ` +
        `afterwards the window had ${windowLeft} bytes (was ${windowLength}) and the 1 MiB array it is a ` +
        `window into had ${wholeLeft}. Transferring view.buffer moves the WHOLE ArrayBuffer, including every ` +
        `byte outside the window, which other code still uses. When a view does not cover its whole buffer, ` +
        `copy its bytes into a buffer of their own (new Uint8Array(view)) and move that copy.`,
    );
    const result = await resultOf(outcome, `transform() of a ${windowLength}-byte subarray`, windowLength);
    assert.ok(
      bytesOf(result).equals(expected),
      `transform() of a subarray resolved with the wrong bytes: it must invert exactly the window's bytes.`,
    );
    assert.ok(
      bytesOf(whole).equals(before),
      `transform() of a subarray changed the caller's array: the window must be copied, and the copy inverted.`,
    );

    // A small Node Buffer is a slice of a pool (an 8 KiB ArrayBuffer) that other Buffers share.
    const pooled = Buffer.from('copy, move or share');
    const neighbour = Buffer.from('a neighbour in the same pool');
    assert.ok(pooled.byteLength < pooled.buffer.byteLength, 'test setup: Buffer.from(short string) is pooled');
    const pooledExpected = inverted(pooled);
    const pooledOutcome = outcomeOf(transformer.transform(pooled));
    const pooledResult = await resultOf(
      pooledOutcome,
      `transform(Buffer.from('copy, move or share')) (${pooled.length} bytes, on Node's shared 8 KiB pool)`,
      pooled.length,
    );
    assert.ok(
      bytesOf(pooledResult).equals(pooledExpected),
      `transform() of a small pooled Buffer resolved with the wrong bytes.`,
    );
    assert.equal(
      `${pooled.toString()} / ${neighbour.toString()}`,
      'copy, move or share / a neighbour in the same pool',
      'transform() of a small Buffer changed the caller’s Buffer or its neighbours in the pool.',
    );
  });

  test('gives transforms made at the same time each their own result', async () => {
    const transformer = startTransformer();
    const inputs = [pattern(2 * MiB, 3), pattern(10, 4), pattern(300_000, 5)];
    const lengths = inputs.map((bytes) => bytes.length);
    const expected = inputs.map(inverted); // before the inputs are moved away
    const outcomes = inputs.map((bytes) => outcomeOf(transformer.transform(bytes)));
    for (const [index, outcome] of outcomes.entries()) {
      const length = lengths[index]!;
      const settled = await within(
        outcome,
        8000,
        `transform() of ${length} bytes, made together with others (${lengths.join(', ')} bytes), never settled. ` +
          `Each request needs its own reply, and each reply must settle the call that asked for it.`,
      );
      if ('error' in settled) assert.fail(`transform() of ${length} bytes was rejected: ${messageOf(settled.error)}`);
      const got = settled.value;
      if (!types.isUint8Array(got)) {
        assert.fail(
          `transform() of ${length} bytes resolved with ${Object.prototype.toString.call(got)}, not a Uint8Array.`,
        );
      }
      const owner = lengths.findIndex((other, i) => i !== index && got.byteLength === other);
      assert.ok(
        got.byteLength === length && bytesOf(got).equals(expected[index]!),
        `transform() of ${length} bytes, made together with calls of ${lengths.filter((_, i) => i !== index).join(' and ')} ` +
          `bytes, resolved with ${got.byteLength} bytes` +
          (owner >= 0 ? `: the result of the call of ${lengths[owner]} bytes` : ' that are not its result') +
          `. Calls overlap; each must get the reply to its own request. A 'message' listener added per call ` +
          `hears every reply, so all pending calls take the first one. Tag each request with an id, have the ` +
          `worker echo it, and settle the call with that id.`,
      );
    }
  });

  test(
    'bytesDone() counts the work as the worker does it, readable without a turn of the event loop',
    async () => {
      const transformer = startTransformer();
      assert.equal(
        transformer.bytesDone(),
        0,
        `bytesDone() is 0 before any transform, got ${transformer.bytesDone()}.`,
      );
      await resultOf(outcomeOf(transformer.transform(pattern(10, 6))), 'transform() of 10 bytes', 10);
      assert.equal(
        transformer.bytesDone(),
        10,
        `after transform() of 10 bytes resolved, bytesDone() was ${transformer.bytesDone()}, expected 10. The ` +
          `worker adds to a count in a SharedArrayBuffer it was given (workerData); a plain ArrayBuffer or an ` +
          `Int32Array posted to the worker is copied, so the worker's additions never reach the caller's copy.`,
      );

      const length = 2 * MiB;
      const outcome = outcomeOf(transformer.transform(pattern(length, 7)));
      // This thread now blocks: no message from the worker can be handled until it returns, so a count kept
      // on this thread cannot move. Only memory the worker writes itself can.
      const moved = blockUntil(() => transformer.bytesDone() !== 10, 8000);
      const seen = transformer.bytesDone();
      assert.ok(
        moved,
        `transform() of ${length} bytes was running in the worker, and bytesDone() stayed at ${seen} for ` +
          `${inWords(scaled(8000))} while this thread waited without handling any message. A count the main thread updates when a reply ` +
          `or a progress message arrives is only as current as the last message it handled. Share the count ` +
          `instead: an Int32Array over a SharedArrayBuffer passed to the worker (workerData), which the worker ` +
          `advances with Atomics.add as it works, and bytesDone() reads with Atomics.load.`,
      );
      await resultOf(outcome, `transform() of ${length} bytes`, length);
      assert.equal(
        transformer.bytesDone(),
        10 + length,
        `once transform() of ${length} bytes had resolved (after one of 10 bytes), bytesDone() was ` +
          `${transformer.bytesDone()}, expected ${10 + length}: every byte of a resolved transform is counted.`,
      );
    },
    SLOW_TEST_MS,
  );

  test('close() stops the worker thread, leaving none behind', async () => {
    const transformer = startTransformer();
    await resultOf(outcomeOf(transformer.transform(pattern(10, 8))), 'transform() of 10 bytes', 10);
    await within(
      transformer.close(),
      8000,
      'close() never settled. It must stop the worker thread (worker.terminate()) and resolve once it has exited.',
    );
    const gone = await waitUntil(() => liveWorkers() === 0, 5000, 'workers left').then(
      () => true,
      () => false,
    );
    assert.ok(
      gone,
      `${inWords(scaled(5000))} after close() resolved, ${liveWorkers()} worker thread(s) the transformer started had not exited. A ` +
        `worker that is never terminated lives as long as the process, with its thread, its memory and its ` +
        `event loop (unref() only lets the process exit around it). close() must call terminate() on the ` +
        `worker and wait for it: terminate() returns a promise that resolves once the thread has exited.`,
    );
  });
});
