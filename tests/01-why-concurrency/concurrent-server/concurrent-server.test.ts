import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import net, { type AddressInfo, type Server, type Socket } from 'node:net';
import path from 'node:path';
import { createServer, type Handler } from '@target/01-why-concurrency/concurrent-server';
import { gate, waitUntil, within } from '../../support/deadline';
import { killAll } from '../../support/processes';

const TARGET = '@target/01-why-concurrency/concurrent-server';
const fixture = (name: string): string => path.join(__dirname, 'fixtures', name);

/** How a server process that has ended ended, with the error it wrote to stderr. */
function ending(child: ChildProcess, stderr: string): string {
  const how = child.signalCode ? `was killed by ${child.signalCode}` : `exited with code ${child.exitCode}`;
  const error = /^\w*Error.*$/m.exec(stderr)?.[0] ?? stderr.trim().split('\n').slice(-3).join(' ');
  return `the server process ${how}${error ? `: ${error}` : ''}.`;
}

/** How long "never happened" is given before it becomes a failure. A correct server takes milliseconds. */
const DEADLINE = 4000;

const servers: Server[] = [];
/** The server's end of every connection, in the order the server accepted them. */
const accepted: Socket[] = [];
const clients: Client[] = [];
const started: number[] = [];

afterEach(async () => {
  killAll(started.splice(0));
  // The server's ends first, so a learner's socket never sees a reset it has no 'error' listener for.
  for (const socket of accepted.splice(0)) socket.destroy();
  for (const client of clients.splice(0)) client.socket.destroy();
  await within(
    Promise.all(servers.splice(0).map((server) => new Promise<void>((resolve) => server.close(() => resolve())))),
    DEADLINE,
    'the server did not close after every connection to it was destroyed.',
  );
});

/** Waits until `condition` holds; if it never does, fails with `never()`, worded when the wait is over. */
async function eventually(condition: () => boolean, never: () => string): Promise<void> {
  try {
    await waitUntil(condition, DEADLINE, 'never happened');
  } catch {
    assert.fail(never());
  }
}

/** Creates the server under test, listening on a free port of 127.0.0.1, and returns that port. */
async function start(handler: Handler): Promise<number> {
  const server = createServer(handler);
  servers.push(server);
  server.on('connection', (socket) => accepted.push(socket));
  await within(
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    }),
    DEADLINE,
    'the server returned by createServer() never started listening.',
  );
  return (server.address() as AddressInfo).port;
}

/** A test client: sends text, and collects the lines the server answers. */
class Client {
  readonly lines: string[] = [];
  #partial = '';
  #closed = false;

