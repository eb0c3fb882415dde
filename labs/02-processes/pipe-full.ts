/**
 * A pipe is a fixed-size kernel buffer. When nobody reads it, the writer's next write blocks as soon as
 * the buffer is full, and the writer simply stops. The writer below writes 1 KiB at a time to its stdout
 * and, after each write, reports its running total on stderr, which we do read.
 *
 *   1. its stdout is a real pipe (a shell pipeline into `sleep`, which never reads): it stops at 64 KiB;
 *   2. its stdout is Node's stdio 'pipe' and we only read stderr, the common bug: it stops too, later,
 *      because Node's 'pipe' is a Unix socket pair and Node itself reads ahead into its stream buffer;
 *      the moment we start reading stdout, the writer runs to the end.
 *
 *   npx tsx labs/02-processes/pipe-full.ts
 */
import { spawn, type ChildProcess } from 'node:child_process';

const TOTAL = 1024 * 1024;
// Writes with fs.writeSync (one write(2) each) so that a full buffer blocks the child on the spot.
const writer = `
  const fs = require('fs');
  const chunk = Buffer.alloc(1024, 'x');
  for (let written = 0; written < ${TOTAL}; ) {
    fs.writeSync(1, chunk);
    written += chunk.length;
    fs.writeSync(2, written + '\\n');
  }`;

/** The child's last reported total once it has made no progress for 300 ms. */
function whereItStops(child: ChildProcess): Promise<number> {
  let reported = 0;
  let text = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    text = (text + chunk.toString()).slice(-64);
    const lines = text.trim().split('\n');
    reported = Number(lines[lines.length - 1]);
  });
  return new Promise((resolve) => {
    let seen = -1;
    const poll = setInterval(() => {
      if (reported > 0 && reported === seen) {
        clearInterval(poll);
        resolve(reported);
      }
      seen = reported;
    }, 300);
  });
}

const kib = (bytes: number): string => `${bytes} bytes (${(bytes / 1024).toFixed(0)} KiB)`;

async function main(): Promise<void> {
  console.log('1. stdout is a real pipe that nobody reads');
  // sh runs: node -e <writer> | sleep 2. When sleep exits, the pipe has no reader left: the blocked
  // write fails with EPIPE and the writer dies, so nothing is left behind.
  const pipeline = spawn('sh', ['-c', '"$0" -e "$1" | sleep 2', process.execPath, writer], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  console.log(`   the writer stopped after ${kib(await whereItStops(pipeline))} and is blocked in write()`);
  await new Promise((resolve) => pipeline.on('close', resolve));

  console.log("2. stdout is Node's stdio 'pipe'; we read stderr only");
  const child = spawn(process.execPath, ['-e', writer], { stdio: ['ignore', 'pipe', 'pipe'] });
  console.log(`   the writer stopped after ${kib(await whereItStops(child))} and is blocked in write()`);
  console.log(`   now we read stdout too`);
  let read = 0;
  child.stdout!.on('data', (chunk: Buffer) => (read += chunk.length));
  const [code] = await new Promise<[number | null]>((resolve) => child.on('close', (c) => resolve([c])));
  console.log(`   the writer finished: exit code ${code}, we read ${kib(read)}`);
}

void main();
