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

  /**
   * Writes `permits` (a non-negative integer, else a RangeError) as the number of available permits at
   * `byteOffset` in `memory`, and returns a Semaphore over it. Call it once, before any thread uses the
   * semaphore; every other thread then attaches with `new Semaphore(memory, byteOffset)`.
   */
  static init(memory: SharedArrayBuffer, byteOffset: number, permits: number): Semaphore {
    // TODO: store permits (after checking it) in the Int32 at byteOffset, and return a Semaphore over it.
    throw new Error(
      `Not implemented: Semaphore.init(memory, ${byteOffset}, ${permits}) (${memory.byteLength} bytes) in exercises/08-locks-and-conditions/semaphore`,
    );
  }

  /**
   * Attaches to the semaphore in the `Semaphore.BYTES` bytes of `memory` at `byteOffset` (a multiple of
   * 4), set up by `Semaphore.init`. Does not write to memory. Throws a RangeError if the bytes do not fit
   * in `memory` or `byteOffset` is not a multiple of 4.
   */
  constructor(memory: SharedArrayBuffer, byteOffset = 0) {
    // TODO: keep an Int32Array view of the one Int32 at byteOffset.
    throw new Error(
      `Not implemented: new Semaphore(memory, ${byteOffset}) (${memory.byteLength} bytes) in exercises/08-locks-and-conditions/semaphore`,
    );
  }

  /**
   * Takes one permit, blocking the calling thread while none is available: it sleeps in `Atomics.wait`
   * (it must not spin) and returns only once it has taken a permit, so at most as many threads as there
   * are permits get past acquire() before someone releases. Blocks, so never call it on a thread whose
   * event loop others depend on.
   */
  acquire(): void {
    // TODO: while the count is 0, sleep; when it is positive, take one with a single atomic step (and look again if that fails).
    throw new Error('Not implemented: Semaphore.acquire() in exercises/08-locks-and-conditions/semaphore');
  }

  /** Takes one permit if one is available and returns true; returns false at once, without waiting, if none is. */
  tryAcquire(): boolean {
    // TODO: like acquire(), but return false instead of sleeping.
    throw new Error('Not implemented: Semaphore.tryAcquire() in exercises/08-locks-and-conditions/semaphore');
  }

  /** Gives back one permit and wakes one thread sleeping in acquire(), if any. */
  release(): void {
    // TODO: give one permit back, then wake one sleeper.
    throw new Error('Not implemented: Semaphore.release() in exercises/08-locks-and-conditions/semaphore');
  }

  /** The number of permits available right now (a snapshot: other threads may change it at once). */
  get available(): number {
    // TODO: read the count atomically.
    throw new Error('Not implemented: Semaphore.available in exercises/08-locks-and-conditions/semaphore');
  }
}
