/**
 * Stopping a child politely, then for sure: SIGTERM asks (the child may clean up, or ignore it), and if the
 * child is still there after a grace period, SIGKILL, which no process can catch, ignore or delay.
 *
 *   npx tsx labs/02-processes/escalate.ts
 */
import { spawn } from 'node:child_process';

const GRACE_MS = 1000;

// Each child installs its SIGTERM handler, *then* says "ready": a signal sent before the handler exists
// gets the default action (death), which would hide the behaviour we want to see.
const children: Record<string, string> = {
  'cleans up on SIGTERM': `
    process.on('SIGTERM', () => { console.log('child: got SIGTERM, cleaning up'); setTimeout(() => process.exit(0), 200); });
    setInterval(() => {}, 1000); console.log('ready');`,
  'ignores SIGTERM': `
    process.on('SIGTERM', () => console.log('child: got SIGTERM, ignoring it'));
    setInterval(() => {}, 1000); console.log('ready');`,
};

async function stop(name: string, code: string): Promise<void> {
  console.log(`--- a child that ${name}`);
  const start = performance.now();
  const log = (text: string): void =>
    console.log(`${String(Math.round(performance.now() - start)).padStart(5)} ms  ${text}`);
  const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  const ended = new Promise<void>((resolve) =>
    child.on('exit', (exitCode, signal) => {
      log(`'exit': code=${exitCode} signal=${signal}`);
      resolve();
    }),
  );
  child.stdout.on('data', (chunk: Buffer) => {
    for (const line of chunk.toString().trim().split('\n')) log(line);
    if (!chunk.toString().includes('ready')) return;
    log('parent: SIGTERM');
    child.kill('SIGTERM');
    const grace = setTimeout(() => {
      log(`parent: still alive after ${GRACE_MS} ms, SIGKILL`);
      child.kill('SIGKILL');
    }, GRACE_MS);
    child.on('exit', () => clearTimeout(grace)); // it ended in time: no SIGKILL
  });
  await ended;
}

/** Node's own `timeout` option (spawn and execFile): one signal (killSignal, default SIGTERM) to the direct child. */
async function builtInTimeout(): Promise<void> {
  console.log('--- spawn(…, { timeout: 1000 }) and the child that ignores SIGTERM');
  const start = performance.now();
  const log = (text: string): void =>
    console.log(`${String(Math.round(performance.now() - start)).padStart(5)} ms  ${text}`);
  const child = spawn(process.execPath, ['-e', children['ignores SIGTERM']!], {
    timeout: 1000,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  child.stdout.on('data', (chunk: Buffer) => chunk.toString().trim().split('\n').forEach(log));
  const ended = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  await new Promise((resolve) => setTimeout(resolve, 1000 + GRACE_MS));
  const running = child.exitCode === null && child.signalCode === null;
  log(`parent: child.killed is ${child.killed}, and the child is ${running ? 'still running' : 'gone'}; SIGKILL`);
  child.kill('SIGKILL');
  await ended;
}

async function main(): Promise<void> {
  for (const [name, code] of Object.entries(children)) await stop(name, code);
  await builtInTimeout();
  console.log('--- and SIGKILL cannot be handled at all:');
  try {
    process.on('SIGKILL', () => {});
  } catch (error) {
    console.log(`process.on('SIGKILL', …) throws: ${(error as Error).message}`);
  }
}

void main();
