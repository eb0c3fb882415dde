/**
 * Fork–join with child processes: split a job into slices, give each slice to its own child, and join the
 * results. Results arrive in the order the children finish, not the order of the slices, so each one must
 * say which slice it answers. And a child that dies sends nothing: only its 'exit' event says so, and the
 * other children go on running until the parent stops them.
 *
 *   npx tsx labs/03-fork/fork-join.ts
 */
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';

const LIMIT = 1_000_000;
const CHILDREN = 4;

/** How many primes n satisfy from <= n < to (trial division: pure CPU). */
function countPrimes(from: number, to: number): number {
  let count = 0;
  for (let n = Math.max(from, 2); n < to; n++) {
    let prime = true;
    for (let d = 2; d * d <= n; d++) {
      if (n % d === 0) {
        prime = false;
        break;
      }
    }
    if (prime) count++;
  }
  return count;
}

interface Slice {
  index: number;
  from: number;
  to: number;
  die?: boolean;
}

interface Result {
  index: number;
  count: number;
}

/** In a child: count one slice, send the result, close the channel (so the child can exit). */
function child(): void {
  process.once('message', (slice: Slice) => {
    if (slice.die) process.kill(process.pid, 'SIGKILL'); // dies at the start of its work, says nothing
    process.send!({ index: slice.index, count: countPrimes(slice.from, slice.to) } satisfies Result, () =>
      process.disconnect(),
    );
  });
}

const start = performance.now();
const log = (text: string): void =>
  console.log(`${String(Math.round(performance.now() - start)).padStart(6)} ms  ${text}`);

function slices(): Slice[] {
  const size = Math.ceil(LIMIT / CHILDREN);
  return Array.from({ length: CHILDREN }, (_, index) => ({
    index,
    from: index * size,
    to: Math.min(LIMIT, (index + 1) * size),
  }));
}

async function forkJoin(): Promise<void> {
  console.log(`1. count the primes below ${LIMIT.toLocaleString('en')} in ${CHILDREN} children, one slice each`);
  const results: number[] = [];
  await Promise.all(
    slices().map(async (slice) => {
      const worker = fork(__filename, ['child']);
      worker.send(slice);
      const [result] = (await once(worker, 'message')) as [Result];
      results[result.index] = result.count; // stored by slice, whatever the arrival order
      log(`slice ${result.index} [${slice.from}, ${slice.to}) arrived: ${result.count} primes`);
      await once(worker, 'exit');
    }),
  );
  const joined = results.reduce((sum, count) => sum + count, 0);
  log(`joined in slice order: ${results.join(' + ')} = ${joined}`);
}

async function oneDies(): Promise<void> {
  console.log('2. the same, but the child with slice 2 is killed (SIGKILL) as it starts');
  const children: ChildProcess[] = [];
  for (const slice of slices()) {
    const worker = fork(__filename, ['child']);
    children.push(worker);
    worker.on('message', (result: Result) => log(`slice ${result.index} arrived: ${result.count} primes`));
    worker.send({ ...slice, die: slice.index === 2 });
  }
  const [code, signal] = (await once(children[2]!, 'exit')) as [number | null, NodeJS.Signals | null];
  log(`slice 2's child exited: code=${code} signal=${signal}, and it sent no result`);
  const running = children.filter((c) => c.exitCode === null && c.signalCode === null);
  log(`still running: ${running.length} children (pids ${running.map((c) => c.pid).join(', ')}); stopping them`);
  for (const c of running) c.kill('SIGTERM');
  await Promise.all(running.map((c) => once(c, 'exit')));
  log(`stopped: ${running.map((c) => `pid ${c.pid} signal=${c.signalCode}`).join(', ')}`);
}

async function main(): Promise<void> {
  await forkJoin();
  await oneDies();
}

if (process.argv[2] === 'child') child();
else void main();
