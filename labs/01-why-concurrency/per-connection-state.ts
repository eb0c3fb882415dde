// Two clients each send one line in two parts, interleaved: A 'app', B 'ban', A 'le\n', B 'ana\n'.
// A server that keeps the unfinished line in ONE variable mixes them up; one buffer per connection does not.
// Run: npx tsx labs/01-why-concurrency/per-connection-state.ts
import { once } from 'node:events';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/** Splits buffered text into complete lines; what follows the last '\n' stays for the next chunk. */
function takeLines(buffered: string): { lines: string[]; rest: string } {
  const parts = buffered.split('\n');
  return { lines: parts.slice(0, -1), rest: parts.at(-1)! };
}

function sharedBufferServer(): net.Server {
  let buffered = ''; // one for the whole server: WRONG
  return net.createServer((socket) =>
    socket.on('data', (chunk: Buffer) => {
      const { lines, rest } = takeLines(buffered + chunk.toString());
      buffered = rest;
      for (const line of lines) socket.write(`got ${JSON.stringify(line)}\n`);
    }),
  );
}

function perConnectionServer(): net.Server {
  return net.createServer((socket) => {
    let buffered = ''; // one for each connection
    socket.on('data', (chunk: Buffer) => {
      const { lines, rest } = takeLines(buffered + chunk.toString());
      buffered = rest;
      for (const line of lines) socket.write(`got ${JSON.stringify(line)}\n`);
    });
  });
}

async function run(title: string, server: net.Server): Promise<void> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as net.AddressInfo).port;
  const a = net.connect(port, '127.0.0.1');
  const b = net.connect(port, '127.0.0.1');
  await Promise.all([once(a, 'connect'), once(b, 'connect')]);
  const heard = { A: '', B: '' };
  a.on('data', (chunk: Buffer) => (heard.A += chunk.toString()));
  b.on('data', (chunk: Buffer) => (heard.B += chunk.toString()));
  for (const [socket, part] of [
    [a, 'app'],
    [b, 'ban'],
    [a, 'le\n'],
    [b, 'ana\n'],
  ] as const) {
    socket.write(part);
    await sleep(20); // each part arrives as its own chunk
  }
  await sleep(50);
  a.end();
  b.end();
  server.close();
  console.log(
    `${title}\n  A sent "apple"  and heard: ${heard.A.trim()}\n  B sent "banana" and heard: ${heard.B.trim()}`,
  );
}

async function main(): Promise<void> {
  await run('one buffer for the whole server:', sharedBufferServer());
  await run('one buffer per connection:', perConnectionServer());
}

void main();
