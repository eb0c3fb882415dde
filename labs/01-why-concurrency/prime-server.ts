// A line server: "primes N" answers the count of primes below N, "ping" answers "pong", "delay" answers the
// longest the event loop was blocked so far. Mode "inline" counts on the event loop; "worker" counts in a
// new worker thread. Prints its port, and ends when its stdin closes. Started by blocked-loop.ts.
// Run alone: npx tsx labs/01-why-concurrency/prime-server.ts inline|worker
import net from 'node:net';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import readline from 'node:readline';
import { Worker } from 'node:worker_threads';
import type { Counted } from './prime-worker';
import { countPrimesBelow } from './primes';

const mode = process.argv[2] === 'worker' ? 'worker' : 'inline';
const loopDelay = monitorEventLoopDelay({ resolution: 10 });
loopDelay.enable();

function countInWorker(limit: number): Promise<number> {
  // `npx tsx` does not reach into worker threads on Node 20: preload tsx's CommonJS hook there.
  const worker = new Worker(path.join(__dirname, 'prime-worker.ts'), {
    workerData: limit,
    execArgv: ['--require', require.resolve('tsx/cjs')],
  });
  return new Promise((resolve, reject) => {
    worker.once('message', (counted: Counted) => resolve(counted.count));
    worker.once('error', reject);
  });
}

async function answer(request: string): Promise<string> {
  const [command, argument] = request.split(' ');
  if (command === 'ping') return 'pong';
  if (command === 'delay') return (loopDelay.max / 1e6).toFixed(0);
  const limit = Number(argument);
  return String(mode === 'inline' ? countPrimesBelow(limit) : await countInWorker(limit));
}

async function serve(socket: net.Socket): Promise<void> {
  for await (const line of readline.createInterface({ input: socket })) socket.write(`${await answer(line)}\n`);
}

const server = net.createServer((socket) => void serve(socket));
server.listen(0, '127.0.0.1', () => console.log((server.address() as net.AddressInfo).port));
process.stdin.on('end', () => process.exit(0)).resume();
