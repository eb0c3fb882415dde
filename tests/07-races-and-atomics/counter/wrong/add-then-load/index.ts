/**
 * Exercise 07-races-and-atomics/counter — chapter: chapters/07-races-and-atomics.md#exercise-counter
 *
 * A counter that many threads update at the same time without ever losing an update. It keeps nothing in
 * the object itself: the count lives in a SharedArrayBuffer that the caller provides, so every thread
 * builds its own `SharedCounter` over the same memory (the buffer is shared, not copied, when it is posted
 * to a worker or passed in `workerData`), and they all see and change one and the same count.
 *
 * KNOWN-WRONG VARIANT: updates with Atomics.add (no update is lost) but returns a separate Atomics.load afterwards, which may already include other threads' increments: two concurrent increment() calls can return the same value.
 */

/**
 * A signed 32-bit counter stored in shared memory, safe to use from any number of threads at once.
 *
 * - **Memory.** The count is the one Int32 (4 bytes, {@link SharedCounter.BYTES}) at `byteOffset` of the
 *   buffer, nothing else: it never reads or writes any other byte, so other objects may live side by side
 *   with it in the same buffer. A fresh buffer is all zeros, so a new counter starts at 0. The constructor
 *   does not change the memory: a thread that builds a counter over memory already in use sees the count
 *   the other threads have reached.
 * - **Int32 semantics.** The count wraps around as a signed 32-bit integer, exactly as `Int32Array`
 *   arithmetic does: 2147483647 + 1 is -2147483648. Every value returned is in that range.
 * - **No lost updates.** When threads call `increment()` and `add()` at the same time, the count ends up
 *   changed by exactly the sum of all their calls, and each call returns the count as it was right after
 *   its own change: so among concurrent `increment()` calls, each returns a different value.
 */
export class SharedCounter {
  /** How many bytes of the buffer a counter uses, at its byteOffset: one Int32. */
  static readonly BYTES = 4;

  readonly #cell: Int32Array;

  /**
   * A counter over the 4 bytes at `byteOffset` of `memory`.
   * @param memory shared memory that every thread using this counter builds its own SharedCounter over.
   * @param byteOffset where the counter's Int32 starts: a multiple of 4, with `byteOffset + 4 <= memory.byteLength`
   *   (otherwise the constructor throws a RangeError, as `new Int32Array(memory, byteOffset, 1)` does).
   */
  constructor(memory: SharedArrayBuffer, byteOffset = 0) {
    this.#cell = new Int32Array(memory, byteOffset, 1);
  }

  /** Adds 1 to the count, atomically, and returns the count right after this call's own change. */
  increment(): number {
    Atomics.add(this.#cell, 0, 1);
    return Atomics.load(this.#cell, 0);
  }

  /**
   * Adds `n` to the count, atomically, and returns the count right after this call's own change.
   * @param n an integer from -2147483648 to 2147483647 (negative values count down).
   */
  add(n: number): number {
    Atomics.add(this.#cell, 0, n);
    return Atomics.load(this.#cell, 0);
  }

  /** The count now (an atomic read: never a torn or stale-cached value). */
  get value(): number {
    return Atomics.load(this.#cell, 0);
  }
}
