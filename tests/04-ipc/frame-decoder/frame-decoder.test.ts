import assert from 'node:assert/strict';
import { isDeepStrictEqual } from 'node:util';
import { z } from 'zod';
import { encodeFrame, FrameDecoder, type FrameErrorReason, type FrameResult } from '@target/04-ipc/frame-decoder';

/**
 * The decoder is graded by construction: each stream below is built by the test itself (not with the
 * learner's encodeFrame), so the test knows where every frame starts and ends and which push() must return
 * its result. The same bytes are then pushed under many chunkings (the whole stream at once, split at every
 * single byte offset, one byte per push, and seeded pseudo-random chunkings that are the same on every run),
 * and every chunking must give exactly the expected results, from the expected push(), with the same error texts.
 */

const PREFIX = 4;
const DEFAULT_LIMIT = 65536;

const Message = z.object({ id: z.number().int(), text: z.string() });
type Message = z.infer<typeof Message>;
type Result = FrameResult<Message>;

// ---------------------------------------------------------------------------------------------------------
// Streams whose layout the test knows

interface Expected {
  frame: number;
  /** A good frame's message, or why a bad frame is reported. */
  message?: Message;
  reason?: FrameErrorReason;
  /** Offset of the byte whose arrival completes this result, or 'end' when only end() can report it. */
  due: number | 'end';
  /** Further checks on the error text, with what they require in words. */
  errorMustInclude?: string[];
}

interface FrameLayout {
  number: number;
  start: number;
  /** Offset of the first payload byte. */
  payloadStart: number;
  /** Declared payload length. */
  declared: number;
  /** Offset just past the frame's last byte, as declared (past the end of the stream for a cut-short frame). */
  end: number;
  /** True if the decoder must discard its payload without keeping it. */
  skipped: boolean;
  description: string;
}

function prefixOf(length: number): Buffer {
  const prefix = Buffer.alloc(PREFIX);
  prefix.writeUInt32BE(length, 0);
  return prefix;
}

const json = (value: unknown): Buffer => Buffer.from(JSON.stringify(value), 'utf8');

