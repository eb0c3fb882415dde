// Node has no fork() for your code, but on Linux libuv starts every child with fork() + exec() underneath.
// fork() must copy the parent's page tables, so spawning a tiny program gets slower as our memory grows.
// Run: npx tsx labs/01-why-concurrency/spawn-is-fork-exec.ts   (needs about 600 MiB of free memory)
import { spawn } from 'node:child_process';
import { once } from 'node:events';

const MiB = 1024 * 1024;

/** Median time (of 9) for spawn('/bin/true') to return and report the child started. */
async function spawnTime(): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < 9; i++) {
    const start = performance.now();
    const child = spawn('/bin/true');
    await once(child, 'spawn');
    times.push(performance.now() - start);
    await once(child, 'close');
  }
  return times.sort((a, b) => a - b)[4]!;
}

async function main(): Promise<void> {
  console.log(
    `a fork() function for JavaScript: ${'fork' in process ? 'process.fork exists' : 'none (no process.fork)'}`,
  );
  const rss = (): string => `${(process.memoryUsage().rss / MiB).toFixed(0)} MiB`.padStart(8);
  console.log(`resident memory ${rss()}: spawn('/bin/true') takes ${(await spawnTime()).toFixed(2)} ms`);
  const held = Buffer.alloc(512 * MiB, 1); // touch 512 MiB, so it is really resident
  console.log(`resident memory ${rss()}: spawn('/bin/true') takes ${(await spawnTime()).toFixed(2)} ms`);
  held.fill(0); // keep `held` alive until here
}

void main();
