/**
 * Exercise 03-fork/copy-not-share — chapter: chapters/03-fork.md#exercise-copy-not-share
 *
 * Run a task in a child process on a COPY of the parent's state, and bring its work back the only way
 * two processes can: as a message, which the parent then applies to its own state.
 *
 * KNOWN-WRONG VARIANT: sends the state only once the child has started (its 'spawn' event), so changes the parent made after the call are in the child's copy.
 */
import { fork } from 'node:child_process';
import path from 'node:path';

/** The keys a state map may use: plain values, equal in both processes (an object key would be a new object there). */
export type Key = string | number | bigint | boolean;

/** One change the task made to its copy: a key set to a (new) value, or a key deleted. */
export type Change<K extends Key, V> = { type: 'set'; key: K; value: V } | { type: 'delete'; key: K };

/**
 * What a task module exports — as `module.exports`, or as its `default` export: a function that receives
 * the child's copy of the state, may change that copy in any way, and returns (or resolves to) a result.
 */
export type Task<K extends Key, V, R> = (state: Map<K, V>) => R | Promise<R>;

/** What comes back from the child. Both are copies made by the child's message, never shared objects. */
export interface Outcome<K extends Key, V, R> {
  /** What the task returned (awaited, if it returned a promise). */
  result: R;
  /** What the task did to its copy of the state, to be applied by the parent with `applyChanges`. */
  changes: Change<K, V>[];
}

/** The parent's one message to the child. */
export interface Request {
  /** Absolute path of the task module. */
  taskFile: string;
  state: Map<Key, unknown>;
}

/** The child's one message back. */
export type Answer = { result: unknown; changes: Change<Key, unknown>[] } | { error: string };

/**
 * Runs the task module `taskFile` in a child process, on a copy of `state`, and resolves with the task's
 * result and the changes it made to its copy. The parent's `state` is never touched: the child cannot
 * reach it, and runOnCopy does not apply the changes (call `applyChanges` for that).
 *
 * In detail:
 * - The child is started with `child_process.fork` on `./child.ts` (next to this file). Values keep their
 *   types on the way there and back: a Map arrives as a Map, a Set as a Set, a Date as a Date, a BigInt
 *   as a BigInt, a Uint8Array as a Uint8Array, and a key whose value is `undefined` is still there.
 *   fork's default message serialization, 'json', does none of this (a Map arrives as `{}`): see the
 *   `serialization` option of `fork`.
 * - The copy is taken at the moment of the call: `state` is sent to the child before runOnCopy returns, so
 *   whatever the parent changes afterwards (a key added, a Set grown in place) is not in the child's copy.
 * - In the child, the task module is loaded (`taskFile` is an absolute path, or relative to the current
 *   directory; its `module.exports` or its `default` export is the `Task`) and called with the copy.
 * - `changes` turns the copy as it arrived into the copy as the task left it: `{ type: 'set', key, value }`
 *   for each key the task added or whose value is no longer deeply equal (as `util.isDeepStrictEqual`
 *   decides) to the value that arrived — so a Date or a Set the task changed in place counts as changed, and
 *   a value it left alone does not — and `{ type: 'delete', key }` for each key the task removed. Keys whose
 *   value did not change are not in it, so applying the changes never undoes what the parent did to other
 *   keys in the meantime. In any order.
 * - The promise settles only once the child process has ended: nothing runOnCopy started is left running,
 *   whatever happened.
 * - It never throws; it rejects with an Error
 *   - if the task throws or rejects: the message contains the task's error message;
 *   - if the child ends before answering (`process.exit` in the task, a signal): the message contains its
 *     exit code or the signal's name;
 *   - if `state` holds something that cannot be copied to another process (a function, a
 *     SharedArrayBuffer, a symbol…) — or the task's result or changes do, on the way back: the message
 *     contains "cannot be copied to another process". Processes share no memory, so such a value is an
 *     error, never silently dropped or turned into something else.
 */
export function runOnCopy<K extends Key, V, R = unknown>(
  taskFile: string,
  state: Map<K, V>,
): Promise<Outcome<K, V, R>> {
  return new Promise((resolve, reject) => {
    // 'advanced': the structured clone algorithm, which keeps Map, Set, Date, BigInt and typed arrays.
    const child = fork(path.join(__dirname, 'child.ts'), [], { serialization: 'advanced' });
    let answer: Answer | undefined;
    let failure: Error | undefined;
    child.on('message', (message: Answer) => {
      answer = message;
    });
    child.on('error', (error) => {
      failure ??= new Error(`the child process failed: ${error.message}`);
      // It could not even be started: there will be no 'close'.
      if (child.pid === undefined) reject(failure);
    });
    // 'close' comes after the child has exited AND its IPC channel is closed: every message it sent is in.
    child.on('close', (code, signal) => {
      if (failure) return reject(failure);
      if (!answer) {
        const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
        return reject(new Error(`the child process ${how} before answering`));
      }
      if ('error' in answer) return reject(new Error(answer.error));
      resolve({ result: answer.result as R, changes: answer.changes as Change<K, V>[] });
    });
    const request: Request = { taskFile: path.resolve(taskFile), state };
    // Wait until the child is running before talking to it.
    child.once('spawn', () => {
      try {
        child.send(request);
      } catch (error) {
        failure = new Error(
          `the state cannot be copied to another process (${messageOf(error)}). Processes share no memory: ` +
            `only values the structured clone algorithm can copy reach the child.`,
        );
        child.kill('SIGKILL');
      }
    });
  });
}

/**
 * Applies `changes`, in order, to `state` itself: `map.set(key, value)` for a 'set', `map.delete(key)` for
 * a 'delete'. Keys the changes do not name keep whatever value `state` has now, including changes the
 * parent made while the child was working. Changes `state` in place and returns nothing.
 */
export function applyChanges<K extends Key, V>(state: Map<K, V>, changes: readonly Change<K, V>[]): void {
  for (const change of changes) {
    if (change.type === 'set') state.set(change.key, change.value);
    else state.delete(change.key);
  }
}

function messageOf(error: unknown): string {
  // Not `instanceof Error`: an error made by Node's internals may come from another realm than this code.
  return typeof error === 'object' && error !== null && 'message' in error ? String(error.message) : String(error);
}
