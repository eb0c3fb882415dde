/**
 * A pipe carries bytes, and 'data' chunks end wherever a read happened to end, not between characters.
 * '€' is 3 bytes in UTF-8; decode each chunk on its own and every character cut by a chunk boundary turns
 * into U+FFFD replacement characters. Collecting the Buffers and decoding once keeps every character, and
 * so does a StringDecoder (what `stream.setEncoding('utf8')` uses), which holds back an incomplete tail.
 *
 *   npx tsx labs/02-processes/utf8-chunks.ts
 */
import { spawn } from 'node:child_process';
import { StringDecoder } from 'node:string_decoder';

const COUNT = 200_000;
const child = spawn(process.execPath, ['-e', `process.stdout.write('€'.repeat(${COUNT}))`]);
const chunks: Buffer[] = [];
let perChunk = '';
let viaDecoder = '';
const decoder = new StringDecoder('utf8');
child.stdout.on('data', (chunk: Buffer) => {
  chunks.push(chunk);
  perChunk += chunk.toString('utf8'); // wrong: a character may straddle two chunks
  viaDecoder += decoder.write(chunk); // keeps the first bytes of a cut character until the rest arrives
});
child.on('close', () => {
  const once = Buffer.concat(chunks).toString('utf8');
  const count = (text: string, char: string): number => text.split(char).length - 1;
  console.log(`the child wrote ${COUNT} × '€' (${COUNT * 3} bytes); we got ${chunks.length} chunks`);
  console.log(`chunk sizes: ${chunks.map((chunk) => chunk.length).join(', ')}`);
  console.log(`decoded chunk by chunk: ${count(perChunk, '€')} '€' and ${count(perChunk, '\ufffd')} U+FFFD`);
  console.log(`decoded once at the end: ${count(once, '€')} '€' and ${count(once, '\ufffd')} U+FFFD`);
  viaDecoder += decoder.end();
  console.log(`with a StringDecoder:    ${count(viaDecoder, '€')} '€' and ${count(viaDecoder, '\ufffd')} U+FFFD`);
});
