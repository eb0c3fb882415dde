/**
 * The framings of this chapter, shared by several labs:
 *
 *   newline-delimited:  {"n":1}\n{"n":2}\n                    a frame ends at the next '\n'
 *   length-prefixed:    00 00 00 07 {"n":1} 00 00 00 07 {"n":2}  a 4-byte big-endian length, then that many bytes
 *
 * For newline-delimited frames there is a decoder: it takes the chunks of a byte stream in any sizes and
 * returns the complete lines in them, keeping the bytes of an incomplete line for the next chunk. It takes a
 * size limit: a line over it is reported as an error and its bytes are thrown away as they arrive, never kept.
 *
 * For length-prefixed frames there is only an encoder. Their decoder is yours to write: it is the
 * frame-decoder exercise (exercises/04-ipc/frame-decoder), and framing.ts runs on it once it works.
 */

/** One frame's bytes, or why there is no frame. */
export type Frame = { ok: true; body: Buffer } | { ok: false; error: string };

/** Newline-delimited frames: everything up to the next '\n'. */
export class LineDecoder {
  private parts: Buffer[] = []; // the start of a line whose '\n' has not come yet
  private size = 0;
  private skipping = false; // inside a line that is over the limit: drop bytes until its '\n'
  /** The most bytes this decoder ever kept between two chunks. */
  peak = 0;

  constructor(private readonly maxBytes = Infinity) {}

  push(chunk: Buffer): Frame[] {
    const frames: Frame[] = [];
    let start = 0;
    let newline: number;
    while ((newline = chunk.indexOf(0x0a, start)) !== -1) {
      const piece = chunk.subarray(start, newline);
      start = newline + 1;
      if (this.skipping || this.size + piece.length > this.maxBytes) {
        if (!this.skipping) frames.push({ ok: false, error: `a line over the limit of ${this.maxBytes} bytes` });
        this.skipping = false; // the '\n' ends the oversized line: back in step
      } else {
        frames.push({ ok: true, body: this.size === 0 ? piece : Buffer.concat([...this.parts, piece]) });
      }
      this.parts = [];
      this.size = 0;
    }
    const rest = chunk.subarray(start);
    if (!this.skipping && this.size + rest.length > this.maxBytes) {
      frames.push({ ok: false, error: `a line over the limit of ${this.maxBytes} bytes` });
      this.skipping = true;
      this.parts = [];
      this.size = 0;
    } else if (!this.skipping && rest.length > 0) {
      this.parts.push(rest);
      this.size += rest.length;
    }
    this.peak = Math.max(this.peak, this.size);
    return frames;
  }
}

/** A value as one newline-delimited JSON frame. */
export const ndjson = (value: unknown): Buffer => Buffer.from(JSON.stringify(value) + '\n');

/** Bytes as one length-prefixed frame. */
export function lengthPrefixed(body: Buffer | string): Buffer {
  const bytes = typeof body === 'string' ? Buffer.from(body) : body;
  const header = Buffer.alloc(4);
  header.writeUInt32BE(bytes.length);
  return Buffer.concat([header, bytes]);
}
