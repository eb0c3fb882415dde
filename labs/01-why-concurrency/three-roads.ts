// One request, served three ways: on our own event loop, by a new worker thread, by a new process.
// Prints what each costs to start and whether the handler's change to the request reaches us.
// Run: npx tsx labs/01-why-concurrency/three-roads.ts
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';

interface Request {
  hits: number;
}

// The same handler three times: count the visit, answer with the count it saw.
async function onEventLoop(request: Request): Promise<number> {
  request.hits++;
  return request.hits;
}

async function inWorkerThread(request: Request): Promise<number> {
  const code = `
    const { parentPort, workerData } = require('node:worker_threads');
    workerData.hits++;
    parentPort.postMessage(workerData.hits);`;
  const worker = new Worker(code, { eval: true, workerData: request });
  const [hits] = await once(worker, 'message');
  await worker.terminate();
  return hits as number;
}

async function inChildProcess(request: Request): Promise<number> {
  const code = `
    const request = JSON.parse(process.argv[1]);
    request.hits++;
    process.stdout.write(String(request.hits));`;
  const child = spawn(process.execPath, ['-e', code, JSON.stringify(request)]);
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  await once(child, 'close');
  return Number(out);
}

async function measure(name: string, road: (request: Request) => Promise<number>): Promise<void> {
  const times: number[] = [];
  let seenInside = 0;
  let ours = 0;
  for (let i = 0; i < 5; i++) {
    const request: Request = { hits: 0 };
    const start = performance.now();
    seenInside = await road(request);
    times.push(performance.now() - start);
    ours = request.hits;
  }
  const median = times.sort((a, b) => a - b)[2]!;
  console.log(
    `${name.padEnd(14)} ${median.toFixed(3).padStart(10)} ms   handler saw hits=${seenInside}, our object has hits=${ours}`,
  );
}

async function main(): Promise<void> {
  console.log('road           answer (median of 5)');
  await measure('event loop', onEventLoop);
  await measure('worker thread', inWorkerThread);
  await measure('child process', inChildProcess);
}

void main();
