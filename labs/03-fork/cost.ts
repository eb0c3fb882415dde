/**
 * What does it cost to start work somewhere else? This lab times, on your machine, a function call, a new
 * worker thread, a child_process.fork() child, a spawned node and a spawned /bin/true, each until it
 * answers or exits; then /bin/true again from a parent holding 512 MiB more memory. Medians; not a test.
 *
 *   npx tsx labs/03-fork/cost.ts
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';

const MiB = 2 ** 20;
const TRUE = existsSync('/bin/true') ? '/bin/true' : '/usr/bin/true'; // a program that does nothing

type Cleanup = () => Promise<unknown>;

/**
 * Median time until `start()` resolves, after one untimed warm-up run. If it resolves to a clean-up
 * function (wait for the child to exit, stop the worker), that runs after the clock stops.
 */
async function median(rounds: number, start: () => Promise<Cleanup | void>): Promise<number> {
  await (
    await start()
  )?.();
  const times: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const t = performance.now();
    const cleanup = await start();
    times.push(performance.now() - t);
    await cleanup?.();
  }
  return times.sort((a, b) => a - b)[Math.floor(rounds / 2)]!;
}

let sink = 0;
function work(x: number): number {
  return x + 1;
}

async function main(): Promise<void> {
  if (process.argv[2] === 'child') return void process.send!('ready', () => process.disconnect());

  const dir = mkdtempSync(path.join(tmpdir(), 'fork-lab-'));
  const plainChild = path.join(dir, 'child.js');
  writeFileSync(plainChild, "process.send('ready', () => process.disconnect());");
  const rows: [string, number][] = [];
  try {
    const calls = 10_000_000;
    const t = performance.now();
    for (let i = 0; i < calls; i++) sink = work(sink);
    rows.push(['a function call', (performance.now() - t) / calls]);

    rows.push([
      'new Worker, to its first message',
      await median(5, async () => {
        const worker = new Worker("require('node:worker_threads').parentPort.postMessage('ready')", { eval: true });
        await once(worker, 'message');
        return () => worker.terminate();
      }),
    ]);
    const forkToFirstMessage = (start: () => ChildProcess) => async (): Promise<Cleanup> => {
      const child = start();
      const exited = once(child, 'exit');
      await once(child, 'message');
      return () => exited;
    };
    rows.push([
      'child_process.fork (plain .js), to first message',
      await median(
        5,
        forkToFirstMessage(() => fork(plainChild, [], { execArgv: [] })),
      ),
    ]);
    rows.push([
      'child_process.fork (.ts via tsx), to first message',
      await median(
        5,
        forkToFirstMessage(() => fork(__filename, ['child'])),
      ),
    ]);
    const spawnToExit = (command: string, args: string[]) => async (): Promise<void> => {
      await once(spawn(command, args, { stdio: 'ignore' }), 'exit');
    };
    rows.push(["spawn(node -e '0'), to exit", await median(5, spawnToExit(process.execPath, ['-e', '0']))]);
    rows.push([`spawn('${TRUE}'), to exit`, await median(9, spawnToExit(TRUE, []))]);

    const ballast = Array.from({ length: 8 }, () => Buffer.alloc(64 * MiB, 1)); // touched: really resident
    const rss = (process.memoryUsage().rss / MiB).toFixed(0);
    rows.push([`spawn('${TRUE}') from ${rss} MiB RSS`, await median(9, spawnToExit(TRUE, []))]);
    ballast.length = 0;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }

  const worker = rows[1]![1];
  console.log(`${'how the work starts'.padEnd(52)} ${'median'.padStart(12)}   vs a worker`);
  for (const [label, ms] of rows) {
    const time = ms < 0.01 ? `${(ms * 1e6).toFixed(1)} ns` : `${ms.toFixed(1)} ms`;
    const ratio = ms / worker < 0.01 ? '' : `${(ms / worker).toFixed(2)}x`;
    console.log(`${label.padEnd(52)} ${time.padStart(12)}   ${ratio}`.trimEnd());
  }
}

void main();
