/**
 * A pipe is a fixed-size buffer in the kernel. We make a real pipe (a FIFO from `mkfifo`), open both ends
 * without blocking, and never read:
 *
 *   1. raw write(2) calls of 1 KiB, until the kernel answers EAGAIN ("would block"): the capacity;
 *   2. the same pipe as a Node stream: write() returns false once the kernel is full AND the stream's own
 *      buffer has reached its highWaterMark (16 KiB); 'drain' fires only after the reader empties it;
 *   3. a child's stdin through Node's stdio 'pipe', which on Linux is a socket pair with a larger buffer.
 *
 *   npx tsx labs/04-ipc/pipe-capacity.ts
 */
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

const CHUNK = Buffer.alloc(1024, 'x');
const kib = (bytes: number): string => `${bytes} bytes (${(bytes / 1024).toFixed(0)} KiB)`;

/** Opens a fresh FIFO: the read end first (a non-blocking writer needs a reader), then the write end. */
function openFifo(dir: string, name: string): { reader: number; writer: number } {
  const file = path.join(dir, name);
  execFileSync('mkfifo', [file]);
  const reader = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  const writer = fs.openSync(file, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK);
  return { reader, writer };
}

/** Reads everything the pipe holds, without blocking. */
function drainFd(fd: number): number {
  const buffer = Buffer.alloc(64 * 1024);
  let total = 0;
  for (;;) {
    try {
      const n = fs.readSync(fd, buffer);
      if (n === 0) return total;
      total += n;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EAGAIN') return total;
      throw error;
    }
  }
}

function rawCapacity(dir: string): void {
  console.log('1. write(2) into a pipe nobody reads, 1 KiB at a time');
  const { reader, writer } = openFifo(dir, 'raw');
  let written = 0;
  for (;;) {
    try {
      written += fs.writeSync(writer, CHUNK);
    } catch (error) {
      console.log(`   the kernel took ${kib(written)}, then said ${(error as NodeJS.ErrnoException).code}`);
      break;
    }
  }
  console.log(`   (a blocking writer would now sleep inside write() until someone reads)`);
  fs.closeSync(writer);
  fs.closeSync(reader);
}

async function streamCapacity(dir: string): Promise<void> {
  console.log('2. the same kind of pipe as a Node stream (net.Socket on the fd)');
  const { reader, writer } = openFifo(dir, 'stream');
  const stream = new net.Socket({ fd: writer, readable: false });
  console.log(`   highWaterMark: ${kib(stream.writableHighWaterMark)}`);
  let accepted = 0;
  while (stream.write(CHUNK)) accepted += CHUNK.length;
  accepted += CHUNK.length; // the write that returned false was accepted too
  console.log(`   write() returned true until ${kib(accepted)} had been handed to it, then false`);
  console.log(`   at that moment writableLength = ${kib(stream.writableLength)} waits in Node's own memory`);
  let drained = false;
  stream.once('drain', () => (drained = true));
  await new Promise((resolve) => setTimeout(resolve, 100));
  console.log(`   100 ms later, nobody has read: 'drain' fired? ${drained}`);
  const read = drainFd(reader);
  await once(stream, 'drain');
  console.log(`   the reader took ${kib(read)}; now 'drain' fired and writableLength = ${stream.writableLength}`);
  stream.destroy();
  fs.closeSync(reader);
}

async function childStdin(): Promise<void> {
  console.log("3. a child's stdin through Node's stdio 'pipe'; the child never reads");
  const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 5000)'], { stdio: ['pipe', 'ignore', 'ignore'] });
  const stdin = child.stdin!;
  let accepted = 0;
  while (stdin.write(CHUNK)) accepted += CHUNK.length;
  accepted += CHUNK.length;
  const inKernel = accepted - stdin.writableLength;
  console.log(`   write() returned false after ${kib(accepted)}: the kernel holds ${kib(inKernel)}`);
  try {
    console.log(`   (the fd is ${fs.readlinkSync(`/proc/${child.pid}/fd/0`)}: a socket pair, not a pipe)`);
  } catch {
    // no /proc: not Linux
  }
  stdin.destroy();
  child.kill();
  await once(child, 'close');
}

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pipe-capacity-'));
  try {
    rawCapacity(dir);
    await streamCapacity(dir);
    await childStdin();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

void main();
