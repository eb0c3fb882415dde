/**
 * A fast producer, a slow consumer process, and a pipe between them. The producer makes 1 MiB every
 * 10 ms (about 100 MiB/s); the consumer reads about 64 KiB every 5 ms. Twice:
 *
 *   - ignoring write()'s return value: every chunk the pipe cannot take waits in the producer's memory;
 *   - respecting it: after write() returns false, wait for 'drain' before producing more.
 *
 * Every 250 ms it prints what was produced, what the consumer has read, what waits in the stream
 * (writableLength) and the producer's resident memory.
 *
 *   npx tsx labs/04-ipc/backpressure.ts
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';

const RUN_MS = 2000;
const CHUNK = 64 * 1024;

// The consumer: take a chunk, pause for 5 ms, take the next; report its running total on stdout.
const consumer = `
  const fs = require('fs');
  let total = 0;
  process.stdin.on('data', (chunk) => {
    total += chunk.length;
    fs.writeSync(1, total + '\\n');
    process.stdin.pause();
    setTimeout(() => process.stdin.resume(), 5);
  });`;

const mib = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(1).padStart(6)} MiB`;

async function run(respect: boolean): Promise<void> {
  console.log(respect ? 'respecting backpressure (wait for drain):' : 'ignoring write() === false:');
  const child = spawn(process.execPath, ['-e', consumer], { stdio: ['pipe', 'pipe', 'inherit'] });
  let consumed = 0;
  child.stdout!.on('data', (chunk: Buffer) => {
    const lines = chunk.toString().trim().split('\n');
    consumed = Number(lines[lines.length - 1]);
  });
  const stdin = child.stdin!;
  stdin.on('error', () => {}); // we destroy it at the end; nothing to report
  const rssBefore = process.memoryUsage().rss;
  let produced = 0;
  let waits = 0;
  let peakQueued = 0;
  const start = performance.now();
  const report = setInterval(() => {
    peakQueued = Math.max(peakQueued, stdin.writableLength);
    const t = (performance.now() - start).toFixed(0).padStart(5);
    const rss = process.memoryUsage().rss - rssBefore;
    console.log(
      `  ${t} ms  produced ${mib(produced)}  consumed ${mib(consumed)}` +
        `  writableLength ${mib(stdin.writableLength)}  RSS +${mib(rss)}`,
    );
  }, 250);

  while (performance.now() - start < RUN_MS) {
    for (let i = 0; i < 16; i++) {
      const ok = stdin.write(Buffer.alloc(CHUNK, 'x')); // a fresh 64 KiB, as if read from a fast source
      produced += CHUNK;
      if (!ok && respect) {
        waits++;
        await once(stdin, 'drain'); // the pipe has room again
      }
    }
    await sleep(10);
  }
  clearInterval(report);
  console.log(
    `  peak writableLength ${mib(peakQueued)}` + (respect ? `; the producer waited for 'drain' ${waits} times` : ''),
  );
  stdin.destroy(); // throw away whatever is still queued
  child.kill();
  await once(child, 'close');
}

async function main(): Promise<void> {
  await run(false);
  await sleep(200);
  global.gc?.();
  await run(true);
}

void main();
