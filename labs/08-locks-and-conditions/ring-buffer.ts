/**
 * A bounded ring buffer in shared memory, between one producer thread and one consumer thread. HEAD counts
 * the items taken, TAIL the items put; the item number k goes into slot k mod capacity, so the slots are
 * reused round and round (wrap-around). The producer sleeps while the buffer is full, the consumer while it
 * is empty. Part 1 makes each side the slower one in turn and counts the sleeps; part 2 measures throughput
 * against posting every item as a message.
 *
 *   npx tsx labs/08-locks-and-conditions/ring-buffer.ts
 */
import { once } from 'node:events';
import { isMainThread, Worker } from 'node:worker_threads';
import { joinTeam, startTeam, type Member } from './team';

const HEAD = 0; // items taken so far (written by the consumer only)
const TAIL = 1; // items put so far (written by the producer only)
const SLOTS = 2; // the slots: capacity Int32 cells from here

export function put(v: Int32Array, capacity: number, item: number): number {
  const tail = Atomics.load(v, TAIL);
  let sleeps = 0;
  for (let head = Atomics.load(v, HEAD); ((tail - head) | 0) === capacity; head = Atomics.load(v, HEAD)) {
    sleeps++;
    Atomics.wait(v, HEAD, head); // full: sleep until the consumer takes one
  }
  v[SLOTS + (tail & (capacity - 1))] = item; // capacity is a power of two
  Atomics.store(v, TAIL, (tail + 1) | 0); // publish the item: only now may the consumer read the slot
  Atomics.notify(v, TAIL, 1);
  return sleeps;
}

export function take(v: Int32Array, capacity: number): { item: number; sleeps: number } {
  const head = Atomics.load(v, HEAD);
  let sleeps = 0;
  for (let tail = Atomics.load(v, TAIL); tail === head; tail = Atomics.load(v, TAIL)) {
    sleeps++;
    Atomics.wait(v, TAIL, tail); // empty: sleep until the producer puts one
  }
  const item = v[SLOTS + (head & (capacity - 1))]!;
  Atomics.store(v, HEAD, (head + 1) | 0); // free the slot: only now may the producer overwrite it
  Atomics.notify(v, HEAD, 1);
  return { item, sleeps };
}

function busy(us: number): void {
  const end = performance.now() + us / 1000;
  while (performance.now() < end);
}

type Task = { capacity: number; items: number; slow: 'producer' | 'consumer' | 'neither' };
type Result = { sleeps: number; inOrder: boolean; ms: number };

function member(task: unknown, { index, view }: Member): Result {
  const { capacity, items, slow } = task as Task;
  const t0 = performance.now();
  let sleeps = 0;
  let inOrder = true;
  for (let k = 1; k <= items; k++) {
    if (index === 0) {
      if (slow === 'producer') busy(2); // making an item takes 2 µs
      sleeps += put(view, capacity, k);
    } else {
      const got = take(view, capacity);
      sleeps += got.sleeps;
      if (got.item !== k) inOrder = false; // every item, once, in order
      if (slow === 'consumer') busy(2); // using an item takes 2 µs
    }
  }
  return { sleeps, inOrder, ms: performance.now() - t0 };
}

/** Throughput of postMessage: a worker posts `n` numbers, one message each, to the main thread. */
async function postMessageRate(n: number): Promise<number> {
  const source = `const { parentPort } = require('node:worker_threads');
    parentPort.once('message', (n) => { for (let i = 1; i <= n; i++) parentPort.postMessage(i); });`;
  const worker = new Worker(source, { eval: true });
  await once(worker, 'online');
  const t0 = performance.now();
  await new Promise<void>((resolve, reject) => {
    let expected = 1;
    worker.on('message', (i: number) => {
      if (i !== expected++) reject(new Error('out of order'));
      if (i === n) resolve();
    });
    worker.postMessage(n);
  });
  const ms = performance.now() - t0;
  await worker.terminate();
  return (n / ms) * 1000;
}

async function main(): Promise<void> {
  const MAX_CAPACITY = 1024;
  const shared = new SharedArrayBuffer((SLOTS + MAX_CAPACITY) * 4);
  const view = new Int32Array(shared);
  const team = await startTeam(__filename, 2, shared);
  const n = (x: number): string => x.toLocaleString('en');
  const run = async (task: Task): Promise<Result[]> => {
    view.fill(0);
    view[HEAD] = view[TAIL] = 2 ** 31 - 1000; // near the top of Int32: the counters wrap past it early on
    return team.round<Result>(task);
  };

  const items = 50_000;
  console.log(`1. capacity 8, ${n(items)} items: every slot is reused ${n(items / 8)} times`);
  for (const slow of ['consumer', 'producer'] as const) {
    const [p, c] = await run({ capacity: 8, items, slow });
    console.log(
      `   ${slow} slower: producer slept ${n(p!.sleeps).padStart(6)} times (full), ` +
        `consumer ${n(c!.sleeps).padStart(6)} times (empty); each item once, in order: ${c!.inOrder}`,
    );
  }

  const fast = 2_000_000;
  console.log(`2. throughput: ${n(fast)} numbers through a ring of 1024 slots, vs one postMessage per number`);
  await run({ capacity: MAX_CAPACITY, items: fast / 10, slow: 'neither' }); // warm up
  const [p, c] = await run({ capacity: MAX_CAPACITY, items: fast, slow: 'neither' });
  const ringRate = (fast / Math.max(p!.ms, c!.ms)) * 1000;
  console.log(
    `   ring buffer: ${(ringRate / 1e6).toFixed(2)} M items/s (in order: ${c!.inOrder}; ` +
      `producer slept ${n(p!.sleeps)} times, consumer ${n(c!.sleeps)})`,
  );
  await team.stop();
  await postMessageRate(20_000); // warm up
  const postRate = await postMessageRate(200_000);
  console.log(
    `   postMessage: ${(postRate / 1e6).toFixed(2)} M items/s; the ring moved ${(ringRate / postRate).toFixed(1)}x as many`,
  );
}

if (isMainThread) void main();
else joinTeam(member);
