// An iterative server serves one connection to completion before it reads the next; a concurrent server
// serves them all at once. Client A sends 4 requests, client B connects 50 ms later and sends 1.
// How long does B wait?   Run: npx tsx labs/01-why-concurrency/queued-client.ts
import { on, once } from 'node:events';
import net from 'node:net';
import readline from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';

const SERVICE_MS = 250; // each request waits 250 ms for "the database": I/O, not CPU
let t0 = performance.now(); // reset at the start of each scenario
const now = (): number => Math.round(performance.now() - t0);

/** Serves one client until it closes: one line in, one line out. */
async function serve(socket: net.Socket): Promise<void> {
  for await (const line of readline.createInterface({ input: socket })) {
    await sleep(SERVICE_MS);
    socket.write(`done ${line}\n`);
  }
  socket.end();
}

/** for (;;) { fd = accept(); serve(fd); close(fd); } — connections wait their turn. */
function iterativeServer(signal: AbortSignal): net.Server {
  // pauseOnConnect: the kernel completes the connection, but nobody reads from it until its turn.
  const server = net.createServer({ pauseOnConnect: true });
  void (async () => {
    try {
      for await (const [socket] of on(server, 'connection', { signal })) await serve(socket as net.Socket);
    } catch {
      // aborted: the lab is over
    }
  })();
  return server;
}

function concurrentServer(): net.Server {
  return net.createServer((socket) => void serve(socket)); // every connection served at once
}

async function client(name: string, port: number, requests: number): Promise<void> {
  const socket = net.connect(port, '127.0.0.1');
  await once(socket, 'connect');
  const connectedAt = now();
  const lines = readline.createInterface({ input: socket })[Symbol.asyncIterator]();
  let firstAnswerAt = 0;
  for (let i = 1; i <= requests; i++) {
    socket.write(`${name}${i}\n`);
    await lines.next();
    if (i === 1) firstAnswerAt = now();
  }
  socket.end();
  console.log(
    `  ${name}: connected at ${String(connectedAt).padStart(4)} ms, first answer at ${String(firstAnswerAt).padStart(4)} ms,` +
      ` ${requests} answer(s) done at ${String(now()).padStart(4)} ms` +
      ` -> waited ${firstAnswerAt - connectedAt - SERVICE_MS} ms beyond its own ${SERVICE_MS} ms`,
  );
}

async function scenario(title: string, server: net.Server): Promise<void> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  console.log(title);
  t0 = performance.now();
  await Promise.all([client('A', port, 4), sleep(50).then(() => client('B', port, 1))]);
  server.close();
}

async function main(): Promise<void> {
  const stop = new AbortController();
  await scenario('iterative server (one client at a time):', iterativeServer(stop.signal));
  stop.abort();
  await scenario('concurrent server (every client at once):', concurrentServer());
}

void main();
