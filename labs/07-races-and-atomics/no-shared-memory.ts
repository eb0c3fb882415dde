/**
 * Without a SharedArrayBuffer, JavaScript has no data races: one isolate runs one piece of JavaScript at a
 * time, and two isolates (the main thread and a worker) have no memory in common. This lab shows both, and
 * the one way a single thread can still lose an update: splitting the read and the write with an await.
 *
 *   npx tsx labs/07-races-and-atomics/no-shared-memory.ts
 */
import { once } from 'node:events';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';

const TS_HOOK = ['--require', require.resolve('tsx/cjs')];
const TASKS = 4;
const PER_TASK = 250_000;

let counter = 0; // module state: one per isolate

/** Adds 1 to `counter` PER_TASK times, letting the other tasks run every 1,000 additions. */
async function task(name: number, order: number[]): Promise<void> {
  for (let i = 1; i <= PER_TASK; i++) {
    counter = counter + 1; // read, add, write: nothing else runs in this isolate until the next await
    if (i % 1000 === 0) {
      order.push(name);
      await new Promise<void>((resolve) => setImmediate(resolve)); // a real turn of the event loop
    }
  }
}

/** The same, but the read and the write are on either side of an await. */
async function splitTask(): Promise<void> {
  for (let i = 0; i < PER_TASK / 1000; i++) {
    const seen = counter; // read ...
    await null; // ... every other task runs here ...
    counter = seen + 1; // ... and this write overwrites what they did
  }
}

async function main(): Promise<void> {
  console.log(
    `1. ${TASKS} async tasks in one thread, each adds 1 to a shared variable ${PER_TASK.toLocaleString('en')} times`,
  );
  const order: number[] = [];
  await Promise.all(Array.from({ length: TASKS }, (_, t) => task(t, order)));
  const switches = order.filter((t, i) => i > 0 && t !== order[i - 1]).length;
  console.log(
    `   counter = ${counter.toLocaleString('en')} of ${(TASKS * PER_TASK).toLocaleString('en')}; ` +
      `the tasks took turns ${switches} times (first turns: ${order.slice(0, 8).join(' ')} ...)`,
  );

  counter = 0;
  await Promise.all(Array.from({ length: TASKS }, () => splitTask()));
  const expected = (TASKS * PER_TASK) / 1000;
  console.log(`2. the same tasks, with an await between the read and the write, ${expected / TASKS} times each`);
  console.log(`   counter = ${counter} of ${expected}: ${expected - counter} updates lost, without any thread`);

  console.log('3. two workers each add 1 a million times to "the same" object and ArrayBuffer');
  const object = { count: 0 };
  const plain = new Int32Array(new ArrayBuffer(4));
  const workers = [0, 1].map(
    () => new Worker(__filename, { execArgv: TS_HOOK, workerData: { object, buffer: plain.buffer } }),
  );
  const replies = await Promise.all(workers.map(async (w) => ((await once(w, 'message')) as [string])[0]));
  for (const [i, reply] of replies.entries()) console.log(`   worker ${i}: ${reply}`);
  console.log(`   main thread: object.count = ${object.count}, buffer[0] = ${plain[0]}`);
  await Promise.all(workers.map((w) => w.terminate()));
}

if (isMainThread) {
  void main();
} else {
  const { object, buffer } = workerData as { object: { count: number }; buffer: ArrayBuffer };
  const view = new Int32Array(buffer);
  for (let i = 0; i < 1_000_000; i++) {
    object.count = object.count + 1;
    view[0] = view[0]! + 1;
  }
  parentPort!.postMessage(
    `object.count = ${object.count.toLocaleString('en')}, buffer[0] = ${view[0]!.toLocaleString('en')} (its own copies)`,
  );
}