  private constructor(
    readonly name: string,
    readonly socket: Socket,
  ) {
    socket.setEncoding('utf8');
    // Every write goes out at once, on its own, instead of waiting to be merged with the next one.
    socket.setNoDelay(true);
    socket.on('data', (chunk: string) => {
      const pieces = (this.#partial + chunk).split('\n');
      this.#partial = pieces.pop()!;
      this.lines.push(...pieces);
    });
    socket.on('error', () => {});
    socket.on('close', () => (this.#closed = true));
  }

  static async connect(name: string, port: number): Promise<Client> {
    const socket = net.connect(port, '127.0.0.1');
    const client = new Client(name, socket);
    clients.push(client);
    try {
      await within(
        new Promise((resolve, reject) => {
          socket.once('connect', resolve);
          socket.once('error', reject);
        }),
        DEADLINE,
        'it timed out',
      );
    } catch (error) {
      assert.fail(`client ${name} could not connect to the server (${(error as Error).message}).`);
    }
    return client;
  }

  /** Writes `text` and resolves once it has been handed to the operating system. */
  send(text: string): Promise<void> {
    return new Promise((resolve, reject) => this.socket.write(text, (error) => (error ? reject(error) : resolve())));
  }

  /** The first `count` answers, once they have arrived; `never` explains a failure if they do not. */
  async answers(count: number, never: string): Promise<string[]> {
    const received = (): string =>
      `Client ${this.name} received ${this.lines.length === 0 ? 'nothing' : `only ${JSON.stringify(this.lines)}`}.`;
    await eventually(
      () => this.lines.length >= count || this.#closed,
      () => `${never} ${received()}`,
    );
    if (this.lines.length < count) {
      assert.fail(
        `the server closed client ${this.name}'s connection while it was waiting for ${count} answer(s). ${received()}`,
      );
    }
    return this.lines.slice(0, count);
  }

  /** The server's end of this client's connection. */
  serverEnd(): Socket | undefined {
    return accepted.find((socket) => socket.remotePort === this.socket.localPort);
  }

  /**
   * Resolves once the server has read `bytes` bytes from this client in all. The server's 'data' listeners run
   * in the same callback that reads the bytes, so when this resolves the server has seen them all.
   */
  async readByServer(bytes: number, never: string): Promise<void> {
    await eventually(
      () => (this.serverEnd()?.bytesRead ?? 0) >= bytes,
      () => never,
    );
  }
}

/** A handler that answers "echo:<request>" (asynchronously) and records every request it was given. */
function recordingEcho(): { handler: Handler; requests: string[] } {
  const requests: string[] = [];
  const handler: Handler = async (request) => {
    requests.push(request);
    return `echo:${request}`;
  };
  return { handler, requests };
}

describe('createServer()', () => {
  test("answers a single client's requests, in order", async () => {
    const { handler } = recordingEcho();
    const port = await start(handler);
    const client = await Client.connect('A', port);

    await client.send('hello\n');
    const [first] = await client.answers(
      1,
      'the client sent "hello\\n" and never got an answer. Each line a client sends is one request: pass it ' +
        "(without the '\\n') to the handler, await its answer (it may be a promise) and write it back followed by '\\n'.",
    );
    assert.equal(
      first,
      'echo:hello',
      `the handler answered "echo:hello" to the request "hello", but the client received ${JSON.stringify(first)}. ` +
        "Write back exactly what the handler's answer resolves to, followed by '\\n' (a handler may return a promise: await it).",
    );

    await client.send('second\n');
    await client.answers(2, 'the client was answered once, then never answered its second request.');
    await client.send('third\n');
    const answers = await client.answers(3, 'the client was answered twice, then never answered its third request.');
    assert.deepEqual(
      answers,
      ['echo:hello', 'echo:second', 'echo:third'],
      `one client sent "hello", "second", "third"; it should be answered "echo:hello", "echo:second", "echo:third" ` +
        `in that order, but it got ${JSON.stringify(answers)}.`,
    );
  });

  test("answers client B while client A's request is still pending", async () => {
    const releaseA = gate();
    const requests: string[] = [];
    const port = await start(async (request) => {
      requests.push(request);
      if (request === 'slow request from A') await releaseA.promise;
      return `answer to ${request}`;
    });

    const a = await Client.connect('A', port);
    await a.send('slow request from A\n');
    await eventually(
      () => requests.includes('slow request from A'),
      () =>
        `client A sent "slow request from A\\n" and the handler was never called with "slow request from A" ` +
        `(it got ${JSON.stringify(requests)}).`,
    );

    // A's request is now held inside the handler, for as long as the test likes. B arrives only now.
    const b = await Client.connect('B', port);
    await b.send('quick request from B\n');
    const [answerToB] = await b.answers(
      1,
      "client B was never answered while client A's request was still being handled: B waited behind A. That is " +
        'an iterative server, which serves one connection until it is done before it even reads the next one ' +
        '(or one queue of requests shared by every client). Serve each connection on its own: when a connection ' +
        'arrives, set up its listeners and return at once, so the event loop goes on accepting and reading the others.',
    );
    assert.equal(
      answerToB,
      'answer to quick request from B',
      `client B sent "quick request from B" and should get "answer to quick request from B", but got ` +
        `${JSON.stringify(answerToB)}. Each answer goes back to the client that sent the request.`,
    );
    assert.deepEqual(
      a.lines,
      [],
      `client A got ${JSON.stringify(a.lines)} although its request was still being handled: B's answer must go to B.`,
    );

    releaseA.open();
    const [answerToA] = await a.answers(
      1,
      'client A was never answered after the handler returned its answer. A slow request is answered when the ' +
        "handler's promise settles.",
    );
    assert.equal(
      answerToA,
      'answer to slow request from A',
      `client A should get "answer to slow request from A", but got ${JSON.stringify(answerToA)}.`,
    );
  });

  test('frames requests by lines, not by chunks: one request in several pieces, several in one piece', async () => {
    const { handler, requests } = recordingEcho();
    const port = await start(handler);
    const client = await Client.connect('A', port);

    // Each piece is read by the server on its own before the next is sent: they arrive as separate chunks.
    const pieces = ['one req', 'uest in ', 'three pieces\n'];
    let sent = 0;
    for (const piece of pieces.slice(0, -1)) {
      await client.send(piece);
      sent += Buffer.byteLength(piece);
      await client.readByServer(sent, `the server never read the ${JSON.stringify(piece)} the client sent.`);
      assert.deepEqual(
        requests,
        [],
        `the client has sent only ${JSON.stringify(pieces.slice(0, pieces.indexOf(piece) + 1).join(''))} (no '\\n' ` +
          `yet), but the handler was called with ${JSON.stringify(requests)}. TCP is a byte stream: one 'data' chunk ` +
          "is whatever had arrived, not one request. Keep the text after the last '\\n' and add the next chunk to it; " +
          'only a complete line is a request.',
      );
    }
    await client.send(pieces.at(-1)!);
    const [whole] = await client.answers(
      1,
      `the client sent one request in three pieces (${JSON.stringify(pieces)}) and was never answered.`,
    );
    assert.equal(
      whole,
      'echo:one request in three pieces',
      `the request "one request in three pieces" arrived in three chunks and should be answered ` +
        `"echo:one request in three pieces", but the answer was ${JSON.stringify(whole)}; the handler got ` +
        `${JSON.stringify(requests)}.`,
    );

    await client.send('two requests\nin one write\n');
    const answers = await client.answers(
      3,
      `the client sent "two requests\\nin one write\\n" in one write and did not get two answers (it has ` +
        `${JSON.stringify(client.lines)}). One chunk can hold several requests: handle every complete line in it.`,
    );
    assert.deepEqual(
      answers.slice(1),
      ['echo:two requests', 'echo:in one write'],
      `one write held two requests, "two requests" and "in one write"; the answers should be ` +
        `["echo:two requests", "echo:in one write"] but were ${JSON.stringify(answers.slice(1))} ` +
        `(the handler got ${JSON.stringify(requests)}).`,
    );
  });

  test("keeps each client's partial line apart from every other client's", async () => {
    const { handler, requests } = recordingEcho();
    const port = await start(handler);
    const a = await Client.connect('A', port);
    const b = await Client.connect('B', port);

    // The halves interleave: A's first half, B's first half, A's second half, B's second half.
    await a.send('first half from A, ');
    await a.readByServer(Buffer.byteLength('first half from A, '), "the server never read client A's first half.");
    await b.send('first half from B, ');
    await b.readByServer(
      Buffer.byteLength('first half from B, '),
      "the server never read client B's first half line while client A's connection was open: is it serving " +
        'only one connection at a time?',
    );
    await a.send('second half from A\n');
    const [answerToA] = await a.answers(1, 'client A finished its line and was never answered.');
    await b.send('second half from B\n');
    const [answerToB] = await b.answers(1, 'client B finished its line and was never answered.');

    const expected = ['echo:first half from A, second half from A', 'echo:first half from B, second half from B'];
    const mixed = requests.some((request) => request.includes('from A') && request.includes('from B'));
    const halves = requests.some((request) => request.startsWith('first half') && !request.includes('second'));
    const linesRight = [...requests].sort().join('|') === expected.map((answer) => answer.slice(5)).join('|');
    assert.deepEqual(
      [answerToA, answerToB],
      expected,
      `A sent "first half from A, second half from A" and B sent "first half from B, second half from B", in ` +
        `interleaved halves; each should be answered its own line, but A got ${JSON.stringify(answerToA)} and B ` +
        `got ${JSON.stringify(answerToB)} (the handler got ${JSON.stringify(requests)}). ` +
        (mixed
          ? "Both clients' text ended up in one line: the partial line is kept in one place shared by every " +
            'connection. Keep it per connection (a variable in the function that serves that connection).'
          : halves
            ? "A half line, with no '\\n' yet, was passed to the handler as a request: keep it until the rest of its " +
              'line arrives, per connection.'
            : linesRight
              ? 'The handler was given the right lines, but what came back was not its answers: write back each ' +
                'answer (awaited) to the connection whose line it is.'
              : 'Each connection needs its own partial line, and each answer goes back to the connection whose line it is.'),
    );
  });

  test("answers one client's many requests one at a time, in the order they were sent", async () => {
    const releaseFirst = gate();
    const requests: string[] = [];
    const port = await start((request) => {
      requests.push(request);
      // The first request is slow; every later one would be answered at once if it were handled now.
      if (request === 'r1') return releaseFirst.promise.then(() => 'answer r1');
      return request.endsWith('2') || request.endsWith('4')
        ? `answer ${request}`
        : Promise.resolve(`answer ${request}`);
    });
    const client = await Client.connect('A', port);

    // Two requests in one write, then, while the first is held, two more in another write.
    await client.send('r1\nr2\n');
    await eventually(
      () => requests.includes('r1'),
      () =>
        `the client sent "r1\\nr2\\n" and the handler was never called with "r1" (it got ${JSON.stringify(requests)}). ` +
        "Each line, without its '\\n', is one request.",
    );
    await client.send('r3\nr4\nr5\n');
    await client.readByServer(Buffer.byteLength('r1\nr2\nr3\nr4\nr5\n'), 'the server never read the second write.');
    const early = [...requests];
    releaseFirst.open();

    const answers = await client.answers(5, `the client sent r1 to r5 and did not get five answers.`);
    assert.deepEqual(
      answers,
      ['answer r1', 'answer r2', 'answer r3', 'answer r4', 'answer r5'],
      `the client sent r1, r2, r3, r4, r5, and must get their answers in that order, but got ` +
        `${JSON.stringify(answers)}. While "r1" was still being handled, the handler had already been given ` +
        `${JSON.stringify(early)}: later requests overtook it. Handle one client's requests one at a time: ` +
        'pass the next request to the handler only after the answer to the previous one has been written ' +
        '(for example, chain them on one promise per connection).',
    );
  });

  test('keeps serving other clients after one resets its connection', async () => {
    // This server runs in a child process: an uncaught exception there ends it, as it would end a real server.
    const child = spawn(process.execPath, [fixture('serve-echo.js'), require.resolve(TARGET)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    started.push(child.pid!);
    let stdout = '';
    let stderr = '';
    let ended = false;
    child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    // 'close' comes once the process has exited and all it wrote to stderr has been read.
    const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
    void closed.then(() => (ended = true));
    await eventually(
      () => stdout.includes('\n') || ended,
      () => 'the server, started in a process of its own, never began listening.',
    );
    if (ended) {
      const stub = /Error: (Not implemented[^\n]*)/.exec(stderr);
      assert.fail(stub ? stub[1]! : `the server never began listening: ${ending(child, stderr)}`);
    }
    const port = Number(stdout.trim());

    const a = await Client.connect('A', port);
    await a.send('hello from A\n');
    await a.answers(1, 'client A was never answered by the server running in its own process.');
    // A resets its connection (TCP RST) instead of closing it in an orderly way, as a client whose machine or
    // network fails does.
    a.socket.resetAndDestroy();

    const crashed = (): string =>
      ended
        ? `after client A reset its connection, ${ending(child, stderr)} A reset makes the server's socket for ` +
          "that connection emit 'error' (ECONNRESET). Unhandled, it ends the whole server and every other client " +
          "with it: an 'error' event with no listener is an uncaught exception, and so is the rejection of a " +
          '`for await` loop over the socket (or over a readline interface reading it) that nothing catches. Listen ' +
          "for 'error' on every connection (and catch around such a loop), and drop that connection, not the server."
        : 'after client A reset its connection, client B was not served, although the server process is still running.';
    let answers: string[];
    try {
      const b = await Client.connect('B', port);
      await b.send('hello from B\n');
      await b.answers(1, 'client B was never answered.');
      await b.send('hello again from B\n');
      answers = await b.answers(2, 'client B was answered once, then never again.');
    } catch (error) {
      // Whatever went wrong for B, say whether the server process died, once its exit has been seen.
      await within(closed, DEADLINE, 'still running').catch(() => {});
      assert.fail(`${crashed()} (${(error as Error).message})`);
    }
    assert.ok(!ended, crashed());
    assert.deepEqual(
      answers,
      ['echo:hello from B', 'echo:hello again from B'],
      `client B should get ["echo:hello from B", "echo:hello again from B"], got ${JSON.stringify(answers)}.`,
    );
  });
});
