/**
 * A Node process is never single-threaded: V8 keeps a pool of platform worker threads (garbage collection,
 * compilation), libuv starts its thread pool (file system, DNS, crypto) on first use, and Node keeps a few
 * helpers of its own. This lab counts the threads of fresh `node` processes, before and after one
 * fs.readFile, with the pool sizes changed to see which threads are whose. fork() would copy only one of them.
 *
 *   npx tsx labs/03-fork/node-threads.ts
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';

/** JavaScript for `node -e`: print our thread count at start, and again after one fs.readFile. */
const PROBE = `
const fs = require('node:fs');
const threads = () =>
  fs.existsSync('/proc/self/task')
    ? fs.readdirSync('/proc/self/task').length                      // Linux: one entry per thread
    : require('node:child_process')                                 // macOS: one line per thread, plus a header
        .execFileSync('ps', ['-M', '-p', String(process.pid)], { encoding: 'utf8' }).trim().split('\\n').length - 1;
const atStart = threads();
fs.readFile(__filename === '[eval]' ? process.execPath : __filename, () =>
  console.log(JSON.stringify({ atStart, afterRead: threads() })),
);
`;

function countThreads(label: string, flags: string[], env: NodeJS.ProcessEnv = {}): void {
  const output = execFileSync(process.execPath, [...flags, '-e', PROBE], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
  });
  const { atStart, afterRead } = JSON.parse(output) as { atStart: number; afterRead: number };
  console.log(`${label.padEnd(44)} ${String(atStart).padStart(8)} ${String(afterRead).padStart(18)}`);
}

function main(): void {
  console.log(`typeof process.fork: ${typeof (process as { fork?: unknown }).fork}`);
  console.log(`${'a fresh node process'.padEnd(44)} at start   after fs.readFile`);
  countThreads('node (defaults)', []);
  countThreads('node --v8-pool-size=1 (V8 pool: 1 thread)', ['--v8-pool-size=1']);
  countThreads('UV_THREADPOOL_SIZE=8 (libuv pool: 8 threads)', [], { UV_THREADPOOL_SIZE: '8' });
  if (existsSync('/proc/self/task')) {
    console.log(`this lab itself (node + tsx's loader), now: ${readdirSync('/proc/self/task').length} threads`);
  }
}

main();
