/**
 * Exercise 03-fork/returns-twice — chapter: chapters/03-fork.md#exercise-returns-twice
 *
 * POSIX `fork()` returns twice: in the parent it returns the child's pid, in the child it returns 0, and the
 * child starts with a copy of the parent's whole memory. Node has no such call: `child_process.fork(file)`
 * starts a *fresh* Node process that runs `file` from its first line, with an IPC channel to the parent.
 * `forkSelf` is the closest honest equivalent: one program that runs as both parent and child, where each
 * learns its role from the same call, and the child starts from exactly the snapshot the parent passed.
 *
 * ```ts
 * const state = { jobs: ['a', 'b'], done: 0 };
 * const me = await forkSelf(state);
 * if (me.role === 'child') {
 *   work(me.snapshot);                      // the child's own copy of `state`, as it was at the call
 * } else {
 *   const { code, signal } = await me.exited; // the parent, told the child's pid, waits for it to end
 * }
 * ```
 *
 * KNOWN-WRONG VARIANT: sends the snapshot on the child's 'spawn' event instead of at the call, so it is serialized a tick later and carries the changes the parent made right after calling forkSelf.
 */
import { fork } from 'node:child_process';

/** How the child process ended, as Node's `'exit'` event reports it. */
export interface ChildEnd {
  /** The child's exit code, or null when a signal ended it. */
  code: number | null;
  /** The signal that ended the child (e.g. 'SIGTERM'), or null when it exited by itself. */
  signal: NodeJS.Signals | null;
}

/** What `forkSelf` resolves with in the parent (the process that called it first). */
export interface ParentSide {
  role: 'parent';
  /** The child's process id: `process.pid` in the child. */
  pid: number;
  /**
   * Settles once the child process has ended, however it ended (it never rejects): with its exit code, or
   * with the signal that killed it and a null code. Like POSIX `waitpid()`, but a promise.
   */
  exited: Promise<ChildEnd>;
}

/** What `forkSelf` resolves with in the child. */
export interface ChildSide<S> {
  role: 'child';
  /** The child's own copy of the snapshot, exactly as it was when the parent called `forkSelf`. */
  snapshot: S;
  /** The parent's process id (`process.ppid`, POSIX `getppid()`). */
  parentPid: number;
}

/** One call, two results: which one a process gets tells it its role. */
export type Forked<S> = ParentSide | ChildSide<S>;

export interface ForkSelfOptions {
  /**
   * The program the child runs. Default: this program's main module (`require.main.filename`, else
   * `process.argv[1]`), so that the child runs the very program that called `forkSelf`.
   */
  entry?: string;
}

/** Set in the child's environment only: "you are the child of a forkSelf call, your snapshot is coming". */
const MARKER = 'WORKBOOK_FORK_SELF_CHILD';

/** The one message the parent sends the child. */
interface SnapshotMessage {
  [MARKER]: true;
  snapshot: unknown;
}

function isSnapshotMessage(message: unknown): message is SnapshotMessage {
  return typeof message === 'object' && message !== null && (message as Partial<SnapshotMessage>)[MARKER] === true;
}

