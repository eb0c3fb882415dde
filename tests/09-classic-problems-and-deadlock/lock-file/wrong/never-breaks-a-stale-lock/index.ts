/**
 * Exercise 09-classic-problems-and-deadlock/lock-file — chapter: chapters/09-classic-problems-and-deadlock.md#exercise-lock-file
 *
 * A lock shared by separate processes through the file system: whoever manages to create the lock file
 * holds the lock, and removes the file to release it. The file names its holder's pid, so that a holder
 * that died without releasing (killed, crashed) can be recognised and its lock taken over — by exactly one
 * of the processes waiting for it.
 *
 * KNOWN-WRONG VARIANT: never treats a lock as stale: it waits for any existing lock file, so a holder that died without releasing blocks every other process for ever.
 */
import { randomBytes } from 'node:crypto';
import { link, readFile, unlink, writeFile } from 'node:fs/promises';

/** Options of {@link acquireLockFile}. */
export interface LockFileOptions {
  /** How long to wait, in milliseconds, before looking at a lock held by a live process again. Default 25. */
  retryMs?: number;
}

/** A lock file this process holds. */
export interface LockFileHold {
  /**
   * Releases the lock: removes the lock file if it is still this hold's lock file (the same pid and token
   * this hold wrote), and leaves it alone otherwise. Only the first call does anything; calling it again
   * — even when another process holds the lock by then — does nothing.
   */
  release(): Promise<void>;
}

/**
 * Acquires the lock file `file` (its directory must exist) and resolves once this process holds it.
 *
 * The lock file's content is the holder's pid in decimal on the first line, then a line with a random
 * token unique to this hold: `"<pid>\n<token>\n"`. It must appear with its whole content at once, never
 * empty or half-written: write it to a temporary file with a unique name first, then `link()` that file to
 * `file` (link fails with EEXIST if `file` exists: an atomic create-if-absent, like `open(file, 'wx')`
 * but with the content already in place), then remove the temporary name.
 *
 * If `file` exists, read the pid on its first line:
 * - the process is alive (`process.kill(pid, 0)` succeeds, or throws EPERM): wait `retryMs` and try
 *   again, for as long as it takes — a live holder is never robbed, however long it holds;
 * - the process is dead (`process.kill(pid, 0)` throws ESRCH): the lock is stale. Several waiters may see
 *   the same stale lock at once, and only one of them may remove it (a waiter that removes the lock file
 *   after another one has already replaced it with its own would rob a live holder). Protocol: the waiter
 *   that manages to create the "breaker" lock file `<file>.breaking-<dead pid>` (the same way: atomic
 *   create, content `"<pid>\n<token>\n"`) reads `file` again, removes it only if it still names the dead
 *   pid, removes the breaker file, and tries to acquire `file` again. Nothing else ever removes a lock
 *   file naming a dead pid, so between that check and the removal the file cannot change. A waiter that
 *   finds the breaker file held by a live process waits `retryMs` and retries; one that finds it held by a
 *   dead process (a breaker that died in the middle) breaks the breaker file the same way, recursively.
 * - the file vanished before it could be read: try again at once.
 */
export async function acquireLockFile(file: string, options: LockFileOptions = {}): Promise<LockFileHold> {
  const retryMs = options.retryMs ?? 25;
  for (;;) {
    const token = await tryCreate(file);
    if (token !== undefined) return holdOf(file, token);
    await waitOrBreak(file, retryMs);
  }
}

/** Creates `file` with this process's pid and a new token, atomically; returns the token, or undefined if it exists. */
async function tryCreate(file: string): Promise<string | undefined> {
  const token = randomBytes(8).toString('hex');
  const temporary = `${file}.${process.pid}.${token}.tmp`;
  await writeFile(temporary, `${process.pid}\n${token}\n`);
  try {
    await link(temporary, file);
    return token;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return undefined;
    throw error;
  } finally {
    await unlink(temporary);
  }
}

/** `file` exists (or existed a moment ago): wait for its holder to release it. */
async function waitOrBreak(file: string, retryMs: number): Promise<void> {
  if ((await holderOf(file)) !== undefined) await sleep(retryMs);
}

function holdOf(file: string, token: string): LockFileHold {
  let released = false;
  return {
    async release() {
      if (released) return;
      released = true;
      // Safe to check, then remove: while the file names this live process, nobody else removes it.
      const holder = await holderOf(file);
      if (holder?.pid === process.pid && holder.token === token) await unlinkIfPresent(file);
    },
  };
}

/** The pid and token in a lock file, or undefined if it does not exist. */
async function holderOf(file: string): Promise<{ pid: number; token: string } | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  const [pid = '', token = ''] = text.split('\n');
  return { pid: Number(pid), token };
}

async function unlinkIfPresent(file: string): Promise<void> {
  try {
    await unlink(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
