// On an event loop, a client that is only waiting costs a socket and a few objects, not a thread or a
// process. Open 400 idle connections to a server in this process and see what our memory does.
// Run: npx tsx labs/01-why-concurrency/idle-connections.ts
import { once } from 'node:events';
import net from 'node:net';

const CLIENTS = 400; // 800 sockets in this process (both ends), well under the usual limit of 1024 open files
const KiB = 1024;

async function main(): Promise<void> {
  const server = net.createServer((socket) => socket.on('data', (chunk) => socket.write(chunk)));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as net.AddressInfo).port;
  const warm = net.connect(port, '127.0.0.1'); // the first connection loads code: leave it out of the count
  await once(warm, 'connect');

  const before = process.memoryUsage().rss;
  const clients: net.Socket[] = [];
  for (let i = 0; i < CLIENTS; i++) {
    const socket = net.connect(port, '127.0.0.1');
    await once(socket, 'connect');
    clients.push(socket);
  }
  const grown = process.memoryUsage().rss - before;
  console.log(`${CLIENTS} idle clients connected: resident memory grew by ${(grown / KiB / 1024).toFixed(1)} MiB`);
  console.log(`that is ${(grown / KiB / CLIENTS).toFixed(1)} KiB per connection, counting both of its ends`);

  // Every one of them is still served at once.
  const start = performance.now();
  const last = clients.at(-1)!;
  last.write('still there?\n');
  await once(last, 'data');
  console.log(`the last client's echo came back in ${(performance.now() - start).toFixed(2)} ms`);

  for (const socket of [warm, ...clients]) socket.destroy();
  server.close();
}

void main();
