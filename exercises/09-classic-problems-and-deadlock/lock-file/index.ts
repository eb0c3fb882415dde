/**
 * Exercise 09-classic-problems-and-deadlock/lock-file — chapter: chapters/09-classic-problems-and-deadlock.md#exercise-lock-file
 *
 * A lock shared by separate processes through the file system: whoever manages to create the lock file
 * holds the lock, and removes the file to release it. The file names its holder's pid, so that a holder
 * that died without releasing (killed, crashed) can be recognised and its lock taken over — by exactly one
 * of the processes waiting for it.
 */
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
export function acquireLockFile(file: string, options: LockFileOptions = {}): Promise<LockFileHold> {
  // TODO: loop: try to create the lock file atomically; if it exists, wait for a live holder or break a
  // stale lock (only one waiter may), then try again. Return a hold whose release() removes only its own file.
  throw new Error(
    `Not implemented: acquireLockFile(${JSON.stringify(file)}) in exercises/09-classic-problems-and-deadlock/lock-file`,
  );
}
