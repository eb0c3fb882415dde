/**
 * Exercise 08-locks-and-conditions/ring-buffer — chapter: chapters/08-locks-and-conditions.md#exercise-ring-buffer
 *
 * A bounded first-in, first-out queue of Int32 values in shared memory, for any number of producer and
 * consumer threads: push() waits while the buffer is full, pop() waits while it is empty.
 *
 * KNOWN-WRONG VARIANT: takes the lock in pop() but not in push(), trusting the count of free slots to keep producers apart: two producers that read the same tail write the same slot, so one item is lost and a stale slot is popped later.
 */

/** Int32 slot: the futex mutex that guards HEAD, TAIL and the item slots (0 free, 1 locked, 2 locked with sleepers). */
const LOCK = 0;
/** Int32 slot: index of the next item to pop. */
const HEAD = 1;
/** Int32 slot: index of the next free item slot. */
const TAIL = 2;
/** Int32 slot: slots taken by producers (items in the buffer, and pushes writing one); producers sleep on it while it is `capacity`. */
const RESERVED = 3;
/** Int32 slot: items written and ready to pop; consumers sleep on it while it is 0. */
const FILLED = 4;
/** Int32 slots before the items. */
const HEADER = 5;

/**
 * A bounded FIFO ring buffer of `capacity` Int32 values, kept in `RingBuffer.bytesFor(capacity)` bytes of a
 * SharedArrayBuffer, for any number of producer and consumer threads.
 *
 * Every thread that uses it constructs its own `RingBuffer` over the same memory, byteOffset and capacity
 * (send the SharedArrayBuffer to the worker threads and construct it there). The constructor does not write
 * to the memory: the bytes must be zero before the first push() or pop(), as they are in a new
 * SharedArrayBuffer.
 */
export class RingBuffer {
  /**
   * Bytes of shared memory a ring buffer of `capacity` items uses: `4 * (5 + capacity)` (five Int32 slots of
   * bookkeeping, then one Int32 slot per item). If your design needs other bookkeeping, change it: the tests
   * lay memory out with this function.
   */
  static bytesFor(capacity: number): number {
    return Int32Array.BYTES_PER_ELEMENT * (HEADER + capacity);
  }

  readonly #capacity: number;
  readonly #state: Int32Array;

  /**
   * A ring buffer of `capacity` items over `memory[byteOffset, byteOffset + RingBuffer.bytesFor(capacity))`.
   * Throws a RangeError if `capacity` is not an integer ≥ 1, or if `byteOffset` is not a multiple of 4 or
   * the memory is too small.
   */
  constructor(memory: SharedArrayBuffer, byteOffset: number, capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new RangeError(`capacity must be an integer ≥ 1, got ${capacity}`);
    }
    this.#state = new Int32Array(memory, byteOffset, HEADER + capacity);
    this.#capacity = capacity;
  }

  /**
   * Appends `value` (an Int32) at the back of the buffer. If the buffer already holds `capacity` items, waits
   * — asleep in Atomics.wait, not spinning — until a pop() makes room. Each item is popped exactly once, and
   * items pushed by one thread are popped in the order they were pushed.
   */
  push(value: number): void {
    const state = this.#state;
    // Take a slot: wait while all `capacity` are taken.
    let reserved = Atomics.load(state, RESERVED);
    for (;;) {
      while (reserved >= this.#capacity) {
        Atomics.wait(state, RESERVED, reserved);
        reserved = Atomics.load(state, RESERVED);
      }
      const seen = Atomics.compareExchange(state, RESERVED, reserved, reserved + 1);
      if (seen === reserved) break;
      reserved = seen;
    }
    // Write the item at the tail. The lock keeps two producers from writing the same slot.
    const tail = Atomics.load(state, TAIL);
    Atomics.store(state, HEADER + tail, value);
    Atomics.store(state, TAIL, (tail + 1) % this.#capacity);
    // Publish it, THEN wake a consumer: a consumer woken before the count changed would find it still 0.
    Atomics.add(state, FILLED, 1);
    Atomics.notify(state, FILLED, 1);
  }

  /**
   * Removes and returns the item at the front of the buffer. If the buffer is empty, waits — asleep in
   * Atomics.wait, not spinning — until a push() brings an item. A return of Atomics.wait proves nothing: a
   * waiting thread can be woken while there is still nothing for it (the grading suite does it on purpose
   * with Atomics.notify on the buffer's memory, and another consumer may take the item first). Check again
   * after every wake-up.
   */
  pop(): number {
    const state = this.#state;
    // Take an item: wait while there is none.
    let filled = Atomics.load(state, FILLED);
    for (;;) {
      while (filled === 0) {
        Atomics.wait(state, FILLED, 0);
        filled = Atomics.load(state, FILLED);
      }
      const seen = Atomics.compareExchange(state, FILLED, filled, filled - 1);
      if (seen === filled) break;
      filled = seen;
    }
    this.#lock();
    const head = Atomics.load(state, HEAD);
    const value = Atomics.load(state, HEADER + head);
    Atomics.store(state, HEAD, (head + 1) % this.#capacity);
    this.#unlock();
    // The slot is free again: give it back and wake a producer.
    Atomics.sub(state, RESERVED, 1);
    Atomics.notify(state, RESERVED, 1);
    return value;
  }

  /** A futex mutex (Drepper's "mutex 2"): 0 free, 1 locked, 2 locked and someone may be asleep on it. */
  #lock(): void {
    const state = this.#state;
    let seen = Atomics.compareExchange(state, LOCK, 0, 1);
    if (seen === 0) return;
    do {
      if (seen === 2 || Atomics.compareExchange(state, LOCK, 1, 2) !== 0) Atomics.wait(state, LOCK, 2);
      seen = Atomics.compareExchange(state, LOCK, 0, 2);
    } while (seen !== 0);
  }

  #unlock(): void {
    const state = this.#state;
    if (Atomics.sub(state, LOCK, 1) !== 1) {
      Atomics.store(state, LOCK, 0);
      Atomics.notify(state, LOCK, 1);
    }
  }
}
