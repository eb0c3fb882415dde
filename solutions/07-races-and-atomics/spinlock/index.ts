/**
 * Exercise 07-races-and-atomics/spinlock — chapter: chapters/07-races-and-atomics.md#exercise-spinlock
 *
 * A lock that threads share through a SharedArrayBuffer: a thread that finds it taken keeps trying (it
 * "spins") until the holder lets go. It keeps nothing in the object itself: the lock's state lives in the
 * memory the caller provides, so every thread builds its own `SpinLock` over the same memory and they all
 * contend for one and the same lock.
 */

/** The lock's Int32 when no thread holds it (a fresh, all-zero buffer is an unlocked lock). */
const UNLOCKED = 0;
/** The lock's Int32 while a thread holds it. */
const LOCKED = 1;

/**
 * A mutual-exclusion lock in shared memory, for worker threads (never call lock() on the main thread: it
 * would block the event loop while it spins).
 *
 * - **Memory.** The lock is the one Int32 (4 bytes, {@link SpinLock.BYTES}) at `byteOffset` of the buffer:
 *   0 when it is free, 1 while a thread holds it. It never reads or writes any other byte. A fresh buffer
 *   is all zeros, so a new lock starts free. The constructor does not change the memory.
 * - **Mutual exclusion.** Between a thread's successful lock() (or tryLock() that returned true) and its
 *   unlock(), no other thread's lock() returns and every other thread's tryLock() returns false: at most one
 *   thread is ever inside. Whatever the holder wrote to memory before unlock() is visible to the next
 *   thread that takes the lock.
 * - **Not re-entrant, no owner.** The lock does not record which thread holds it: a thread that calls lock()
 *   again while it holds the lock waits for ever, and only the holder may call unlock().
 */
export class SpinLock {
  /** How many bytes of the buffer a lock uses, at its byteOffset: one Int32. */
  static readonly BYTES = 4;

  readonly #cell: Int32Array;

  /**
   * A lock over the 4 bytes at `byteOffset` of `memory`.
   * @param memory shared memory that every thread using this lock builds its own SpinLock over.
   * @param byteOffset where the lock's Int32 starts: a multiple of 4, with `byteOffset + 4 <= memory.byteLength`
   *   (otherwise the constructor throws a RangeError, as `new Int32Array(memory, byteOffset, 1)` does).
   */
  constructor(memory: SharedArrayBuffer, byteOffset = 0) {
    this.#cell = new Int32Array(memory, byteOffset, 1);
  }

  /**
   * Takes the lock: returns at once if it is free, otherwise keeps trying until the thread that holds it
   * calls unlock(), and then takes it (if several threads are waiting, one of them gets it, in no particular
   * order). Taking the lock must be one atomic step: two threads must never both see it free and both take it.
   */
  lock(): void {
    // compareExchange returns the value it found: UNLOCKED means this call is the one that set it to LOCKED.
    while (Atomics.compareExchange(this.#cell, 0, UNLOCKED, LOCKED) !== UNLOCKED) {
      // Someone else holds it: try again.
    }
  }

  /**
   * Takes the lock if it is free right now and returns true; if another thread holds it, returns false at
   * once, without waiting and without changing anything.
   */
  tryLock(): boolean {
    return Atomics.compareExchange(this.#cell, 0, UNLOCKED, LOCKED) === UNLOCKED;
  }

  /**
   * Releases the lock, which the calling thread holds: afterwards it is free, and one thread spinning in
   * lock() (if any) can take it. Calling unlock() on a lock that is free is a bug in the caller: it throws an
   * Error and leaves the lock free.
   */
  unlock(): void {
    if (Atomics.compareExchange(this.#cell, 0, LOCKED, UNLOCKED) !== LOCKED) {
      throw new Error('SpinLock.unlock(): the lock is not locked');
    }
  }
}
