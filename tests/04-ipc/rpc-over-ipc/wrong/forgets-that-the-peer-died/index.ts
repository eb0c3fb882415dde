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
 *
 * KNOWN-WRONG VARIANT: rejects the calls pending when the peer dies, but does not remember it: later calls are sent into the closed channel and wait out their whole timeout.
 */
import type { ChildProcess } from 'node:child_process';
import { z } from 'zod';
import { RpcError } from './errors';

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

const id = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);

const responseSchema = z.discriminatedUnion('ok', [
  z.object({ type: z.literal('response'), id, ok: z.literal(true), result: z.unknown().optional() }),
  z.object({ type: z.literal('response'), id, ok: z.literal(false), error: z.object({ message: z.string() }) }),
]);

const requestSchema = z.object({
  type: z.literal('request'),
  id,
  method: z.string(),
  params: z.unknown().optional(),
});

interface PendingCall {
  method: string;
  resolve: (result: unknown) => void;
  reject: (error: RpcError) => void;
  timer: NodeJS.Timeout;
}

/**
 * The parent's side: calls methods of the child process `child` over its IPC channel and matches every
 * response to the call it answers.
 */
export class RpcClient {
  readonly #child: ChildProcess;
  readonly #timeoutMs: number;
  readonly #onProtocolError: ((error: Error, message: unknown) => void) | undefined;
  readonly #pending = new Map<number, PendingCall>();
  #nextId = 1;
  #closed = false;
  /** How the peer ended, once it has: every later call fails with this. */
  #peerEnded: string | undefined;
  #exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;

  /**
   * Starts listening to `child`, a process started with `child_process.fork()` (so it has an IPC channel)
   * that runs serve(). The client uses the channel from now until close(); nothing else should send
   * requests over it. `options.timeoutMs` is the default timeout of every call (DEFAULT_TIMEOUT_MS if
   * absent); `options.onProtocolError` hears about every message the client ignores.
   */
  constructor(child: ChildProcess, options: RpcClientOptions = {}) {
    this.#child = child;
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.#onProtocolError = options.onProtocolError;
    child.on('message', this.#onMessage);
    child.on('error', (error) => console.error(`rpc: ${error.message}`));
    child.on('exit', this.#onExit);
    child.on('disconnect', this.#onDisconnect);
    if (child.exitCode !== null || child.signalCode !== null) this.#onExit(child.exitCode, child.signalCode);
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
    if (this.#closed) {
      return Promise.reject(new RpcError('CLOSED', `call ${JSON.stringify(method)} failed: the client is closed`));
    }
    const timeoutMs = options.timeoutMs ?? this.#timeoutMs;
    const id = this.#nextId++;
    return new Promise<unknown>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#settle(id, new RpcError('TIMEOUT', `call ${JSON.stringify(method)} timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      this.#pending.set(id, { method, resolve, reject, timer });
      const request: RpcRequest = { type: 'request', id, method, params };
      const sendFailed = (error: Error): void => {
        this.#settle(
          id,
          new RpcError('SEND_FAILED', `call ${JSON.stringify(method)} could not be sent: ${error.message}`),
        );
      };
      try {
        // Send errors are logged by the 'error' listener; the 'exit' listener takes care of a dead peer.
        this.#child.send(request);
      } catch (error) {
        // Params that JSON cannot represent (a BigInt, a cycle) throw here, synchronously.
        sendFailed(error instanceof Error ? error : new Error(String(error)));
      }
    });
  }

