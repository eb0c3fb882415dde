// Can a worker thread load a TypeScript entry file? Only if a TypeScript loader runs in that thread too.
// Run it both ways and compare:
//   npx tsx labs/01-why-concurrency/ts-in-worker.ts
//   node --require tsx/cjs labs/01-why-concurrency/ts-in-worker.ts
import path from 'node:path';
import { Worker } from 'node:worker_threads';

const entry = path.join(__dirname, 'prime-worker.ts');

function attempt(title: string, options: { execArgv?: string[] }): Promise<void> {
  return new Promise((resolve) => {
    const worker = new Worker(entry, { ...options, workerData: 100 });
    worker.once('message', (reply: { count: number }) => {
      console.log(`${title}: loaded, counted ${reply.count} primes below 100`);
      void worker.terminate().then(() => resolve());
    });
    worker.once('error', (error: NodeJS.ErrnoException) => {
      console.log(`${title}: ${error.code ?? error.message}`);
      resolve();
    });
  });
}

async function main(): Promise<void> {
  console.log(
    `this thread runs with execArgv ${JSON.stringify(process.execArgv.map((arg) => arg.replace(/.*node_modules\//, '')))}`,
  );
  await attempt("new Worker('prime-worker.ts')                          ", {});
  await attempt("new Worker('prime-worker.ts', { execArgv: [tsx/cjs] })", {
    execArgv: ['--require', require.resolve('tsx/cjs')],
  });
}

void main();
