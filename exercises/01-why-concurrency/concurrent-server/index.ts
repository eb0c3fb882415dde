/**
 * Exercise 01-why-concurrency/concurrent-server — chapter: chapters/01-why-concurrency.md#exercise-concurrent-server
 *
 * A line-oriented TCP server that serves every connected client at the same time, instead of making each
 * client wait until the one before it has gone away.
 */
import type { Server } from 'node:net';

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
  // TODO: create a net.Server whose connections are each served on their own, with their own partial
  // line and their own queue of requests, as the chapter's iterative server is not.
  throw new Error('Not implemented: createServer(handler) in exercises/01-why-concurrency/concurrent-server');
}
