/**
 * Exercise 03-fork/fork-join — chapter: chapters/03-fork.md#exercise-fork-join
 *
 * Fork–join over child processes: split the work into slices, run every slice in a child process of its
 * own, all at the same time, and join their results in slice order. A child that dies, fails or hangs is
 * reported, never dropped or waited on for ever, and when one fails the others are stopped: when the join
 * settles, none of its children is still running.
 *
 * The protocol between the parent (forkJoin) and a worker module (the `workerFile` each child runs):
 *
 * 1. The parent starts one child per slice with `fork(workerFile, [], { serialization: 'advanced' })`.
 *    'advanced' serialization is the structured clone algorithm, so slices and results may be any
 *    structured-cloneable value — BigInt, Map, Set, typed arrays, Date — and arrive exactly, with their
 *    types (the default 'json' serialization cannot carry a BigInt at all, and turns a Map into `{}`).
 * 2. The parent sends each child exactly one message, `{ slice }`, with that child's slice.
 * 3. The worker replies with exactly one message: `{ result }` when it has computed its slice, or
 *    `{ error: '<what went wrong>' }` when it cannot. Example worker module:
 *
 *        process.once('message', ({ slice }) => process.send({ result: compute(slice) }));
 *
 * 4. Once the parent has a child's reply, it closes that child's IPC channel (`child.disconnect()`, if the
 *    child is still connected). The worker has nothing more to do, so it ends by itself. Note: Node emits
 *    no 'close' event for a child whose channel the parent has disconnected (nodejs/node#19433); its
 *    'exit' event does come.
 */

/** Options of {@link forkJoin}. */
export interface ForkJoinOptions {
  /**
   * If set (milliseconds), a join that has not settled this long after forkJoin was called fails with a
   * ChildFailedError whose `reason` is 'timeout', after every child still running has been killed.
   * Without it, forkJoin waits as long as the children are alive.
   */
  timeoutMs?: number;
}

/** The one message a worker sends back: its slice's result, or why it could not compute it. */
export type Reply<O> = { result: O } | { error: string };

/** Why a slice failed: see {@link ChildFailedError}. */
export type ChildFailure =
  /** The child ended — by itself, with `code`, or by `signal` — without having sent its reply. */
  | { reason: 'exited'; code: number | null; signal: NodeJS.Signals | null }
  /** The worker replied `{ error: message }`. */
  | { reason: 'error'; message: string }
  /** The join had not settled `timeoutMs` after it started, and this child was still running. */
  | { reason: 'timeout'; timeoutMs: number };

/**
 * The error a failed join rejects with. Given: use it as it is. The message names the slice and how its
 * child failed, e.g. "slice 1: its child exited with code 3 before sending a result".
 */
export class ChildFailedError extends Error {
  override readonly name = 'ChildFailedError';
  /** The index, in `slices`, of the slice that failed. */
  readonly sliceIndex: number;
  /** 'exited': ended without replying; 'error': replied `{ error }`; 'timeout': still running at timeoutMs. */
  readonly reason: ChildFailure['reason'];
  /** The child's exit code, when it exited by itself without replying; otherwise null. */
  readonly code: number | null;
  /** The signal that ended the child, when a signal ended it before it replied; otherwise null. */
  readonly signal: NodeJS.Signals | null;

  constructor(sliceIndex: number, failure: ChildFailure) {
    super(`slice ${sliceIndex}: ${explain(failure)}`);
    this.sliceIndex = sliceIndex;
    this.reason = failure.reason;
    this.code = failure.reason === 'exited' ? failure.code : null;
    this.signal = failure.reason === 'exited' ? failure.signal : null;
  }
}

function explain(failure: ChildFailure): string {
  switch (failure.reason) {
    case 'exited':
      return failure.signal !== null
        ? `its child was killed by ${failure.signal} before sending a result`
        : `its child exited with code ${failure.code} before sending a result`;
    case 'error':
      return `the worker replied with an error: ${failure.message}`;
    case 'timeout':
      return `its child was still running after ${failure.timeoutMs} ms`;
  }
}

/**
 * Runs `workerFile` (a worker module, see the protocol at the top of this file) in one child process per
 * slice, all at the same time, and resolves with their results in the order of `slices`:
 * `results[i]` is the result of `slices[i]`, whatever order the children finish in.
 *
 * - Every child is started before forkJoin waits for any reply, so all the slices run at the same time.
 * - A slice fails, and the join rejects with a {@link ChildFailedError} naming it, when its child ends
 *   without having replied (reason 'exited', with its exit code — even 0 — or the signal that killed it),
 *   when its worker replies `{ error }` (reason 'error', the message carries the worker's message), or when
 *   `options.timeoutMs` passes first (reason 'timeout', naming the lowest-numbered slice whose child was
 *   still running). The first failure the parent learns of is the one reported.
 * - Once a slice has failed, every child still running is killed (SIGKILL): their results are no
 *   longer wanted, and nothing may be left running.
 * - After a child has replied `{ result }`, how its process then ends does not matter.
 * - The promise settles only once every child it started has exited, so when it resolves or rejects, none
 *   of them is still running.
 * - An empty `slices` resolves to `[]` without starting any child.
 */
export function forkJoin<I, O>(workerFile: string, slices: readonly I[], options: ForkJoinOptions = {}): Promise<O[]> {
  // TODO: start one child per slice, send each its { slice }, and join their replies as specified above.
  throw new Error(`Not implemented: forkJoin(workerFile, ${slices.length} slices) in exercises/03-fork/fork-join`);
}
