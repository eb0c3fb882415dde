/**
 * A pipe carries bytes, not messages. A child writes with one write(2) per message (fs.writeSync), and we
 * count the 'data' chunks that arrive: many writes merge into a few chunks, a chunk can end in the middle
 * of a message, and one large write is cut into many chunks.
 *
 *   npx tsx labs/04-ipc/split-merge.ts
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';

async function chunksFrom(title: string, code: string, messageSize: number): Promise<void> {
  const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  const sizes: number[] = [];
  child.stdout.on('data', (chunk: Buffer) => sizes.push(chunk.length));
  await once(child, 'close');
  let total = 0;
  let cut = 0; // chunks that end inside a message: its first bytes in this chunk, the rest in the next
  for (const size of sizes) {
    total += size;
    if (total % messageSize !== 0) cut++;
  }
  const shown = sizes.length > 8 ? [...sizes.slice(0, 6), '…', sizes[sizes.length - 1]] : sizes;
  console.log(`${title}\n  we got ${total} bytes in ${sizes.length} 'data' chunk(s): ${shown.join(', ')}`);
  console.log(`  chunks that end in the middle of a message: ${cut}`);
}

/** Child code that writes `count` messages of `size` bytes (the last one '\n'), one write(2) each. */
const writeMessages = (count: number, size: number, everyMs?: number): string => `
  const fs = require('fs');
  const message = 'm'.repeat(${size - 1}) + '\\n';
  ${
    everyMs === undefined
      ? `for (let i = 0; i < ${count}; i++) fs.writeSync(1, message);`
      : `let i = 0;
         const timer = setInterval(() => { fs.writeSync(1, message); if (++i === ${count}) clearInterval(timer); }, ${everyMs});`
  }`;

async function main(): Promise<void> {
  await chunksFrom('the child: 300 messages of 1000 bytes, in a loop', writeMessages(300, 1000), 1000);
  await chunksFrom('the child: 1000 messages of 20 bytes, one every millisecond', writeMessages(1000, 20, 1), 20);
  await chunksFrom('the child: one message of 1 MiB', writeMessages(1, 1024 * 1024), 1024 * 1024);
}

void main();
