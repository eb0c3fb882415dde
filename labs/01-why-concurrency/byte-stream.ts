// TCP carries bytes, not messages: what the receiver gets in one 'data' event is not what the sender
// passed to one write(). Writes merge, and one write splits.
// Run: npx tsx labs/01-why-concurrency/byte-stream.ts
import { once } from 'node:events';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

function show(chunk: Buffer): string {
  const text = chunk.toString();
  return text.length <= 40 ? JSON.stringify(text) : `${text.length} bytes`;
}

async function experiment(title: string, send: (socket: net.Socket) => Promise<void>): Promise<void> {
  const chunks: Buffer[] = [];
  const server = net.createServer((socket) => socket.on('data', (chunk: Buffer) => chunks.push(chunk)));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const socket = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
  await once(socket, 'connect');
  await send(socket);
  socket.end();
  await sleep(100); // let the server read everything
  server.close();
  console.log(
    `${title}\n  the server got ${chunks.length} 'data' event(s): ${chunks.slice(0, 4).map(show).join(', ')}`,
  );
}

async function main(): Promise<void> {
  await experiment('three write() calls of one line each, in the same tick:', async (socket) => {
    socket.write('ping\n');
    socket.write('ping\n');
    socket.write('ping\n');
  });
  await experiment('one write() of a single 1 MiB line:', async (socket) => {
    socket.write('x'.repeat(1024 * 1024 - 1) + '\n');
  });
  await experiment("one line written in two parts, 20 ms apart ('hel', then 'lo\\n'):", async (socket) => {
    socket.write('hel');
    await sleep(20);
    socket.write('lo\n');
  });
}

void main();
