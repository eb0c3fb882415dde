/**
 * Exercise 04-ipc/rpc-over-ipc — chapter: chapters/04-ipc.md#exercise-rpc-over-ipc
 *
 * Given, nothing to do here: the error every failed call rejects with. Its `code` says why the call failed,
 * so a caller can tell a slow peer from a dead one without parsing messages.
 */

/**
 * Why a call failed:
 * - `'TIMEOUT'`: no response arrived within the call's timeout.
 * - `'REMOTE'`: the peer answered with an error (its handler threw or rejected).
 * - `'PEER_EXITED'`: the peer process exited, or was killed, before it answered.
 * - `'CLOSED'`: the client was closed before a response arrived, or before the call was made.
 * - `'SEND_FAILED'`: the request could not be sent (the channel was closed, or the params cannot be serialized).
 */
export type RpcErrorCode = 'TIMEOUT' | 'REMOTE' | 'PEER_EXITED' | 'CLOSED' | 'SEND_FAILED';

/** A failed call: `code` says why, `message` says it for people. */
export class RpcError extends Error {
  override name = 'RpcError';

  constructor(
    readonly code: RpcErrorCode,
    message: string,
  ) {
    super(message);
  }
}
