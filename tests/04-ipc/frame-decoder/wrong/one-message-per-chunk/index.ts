/**
 * Exercise 04-ipc/frame-decoder — chapter: chapters/04-ipc.md#exercise-frame-decoder
 *
 * Messages over a byte stream. A pipe or a socket carries bytes, not messages: the reader's chunks split and
 * merge the writer's writes at any byte, so one chunk can hold half a message, or three and a half. Each
 * message therefore travels in a frame:
 *
 *     ┌──────────────────────────────┬───────────────────────────────────────────┐
 *     │ length: 4 bytes, unsigned,   │ payload: `length` bytes, the message as   │
 *     │ big-endian (the payload's    │ JSON text encoded as UTF-8                │
 *     │ size in bytes, not counting  │                                           │
 *     │ these 4)                     │                                           │
 *     └──────────────────────────────┴───────────────────────────────────────────┘
 *
 * `encodeFrame` makes one frame; a `FrameDecoder` turns the stream's chunks back into messages, checked
 * against a zod schema, whatever the chunking, and treats bad input as part of its job.
 *
 * KNOWN-WRONG VARIANT: treats every chunk as exactly one frame, as if each write arrived as one read. A stream splits and merges writes at any byte, so frames are lost and misread.
 */
import { z } from 'zod';

/** Size of the length prefix in bytes: an unsigned 32-bit big-endian integer (`readUInt32BE`). */
export const PREFIX_BYTES = 4;

/** The payload size limit used when none is given: 64 KiB. */
export const DEFAULT_MAX_PAYLOAD_BYTES = 64 * 1024;

/** Why a frame could not be delivered. */
export type FrameErrorReason = 'too-large' | 'invalid-json' | 'schema' | 'truncated';

/**
 * What the decoder made of one frame. `frame` is the frame's number: frames are numbered 1, 2, 3, … in the
 * order they appear in the stream, and every frame counts, good or bad.
 *
 * - `{ ok: true, frame, message }`: a good frame; `message` is what the schema's `safeParse` returned as `data`.
 * - `{ ok: false, frame, reason, error }`: a bad frame. `error` is a sentence for a human that names the frame
 *   (`frame <number>`) and says what was wrong, e.g. `frame 3 declares 2000000 bytes, over the 65536-byte
 *   limit`. It depends only on the bytes of the stream, never on how they were split into chunks.
 */
export type FrameResult<T> =
  { ok: true; frame: number; message: T } | { ok: false; frame: number; reason: FrameErrorReason; error: string };

/** Options for a {@link FrameDecoder}. */
export interface FrameDecoderOptions {
  /** The largest payload accepted, in bytes (default {@link DEFAULT_MAX_PAYLOAD_BYTES}). */
  maxPayloadBytes?: number;
}

/**
 * Encodes `message` as one frame: the 4-byte big-endian length of the payload in *bytes* (a character
 * such as '€' takes 3 bytes in UTF-8, '😀' takes 4), followed by the payload, `JSON.stringify(message)`
 * encoded as UTF-8.
 *
 * Throws a `TypeError` if `message` has no JSON text (`JSON.stringify` returns `undefined`, e.g. for
 * `undefined` or a function), and a `RangeError` if the payload would be longer than `maxPayloadBytes`
 * (a receiver with that limit would reject the frame, so it is never sent).
 */
export function encodeFrame(message: unknown, maxPayloadBytes: number = DEFAULT_MAX_PAYLOAD_BYTES): Buffer {
  const json: string | undefined = JSON.stringify(message);
  if (json === undefined) throw new TypeError(`cannot frame ${String(message)}: it has no JSON text`);
  const payload = Buffer.from(json, 'utf8');
  if (payload.length > maxPayloadBytes) {
    throw new RangeError(`the message is ${payload.length} bytes of JSON, over the ${maxPayloadBytes}-byte limit`);
  }
  const frame = Buffer.allocUnsafe(PREFIX_BYTES + payload.length);
  frame.writeUInt32BE(payload.length, 0);
  payload.copy(frame, PREFIX_BYTES);
  return frame;
}

/**
 * Decodes a stream of frames that arrives in chunks of any size, split at any byte.
 *
 * Feed it every chunk, in order, with `push()`, and call `end()` when the stream ends. Each call returns the
 * results of the frames it completed, in stream order. The results of the whole stream (all `push()` calls
 * and `end()`, concatenated) are the same for every way of splitting the same bytes into chunks.
 *
 * A bad frame is a result, never an exception: `push()` and `end()` do not throw because of what the stream
 * contains, and every good frame before and after a bad one is still delivered. For each frame:
 *
 * - length over `maxPayloadBytes` → `reason: 'too-large'`, with the declared length and the limit in `error`,
 *   returned by the `push()` that completes the frame's length prefix (before any of its payload has
 *   arrived). The decoder then discards exactly `length` bytes as they stream past, without keeping them
 *   (the length may be anything up to 4 GiB − 1), and goes on with the next frame.
 * - payload that is not valid JSON (`JSON.parse` of the payload decoded as UTF-8 throws; an empty payload
 *   too) → `reason: 'invalid-json'`, with the parser's message (`error.message`) in `error`.
 * - JSON that the schema rejects (`schema.safeParse`) → `reason: 'schema'`, with `z.prettifyError()` of
 *   zod's error in `error`.
 * - otherwise → `{ ok: true, message }`.
 * - a frame the stream ends in → `reason: 'truncated'`, from `end()`.
 *
 * Every frame's result is returned by the `push()` that brings the frame's last byte (for a too-large frame:
 * its prefix's last byte). A frame of exactly `maxPayloadBytes` is accepted.
 */