/**
 * Runs this program a second time, as a child process, and resolves in *both* processes: once in the parent
 * with `{ role: 'parent', pid, exited }`, and once in the child with `{ role: 'child', snapshot, parentPid }`.
 *
 * **Why it returns twice.** The parent starts the entry module (see {@link ForkSelfOptions.entry}) with
 * `child_process.fork`, with the same command-line arguments (`process.argv.slice(2)`), the same Node options,
 * the same stdin, stdout and stderr (fork's default: like a POSIX child, it writes where the parent writes),
 * and the same environment plus a marker variable that only `forkSelf` sets. The child runs the program from
 * the top, so it reaches this same `forkSelf` call, sees the marker, and takes the child's role instead of
 * forking again: **decide the role before forking anything**, or every child forks a grandchild, and so on for
 * ever. The role comes from the marker alone, never from `process.send` being defined: a program that was
 * itself started with an IPC channel (by a process pool, a test runner, `child_process.fork`) is a parent.
 * The child removes the marker from its `process.env`, so that only its first call is the child's return:
 * a later call, or a Node program the child starts, forks like any other program.
 *
 * **The snapshot.** Nothing crosses to the child except `snapshot`: no closures, no shared objects, none of the
 * parent's other variables. The parent sends it over the IPC channel with `serialization: 'advanced'`, so the
 * child gets a structured clone (nested objects and arrays, `Map`, `Set`, `Date`, `BigInt`, typed arrays arrive
 * as such; with the default JSON serialization a `Map` arrives as `{}` and a `Date` as a string). It is taken
 * *at the call*: `forkSelf` sends it before it returns its promise (`child.send()` serializes the value at
 * once), so changes the parent makes after the call — even before it awaits the promise — never reach the
 * child, and the child's changes to its copy never reach the parent. Sending it later (on `'spawn'`, after an
 * `await`, when the child says it is ready) would send whatever the parent has changed by then.
 *
 * **In the parent** it resolves as soon as the child has been started (its `'spawn'` event). It rejects if
 * the child cannot be started, and rejects — killing the child it started, so that none is left waiting —
 * if the snapshot cannot be copied to another process (it holds a function, for instance: `child.send`
 * throws). `exited` settles when the child has ended; listen for its `'exit'` from the start, so that you
 * cannot miss it.
 *
 * **In the child** it resolves once the snapshot has arrived (the child must wait for it: that is why
 * `forkSelf` is async), and rejects if the parent went away without sending one. The argument the child
 * passes itself is ignored: it is the child's own recomputation, not the parent's state. Node keeps a message
 * that arrives before the child listens for `'message'`, and delivers it once it does. But while the child
 * has a `'message'` (or `'disconnect'`) listener on `process`, its IPC channel keeps it alive: remove the
 * listeners once the snapshot is there, or the child never ends and the parent waits for it for ever.
 *
 * Call it once per run of a program. Everything the program does *before* the call runs again in the child
 * (the child starts from the top, not from the call as with POSIX `fork()`), so keep side effects after it.
 */
export function forkSelf<S>(snapshot: S, options: ForkSelfOptions = {}): Promise<Forked<S>> {
  if (process.env[MARKER] !== undefined) {
    delete process.env[MARKER];
    return receiveSnapshot<S>();
  }
  return startChild(snapshot, options.entry ?? require.main?.filename ?? process.argv[1]!);
}

/** The child's side: wait for the parent's one message. */
function receiveSnapshot<S>(): Promise<ChildSide<S>> {
  return new Promise((resolve, reject) => {
    if (!process.send) {
      reject(new Error(`forkSelf: ${MARKER} is set but this process has no IPC channel to a parent`));
      return;
    }
    const onMessage = (message: unknown): void => {
      if (!isSnapshotMessage(message)) return;
      stop();
      resolve({ role: 'child', snapshot: message.snapshot as S, parentPid: process.ppid });
    };
    const onDisconnect = (): void => {
      stop();
      reject(new Error('forkSelf: the parent closed the channel before it sent the snapshot'));
    };
    // Once both listeners are gone, the channel no longer keeps this process alive.
    const stop = (): void => {
      process.off('message', onMessage);
      process.off('disconnect', onDisconnect);
    };
    process.on('message', onMessage);
    process.on('disconnect', onDisconnect);
  });
}

/** The parent's side: start the child and send it the snapshot, now. */
function startChild<S>(snapshot: S, entry: string): Promise<Forked<S>> {
  const child = fork(entry, process.argv.slice(2), {
    env: { ...process.env, [MARKER]: '1' },
    serialization: 'advanced',
  });
  // Listen from the start: an 'exit' that nobody listened for is gone for good.
  const exited = new Promise<ChildEnd>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  const message: SnapshotMessage = { [MARKER]: true, snapshot };
  return new Promise((resolve, reject) => {
    // Wait until the child is really there before talking to it.
    child.once('spawn', () => {
      try {
        child.send(message, () => {
          // An error here means the child ended before it could read its snapshot; `exited` tells how it ended.
        });
      } catch (error) {
        child.kill('SIGKILL');
        reject(
          new TypeError(`forkSelf: the snapshot cannot be copied to another process: ${(error as Error).message}`),
        );
        return;
      }
      resolve({ role: 'parent', pid: child.pid!, exited });
    });
    // Before 'spawn' an error means the child never started; after it, this listener keeps a late error
    // (a failed kill, for instance) from crashing the parent.
    child.on('error', reject);
  });
}
