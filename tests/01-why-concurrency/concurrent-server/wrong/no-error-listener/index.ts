/**
 * Exercise 01-why-concurrency/concurrent-server — chapter: chapters/01-why-concurrency.md#exercise-concurrent-server
 *
 * A line-oriented TCP server that serves every connected client at the same time, instead of making each
 * client wait until the one before it has gone away.
 *
 * KNOWN-WRONG VARIANT: has no 'error' listener on its sockets, so a client that resets its connection (ECONNRESET) raises an uncaught exception that takes down the server and every other client with it.
 */
import net, { type Server, type Socket } from 'node:net';

/**
 * Answers one request: one line a client sent, without its '\n'. It may be slow: it may return a promise,
 * which can take any time to settle.
 */
export type Handler = (request: string) => string | Promise<string>;

/**
 * Creates (but does not start) a line-oriented TCP server; the caller calls `listen` and `close` on it.
 *
 * - Every line a client sends (the text up to a '\n', without the '\n') is one request. The handler's answer
 *   to it is written back to that same client, followed by '\n'.
 * - A client's requests are answered one at a time, in the order that client sent them: its next request
 *   goes to the handler only after the answer to the previous one has been written.
 * - Different clients are served concurrently: a slow request from one client never delays the answers to
 *   another client, whenever that other client connected.
 * - TCP delivers a byte stream, not messages: one request may arrive split across several chunks, and one
 *   chunk may hold several requests (and the start of the next). Text after the last '\n' is the start of a
 *   request still to come, and belongs to the client that sent it and to no other.
 * - A client that resets its connection, even with a request pending, does not disturb the server: every
 *   other client goes on being served.
 */
export function createServer(handler: Handler): Server {
  // The event loop calls serve() once per connection and then goes back to accepting and reading: no
  // connection is ever waited for, so a slow request holds up only the connection that sent it.
  return net.createServer((socket) => serve(socket, handler));
}

/** Serves one connection. Everything it keeps lives here, in this connection's closure. */
function serve(socket: Socket, handler: Handler): void {
  // The start of a request whose '\n' has not arrived yet: this connection's, and no one else's.
  let partial = '';
  // This connection's requests run one after another on this chain: one at a time, in order.
  let queue: Promise<void> = Promise.resolve();

  // Decoding through the stream keeps a multi-byte character split between two chunks intact.
  socket.setEncoding('utf8');

  socket.on('data', (chunk: string) => {
    partial += chunk;
    let newline = partial.indexOf('\n');
    while (newline !== -1) {
      const request = partial.slice(0, newline);
      partial = partial.slice(newline + 1);
      queue = queue.then(() => answer(socket, handler, request));
      newline = partial.indexOf('\n');
    }
  });
}

async function answer(socket: Socket, handler: Handler, request: string): Promise<void> {
  if (socket.destroyed) return;
  let reply: string;
  try {
    reply = await handler(request);
  } catch {
    // The handler failed: this client gets no answer, so hang up on it rather than leave it waiting.
    socket.destroy();
    return;
  }
  // The client may have gone away while its request was being handled; its answer is then dropped.
  if (socket.writable) socket.write(`${reply}\n`);
}