export class FrameDecoder<T> {
  readonly #schema: z.ZodType<T>;
  readonly #maxPayloadBytes: number;
  /** What the bytes arriving now are: a length prefix, a payload to decode, or a payload to discard. */
  #stage: 'prefix' | 'payload' | 'skip' = 'prefix';
  /** The current stage's size in bytes: PREFIX_BYTES, or the payload's declared length. */
  #stageBytes = PREFIX_BYTES;
  /** Bytes of the current stage received so far. */
  #received = 0;
  /** How many frames have had their prefix read: the number of the current frame once past its prefix. */
  #frames = 0;

  /**
   * @param schema the zod schema every message must match, e.g. `z.object({ id: z.number(), text: z.string() })`.
   * @param options `maxPayloadBytes`: the largest payload accepted.
   */
  constructor(schema: z.ZodType<T>, options: FrameDecoderOptions = {}) {
    this.#schema = schema;
    this.#maxPayloadBytes = options.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES;
  }

  /**
   * How many bytes of the stream the decoder is holding on to right now, kept until the rest of their
   * frame arrives. Whenever `push()` has returned, it is at most `PREFIX_BYTES + maxPayloadBytes`, and it is 0
   * whenever the bytes pushed so far end exactly between two frames, or inside a too-large frame being
   * discarded (those bytes are never kept, whatever length the frame declares).
   */
  get bufferedBytes(): number {
    return this.#stage === 'skip' ? 0 : this.#received;
  }

  /**
   * Takes the next chunk of the stream (of any size) and returns the results of the frames it
   * completed, in order (often none). Never throws because of what the chunk contains.
   */
  push(chunk: Buffer): FrameResult<T>[] {
    // Each chunk is one message: its prefix, then its payload.
    if (chunk.length < PREFIX_BYTES) return [];
    this.#frames += 1;
    const length = chunk.readUInt32BE(0);
    if (length > this.#maxPayloadBytes) {
      const error = `frame ${this.#frames} declares ${length} bytes, over the ${this.#maxPayloadBytes}-byte limit`;
      return [{ ok: false, frame: this.#frames, reason: 'too-large', error }];
    }
    return [this.#decode(this.#frames, chunk.subarray(PREFIX_BYTES, PREFIX_BYTES + length))];
  }

  /**
   * Says the stream has ended and returns what that means: `[]` if it ended exactly between two frames,
   * otherwise one `reason: 'truncated'` result for the frame it ended in, whether in the length prefix, in
   * the payload, or in a too-large frame being discarded (reported already as too large; the stream was
   * still cut short). Afterwards the decoder holds nothing.
   */
  end(): FrameResult<T>[] {
    const stage = this.#stage;
    const stageBytes = this.#stageBytes;
    const received = this.#received;
    this.#reset('prefix', PREFIX_BYTES);
    if (stage === 'prefix' && received === 0) return [];
    const frame = stage === 'prefix' ? this.#frames + 1 : this.#frames;
    const part = stage === 'prefix' ? 'length-prefix' : 'payload';
    return [
      {
        ok: false,
        frame,
        reason: 'truncated',
        error: `frame ${frame} was cut short: the stream ended after ${received} of its ${stageBytes} ${part} bytes`,
      },
    ];
  }

  #reset(stage: 'prefix' | 'payload' | 'skip', stageBytes: number): void {
    this.#stage = stage;
    this.#stageBytes = stageBytes;
    this.#received = 0;
  }

  #decode(frame: number, payload: Buffer): FrameResult<T> {
    let value: unknown;
    try {
      // Decode only the complete payload: a multi-byte character may have been split between chunks.
      value = JSON.parse(payload.toString('utf8'));
    } catch (error) {
      const why = error instanceof Error ? error.message : String(error);
      return { ok: false, frame, reason: 'invalid-json', error: `frame ${frame} is not valid JSON: ${why}` };
    }
    const parsed = this.#schema.safeParse(value);
    if (!parsed.success) {
      return {
        ok: false,
        frame,
        reason: 'schema',
        error: `frame ${frame} does not match the schema:\n${z.prettifyError(parsed.error)}`,
      };
    }
    return { ok: true, frame, message: parsed.data };
  }
}
