/**
 * Exercise 08-locks-and-conditions/ring-buffer — chapter: chapters/08-locks-and-conditions.md#exercise-ring-buffer
 *
 * A bounded first-in, first-out queue of Int32 values in shared memory, for any number of producer and
 * consumer threads: push() waits while the buffer is full, pop() waits while it is empty.
 */

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
    // TODO: keep this, or return what your layout needs.
    return Int32Array.BYTES_PER_ELEMENT * (5 + capacity);
  }

  /**
   * A ring buffer of `capacity` items over `memory[byteOffset, byteOffset + RingBuffer.bytesFor(capacity))`.
   * Throws a RangeError if `capacity` is not an integer ≥ 1, or if `byteOffset` is not a multiple of 4 or
   * the memory is too small.
   */
  constructor(memory: SharedArrayBuffer, byteOffset: number, capacity: number) {
    // TODO: check `capacity`, keep an Int32Array view of your slots and the capacity.
    throw new Error('Not implemented: new RingBuffer(…) in exercises/08-locks-and-conditions/ring-buffer');
  }

  /**
   * Appends `value` (an Int32) at the back of the buffer. If the buffer already holds `capacity` items, waits
   * — asleep in Atomics.wait, not spinning — until a pop() makes room. Each item is popped exactly once, and
   * items pushed by one thread are popped in the order they were pushed.
   */
  push(value: number): void {
    // TODO: wait for a free slot, write the item at the tail (one producer at a time), then wake a consumer.
    throw new Error('Not implemented: RingBuffer.push() in exercises/08-locks-and-conditions/ring-buffer');
  }

  /**
   * Removes and returns the item at the front of the buffer. If the buffer is empty, waits — asleep in
   * Atomics.wait, not spinning — until a push() brings an item. A return of Atomics.wait proves nothing: a
   * waiting thread can be woken while there is still nothing for it (the grading suite does it on purpose
   * with Atomics.notify on the buffer's memory, and another consumer may take the item first). Check again
   * after every wake-up.
   */
  pop(): number {
    // TODO: wait for an item, take it from the head (one consumer at a time), then wake a producer.
    throw new Error('Not implemented: RingBuffer.pop() in exercises/08-locks-and-conditions/ring-buffer');
  }
}