function jsonError(text: string): string {
  try {
    JSON.parse(text);
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error(`the test's "invalid" JSON ${text} parsed`);
}

class StreamBuilder {
  readonly frames: FrameLayout[] = [];
  readonly expected: Expected[] = [];
  #parts: Buffer[] = [];
  #length = 0;

  constructor(readonly limit = DEFAULT_LIMIT) {}

  /** A frame whose payload is the JSON text of a message that matches the schema. */
  good(message: Message): this {
    const payload = json(message);
    const layout = this.#add(payload.length, payload, `a good frame carrying ${JSON.stringify(message)}`);
    this.expected.push({ frame: layout.number, message, due: layout.end - 1 });
    return this;
  }

  /** A frame whose payload is not JSON text. */
  notJson(payload: Buffer, description: string): this {
    const layout = this.#add(payload.length, payload, description);
    const why = jsonError(payload.toString('utf8'));
    this.expected.push({ frame: layout.number, reason: 'invalid-json', due: layout.end - 1, errorMustInclude: [why] });
    return this;
  }

  /** A frame whose payload is JSON that the schema rejects. */
  wrongShape(value: unknown): this {
    const payload = json(value);
    const layout = this.#add(
      payload.length,
      payload,
      `a frame carrying ${JSON.stringify(value)}, which fails the schema`,
    );
    const explanation = z.prettifyError(Message.safeParse(value).error!);
    this.expected.push({
      frame: layout.number,
      reason: 'schema',
      due: layout.end - 1,
      errorMustInclude: [explanation],
    });
    return this;
  }

  /** A frame declaring `declared` bytes, over the limit, followed by `payload` (all of it, or the start of it). */
  tooLarge(declared: number, payload: Buffer, description: string): this {
    const layout = this.#add(declared, payload, description, true);
    this.expected.push({
      frame: layout.number,
      reason: 'too-large',
      due: layout.payloadStart - 1,
      errorMustInclude: [String(declared), String(this.limit)],
    });
    if (payload.length < declared) this.expected.push({ frame: layout.number, reason: 'truncated', due: 'end' });
    return this;
  }

  /** The first `keep` bytes of a frame carrying `message`: the stream ends inside it. */
  cutShort(message: Message, keep: number): this {
    const payload = json(message);
    const bytes = Buffer.concat([prefixOf(payload.length), payload]).subarray(0, keep);
    const where =
      keep < PREFIX ? `${keep} of its 4 prefix bytes` : `${keep - PREFIX} of its ${payload.length} payload bytes`;
    const layout = this.#add(payload.length, bytes.subarray(PREFIX), `a frame cut short after ${where}`, false, bytes);
    this.expected.push({ frame: layout.number, reason: 'truncated', due: 'end' });
    return this;
  }

  build(): Buffer {
    return Buffer.concat(this.#parts, this.#length);
  }

  #add(declared: number, payload: Buffer, description: string, skipped = false, raw?: Buffer): FrameLayout {
    const start = this.#length;
    const bytes = raw ?? Buffer.concat([prefixOf(declared), payload]);
    const layout: FrameLayout = {
      number: this.frames.length + 1,
      start,
      payloadStart: start + PREFIX,
      declared,
      end: start + PREFIX + declared,
      skipped,
      description,
    };
    this.frames.push(layout);
    this.#parts.push(bytes);
    this.#length += bytes.length;
    return layout;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Chunkings

interface Chunking {
  name: string;
  /** Offsets where one push() ends and the next begins, strictly increasing, each inside the stream. */
  cuts: number[];
}

/** A small, fixed-seed pseudo-random generator (mulberry32): the same chunkings on every run. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function sizesOf(cuts: number[], length: number): number[] {
  const bounds = [0, ...cuts, length];
  return bounds.slice(1).map((bound, i) => bound - bounds[i]!);
}

const whole = (length: number): Chunking => ({ name: `the whole stream (${length} bytes) in one push()`, cuts: [] });

function everySplitPoint(
  stream: StreamBuilder,
  length: number,
  keep: (cut: number) => boolean = () => true,
): Chunking[] {
  const chunkings: Chunking[] = [];
  for (let cut = 1; cut < length; cut += 1) {
    if (keep(cut)) chunkings.push({ name: `two pushes, split at byte ${cut} (${where(stream, cut)})`, cuts: [cut] });
  }
  return chunkings;
}

const bytewise = (length: number): Chunking => ({
  name: 'one push() per byte',
  cuts: Array.from({ length: Math.max(0, length - 1) }, (_, i) => i + 1),
});

function randomChunkings(length: number, count: number, seed: number): Chunking[] {
  const next = random(seed);
  return Array.from({ length: count }, (_, k) => {
    // Mostly small pushes, now and then a large one: cuts land anywhere, several frames share a push.
    const largest = 1 + Math.floor(next() * 48);
    const cuts: number[] = [];
    for (let at = 1 + Math.floor(next() * largest); at < length; at += 1 + Math.floor(next() * largest)) cuts.push(at);
    const sizes = sizesOf(cuts, length);
    const shown = sizes.length > 24 ? `${sizes.slice(0, 24).join(', ')}, … (${sizes.length} pushes)` : sizes.join(', ');
    return { name: `seeded random chunking #${k + 1} (seed ${seed}), pushes of ${shown} bytes`, cuts };
  });
}

/** Every kind of chunking: whole, each single split point, one byte per push, and `randomCount` seeded ones. */
function allChunkings(stream: StreamBuilder, length: number, randomCount = 100): Chunking[] {
  return [
    whole(length),
    ...everySplitPoint(stream, length),
    bytewise(length),
    ...randomChunkings(length, randomCount, 4),
  ];
}

/** Where a cut at `offset` falls in the stream, in words. */
function where(stream: StreamBuilder, offset: number): string {
  const frame = stream.frames.find((f) => f.start <= offset && offset < Math.max(f.end, f.start + 1));
  if (!frame) return 'after the last frame';
  if (offset === frame.start) return `between frame ${frame.number - 1} and frame ${frame.number}`;
  if (offset < frame.payloadStart)
    return `${bytesText(offset - frame.start)} into frame ${frame.number}'s 4-byte length prefix`;
  if (offset === frame.payloadStart) return `between frame ${frame.number}'s length prefix and its payload`;
  return `${bytesText(offset - frame.payloadStart)} into frame ${frame.number}'s ${frame.declared}-byte payload`;
}

const bytesText = (count: number): string => `${count} ${count === 1 ? 'byte' : 'bytes'}`;

/** How `frame` arrived under a chunking: which of its bytes came in which push, and what it shared a push with. */
function arrival(frame: FrameLayout, cuts: number[], bytes: Buffer): { text: string; advice: string[] } {
  const inside = cuts.filter((cut) => frame.start < cut && cut < frame.end);
  const shared = frame.start > 0 && !cuts.includes(frame.start);
  const inPrefix = inside.filter((cut) => cut < frame.payloadStart);
  const inPayload = inside.filter((cut) => cut >= frame.payloadStart);
  const inCharacter = frame.skipped ? [] : inPayload.filter((cut) => (bytes[cut]! & 0xc0) === 0x80);
  const parts = [
    ...inPrefix.map((cut) => `cut ${bytesText(cut - frame.start)} into its length prefix`),
    ...inPayload.map(
      (cut) =>
        `cut ${bytesText(cut - frame.payloadStart)} into its payload` +
        (inCharacter.includes(cut) ? ' (inside a multi-byte UTF-8 character)' : ''),
    ),
  ];
  const text =
    `Frame ${frame.number} (${frame.description}, bytes ${frame.start}–${Math.min(frame.end, bytes.length) - 1}) ` +
    (parts.length === 0 ? 'arrived in a single push()' : `arrived in ${parts.length + 1} pieces: ${parts.join(', ')}`) +
    (shared ? `, and its first byte came in the same push() as the end of frame ${frame.number - 1}.` : '.');
  const advice: string[] = [];
  if (shared)
    advice.push(
      'One push() can hold the end of one frame and the start of the next (or several whole frames): after ' +
        'decoding a frame, go on with the bytes that follow it in the same chunk, and keep what is left.',
    );
  if (inPrefix.length > 0)
    advice.push(
      'The 4-byte length prefix itself can arrive split between pushes: keep its first bytes until all 4 are ' +
        'there, and only then read the length.',
    );
  if (inPayload.length > 0)
    advice.push(
      'A payload can arrive in pieces: keep them (as bytes) until all `length` bytes are there, then decode it.',
    );
  if (inCharacter.length > 0)
    advice.push(
      'A cut can fall inside a multi-byte character: decode the payload as UTF-8 only once it is complete ' +
        '(Buffer.concat the pieces first), never piece by piece.',
    );
  return { text, advice };
}

// ---------------------------------------------------------------------------------------------------------
// Running the decoder under a chunking, and judging what it returned

interface Returned {
  result: Result;
  /** 1-based number of the push() that returned it, or 'end'. */
  from: number | 'end';
}

interface Options {
  /** Check `bufferedBytes` after every push(). */
  checkBuffered?: boolean;
}

/** Rethrows the stub's "Not implemented" error as it is; anything else a call throws becomes a clear failure. */
function call<T>(what: () => T, explain: (error: unknown) => string): T {
  try {
    return what();
  } catch (error) {
    if (error instanceof Error && error.message.includes('Not implemented')) throw error;
    assert.fail(explain(error));
  }
}

const describeError = (error: unknown): string =>
  error instanceof Error ? `${error.name}: ${error.message}` : String(error);

function show(result: Result | undefined): string {
  if (result === undefined) return 'nothing';
  if (typeof result !== 'object' || result === null) return `the non-object ${JSON.stringify(result)}`;
  return result.ok
    ? `frame ${result.frame} delivered with ${JSON.stringify(result.message)}`
    : `frame ${result.frame} reported as ${JSON.stringify(result.reason)} ("${String(result.error).split('\n')[0]}")`;
}

function showExpected(expected: Expected): string {
  return expected.message
    ? `frame ${expected.frame} delivered with ${JSON.stringify(expected.message)}`
    : `frame ${expected.frame} reported as ${JSON.stringify(expected.reason)}`;
}

function summary(results: Returned[], around = 0): string {
  if (results.length === 0) return 'no results at all';
  const from = Math.max(0, Math.min(around - 6, results.length - 12));
  const shown = results.slice(from, from + 12).map(({ result }) => show(result));
  return (
    `${results.length} result(s): ${from > 0 ? '…; ' : ''}${shown.join('; ')}` +
    `${results.length > from + 12 ? '; …' : ''}`
  );
}

function pushName(from: number | 'end'): string {
  return from === 'end' ? 'end()' : `push() #${from}`;
}

/** Decodes `bytes` under `chunking`, checking every result against `stream.expected` as it goes. */
function decodeUnder(stream: StreamBuilder, bytes: Buffer, chunking: Chunking, options: Options = {}): Returned[] {
  const decoder = new FrameDecoder(Message, { maxPayloadBytes: stream.limit });
  const bounds = [0, ...chunking.cuts, bytes.length];
  const returned: Returned[] = [];
  const collect = (results: Result[], from: number | 'end'): void => {
    if (!Array.isArray(results)) {
      assert.fail(`${chunking.name}: ${pushName(from)} returned ${String(results)} instead of an array of results.`);
    }
    for (const result of results) returned.push({ result, from });
  };
  for (let i = 0; i + 1 < bounds.length; i += 1) {
    const chunk = bytes.subarray(bounds[i], bounds[i + 1]);
    const results = call(
      () => decoder.push(chunk),
      (error) =>
        `${chunking.name}: push() #${i + 1} threw ${describeError(error)}. A bad frame must become a ` +
        `{ ok: false } result, never an exception: the caller would lose every good frame after it ` +
        `(so far the decoder had returned ${summary(returned)}).`,
    );
    collect(results, i + 1);
    if (options.checkBuffered) checkBuffered(stream, decoder, bounds[i + 1]!, chunking);
  }
  collect(
    call(
      () => decoder.end(),
      (error) => `${chunking.name}: end() threw ${describeError(error)}; it must return the results instead.`,
    ),
    'end',
  );
  if (options.checkBuffered && decoder.bufferedBytes !== 0) {
    assert.fail(
      `${chunking.name}: after end(), bufferedBytes was ${decoder.bufferedBytes}; once the stream has ended the ` +
        `decoder must let go of the bytes of an unfinished frame.`,
    );
  }
  judge(stream, bytes, chunking, returned);
  return returned;
}

function checkBuffered(
  stream: StreamBuilder,
  decoder: FrameDecoder<Message>,
  pushed: number,
  chunking: Chunking,
): void {
  const held = decoder.bufferedBytes;
  const bound = PREFIX + stream.limit;
  if (typeof held !== 'number' || held > bound) {
    assert.fail(
      `${chunking.name}: after the first ${pushed} bytes had been pushed (${where(stream, pushed)}), bufferedBytes ` +
        `was ${held}, over ${bound} (the 4-byte prefix plus the ${stream.limit}-byte limit). The decoder may keep ` +
        `only the bytes of the one frame it has not finished; a frame over the limit is discarded as it streams past.`,
    );
  }
  const between = stream.frames.some((f) => f.start === pushed || f.end === pushed);
  const skipping = stream.frames.find((f) => f.skipped && f.payloadStart <= pushed && pushed < f.end);
  if ((between || skipping) && held !== 0) {
    assert.fail(
      `${chunking.name}: after the first ${pushed} bytes had been pushed (${where(stream, pushed)}), bufferedBytes ` +
        `was ${held}, but ${
          skipping
            ? `those bytes end inside frame ${skipping.number}, which is over the limit and must be discarded, not kept`
            : 'those bytes end exactly between two frames, so there is nothing left to keep'
        }.`,
    );
  }
}

/** Compares what the decoder returned under `chunking` with what the stream's layout requires. */
function judge(stream: StreamBuilder, data: Buffer, chunking: Chunking, returned: Returned[]): void {
  const bounds = [0, ...chunking.cuts, data.length];
  const pushOf = (due: number | 'end'): number | 'end' =>
    due === 'end' ? 'end' : bounds.findIndex((bound, i) => bound <= due && due < bounds[i + 1]!) + 1;
  for (let i = 0; i < Math.max(stream.expected.length, returned.length); i += 1) {
    const expected = stream.expected[i];
    const got = returned[i];
    const context = (): string => {
      const number = expected?.frame ?? (got?.result as Result | null | undefined)?.frame ?? 0;
      const frame = stream.frames[number - 1];
      const { text, advice } = frame ? arrival(frame, chunking.cuts, data) : { text: '', advice: [] };
      if (expected?.reason === 'truncated') {
        advice.splice(
          0,
          advice.length,
          `The stream ended inside frame ${expected.frame}. end() must say so: when it is called with part of a ` +
            `frame received (even just part of its prefix, or of a too-large frame being discarded), it returns ` +
            `a { ok: false, reason: 'truncated' } result for that frame.`,
        );
      }
      const garbled =
        got?.result.ok && typeof got.result.message?.text === 'string' && got.result.message.text.includes('\ufffd')
          ? [
              'The delivered text contains U+FFFD replacement characters: a multi-byte character was split between ' +
                'pushes and each piece was decoded on its own. Decode a payload only once all its bytes are there.',
            ]
          : [];
      const from = Math.max(0, i - 6);
      const expectedList =
        (from > 0 ? '…; ' : '') +
        stream.expected
          .slice(from, from + 12)
          .map(showExpected)
          .join('; ') +
        (stream.expected.length > from + 12 ? `; … (${stream.expected.length} results in all)` : '');
      // A garbled character has one cause; the other advice would only distract from it.
      const hints = garbled.length > 0 ? [...garbled, ...advice.filter((line) => line.includes('multi-byte'))] : advice;
      return [`\nExpected: ${expectedList}.`, `Got: ${summary(returned, i)}.`, text, ...hints]
        .filter(Boolean)
        .join('\n');
    };
    if (!expected) {
      assert.fail(`${chunking.name}: result #${i + 1} should not exist, but was ${show(got!.result)}.${context()}`);
    }
    if (!got) {
      assert.fail(
        `${chunking.name}: result #${i + 1} should be ${showExpected(expected)}, but it never came.${context()}`,
      );
    }
    const result = got.result;
    const same =
      typeof result === 'object' &&
      result !== null &&
      result.frame === expected.frame &&
      (expected.message
        ? result.ok === true && isDeepStrictEqual(result.message, expected.message)
        : result.ok === false && result.reason === expected.reason);
    if (!same) {
      assert.fail(
        `${chunking.name}: result #${i + 1} should be ${showExpected(expected)}, but was ${show(result)}.${context()}`,
      );
    }
    const due = pushOf(expected.due);
    if (got.from !== due) {
      const why =
        expected.reason === 'too-large'
          ? `A frame over the limit is known as soon as its 4-byte prefix has arrived: report it from the push() ` +
            `that completes the prefix, then discard its payload as it streams past without keeping it.`
          : expected.due === 'end'
            ? 'Only end() can know that the stream was cut short.'
            : `Return each frame's result from the push() that brings its last byte, not later.`;
      assert.fail(
        `${chunking.name}: ${showExpected(expected)} was returned by ${pushName(got.from)}, but should come from ` +
          `${pushName(due)}. ${why}`,
      );
    }
    if (!result.ok) {
      const error = String(result.error);
      if (!new RegExp(`\\bframe ${expected.frame}\\b`, 'i').test(error)) {
        assert.fail(
          `${chunking.name}: the error for frame ${expected.frame} should name it ("frame ${expected.frame} …"), but it ` +
            `was "${error}".`,
        );
      }
      for (const part of expected.errorMustInclude ?? []) {
        if (!error.includes(part)) {
          assert.fail(
            `${chunking.name}: the error for frame ${expected.frame} (${stream.frames[expected.frame - 1]!.description}) ` +
              `should include "${part}", but it was "${error}".`,
          );
        }
      }
    }
  }
}

/** Runs every chunking, and requires the very same error texts as under the first one. */
function decodeUnderEach(stream: StreamBuilder, chunkings: Chunking[], options: Options = {}): void {
  const data = stream.build();
  let reference: { chunking: Chunking; errors: string[] } | undefined;
  for (const chunking of chunkings) {
    const errors = decodeUnder(stream, data, chunking, options).map(({ result }) =>
      result.ok ? '' : String(result.error),
    );
    if (!reference) {
      reference = { chunking, errors };
      continue;
    }
    errors.forEach((error, i) => {
      if (error === reference!.errors[i]) return;
      assert.fail(
        `${chunking.name}: the error for frame ${stream.expected[i]!.frame} was "${error}", but with ` +
          `${reference!.chunking.name} it was "${reference!.errors[i]}". An error must depend only on the bytes ` +
          `of the stream, never on how they were split into pushes.`,
      );
    });
  }
}

// ---------------------------------------------------------------------------------------------------------
// Streams

const ascii = (id: number, text: string): Message => ({ id, text });

function goodStream(): StreamBuilder {
  return new StreamBuilder()
    .good(ascii(1, 'hello'))
    .good(ascii(2, ''))
    .good(ascii(3, 'a longer message, which spans several random pushes'))
    .good(ascii(-4, 'x'))
    .good(ascii(5, 'line\nbreak, "quotes" and \\ backslash'))
    .good(ascii(6, 'ünïcödé € 😀 漢字'))
    .good(ascii(7, 'end'));
}

function unicodeStream(): StreamBuilder {
  return new StreamBuilder()
    .good(ascii(1, '€'))
    .good(ascii(2, '😀 grinning, 4 bytes'))
    .good(ascii(3, 'ñandú — 漢字 — Ελληνικά — 🇺🇳'))
    .good(ascii(4, '€€€€€€€€'));
}

/** Bytes that look like frames: a decoder that does not skip a too-large payload would deliver them. */
function smuggled(length: number): Buffer {
  const inner = Buffer.concat([ascii(900, 'smuggled')].map((m) => Buffer.concat([prefixOf(json(m).length), json(m)])));
  return Buffer.concat([inner, Buffer.alloc(length - inner.length, 0x20)]);
}

/** A good message whose payload is exactly `size` bytes. */
function sized(id: number, size: number): Message {
  const message = ascii(id, '');
  message.text = 'x'.repeat(size - json(message).length);
  return message;
}

function mixedStream(): StreamBuilder {
  return new StreamBuilder(40)
    .good(ascii(1, 'first'))
    .notJson(Buffer.from('{"id": 2, "text": "unter'), 'a frame whose payload is cut-off JSON')
    .good(ascii(3, 'ü € 😀'))
    .wrongShape({ id: 'four', text: '' })
    .tooLarge(48, smuggled(48), 'a frame of 48 bytes, over the 40-byte limit, whose payload looks like a frame')
    .good(sized(6, 40))
    .notJson(Buffer.from([0xff, 0x00, 0x13, 0x37, 0x80]), 'a frame whose payload is binary garbage')
    .tooLarge(41, json(sized(8, 41)), 'a frame of 41 bytes, one over the 40-byte limit')
    .wrongShape([1, 2, 3])
    .notJson(Buffer.alloc(0), 'a frame with an empty payload')
    .good(ascii(11, '漢字'))
    .tooLarge(0xffffffff, Buffer.from('cut'), 'a frame declaring 4294967295 bytes, cut short');
}

// ---------------------------------------------------------------------------------------------------------
// The tests

describe('FrameDecoder', () => {
  test('delivers a single frame pushed whole', () => {
    const stream = new StreamBuilder().good(ascii(1, 'hello'));
    decodeUnderEach(stream, [whole(stream.build().length)]);
  });

  test('delivers every frame when one push holds many of them', () => {
    const stream = new StreamBuilder();
    for (let id = 1; id <= 500; id += 1) stream.good(ascii(id, `message number ${id}`));
    const length = stream.build().length;
    const middle = stream.frames[249]!;
    decodeUnderEach(stream, [
      whole(length),
      {
        name: `two pushes, split at byte ${middle.payloadStart + 5} (${where(stream, middle.payloadStart + 5)})`,
        cuts: [middle.payloadStart + 5],
      },
    ]);
  });

  test('puts a payload split across pushes back together', () => {
    const stream = goodStream();
    const insidePayload = (cut: number): boolean => stream.frames.some((f) => f.payloadStart < cut && cut < f.end);
    decodeUnderEach(stream, everySplitPoint(stream, stream.build().length, insidePayload));
  });

  test('puts a length prefix split across pushes back together', () => {
    const stream = goodStream();
    const insidePrefix = (cut: number): boolean => stream.frames.some((f) => f.start < cut && cut < f.payloadStart);
    const length = stream.build().length;
    decodeUnderEach(stream, [
      ...everySplitPoint(stream, length, insidePrefix),
      { name: 'pushes cut 2 bytes into every length prefix', cuts: stream.frames.map((f) => f.start + 2) },
    ]);
  });

  test('keeps a multi-byte character split between pushes intact', () => {
    const stream = unicodeStream();
    const length = stream.build().length;
    decodeUnderEach(stream, [...everySplitPoint(stream, length), bytewise(length)]);
  });

  test('delivers the same messages for every chunking of a stream of good frames', () => {
    const stream = goodStream();
    decodeUnderEach(stream, allChunkings(stream, stream.build().length));
  });

  test('reports a frame that is not valid JSON, and still delivers the frames around it', () => {
    const stream = new StreamBuilder()
      .good(ascii(1, 'before'))
      .notJson(Buffer.from('{"id": 2, "text": "unterminated'), 'a frame whose payload is cut-off JSON')
      .good(ascii(3, 'between'))
      .notJson(Buffer.from([0xff, 0x00, 0x13, 0x37, 0x80]), 'a frame whose payload is binary garbage')
      .notJson(Buffer.alloc(0), 'a frame with an empty payload')
      .good(ascii(6, 'after'));
    decodeUnderEach(stream, allChunkings(stream, stream.build().length));
  });

  test("reports a frame that does not match the schema with zod's explanation, and still delivers the frames around it", () => {
    const stream = new StreamBuilder()
      .good(ascii(1, 'before'))
      .wrongShape({ id: 'two', text: 'id is a string' })
      .good(ascii(3, 'between'))
      .wrongShape([1, 2, 3])
      .wrongShape({ id: 5.5 })
      .good(ascii(6, 'after'));
    decodeUnderEach(stream, allChunkings(stream, stream.build().length));
  });

  test('reports a frame over the limit as soon as its length prefix arrives, skips it, and delivers the frames after it', () => {
    const stream = new StreamBuilder(40)
      .good(ascii(1, 'before'))
      .tooLarge(48, smuggled(48), 'a frame of 48 bytes, over the 40-byte limit, whose payload looks like a frame')
      .good(sized(3, 40))
      .tooLarge(41, json(sized(4, 41)), 'a frame of 41 bytes, one over the 40-byte limit')
      .good(ascii(5, 'after'));
    decodeUnderEach(stream, allChunkings(stream, stream.build().length));
  });

  test('skips a frame declaring 1 GiB without keeping its bytes, then delivers the frames after it', () => {
    const GiB = 2 ** 30;
    const MiB = 2 ** 20;
    const decoder = new FrameDecoder(Message);
    const frameOf = (message: Message): Buffer => Buffer.concat([prefixOf(json(message).length), json(message)]);
    const bound = PREFIX + DEFAULT_LIMIT;
    const heldAfter = (when: string): void => {
      const held = decoder.bufferedBytes;
      assert.ok(
        typeof held === 'number' && held <= bound,
        `after ${when}, bufferedBytes was ${held}, over ${bound} (the 4-byte prefix plus the 65536-byte limit). ` +
          `A frame over the limit must be discarded as its bytes stream past: count down how many are left to ` +
          `skip, and never keep them. Otherwise a peer can make the reader hold any amount of memory.`,
      );
    };

    const first = decoder.push(Buffer.concat([frameOf(ascii(1, 'before')), prefixOf(GiB)]));
    assert.deepEqual(
      first.map((r) => ({ ok: r.ok, frame: r.frame, reason: r.ok ? undefined : r.reason })),
      [
        { ok: true, frame: 1, reason: undefined },
        { ok: false, frame: 2, reason: 'too-large' },
      ],
      `one push() held a good frame 1 and then the 4-byte prefix of frame 2, which declares ${GiB} bytes; it ` +
        `should return frame 1 delivered and frame 2 reported as "too-large" (the prefix alone says so), but ` +
        `returned ${JSON.stringify(first)}.`,
    );
    const tooLarge = first[1];
    if (tooLarge && !tooLarge.ok && !(tooLarge.error.includes(String(GiB)) && tooLarge.error.includes('65536'))) {
      assert.fail(
        `the error for frame 2 should give its declared length (${GiB}) and the limit (65536), but it was ` +
          `"${tooLarge.error}".`,
      );
    }
    heldAfter('the prefix of the 1 GiB frame');

    // The frame's bytes stream past in 1 MiB pushes: the same zeros each time, which must never be decoded.
    const zeros = Buffer.alloc(MiB);
    for (let pushed = 1; pushed < GiB / MiB; pushed += 1) {
      const results = decoder.push(zeros);
      assert.deepEqual(
        results,
        [],
        `after ${pushed} MiB of the 1 GiB frame's payload, push() returned ${JSON.stringify(results.slice(0, 3))}` +
          `${results.length > 3 ? ', …' : ''}: the bytes of a frame over the limit are not frames; discard ` +
          `exactly the declared number of bytes before reading the next length prefix.`,
      );
      heldAfter(`${pushed} MiB of the 1 GiB frame's payload`);
    }
    // The last MiB of it, in the same push() as the frames that follow: two whole ones and half of a third.
    const after = [ascii(3, 'after the big one'), ascii(4, 'ünïcödé € 😀'), ascii(5, 'the last one')];
    const tail = Buffer.concat(after.map(frameOf));
    const split = tail.length - 10;
    const results = [
      ...decoder.push(Buffer.concat([zeros, tail.subarray(0, split)])),
      ...decoder.push(tail.subarray(split)),
      ...decoder.end(),
    ];
    heldAfter('the whole stream');
    assert.deepEqual(
      results,
      after.map((message, i) => ({ ok: true, frame: i + 3, message })),
      `after the 1 GiB frame had streamed past, frames 3, 4 and 5 should be delivered, but the decoder ` +
        `returned ${JSON.stringify(results)}.`,
    );
  });

  test('reports a stream that ends inside a frame from end(), and nothing when it ends between frames', () => {
    const streams = [
      new StreamBuilder().good(ascii(1, 'whole')).good(ascii(2, 'whole too')),
      new StreamBuilder().good(ascii(1, 'whole')).good(ascii(2, 'whole too')).cutShort(ascii(3, 'lost'), 2),
      new StreamBuilder().good(ascii(1, 'whole')).cutShort(ascii(2, 'cut in its payload'), 4 + 7),
      new StreamBuilder().good(ascii(1, 'whole')).cutShort(ascii(2, 'cut right after its prefix'), 4),
      new StreamBuilder(40)
        .good(ascii(1, 'whole'))
        .tooLarge(100, Buffer.alloc(50, 0x20), 'a frame of 100 bytes, over the 40-byte limit, of which 50 arrive'),
    ];
    for (const stream of streams) decodeUnderEach(stream, allChunkings(stream, stream.build().length, 20));
  });

  test('holds at most one length prefix and one payload between pushes, and nothing of a frame it skips', () => {
    const stream = mixedStream();
    decodeUnderEach(stream, allChunkings(stream, stream.build().length, 50), { checkBuffered: true });
  });

  test('gives the same results, error texts included, for every chunking of a stream mixing good and bad frames', () => {
    const stream = mixedStream();
    decodeUnderEach(stream, allChunkings(stream, stream.build().length, 200));
  });
});

describe('encodeFrame()', () => {
  test('writes the payload length in bytes as 4 bytes big-endian, then the message as UTF-8 JSON', () => {
    const message = { id: 7, text: 'ü € 😀' };
    const text = JSON.stringify(message);
    const payload = Buffer.from(text, 'utf8');
    const frame = encodeFrame(message);
    assert.ok(Buffer.isBuffer(frame), `encodeFrame() should return a Buffer, got ${String(frame)}.`);
    const expected = Buffer.concat([prefixOf(payload.length), payload]);
    if (frame.equals(expected)) return;
    const declared = frame.length >= PREFIX ? frame.readUInt32BE(0) : undefined;
    assert.fail(
      `encodeFrame(${text}) should be the bytes ${expected.toString('hex')} (prefix ${payload.length}, then ` +
        `${payload.length} bytes of JSON), but was ${frame.toString('hex')}.` +
        (declared === text.length
          ? ` The prefix says ${declared}: that is the string's length in UTF-16 code units (text.length), ` +
            `not its size in bytes. '€' is 3 bytes in UTF-8 and '😀' is 4: use Buffer.byteLength or encode first.`
          : declared !== undefined && frame.readUInt32LE(0) === payload.length
            ? ' The prefix is little-endian: write it with writeUInt32BE.'
            : ''),
    );
  });

  test('refuses a message with no JSON text, or one over the size limit', () => {
    const thrown = (what: () => unknown): unknown => {
      try {
        what();
      } catch (error) {
        if (error instanceof Error && error.message.includes('Not implemented')) throw error;
        return error;
      }
      return undefined;
    };
    const undefinedError = thrown(() => encodeFrame(undefined));
    assert.ok(
      undefinedError instanceof TypeError,
      `encodeFrame(undefined) should throw a TypeError (JSON.stringify(undefined) is undefined: there is no ` +
        `JSON text to send), but it ${undefinedError === undefined ? 'returned' : `threw ${describeError(undefinedError)}`}.`,
    );
    const atLimit = sized(1, 64);
    const atLimitError = thrown(() => encodeFrame(atLimit, 64));
    assert.equal(
      atLimitError,
      undefined,
      `encodeFrame() with a 64-byte payload and a 64-byte limit threw ${describeError(atLimitError)}; a payload ` +
        `of exactly the limit is allowed.`,
    );
    const overError = thrown(() => encodeFrame(sized(1, 65), 64));
    assert.ok(
      overError instanceof RangeError,
      `encodeFrame() with a 65-byte payload and a 64-byte limit should throw a RangeError, but it ` +
        `${overError === undefined ? 'returned a frame the receiver would reject' : `threw ${describeError(overError)}`}.`,
    );
  });

  test('makes frames that a FrameDecoder turns back into the same messages', () => {
    const messages = [ascii(1, 'plain'), ascii(2, 'ünïcödé € 😀 漢字'), ascii(3, '')];
    const frames = Buffer.concat(messages.map((message) => encodeFrame(message)));
    const expectedBytes = Buffer.concat(messages.map((m) => Buffer.concat([prefixOf(json(m).length), json(m)])));
    const decoder = new FrameDecoder(Message);
    const results: Result[] = [];
    for (let i = 0; i < frames.length; i += 1) results.push(...decoder.push(frames.subarray(i, i + 1)));
    results.push(...decoder.end());
    assert.deepEqual(
      results,
      messages.map((message, i) => ({ ok: true, frame: i + 1, message })),
      `encoding ${JSON.stringify(messages)} with encodeFrame() and decoding the frames one byte per push() ` +
        `gave ${JSON.stringify(results)}. The frames should be ${frames.length === expectedBytes.length ? '' : `${expectedBytes.length} bytes in all, not ${frames.length}: `}` +
        `${expectedBytes.toString('hex')}.`,
    );
  });
});
