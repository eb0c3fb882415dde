/**
 * Exercise 04-ipc/rpc-over-ipc — chapter: chapters/04-ipc.md#exercise-rpc-over-ipc
 *
 * Remote procedure calls over a child process's IPC channel (`child_process.fork()` in the parent,
 * `process.send` / `process.on('message')` in the child). The parent's RpcClient turns `call(method, params)`
 * into a request message and returns a promise; the child's serve() runs the handler named by the request
 * and sends back a response. Many calls may be in flight at once and their responses may come back in any
 * order, so every request carries an id and every response names the id it answers.
 *
 * Nothing that crosses the process boundary is trusted: each side checks every message it receives against
 * the wire format below (with zod: `import { z } from 'zod'`) before it acts on it.
 *
 * The wire format (JSON, as the channel carries it; a field whose value is undefined is not sent at all):
 * - request, parent → child: `{ type: 'request', id, method, params }` (RpcRequest)
 * - response, child → parent: `{ type: 'response', id, ok: true, result }` or
 *   `{ type: 'response', id, ok: false, error: { message } }` (RpcResponse)
 */
import type { ChildProcess } from 'node:child_process';
// You will need: import { z } from 'zod'; and import { RpcError } from './errors';

export { RpcError, type RpcErrorCode } from './errors';

/** A request, parent → child. */
export interface RpcRequest {
  type: 'request';
  /** A non-negative safe integer, chosen by the client; never used for another call of the same client. */
  id: number;
  /** The name of the handler to run. */
  method: string;
  /** The handler's argument; absent when it is undefined. */
  params?: unknown;
}

/** A response, child → parent: the result of the request with the same id, or why there is none. */
export type RpcResponse =
  | { type: 'response'; id: number; ok: true; result?: unknown }
  | { type: 'response'; id: number; ok: false; error: { message: string } };

/** How long a call waits for its response when neither the call nor the client says otherwise. */
export const DEFAULT_TIMEOUT_MS = 10_000;

export interface RpcClientOptions {
  /** The timeout of every call that does not set its own, in milliseconds (default DEFAULT_TIMEOUT_MS). */
  timeoutMs?: number;
  /**
   * Called once for every message from the peer that the client ignores: one that is not a valid
   * RpcResponse (any other value or shape, e.g. a string, `null`, a missing or non-integer id, `ok` that is
   * not a boolean, an `error` that is not `{ message: string }`), or a valid one whose id belongs to no
   * pending call (never used, already answered, timed out). `error` says what is wrong with it; `message`
   * is the message exactly as received. Such a message never settles any call.
   */
  onProtocolError?: (error: Error, message: unknown) => void;
}

export interface CallOptions {
  /** This call's timeout in milliseconds, instead of the client's. */
  timeoutMs?: number;
}

/**
 * The parent's side: calls methods of the child process `child` over its IPC channel and matches every
 * response to the call it answers.
 */
export class RpcClient {
  /**
   * Starts listening to `child`, a process started with `child_process.fork()` (so it has an IPC channel)
   * that runs serve(). The client uses the channel from now until close(); nothing else should send
   * requests over it. `options.timeoutMs` is the default timeout of every call (DEFAULT_TIMEOUT_MS if
   * absent); `options.onProtocolError` hears about every message the client ignores.
   */
  constructor(child: ChildProcess, options: RpcClientOptions = {}) {
    // TODO: keep what you need in private fields (#pending calls by id, the next id, the timeout…) and
    // listen to the child's 'message' and 'exit' events.
    throw new Error('Not implemented: new RpcClient() in exercises/04-ipc/rpc-over-ipc');
  }

