// A client that resets its connection (TCP RST, as when its machine crashes) makes the server's socket emit
// 'error' (ECONNRESET). With no 'error' listener that is an uncaught exception: the whole server process
// dies, and every other client with it. The server runs in a child process here, so we can watch it die.
// Run: npx tsx labs/01-why-concurrency/reset-kills-server.ts
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import net from 'node:net';
import readline from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';

const serverCode = (listenForErrors: boolean): string => `
  const net = require('node:net');
  const server = net.createServer((socket) => {
    ${listenForErrors ? "socket.on('error', () => socket.destroy()); // drop this connection only" : ''}
    socket.on('data', () => setTimeout(() => socket.write('answer\\n'), 100)); // a slow answer
  });
  server.listen(0, '127.0.0.1', () => console.log(server.address().port));
  process.stdin.on('end', () => process.exit(0)).resume();`;

async function run(listenForErrors: boolean): Promise<void> {
  const server = spawn(process.execPath, ['-e', serverCode(listenForErrors)], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  server.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = once(server, 'exit');
  const [port] = (await once(readline.createInterface({ input: server.stdout! }), 'line')) as [string];

  const a = net.connect(Number(port), '127.0.0.1');
  await once(a, 'connect');
  a.write('request from A\n');
  await sleep(20);
  a.resetAndDestroy(); // RST instead of a polite FIN
  await sleep(50);

  const b = net.connect(Number(port), '127.0.0.1');
  b.on('error', () => {});
  b.write('request from B\n');
  const heard = await Promise.race([
    once(readline.createInterface({ input: b }), 'line').then(([line]) => `B was answered: ${String(line)}`),
    exited.then(([code]) => `the server process died (exit code ${String(code)}): ${stderr.match(/Error: .*/)?.[0]}`),
    sleep(2000).then(() => 'B was never answered'),
  ]);
  b.destroy();
  server.stdin!.end();
  await exited;
  console.log(`${listenForErrors ? "with an 'error' listener:   " : "without an 'error' listener:"} ${heard}`);
}

async function main(): Promise<void> {
  await run(false);
  await run(true);
}

void main();
