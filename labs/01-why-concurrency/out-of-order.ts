// With an async handler, answering each line "when its promise settles" can reorder one client's answers.
// The client sends "slow" (100 ms) then "fast" (10 ms) in one write.
// Run: npx tsx labs/01-why-concurrency/out-of-order.ts
import { once } from 'node:events';
import net from 'node:net';
import readline from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';

async function handler(request: string): Promise<string> {
  await sleep(request === 'slow' ? 100 : 10);
  return `answer to ${request}`;
}

async function main(): Promise<void> {
  const server = net.createServer((socket) => {
    // Each line starts its handler at once and writes whenever that handler finishes.
    readline.createInterface({ input: socket }).on('line', (line) => {
      void handler(line).then((answer) => socket.write(`${answer}\n`));
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const client = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
  client.write('slow\nfast\n');
  const answers = readline.createInterface({ input: client })[Symbol.asyncIterator]();
  console.log('sent:  slow, fast');
  console.log(`heard: ${(await answers.next()).value}, ${(await answers.next()).value}`);
  client.end();
  server.close();
}

void main();