  /**
   * Calls `method` in the child with `params` (which must survive JSON: plain objects, arrays, strings,
   * numbers, booleans, null). Sends one request with a fresh id at once, without waiting for other calls:
   * any number of calls may be in flight together, and their responses may arrive in any order.
   *
   * The promise settles exactly once:
   * - resolves with `result` of the response that carries this call's id and `ok: true` (undefined if it
   *   has no `result`);
   * - rejects with RpcError code 'REMOTE' whose message is exactly the response's `error.message`, for
   *   `ok: false` (the handler threw, or there is no such method);
   * - rejects with RpcError code 'TIMEOUT' if no response has arrived after `options.timeoutMs` ms (else the
   *   client's timeout); the message names the method and the timeout in ms. Only this call fails; a
   *   response that arrives for it later is ignored like any other unknown id (it must never settle
   *   another call);
   * - rejects with RpcError code 'PEER_EXITED' as soon as the child has exited (its 'exit' event; if the
   *   channel is still open then, once its 'disconnect' follows, so responses already sent are not lost).
   *   Every pending call fails then, at once, not when its timeout ends. The message names the exit code
   *   (e.g. "exited with code 3") or the signal (e.g. "killed by SIGKILL"). A call made after that
   *   rejects at once with the same code and message, without sending anything;
   * - rejects with RpcError code 'CLOSED' if close() is called first, or was called before this call;
   * - rejects with RpcError code 'SEND_FAILED' if the request cannot be sent.
   *
   * Never throws: every failure is a rejection. Once a call has settled, no timer of its remains.
   */
  call(method: string, params?: unknown, options: CallOptions = {}): Promise<unknown> {
    // TODO: send a request with a fresh id, remember the call and its timer, and return its promise.
    throw new Error(`Not implemented: RpcClient.call(${JSON.stringify(method)}) in exercises/04-ipc/rpc-over-ipc`);
  }

  /**
   * Stops using the channel: rejects every pending call with RpcError code 'CLOSED', clears every timer it
   * started, removes every listener it added to the child, and disconnects the IPC channel if it is still
   * connected (`child.disconnect()`), so that neither process is kept alive by it: a child running serve()
   * then exits by itself. Calls made afterwards reject at once with code 'CLOSED'. Calling close() again, or
   * after the child has exited, does nothing more and never throws. It does not kill the child.
   */
  close(): void {
    // TODO: reject what is pending, clear timers, remove listeners, disconnect.
    throw new Error('Not implemented: RpcClient.close() in exercises/04-ipc/rpc-over-ipc');
  }
}

/** A method the child offers: takes the request's params, returns (or resolves with) the result. */
export type Handler = (params: unknown) => unknown;

/**
 * The child's side: answers every request that arrives on this process's IPC channel (`process.on('message')`,
 * `process.send`) with the handler named by its `method`. Call it once, in a process started with
 * `child_process.fork()`; it throws an Error if the process has no IPC channel (`process.send` is undefined).
 *
 * For every valid RpcRequest it sends exactly one response with the request's id:
 * - `{ ok: true, result }` with what the handler returned, or what the promise it returned resolved with;
 * - `{ ok: false, error: { message } }` if the handler threw or its promise rejected (the error's message,
 *   or String(reason) for a non-Error), if `handlers` has no own property named `method` that is a function
 *   (message: `unknown method "<method>"`), or if the result cannot be sent (e.g. a BigInt).
 *
 * Requests are handled concurrently: each handler is called as soon as its request arrives, without waiting
 * for earlier handlers to finish, and each response is sent as soon as its handler is done, in whatever
 * order that is.
 *
 * A message that is not a valid RpcRequest (wrong type or shape, missing or non-integer id, non-string
 * method) gets no response: it is ignored (a line on stderr says so) and the server keeps serving. Nothing
 * a request contains, and nothing a handler does, may crash this process. A response whose handler finishes
 * after the parent has disconnected is dropped.
 */
export function serve(handlers: Record<string, Handler>): void {
  // TODO: check process.send exists, then answer every valid request that arrives on process.on('message').
  throw new Error('Not implemented: serve() in exercises/04-ipc/rpc-over-ipc');
}
