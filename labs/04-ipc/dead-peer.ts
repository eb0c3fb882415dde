/**
 * What a parent sees of a forked child that stops answering. The child obeys one command each run; the
 * parent logs, in order, the replies, 'disconnect', 'exit' and 'close' events it gets.
 *
 *   1. answer, then process.exit(3) at once: the answer arrives, then the end;
 *   2. send 2000 answers, then process.exit(3) at once: most never arrive;
 *   3. throw inside the message handler: no answer, exit code 1;
 *   4. send() to the dead child: ERR_IPC_CHANNEL_CLOSED, to the callback, or as an 'error' event that
 *      crashes a parent with no 'error' listener;
 *   5. get killed with SIGKILL while "working": no answer, a signal;
 *   6. the parent disconnects: the child exits, 'exit' fires, and 'close' never does.
 *
 *   npx tsx labs/04-ipc/dead-peer.ts
 */
import { fork, spawn } from 'node:child_process';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';

function peer(): void {
  process.on('message', (command: string) => {
    if (command === 'answer-then-exit') {
      process.send!({ id: 1, result: 'the answer' });
      process.exit(3);
    }
    if (command === 'many-then-exit') {
      for (let id = 1; id <= 2000; id++) process.send!({ id, result: 'x'.repeat(1000) });
      process.exit(3);
    }
    if (command === 'throw') throw new Error('a bug in the handler');
    if (command === 'work') setTimeout(() => process.send!({ id: 1, result: 'too late' }), 10_000);
  });
  process.send!('ready');
}

async function run(title: string, command: string, act?: (child: ReturnType<typeof fork>) => void): Promise<void> {
  const child = fork(__filename, ['peer'], { stdio: ['ignore', 'ignore', 'ignore', 'ipc'] });
  await once(child, 'message'); // 'ready'
  const start = performance.now();
  const log: string[] = [];
  const at = (): string => `${(performance.now() - start).toFixed(0)} ms`;
  const count = (n: number): string => `${n} ${n === 1 ? 'reply' : 'replies'}`;
  let replies = 0;
  child.on('message', () => (replies++ === 0 ? log.push(`first reply ${at()}`) : undefined));
  child.on('disconnect', () => log.push(`'disconnect' ${at()} (${count(replies)} by then)`));
  const exited = new Promise<void>((resolve) =>
    child.on('exit', (code, signal) => {
      log.push(`'exit' code=${code} signal=${signal} ${at()}`);
      resolve();
    }),
  );
  let closed = false;
  child.on('close', () => (closed = true));
  child.send(command);
  act?.(child);
  await exited;
  await sleep(200);
  console.log(`${title}\n   ${log.join(', ')}; 'close' ${closed ? 'fired' : 'NEVER fired'}; ${count(replies)} in all`);
  if (command === 'throw') {
    const errors: string[] = [];
    child.on('error', (error: NodeJS.ErrnoException) => errors.push(`'error' event ${error.code}`));
    child.send({ id: 2 }, (error) => errors.push(`send callback ${(error as NodeJS.ErrnoException | null)?.code}`));
    await sleep(50);
    console.log(`4. send() to that dead child, with a callback: ${errors.join(', ')}`);
  }
}

/** A parent with no 'error' listener that sends to its dead child, in a process of its own. */
async function noErrorListener(): Promise<void> {
  const program = `
    const { spawn } = require('node:child_process');
    const child = spawn(process.execPath, ['-e', ''], { stdio: ['ignore', 'ignore', 'ignore', 'ipc'] }); // exits at once
    child.on('exit', () => {
      child.send('anyone there?'); // no callback, no 'error' listener
      setTimeout(() => console.log('the parent is still running'), 100);
    });`;
  const parent = spawn(process.execPath, ['-e', program], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  parent.stdout.on('data', (chunk: Buffer) => (out += chunk));
  parent.stderr.on('data', (chunk: Buffer) => (err += chunk));
  const [code] = (await once(parent, 'close')) as [number];
  const error = err.split('\n').find((line) => line.startsWith('Error')) ?? '';
  console.log(
    `   and without a callback or an 'error' listener (in a parent of its own): that parent exited with code ${code},` +
      ` ${error}; ${out.includes('still running') ? 'it was still running 100 ms later' : 'its 100 ms timer never ran'}`,
  );
}

async function main(): Promise<void> {
  await run('1. the child answers, then calls process.exit(3)', 'answer-then-exit');
  await run('2. the child sends 2000 answers of 1 KB, then calls process.exit(3)', 'many-then-exit');
  await run('3. the child throws in its message handler', 'throw');
  await noErrorListener();
  await run('5. the child is killed with SIGKILL 100 ms into its work', 'work', (child) =>
    setTimeout(() => child.kill('SIGKILL'), 100),
  );
  await run('6. the parent calls child.disconnect() (the child then has nothing left to do)', 'idle', (child) =>
    child.disconnect(),
  );
}

if (process.argv[2] === 'peer') peer();
else void main();
