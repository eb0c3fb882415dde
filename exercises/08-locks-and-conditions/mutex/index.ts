/**
 * Exercise 08-locks-and-conditions/mutex — chapter: chapters/08-locks-and-conditions.md#exercise-mutex
 *
 * A futex-style mutex for worker threads: one Int32 in a SharedArrayBuffer, changed only with atomic
 * read-modify-write operations, and Atomics.wait / Atomics.notify to sleep and wake instead of spinning.
 */

/**
 * A mutual-exclusion lock whose whole state is one Int32 in shared memory, so every thread that builds a
 * `Mutex` over the same `SharedArrayBuffer` and `byteOffset` uses the same lock.
 *
 * The Int32 holds one of three values:
 * - `0` — unlocked;
 * - `1` — locked, and no thread is waiting for it;
 * - `2` — locked, and threads may be waiting (sleeping in `Atomics.wait` on this Int32).
 *
 * The mutex is not re-entrant and has no owner check: the thread that locked it must unlock it, once.
 */
export class Mutex {
  /** Bytes of shared memory a mutex uses: one Int32 (4 bytes). */
  static readonly BYTES = 4;

  /**
   * Uses the `Mutex.BYTES` bytes of `memory` that start at `byteOffset` (a multiple of 4). Does not write
   * to them: the memory must already hold `0` (a fresh `SharedArrayBuffer` is all zeros) or be in use by
   * the same mutex in other threads. Throws a RangeError if the bytes do not fit in `memory` or
   * `byteOffset` is not a multiple of 4.
   */
  constructor(memory: SharedArrayBuffer, byteOffset = 0) {
    // TODO: keep an Int32Array view of the one Int32 at byteOffset.
    throw new Error(
      `Not implemented: new Mutex(memory, ${byteOffset}) (${memory.byteLength} bytes) in exercises/08-locks-and-conditions/mutex`,
    );
  }

  /**
   * Takes the lock, blocking the calling thread until it is free. While it waits, the thread sleeps in
   * `Atomics.wait` (it must not spin and burn a core), and it returns only once it holds the lock. Every
   * thread that waits is eventually woken by an `unlock()`. Blocks, so never call it on a thread whose
   * event loop others depend on.
   */
  lock(): void {
    // TODO: 0 → 1 in one atomic step; if it was taken, set 2 and sleep until the value is no longer 2.
    throw new Error('Not implemented: Mutex.lock() in exercises/08-locks-and-conditions/mutex');
  }

  /** Takes the lock if it is free and returns true; returns false at once, without waiting, if it is held. */
  tryLock(): boolean {
    // TODO: one atomic step, no waiting.
    throw new Error('Not implemented: Mutex.tryLock() in exercises/08-locks-and-conditions/mutex');
  }

  /**
   * Releases the lock, which the calling thread must hold, and wakes one waiting thread if there may be
   * any (the state was 2).
   */
  unlock(): void {
    // TODO: set 0, and wake one sleeper if the state was 2.
    throw new Error('Not implemented: Mutex.unlock() in exercises/08-locks-and-conditions/mutex');
  }
}
