/**
 * Two ways to cut a byte stream into messages, and how each one fails:
 *
 *   1. both survive every chunking of the same bytes;
 *   2. what each costs on the wire;
 *   3. newline-delimited JSON breaks when a payload holds a raw newline, and recovers at the next line
 *      (an over-long line too);
 *   4. a length prefix is only as good as its number: an honest frame over the limit can be skipped
 *      without keeping it, but one corrupt length swallows everything after it.
 *
 * The newline-delimited decoder is in frames.ts. The length-prefixed one is YOUR FrameDecoder, from the
 * frame-decoder exercise: until you have written it, the length-prefixed parts say so and are skipped.
 *
 *   npx tsx labs/04-ipc/framing.ts
 */
import { z } from 'zod';
import { FrameDecoder, type FrameResult } from '../../exercises/04-ipc/frame-decoder';
import { LineDecoder, lengthPrefixed, ndjson } from './frames';

/** Runs a part that needs your FrameDecoder; if it is not written yet, says so in one line and goes on. */
function withYourDecoder(part: () => void): void {
  try {
    part();
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    if (!message.startsWith('Not implemented')) throw error;
    console.log(
      '   length-prefixed part skipped: implement exercises/04-ipc/frame-decoder' +
        ' (chapter 04, Exercise: frame-decoder) to see it run on your decoder',
    );
  }
}

/** Any JSON value: this lab looks at the framing, not at what the messages mean. */
const anyJson = z.unknown();
/** The largest length 4 bytes can say: no limit at all. */
const NO_LIMIT = 2 ** 32 - 1;

/** Feeds `bytes` to your decoder in chunks of `size` bytes, then ends the stream. */
function feedFrames(decoder: FrameDecoder<unknown>, bytes: Buffer, size: number): { out: string[]; peak: number } {
  const out: string[] = [];
  const record = (results: FrameResult<unknown>[]): void => {
    for (const r of results) out.push(r.ok ? JSON.stringify(r.message) : `ERROR(${r.error})`);
  };
  let peak = 0; // the most bytes the decoder kept between two chunks
  for (let at = 0; at < bytes.length; at += size) {
    record(decoder.push(bytes.subarray(at, at + size)));
    peak = Math.max(peak, decoder.bufferedBytes);
  }
  record(decoder.end());
  return { out, peak };
}

/** Feeds `bytes` to a line decoder in chunks of `size` bytes; returns each message as JSON text or an error. */
function feedLines(decoder: LineDecoder, bytes: Buffer, size: number): string[] {
  const out: string[] = [];
  for (let at = 0; at < bytes.length; at += size) {
    for (const frame of decoder.push(bytes.subarray(at, at + size))) {
      if (!frame.ok) {
        out.push(`ERROR(${frame.error})`);
        continue;
      }
      const text = frame.body.toString('utf8');
      try {
        out.push(JSON.stringify(JSON.parse(text)));
      } catch {
        out.push(`ERROR(not JSON: ${JSON.stringify(text)})`);
      }
    }
  }
  return out;
}

const show = (messages: string[]): string =>
  messages.slice(0, 6).join('  ') + (messages.length > 6 ? `  … ${messages.length} in all` : '');
const json = (value: unknown): Buffer => lengthPrefixed(JSON.stringify(value));

console.log('1. every chunking of the same three messages');
const messages = [
  { n: 1, text: 'hello' },
  { n: 2, text: 'two\nlines' },
  { n: 3, text: '€😀' },
];
const expected = messages.map((m) => JSON.stringify(m)).join();
{
  const bytes = Buffer.concat(messages.map(ndjson));
  let same = 0;
  for (let size = 1; size <= bytes.length; size++)
    if (feedLines(new LineDecoder(), bytes, size).join() === expected) same++;
  console.log(
    `   newline-delimited ${bytes.length} bytes; chunk sizes 1..${bytes.length}: ${same} gave the 3 messages`,
  );
}
withYourDecoder(() => {
  const bytes = Buffer.concat(messages.map(json));
  let same = 0;
  for (let size = 1; size <= bytes.length; size++) {
    if (feedFrames(new FrameDecoder(anyJson), bytes, size).out.join() === expected) same++;
  }
  console.log(
    `   length-prefixed   ${bytes.length} bytes; chunk sizes 1..${bytes.length}: ${same} gave the 3 messages`,
  );
});

