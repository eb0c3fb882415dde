/**
 * Node's spawn() is fork() + exec() underneath (libuv): the kernel first duplicates the parent, then the
 * copy replaces itself with the new program. fork() copies the parent's page tables, so the bigger the
 * parent's memory, the longer every spawn takes, even of a program as small as `true`.
 *
 *   npx tsx labs/02-processes/spawn-cost.ts
 */
import { spawn } from 'node:child_process';

const ROUNDS = 9;
const median = (values: number[]): number => values.sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

/** Median time of the spawn('true') call itself (the event loop is stopped meanwhile), and until 'exit'. */
async function measure(): Promise<{ callMs: number; exitMs: number }> {
  const calls: number[] = [];
  const exits: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const start = performance.now();
    const child = spawn('true');
    calls.push(performance.now() - start);
    await new Promise((resolve) => child.on('exit', resolve));
    exits.push(performance.now() - start);
  }
  return { callMs: median(calls), exitMs: median(exits) };
}

const rssMiB = (): number => process.memoryUsage().rss / 2 ** 20;

async function main(): Promise<void> {
  const ballast: Buffer[] = [];
  console.log(`parent memory (RSS)   spawn('true') call   until 'exit'   (medians of ${ROUNDS})`);
  for (const addMiB of [0, 256, 768]) {
    for (let i = 0; i < addMiB / 64; i++) ballast.push(Buffer.alloc(64 * 2 ** 20, 1)); // touched: really resident
    const { callMs, exitMs } = await measure();
    const ms = (value: number): string => `${value.toFixed(1).padStart(7)} ms`;
    console.log(`${rssMiB().toFixed(0).padStart(10)} MiB        ${ms(callMs)}     ${ms(exitMs)}`);
  }
}

void main();
