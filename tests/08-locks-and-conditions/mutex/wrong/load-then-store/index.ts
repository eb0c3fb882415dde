/**
 * Exercise 08-locks-and-conditions/mutex — chapter: chapters/08-locks-and-conditions.md#exercise-mutex
 *
 * A futex-style mutex for worker threads: one Int32 in a SharedArrayBuffer, changed only with atomic
 * read-modify-write operations, and Atomics.wait / Atomics.notify to sleep and wake instead of spinning.
 *
 * KNOWN-WRONG VARIANT: lock() takes a free mutex by loading the state and then storing 1 (two steps, not one atomic read-modify-write), so two threads can both see 0 and both go in.
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

  readonly #cells: Int32Array;

  /**
   * Uses the `Mutex.BYTES` bytes of `memory` that start at `byteOffset` (a multiple of 4). Does not write
   * to them: the memory must already hold `0` (a fresh `SharedArrayBuffer` is all zeros) or be in use by
   * the same mutex in other threads. Throws a RangeError if the bytes do not fit in `memory` or
   * `byteOffset` is not a multiple of 4.
   */
  constructor(memory: SharedArrayBuffer, byteOffset = 0) {
    this.#cells = new Int32Array(memory, byteOffset, 1);
  }

  /**
   * Takes the lock, blocking the calling thread until it is free. While it waits, the thread sleeps in
   * `Atomics.wait` (it must not spin and burn a core), and it returns only once it holds the lock. Every
   * thread that waits is eventually woken by an `unlock()`. Blocks, so never call it on a thread whose
   * event loop others depend on.
   */
  lock(): void {
    // Fast path: free → locked.
    if (Atomics.load(this.#cells, 0) === 0) {
      Atomics.store(this.#cells, 0, 1);
      return;
    }
    let state = Atomics.exchange(this.#cells, 0, 2);
    while (state !== 0) {
      Atomics.wait(this.#cells, 0, 2);
      state = Atomics.exchange(this.#cells, 0, 2);
    }
  }

  /** Takes the lock if it is free and returns true; returns false at once, without waiting, if it is held. */
  tryLock(): boolean {
    return Atomics.compareExchange(this.#cells, 0, 0, 1) === 0;
  }

  /**
   * Releases the lock, which the calling thread must hold, and wakes one waiting thread if there may be
   * any (the state was 2).
   */
  unlock(): void {
    if (Atomics.exchange(this.#cells, 0, 0) === 2) Atomics.notify(this.#cells, 0, 1);
  }
}
