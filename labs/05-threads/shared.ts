/**
 * A SharedArrayBuffer is the one kind of memory two threads of one process can both see: what one writes,
 * the other reads, with no message carrying the value. That sharing brings the problem of chapter 07 with
 * it: two threads that both do `view[0]++` lose updates. This lab shows both.
 *
 *   npx tsx labs/05-threads/shared.ts [increments per worker and round, default 10000] [rounds, default 1000]
 */
import { once } from 'node:events';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';

const TS_HOOK = ['--require', require.resolve('tsx/cjs')];
const COUNTER = 0; // Int32Array slots in the race's shared buffer
const GATE = 1; // the round the workers may start
const DONE = 2; // how many workers finished the current round

type Job =
  | { kind: 'see'; shared: SharedArrayBuffer; plain: ArrayBuffer }
  | { kind: 'race'; shared: SharedArrayBuffer; atomic: boolean; increments: number; rounds: number };

function worker(job: Job): void {
  if (job.kind === 'see') {
    new Int32Array(job.shared)[0] = 7; // write into the shared memory
    new Int32Array(job.plain)[0] = 7; // write into our copy of the plain buffer
    parentPort!.once('message', () => {
      parentPort!.postMessage(new Int32Array(job.shared)[1]); // read what the main thread wrote meanwhile
    });
    parentPort!.postMessage('written');
    return;
  }
  const view = new Int32Array(job.shared);
  for (let round = 1; round <= job.rounds; round++) {
    while (Atomics.load(view, GATE) < round); // spin until the main thread opens this round
    if (job.atomic) for (let i = 0; i < job.increments; i++) Atomics.add(view, COUNTER, 1);
    else for (let i = 0; i < job.increments; i++) view[COUNTER] = view[COUNTER]! + 1; // read, add, write
    Atomics.add(view, DONE, 1);
    Atomics.notify(view, DONE);
  }
}

async function race(atomic: boolean, workers: number, increments: number, rounds: number): Promise<void> {
  const shared = new SharedArrayBuffer(3 * Int32Array.BYTES_PER_ELEMENT);
  const view = new Int32Array(shared);
  const job: Job = { kind: 'race', shared, atomic, increments, rounds };
  const threads = Array.from({ length: workers }, () => new Worker(__filename, { execArgv: TS_HOOK, workerData: job }));
  await Promise.all(threads.map((t) => once(t, 'online')));
  const totals: number[] = [];
  for (let round = 1; round <= rounds; round++) {
    Atomics.store(view, COUNTER, 0);
    Atomics.store(view, DONE, 0);
    Atomics.store(view, GATE, round); // both workers start at once
    for (let done = 0; done < workers; done = Atomics.load(view, DONE)) Atomics.wait(view, DONE, done, 100);
    totals.push(Atomics.load(view, COUNTER));
  }
  await Promise.all(threads.map((t) => t.terminate()));
  const expected = workers * increments;
  const lost = totals.map((t) => expected - t);
  const bad = lost.filter((l) => l > 0);
  console.log(
    `   ${(atomic ? 'Atomics.add(view, 0, 1)' : 'view[0] = view[0] + 1').padEnd(24)} rounds that lost updates: ` +
      `${String(bad.length).padStart(3)} of ${rounds}; most lost in one round: ${Math.max(0, ...lost)} of ${expected}`,
  );
}

async function main(): Promise<void> {
  console.log('1. shared memory vs a copy');
  const shared = new SharedArrayBuffer(8);
  const plain = new ArrayBuffer(8);
  const w = new Worker(__filename, { execArgv: TS_HOOK, workerData: { kind: 'see', shared, plain } satisfies Job });
  await once(w, 'message'); // the worker has written 7 into each
  console.log(
    `   the worker wrote 7 into both; we read shared[0] = ${new Int32Array(shared)[0]}, plain[0] = ${new Int32Array(plain)[0]}`,
  );
  new Int32Array(shared)[1] = 99; // now we write, and the worker reads
  w.postMessage('read it');
  const [seen] = (await once(w, 'message')) as [number];
  console.log(`   we wrote 99 into shared[1]; the worker read ${seen}`);
  await w.terminate();

  const increments = Number(process.argv[2] ?? 10_000); // try: npx tsx labs/05-threads/shared.ts 100000 50
  const rounds = Number(process.argv[3] ?? 1000);
  console.log(
    `2. two workers each add 1, ${increments.toLocaleString('en')} times, to one shared counter; ${rounds.toLocaleString('en')} rounds`,
  );
  await race(false, 2, increments, rounds);
  await race(true, 2, increments, rounds);
}

if (isMainThread) void main();
else worker(workerData as Job);
