/**
 * A Unix domain socket: a server listening on a path in the file system, and clients that find it by
 * that path — any process, in any language, not only our children. The server answers newline-delimited
 * JSON requests {id, a, b} with {id, sum}. Its clients: a separate Node process (not forked: no IPC channel)
 * and, if python3 is installed, a Python script. Then: the socket file a crashed server leaves behind.
 *
 *   npx tsx labs/04-ipc/unix-socket.ts
 */
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { LineDecoder, ndjson } from './frames';

/** Answers every request line on every connection: {id, a, b} -> {id, sum}. */
function sumServer(): net.Server {
  return net.createServer((socket) => {
    const decoder = new LineDecoder(64 * 1024); // one decoder per connection
    socket.on('error', () => socket.destroy());
    socket.on('data', (chunk: Buffer) => {
      for (const frame of decoder.push(chunk)) {
        if (!frame.ok) continue; // (the validation lab shows what to do here)
        const { id, a, b } = JSON.parse(frame.body.toString()) as { id: number; a: number; b: number };
        socket.write(ndjson({ id, sum: a + b }));
      }
    });
  });
}

/** The Node client, run as its own process: two requests in one write, prints the replies. */
async function nodeClient(socketPath: string): Promise<void> {
  const socket = net.connect(socketPath);
  await once(socket, 'connect');
  const decoder = new LineDecoder(64 * 1024);
  socket.write(
    Buffer.concat(
      [
        { id: 1, a: 2, b: 3 },
        { id: 2, a: 40, b: 2 },
      ].map(ndjson),
    ),
  );
  let got = 0;
  socket.on('data', (chunk: Buffer) => {
    for (const frame of decoder.push(chunk)) {
      if (frame.ok) console.log(`   node client (pid ${process.pid}) got ${frame.body}`);
      if (++got === 2) socket.end();
    }
  });
  await once(socket, 'close');
}

const python = `
import json, socket, sys, os
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
s.sendall((json.dumps({'id': 7, 'a': 1.5, 'b': 2}) + '\\n').encode())
reply = s.makefile('rb').readline()  # reads until the '\\n'
if not reply.endswith(b'\\n'): raise EOFError('the server closed the connection')
print('   python client (pid %d) got %s' % (os.getpid(), reply.decode().rstrip('\\n')))
`;

async function run(command: string, args: string[]): Promise<void> {
  const child = spawn(command, args, { stdio: ['ignore', 'inherit', 'inherit'] });
  await once(child, 'close');
}

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'uds-'));
  const socketPath = path.join(dir, 'sum.sock');
  try {
    console.log(`1. a server on ${socketPath} (our pid ${process.pid})`);
    const server = sumServer();
    server.listen(socketPath);
    await once(server, 'listening');
    const stat = fs.statSync(socketPath);
    console.log(
      `   the path is a socket: ${stat.isSocket()}; mode ${(stat.mode & 0o777).toString(8)}: who may connect is a file permission`,
    );
    await run(process.execPath, [...process.execArgv, __filename, 'client', socketPath]);
    try {
      execFileSync('python3', ['--version'], { stdio: 'ignore' });
      await run('python3', ['-c', python, socketPath]);
    } catch {
      console.log('   (python3 not found: the Python client is skipped)');
    }
    server.close();
    await once(server, 'close');
    console.log(`   after server.close(), the path exists: ${fs.existsSync(socketPath)}`);

    console.log('2. a server that is killed leaves its socket file behind');
    const serverCode = `require('net')
      .createServer(() => console.log('accepted'))
      .listen(${JSON.stringify(socketPath)}, () => console.log('up'))`;
    const doomed = spawn(process.execPath, ['-e', serverCode], { stdio: ['ignore', 'pipe', 'inherit'] });
    const said = readline.createInterface({ input: doomed.stdout! })[Symbol.asyncIterator]();
    await said.next(); // 'up'
    const client = net.connect(socketPath); // a client of the doomed server: what does it see?
    const seen: string[] = [];
    client.on('end', () => seen.push("'end'"));
    client.on('error', (e: NodeJS.ErrnoException) => seen.push(`'error' ${e.code}`));
    const clientClosed = new Promise<void>((resolve) =>
      client.on('close', (hadError) => resolve(void seen.push(`'close' (hadError ${hadError})`))),
    );
    await said.next(); // 'accepted': the server process holds the connection
    doomed.kill('SIGKILL');
    await once(doomed, 'close');
    await clientClosed;
    console.log(`   killed with SIGKILL; its client saw ${seen.join(', ')}: no exit code, no signal`);
    console.log(`   the path exists: ${fs.existsSync(socketPath)}`);
    const second = net.createServer();
    second.listen(socketPath);
    const [error] = (await once(second, 'error')) as [NodeJS.ErrnoException];
    console.log(`   a new server on the same path: ${error.code}`);
    const probe = net.connect(socketPath);
    const [probeError] = (await once(probe, 'error')) as [NodeJS.ErrnoException];
    console.log(`   connecting to it: ${probeError.code} (nobody listens: the file is stale)`);
    fs.unlinkSync(socketPath);
    second.listen(socketPath);
    await once(second, 'listening');
    console.log(`   after unlinking the stale file, listen() works`);
    second.close();
    await once(second, 'close');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === 'client') void nodeClient(process.argv[3]);
else void main();
