// A server counts primes for one client ("primes 3000000", CPU only). 100 ms later another client sends
// "ping". How long does the ping wait? First with the count on the server's event loop, then in a worker.
// Run: npx tsx labs/01-why-concurrency/blocked-loop.ts
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import net from 'node:net';
import path from 'node:path';
import readline from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';

/** Connects and returns a function that sends one line and resolves with the answer line. */
async function connect(port: number): Promise<{ ask: (line: string) => Promise<string>; end: () => void }> {
  const socket = net.connect(port, '127.0.0.1');
  await once(socket, 'connect');
  const answers = readline.createInterface({ input: socket })[Symbol.asyncIterator]();
  return {
    ask: async (line) => {
      socket.write(`${line}\n`);
      return (await answers.next()).value as string;
    },
    end: () => socket.end(),
  };
}

async function run(mode: 'inline' | 'worker'): Promise<void> {
  // The server runs in its own process, so that our clients' clocks keep running while it is busy.
  const server = spawn(process.execPath, [...process.execArgv, path.join(__dirname, 'prime-server.ts'), mode], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const [portLine] = (await once(readline.createInterface({ input: server.stdout! }), 'line')) as [string];
  const port = Number(portLine);

  const heavy = await connect(port);
  const cheap = await connect(port);
  const heavyStart = performance.now();
  const counted = heavy.ask('primes 3000000').then((count) => ({ count, ms: performance.now() - heavyStart }));
  await sleep(100); // the count is under way
  const pingStart = performance.now();
  await cheap.ask('ping');
  const pingMs = performance.now() - pingStart;
  const { count, ms } = await counted;
  const maxDelay = await cheap.ask('delay');
  heavy.end();
  cheap.end();
  server.stdin!.end(); // the server exits when its stdin closes
  await once(server, 'exit');
  console.log(
    `count on the ${mode === 'inline' ? 'event loop  ' : 'worker thread'}: ping answered in ${pingMs.toFixed(1).padStart(6)} ms;` +
      ` count (${count}) took ${ms.toFixed(0)} ms; longest event-loop block in the server: ${maxDelay} ms`,
  );
}

async function main(): Promise<void> {
  await run('inline');
  await run('worker');
}

void main();
