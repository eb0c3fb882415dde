/**
 * Exercise 09-classic-problems-and-deadlock/async-mutex — chapter: chapters/09-classic-problems-and-deadlock.md#exercise-async-mutex
 *
 * A mutex for single-threaded asynchronous code. Node runs one callback at a time, but a read-modify-write
 * that awaits between its read and its write (`const v = await store.get(); await store.set(v + 1)`) lets
 * every other request run in between, and two of them lose an update. An AsyncMutex makes such a section
 * exclusive: a caller that asks for the lock while it is held waits (without blocking the event loop) until
 * every caller that asked before it has held it and given it back.
 *
 * KNOWN-WRONG VARIANT: release makes the lock free and only wakes the first waiter, which must then take it itself: a caller asking in between finds it free and barges ahead of the queue (not FIFO), and the woken waiter goes to the back.
 */

/**
 * Gives the lock back. Only the first call counts: calling the same release function again — after the
 * lock has passed to the next caller, or after it became free — does nothing at all.
 */
export type Release = () => void;

/**
 * A fair (first-in, first-out) mutual-exclusion lock for async code in one thread. Plain JavaScript
 * object, no timers, no threads.
 *
 * Rules every method follows:
 * - At most one caller holds the lock at any moment.
 * - FIFO: callers that have to wait get the lock in the order in which they called `lock()` (or
 *   `runExclusive()`). Releasing the lock while callers wait hands it directly to the first of them: the
 *   lock never becomes free in between, so a caller that asks right after the release (even in the same
 *   synchronous step) queues behind every waiter.
 * - A caller that finds the lock free gets it at once: the promise `lock()` returns is settled in the same
 *   turn of the event loop (only promise callbacks run first; no timer, `setImmediate` or I/O callback).
 */
export class AsyncMutex {
  #held = false;
  /** Wake-up calls of the callers waiting for the lock, first asker first. */
  readonly #waiters: Array<() => void> = [];

  /**
   * True from the moment a caller is given the lock until the last holder releases it with nobody waiting.
   * It stays true while the lock passes from one holder to the next waiter.
   */
  get locked(): boolean {
    return this.#held;
  }

  /**
   * Asks for the lock. Resolves with a {@link Release} function once this caller holds the lock: at once
   * if the lock is free, otherwise when every earlier caller has released it. Never rejects. Every caller
   * must call its release function exactly once when done (a second call is harmless); until then, nobody
   * else gets the lock.
   */
  async lock(): Promise<Release> {
    while (this.#held) await new Promise<void>((resolve) => this.#waiters.push(resolve));
    this.#held = true;
    return this.#releaseFunction();
  }

  /**
   * Runs `fn` while holding the lock and resolves with what it returns (or with what its promise resolves
   * to). Waits for the lock first, like {@link lock}; the place in the queue is taken when runExclusive is
   * called. The lock is given back however `fn` ends: if `fn` throws or its promise rejects, the lock is
   * released and the promise runExclusive returned rejects with that same error.
   */
  async runExclusive<T>(fn: () => T | Promise<T>): Promise<T> {
    const release = await this.lock();
    try {
      return await fn();
    } finally {
      release();
    }
  }

  /** A release function for one holder; it acts only the first time it is called. */
  #releaseFunction(): Release {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#held = false;
      this.#waiters.shift()?.();
    };
  }
}
