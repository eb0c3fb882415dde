/**
 * Exercise 08-locks-and-conditions/barrier — chapter: chapters/08-locks-and-conditions.md#exercise-barrier
 *
 * A reusable barrier in shared memory: `parties` threads call `wait()`, nobody gets out until all of them
 * are in, and then the same barrier serves the next round, and the next, for as long as the threads use it.
 */

/**
 * A reusable (cyclic) barrier for `parties` threads, kept in `Barrier.BYTES` bytes of a SharedArrayBuffer.
 *
 * Every thread that takes part constructs its own `Barrier` over the same memory, byteOffset and parties
 * (send the SharedArrayBuffer to the worker threads and construct it there). The constructor does not
 * write to the memory: the `Barrier.BYTES` bytes at `byteOffset` must be zero before the first `wait()`,
 * as they are in a new SharedArrayBuffer.
 */
export class Barrier {
  /**
   * Bytes of shared memory a barrier uses: two Int32 slots (arrivals in this round, and the generation).
   * If your design needs more slots, change it: the tests lay memory out with this number.
   */
  static readonly BYTES = 8;

  /**
   * A barrier for `parties` threads over `memory[byteOffset, byteOffset + Barrier.BYTES)`.
   * Throws a RangeError if `parties` is not an integer ≥ 1, or if `byteOffset` is not a multiple of 4 or
   * the memory is too small.
   */
  constructor(memory: SharedArrayBuffer, byteOffset: number, parties: number) {
    // TODO: check `parties`, keep an Int32Array view of your slots and the number of parties.
    throw new Error('Not implemented: new Barrier(…) in exercises/08-locks-and-conditions/barrier');
  }

  /**
   * Blocks the calling thread until `parties` threads have called `wait()` in the current round, then
   * returns in all of them. Returns this thread's order of arrival in the round: 0 for the first thread
   * to arrive, …, `parties - 1` for the last one — the thread whose arrival completes the round; it does
   * not block, it wakes the others.
   *
   * - Reusable: as soon as a round completes, the next calls of `wait()` make up the next round. A thread
   *   that gets out and calls `wait()` again at once is counted in the next round, even while slower threads
   *   have not yet woken up from the round that just completed; those must still get out of that round.
   * - Waiting threads sleep in `Atomics.wait` (this must run in a worker thread): they do not spin.
   * - A return of `Atomics.wait` proves nothing: a waiting thread can be woken before its round is complete
   *   (the grading suite does it on purpose with `Atomics.notify` on the barrier's memory). Check again
   *   after every wake-up and go back to sleep until the round this thread arrived in is complete.
   */
  wait(): number {
    // TODO: count this arrival; the last one starts the next round and wakes the others, the rest sleep.
    throw new Error('Not implemented: Barrier.wait() in exercises/08-locks-and-conditions/barrier');
  }
}
