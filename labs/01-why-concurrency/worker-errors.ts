// What an exception in a worker does. Uncaught, it ends the worker (the main thread hears it on 'error');
// caught and posted back as a reply, the worker lives on and can take the next request. And with no
// 'error' listener on the Worker, an uncaught exception in it ends the whole process.
// Run: npx tsx labs/01-why-concurrency/worker-errors.ts
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';

const workerCode = (catchErrors: boolean): string => `
  const { parentPort } = require('node:worker_threads');
  function count(limit) {
    if (limit < 0) throw new RangeError('the limit must be non-negative, got ' + limit);
    return limit; // stands in for real work
  }
  parentPort.on('message', (limit) => {
    ${
      catchErrors
        ? 'try { parentPort.postMessage({ ok: count(limit) }); } catch (e) { parentPort.postMessage({ error: e.message }); }'
        : 'parentPort.postMessage({ ok: count(limit) });'
    }
  });`;

async function run(catchErrors: boolean): Promise<void> {
  const worker = new Worker(workerCode(catchErrors), { eval: true });
  const events: string[] = [];
  worker.on('message', (reply: unknown) => events.push(`message ${JSON.stringify(reply)}`));
  worker.on('error', (error: Error) => events.push(`'error' event: ${error.message}`));
  // (events.once() would reject on 'error': listen to 'exit' directly.)
  let stopping = false;
  const exited = new Promise<void>((resolve) =>
    worker.once('exit', (code: number) => {
      events.push(stopping ? 'alive until we called terminate()' : `worker exited by itself, code ${code}`);
      resolve();
    }),
  );
  for (const limit of [-1, 5]) {
    worker.postMessage(limit);
    // Wait for its reply, or for its end (a worker that has exited answers nothing, ever).
    await Promise.race([new Promise((resolve) => worker.once('message', resolve)), exited]);
  }
  stopping = true;
  await worker.terminate();
  await exited;
  console.log(
    `${catchErrors ? 'caught in the worker:' : 'left uncaught:'}\n  posted -1 then 5; heard: ${events.join('; ')}`,
  );
}

/** A program whose worker throws, with no 'error' listener on the Worker; run in a child process. */
async function noListener(): Promise<void> {
  const program = `
    const { Worker } = require('node:worker_threads');
    new Worker("throw new RangeError('bad limit')", { eval: true }); // no 'error' listener
    setTimeout(() => console.log('main thread still running'), 500);`;
  const child = spawn(process.execPath, ['-e', program], { stdio: ['ignore', 'pipe', 'ignore'] });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const [code] = (await once(child, 'close')) as [number];
  console.log(
    `no 'error' listener on the Worker (in a child process):\n  the whole process exited with code ${code};` +
      ` its main thread printed: ${JSON.stringify(out.trim())}`,
  );
}

async function main(): Promise<void> {
  await run(false);
  await run(true);
  await noListener();
  console.log("this lab's main thread is still running");
}

void main();
