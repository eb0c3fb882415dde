/**
 * Atomics.wait on Node's main thread (browsers forbid it; Node allows it) blocks the whole event loop: no
 * timer, no message, no I/O callback runs until it returns. Atomics.waitAsync is the non-blocking form: it
 * returns at once, with a promise when it has to wait. A worker here sends a message 20 ms after the start
 * and notifies at 100 ms; a timer is due at 10 ms. The lab prints when each thing happened, both ways.
 *
 *   npx tsx labs/08-locks-and-conditions/main-thread-wait.ts
 */
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';

// The worker (plain JavaScript): on 'go', it posts a message after 20 ms and sets cell 0 to 1 and
// notifies after 100 ms.
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const view = new Int32Array(workerData);
const nap = new Int32Array(new SharedArrayBuffer(4));
parentPort.on('message', () => {
  Atomics.wait(nap, 0, 0, 20);
  parentPort.postMessage('hello');
  Atomics.wait(nap, 0, 0, 80);
  Atomics.store(view, 0, 1);
  Atomics.notify(view, 0);
});`;

async function scenario(title: string, block: (view: Int32Array, log: (what: string) => void) => Promise<void>) {
  const shared = new SharedArrayBuffer(4);
  const view = new Int32Array(shared);
  const worker = new Worker(WORKER, { eval: true, workerData: shared });
  await once(worker, 'online');
  console.log(title);
  const t0 = performance.now();
  const log = (what: string): void => console.log(`   ${(performance.now() - t0).toFixed(1).padStart(6)} ms  ${what}`);
  const timer = new Promise<void>((resolve) => setTimeout(() => resolve(log('the 10 ms timer fires')), 10));
  const message = once(worker, 'message').then(() => log("the worker's message (sent at 20 ms) arrives"));
  worker.postMessage('go');
  await block(view, log);
  await Promise.all([timer, message]);
  await worker.terminate();
}

async function main(): Promise<void> {
  await scenario('1. Atomics.wait(view, 0, 0, 1000) on the main thread', async (view, log) => {
    const result = Atomics.wait(view, 0, 0, 1000); // blocks this thread, and so its event loop
    log(`Atomics.wait returns '${result}'`);
  });

  await scenario('2. Atomics.waitAsync(view, 0, 0, 1000) on the main thread', async (view, log) => {
    const result = Atomics.waitAsync(view, 0, 0, 1000);
    log(`Atomics.waitAsync returns { async: ${result.async}, value: ${result.async ? 'a Promise' : result.value} }`);
    if (result.async) log(`its promise resolves to '${await result.value}'`);
  });

  console.log('3. the results that come without waiting');
  const view = new Int32Array(new SharedArrayBuffer(4)); // view[0] is 0
  const show = (r: ReturnType<typeof Atomics.waitAsync>): string =>
    `{ async: ${r.async}, value: ${r.async ? 'a Promise' : `'${r.value}'`} }`;
  console.log(`   Atomics.waitAsync(view, 0, 1)       -> ${show(Atomics.waitAsync(view, 0, 1))}  (view[0] is not 1)`);
  console.log(`   Atomics.waitAsync(view, 0, 0, 0)    -> ${show(Atomics.waitAsync(view, 0, 0, 0))}  (a timeout of 0)`);
  const keepAlive = setTimeout(() => {}, 1000); // see part 4: without it, Node would exit right here
  const late = Atomics.waitAsync(view, 0, 0, 50);
  const t0 = performance.now();
  console.log(`   Atomics.waitAsync(view, 0, 0, 50)   -> ${show(late)}`);
  if (late.async)
    console.log(`   ... which resolves to '${await late.value}' after ${(performance.now() - t0).toFixed(0)} ms`);
  clearTimeout(keepAlive);

  console.log('4. a pending waitAsync does not keep Node running');
  const program = `Atomics.waitAsync(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5000).value.then((r) => console.log(r));`;
  const t1 = performance.now();
  const child = spawnSync(process.execPath, ['-e', program], { encoding: 'utf8' });
  console.log(
    `   node -e "<wait 5 s for a notify>": exited with code ${child.status} after ${(performance.now() - t1).toFixed(0)} ms, ` +
      `printing ${JSON.stringify(child.stdout)}: the promise never settled`,
  );
}

void main();