  /**
   * Stops using the channel: rejects every pending call with RpcError code 'CLOSED', clears every timer it
   * started, removes every listener it added to the child, and disconnects the IPC channel if it is still
   * connected (`child.disconnect()`), so that neither process is kept alive by it: a child running serve()
   * then exits by itself. Calls made afterwards reject at once with code 'CLOSED'. Calling close() again, or
   * after the child has exited, does nothing more and never throws. It does not kill the child.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#stopListening();
    for (const [id, call] of [...this.#pending]) {
      this.#settle(
        id,
        new RpcError('CLOSED', `call ${JSON.stringify(call.method)} was cancelled: the client was closed`),
      );
    }
    // disconnect() on a closed channel emits 'error' on the child, so check first.
    if (this.#child.connected) this.#child.disconnect();
  }

  /** Settles the pending call `id` (if it still is pending) with a result or an error, and clears its timer. */
  #settle(id: number, outcome: { result: unknown } | RpcError): void {
    const call = this.#pending.get(id);
    if (!call) return;
    this.#pending.delete(id);
    clearTimeout(call.timer);
    if (outcome instanceof RpcError) call.reject(outcome);
    else call.resolve(outcome.result);
  }

  readonly #onMessage = (message: unknown): void => {
    const parsed = responseSchema.safeParse(message);
    if (!parsed.success) {
      this.#report(new Error(`invalid response: ${z.prettifyError(parsed.error)}`), message);
      return;
    }
    const response = parsed.data;
    if (!this.#pending.has(response.id)) {
      this.#report(new Error(`response for id ${response.id}, which is no pending call`), message);
      return;
    }
    this.#settle(
      response.id,
      response.ok ? { result: response.result } : new RpcError('REMOTE', response.error.message),
    );
  };

  #report(error: Error, message: unknown): void {
    this.#onProtocolError?.(error, message);
  }

  readonly #onExit = (code: number | null, signal: NodeJS.Signals | null): void => {
    this.#exit = { code, signal };
    // Responses the child sent just before it exited may still be in the channel: read them first.
    if (!this.#child.connected) this.#peerHasEnded();
  };

  readonly #onDisconnect = (): void => {
    if (this.#exit) this.#peerHasEnded();
  };

  #peerHasEnded(): void {
    const { code, signal } = this.#exit!;
    this.#peerEnded = signal ? `the peer process was killed by ${signal}` : `the peer process exited with code ${code}`;
    this.#stopListening();
    for (const [id, call] of [...this.#pending]) {
      this.#settle(id, new RpcError('PEER_EXITED', `call ${JSON.stringify(call.method)} failed: ${this.#peerEnded}`));
    }
  }

  #stopListening(): void {
    this.#child.off('message', this.#onMessage);
    this.#child.off('exit', this.#onExit);
    this.#child.off('disconnect', this.#onDisconnect);
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
  if (typeof process.send !== 'function') {
    throw new Error('serve() needs an IPC channel: run it in a process started with child_process.fork()');
  }
  const send = (response: RpcResponse): void => {
    if (!process.connected) return; // the parent has gone: nobody to answer
    try {
      process.send!(response, (_error: Error | null) => {
        // Nothing to do: a failure here means the parent disconnected meanwhile.
      });
    } catch (error) {
      // JSON could not represent the result: answer with an error instead.
      const message = error instanceof Error ? error.message : String(error);
      process.send!({ type: 'response', id: response.id, ok: false, error: { message } } satisfies RpcResponse);
    }
  };
  process.on('message', (message: unknown) => {
    const parsed = requestSchema.safeParse(message);
    if (!parsed.success) {
      console.error(`serve(): ignored a message that is not a valid request: ${JSON.stringify(message)}`);
      return;
    }
    const request = parsed.data;
    void run(handlers, request.method, request.params).then(
      (result) => send({ type: 'response', id: request.id, ok: true, result }),
      (reason: unknown) =>
        send({
          type: 'response',
          id: request.id,
          ok: false,
          error: { message: reason instanceof Error ? reason.message : String(reason) },
        }),
    );
  });
}

/** Runs the handler for `method`; async, so a handler that throws synchronously also becomes a rejection. */
async function run(handlers: Record<string, Handler>, method: string, params: unknown): Promise<unknown> {
  const handler = Object.hasOwn(handlers, method) ? handlers[method] : undefined;
  if (typeof handler !== 'function') throw new Error(`unknown method ${JSON.stringify(method)}`);
  return await handler(params);
}
