/**
 * Exercise 03-fork/copy-not-share — chapter: chapters/03-fork.md#exercise-copy-not-share
 *
 * The child process's entry file. index.ts starts it with `fork(path.join(__dirname, 'child.ts'), [],
 * { serialization: 'advanced' })`. It is a new Node process: it starts from the top of this file, with
 * none of the parent's variables; all it ever gets from the parent is the one message index.ts sends.
 *
 * Protocol (index.ts and this file together): the parent sends one `Request` — `{ taskFile, state }`,
 * where `state` is this process's own copy. The child loads the task, keeps an untouched copy of the
 * state, runs the task on the state, works out the changes, and sends one `Answer` back:
 * `{ result, changes }`, or `{ error }` (a message) if anything failed — including when the result or the
 * changes cannot be copied back to the parent. Then it disconnects, so that nothing keeps it alive.
 *
 * KNOWN-WRONG VARIANT: calls the task without awaiting it: an async task's result is a Promise, which cannot be copied to another process, and its rejection escapes the try/catch.
 */
import { createRequire } from 'node:module';
import { isDeepStrictEqual } from 'node:util';
import type { Answer, Change, Key, Request } from './index';

if (!process.send) throw new Error('child.ts is the entry file of a child process; start it with fork().');
const send = process.send.bind(process);

// `once`: after the one request, nothing listens any more, so the IPC channel no longer keeps us alive.
process.once('message', async ({ taskFile, state }: Request) => {
  let answer: Answer;
  try {
    const loaded = createRequire(__filename)(taskFile) as unknown;
    const task = typeof loaded === 'function' ? loaded : (loaded as { default?: unknown } | null)?.default;
    if (typeof task !== 'function') throw new Error(`${taskFile} exports no task function`);
    // The task changes `state` in place; a deep copy of it as it arrived is what the changes are measured
    // against. (A shallow `new Map(state)` would share the values the task changes in place.)
    const before = structuredClone(state);
    const result: unknown = task(state);
    answer = { result, changes: changesBetween(before, state) };
  } catch (error) {
    answer = { error: `the task failed: ${messageOf(error)}` };
  }
  const done = (): void => process.disconnect();
  try {
    // Serialized now: throws if the result or a changed value cannot be copied (a function…).
    send(answer, done);
  } catch (error) {
    send(
      {
        error:
          `the task's result cannot be copied to another process (${messageOf(error)}): only values the ` +
          `structured clone algorithm can copy go back to the parent.`,
      },
      done,
    );
  }
});

/** The changes that turn `before` into `after`: keys added or changed (deep comparison), keys removed. */
function changesBetween(before: Map<Key, unknown>, after: Map<Key, unknown>): Change<Key, unknown>[] {
  const changes: Change<Key, unknown>[] = [];
  for (const [key, value] of after) {
    if (!before.has(key) || !isDeepStrictEqual(before.get(key), value)) changes.push({ type: 'set', key, value });
  }
  for (const key of before.keys()) {
    if (!after.has(key)) changes.push({ type: 'delete', key });
  }
  return changes;
}

function messageOf(error: unknown): string {
  return typeof error === 'object' && error !== null && 'message' in error ? String(error.message) : String(error);
}
