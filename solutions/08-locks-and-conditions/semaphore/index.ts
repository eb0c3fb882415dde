/**
 * Exercise 08-locks-and-conditions/semaphore — chapter: chapters/08-locks-and-conditions.md#exercise-semaphore
 *
 * A counting semaphore for worker threads: a number of permits in one Int32 of a SharedArrayBuffer. A
 * thread takes a permit with acquire() (sleeping in Atomics.wait while there is none) and gives one back
 * with release(), which wakes a sleeper.
 */

/**
 * A counting semaphore whose whole state is one Int32 in shared memory: the number of permits available
 * now (never negative). Every thread that builds a `Semaphore` over the same `SharedArrayBuffer` and
 * `byteOffset` uses the same semaphore. Permits have no owner: any thread may release.
 */
export class Semaphore {
  /** Bytes of shared memory a semaphore uses: one Int32 (4 bytes), the number of available permits. */
  static readonly BYTES = 4;

  readonly #cells: Int32Array;

  /**
   * Writes `permits` (a non-negative integer, else a RangeError) as the number of available permits at
   * `byteOffset` in `memory`, and returns a Semaphore over it. Call it once, before any thread uses the
   * semaphore; every other thread then attaches with `new Semaphore(memory, byteOffset)`.
   */
  static init(memory: SharedArrayBuffer, byteOffset: number, permits: number): Semaphore {
    if (!Number.isInteger(permits) || permits < 0 || permits > 0x7fffffff) {
      throw new RangeError(`permits must be a non-negative integer, got ${permits}`);
    }
    const semaphore = new Semaphore(memory, byteOffset);
    Atomics.store(semaphore.#cells, 0, permits);
    return semaphore;
  }

  /**
   * Attaches to the semaphore in the `Semaphore.BYTES` bytes of `memory` at `byteOffset` (a multiple of
   * 4), set up by `Semaphore.init`. Does not write to memory. Throws a RangeError if the bytes do not fit
   * in `memory` or `byteOffset` is not a multiple of 4.
   */
  constructor(memory: SharedArrayBuffer, byteOffset = 0) {
    this.#cells = new Int32Array(memory, byteOffset, 1);
  }

  /**
   * Takes one permit, blocking the calling thread while none is available: it sleeps in `Atomics.wait`
   * (it must not spin) and returns only once it has taken a permit, so at most as many threads as there
   * are permits get past acquire() before someone releases. Blocks, so never call it on a thread whose
   * event loop others depend on.
   */
  acquire(): void {
    for (;;) {
      const available = Atomics.load(this.#cells, 0);
      if (available > 0) {
        // Take it only if nobody changed the count since we looked; otherwise look again.
        if (Atomics.compareExchange(this.#cells, 0, available, available - 1) === available) return;
      } else {
        // Sleep while the count is still 0; a release() in between makes wait return at once.
        Atomics.wait(this.#cells, 0, 0);
      }
    }
  }

  /** Takes one permit if one is available and returns true; returns false at once, without waiting, if none is. */
  tryAcquire(): boolean {
    for (;;) {
      const available = Atomics.load(this.#cells, 0);
      if (available <= 0) return false;
      if (Atomics.compareExchange(this.#cells, 0, available, available - 1) === available) return true;
    }
  }

  /** Gives back one permit and wakes one thread sleeping in acquire(), if any. */
  release(): void {
    Atomics.add(this.#cells, 0, 1);
    Atomics.notify(this.#cells, 0, 1);
  }

  /** The number of permits available right now (a snapshot: other threads may change it at once). */
  get available(): number {
    return Atomics.load(this.#cells, 0);
  }
}