console.log('2. what a frame costs');
const binary = Buffer.alloc(1024, 0xab); // JSON cannot carry raw bytes: base64 them
console.log(
  `   {"n":1}         newline-delimited ${ndjson({ n: 1 }).length} bytes, length-prefixed ${json({ n: 1 }).length} bytes`,
);
console.log(
  `   1 KiB of bytes  newline-delimited JSON (base64) ${ndjson(binary.toString('base64')).length} bytes,` +
    ` length-prefixed raw ${lengthPrefixed(binary).length} bytes`,
);
console.log(`   JSON.stringify('two\\nlines') is ${JSON.stringify('two\nlines')}: an escape, not a 0x0a byte`);

console.log('3. newline-delimited, and a message with raw newlines in it');
{
  const pretty = Buffer.from(JSON.stringify({ n: 2, text: 'pretty' }, null, 2) + '\n'); // spans 4 lines
  const bytes = Buffer.concat([ndjson({ n: 1 }), pretty, ndjson({ n: 3 })]);
  console.log(`   sent {"n":1}, then {"n":2} pretty-printed over 4 lines, then {"n":3}`);
  console.log(`   got  ${show(feedLines(new LineDecoder(), bytes, 7))}`);
  const long = Buffer.concat([ndjson({ n: 1 }), ndjson({ blob: 'x'.repeat(3 * 1024 * 1024) }), ndjson({ n: 3 })]);
  const lines = new LineDecoder(1024 * 1024);
  console.log(`   {"n":1}, a 3 MiB line, {"n":3}; limit 1 MiB, 64 KiB chunks:`);
  console.log(`   got  ${show(feedLines(lines, long, 65536))}; kept at most ${lines.peak} bytes`);
}

console.log('4. length-prefixed, limit 1 MiB, fed in 64 KiB chunks');
const later = Array.from({ length: 10_000 }, (_, i) => ({ n: i + 2 })); // {"n":2} … {"n":10001}
withYourDecoder(() => {
  const bytes = Buffer.concat([json({ n: 1 }), json({ blob: 'x'.repeat(3 * 1024 * 1024) }), json({ n: 3 })]);
  const capped = feedFrames(new FrameDecoder(anyJson, { maxPayloadBytes: 1024 * 1024 }), bytes, 65536);
  const naive = feedFrames(new FrameDecoder(anyJson, { maxPayloadBytes: NO_LIMIT }), bytes, 65536);
  console.log(`   {"n":1}, an honest 3 MiB frame, {"n":3}`);
  console.log(`   with the limit:    ${show(capped.out)}; kept at most ${capped.peak} bytes`);
  console.log(`   without a limit:   ${naive.out.length} messages; kept at most ${naive.peak} bytes`);

  const corrupt = Buffer.concat([json({ n: 1 }), Buffer.from('ABCD'), ...later.map(json)]);
  const skipped = feedFrames(new FrameDecoder(anyJson, { maxPayloadBytes: 1024 * 1024 }), corrupt, 65536);
  const stuck = feedFrames(new FrameDecoder(anyJson, { maxPayloadBytes: NO_LIMIT }), corrupt, 65536);
  console.log(`   {"n":1}, then 'ABCD' where a length belongs (0x41424344), then 10,000 good frames, then the end`);
  console.log(`   with the limit:    ${show(skipped.out)}`);
  console.log(`   without a limit:   ${show(stuck.out)}; kept at most ${stuck.peak} bytes`);
});
{
  const lines = Buffer.concat([ndjson({ n: 1 }), Buffer.from('ABCD\n'), ...later.map(ndjson)]);
  console.log(`   'ABCD' as a line of newline-delimited JSON, between {"n":1} and 10,000 good lines:`);
  console.log(`   got  ${show(feedLines(new LineDecoder(), lines, 65536))}`);
}
