/**
 * Exercise 08-locks-and-conditions/barrier — chapter: chapters/08-locks-and-conditions.md#exercise-barrier
 *
 * A reusable barrier in shared memory: `parties` threads call `wait()`, nobody gets out until all of them
 * are in, and then the same barrier serves the next round, and the next, for as long as the threads use it.
 *
 * KNOWN-WRONG VARIANT: spins on the generation instead of sleeping in Atomics.wait: it behaves, but every waiting thread burns a core for as long as it waits.
 */

/** Int32 slot: how many threads have arrived in the current round. */
const COUNT = 0;
/** Int32 slot: the round's generation number, bumped when a round completes; sleepers wait on it. */
const GENERATION = 1;

/**
 * A reusable (cyclic) barrier for `parties` threads, kept in `Barrier.BYTES` bytes of a SharedArrayBuffer.
 *
 * Every thread that takes part constructs its own `Barrier` over the same memory, byteOffset and parties
 * (send the SharedArrayBuffer to the worker threads and construct it there). The constructor does not
 * write to the memory: the `Barrier.BYTES` bytes at `byteOffset` must be zero before the first `wait()`,
 * as they are in a new SharedArrayBuffer.
 */
export class Barrier {
  /** Bytes of shared memory a barrier uses: two Int32 slots (arrivals in this round, and the generation). */
  static readonly BYTES = 8;

  readonly #parties: number;
  readonly #state: Int32Array;

  /**
   * A barrier for `parties` threads over `memory[byteOffset, byteOffset + Barrier.BYTES)`.
   * Throws a RangeError if `parties` is not an integer ≥ 1, or if `byteOffset` is not a multiple of 4 or
   * the memory is too small.
   */
  constructor(memory: SharedArrayBuffer, byteOffset: number, parties: number) {
    if (!Number.isInteger(parties) || parties < 1) {
      throw new RangeError(`parties must be an integer ≥ 1, got ${parties}`);
    }
    this.#state = new Int32Array(memory, byteOffset, Barrier.BYTES / Int32Array.BYTES_PER_ELEMENT);
    this.#parties = parties;
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
    const state = this.#state;
    // Read the generation BEFORE arriving: once this thread's arrival is counted, the round can complete
    // (and the generation move on) at any moment.
    const generation = Atomics.load(state, GENERATION);
    const arrival = Atomics.add(state, COUNT, 1);
    if (arrival === this.#parties - 1) {
      // The last arrival: make the state right for the next round first, then wake the sleepers. A woken
      // thread may re-enter at once, and it must find a count of 0 for its new round.
      Atomics.store(state, COUNT, 0);
      Atomics.add(state, GENERATION, 1);
      return arrival;
    }
    // Sleep while the generation is still the one this thread arrived in. `while`, not `if`: a wake-up is
    // only a hint, and the generation, unlike the count, never comes back to this value in the next round.
    while (Atomics.load(state, GENERATION) === generation) {
      // Spin until the last arrival bumps the generation.
    }
    return arrival;
  }
}
