/**
 * Exercise 07-races-and-atomics/atomic-update — chapter: chapters/07-races-and-atomics.md#exercise-atomic-update
 *
 * Compare-and-swap (CAS) loops: change one Int32 cell of shared memory by any function of its current value,
 * atomically, even while other threads change the same cell. Every function here works on ONE Int32 slot,
 * `view[index]`, of an `Int32Array` over a `SharedArrayBuffer` that several threads share; it keeps no other
 * state and takes no lock. Other threads may call any of these functions on the same cell at the same time.
 */

/**
 * Atomically replaces `view[index]` with `fn(current)` and returns the value it stored, like Java's
 * `updateAndGet`.
 *
 * It is a compare-and-swap loop: read the cell (`Atomics.load`), compute `next = fn(current)`, and store
 * `next` with `Atomics.compareExchange(view, index, current, next)`, which stores only if the cell still
 * holds `current` and always returns what the cell held. If another thread changed the cell between the
 * read and the exchange, the exchange stores nothing: call `fn` again with the value the cell holds now (the
 * one `compareExchange` returned) and try again, until an exchange succeeds. No update is ever lost or
 * overwritten, and the value stored is always `fn` of the value it replaced.
 *
 * `fn` must be a pure function of its argument that returns an integer in the Int32 range. It may be called
 * more than once, but only because of interference: when no other thread changes the cell during the call,
 * `fn` is called exactly once. `update` does not catch what `fn` throws.
 *
 * @param view an Int32Array over a SharedArrayBuffer
 * @param index the cell to update (only `view[index]` is read or written)
 * @param fn computes the new value from the current one
 * @returns the value stored: `fn`'s result on the attempt whose exchange succeeded
 */
export function update(view: Int32Array, index: number, fn: (current: number) => number): number {
  let current = Atomics.load(view, index);
  for (;;) {
    const next = fn(current);
    const seen = Atomics.compareExchange(view, index, current, next);
    if (seen === current) return next;
    // Another thread changed the cell after we read it: nothing was stored. Start over from what it holds now.
    current = seen;
  }
}

/**
 * Atomically raises `view[index]` to `value` if the cell holds less; never lowers it. Under any number of
 * concurrent calls the cell ends up holding the largest value any of them offered (or its own, if larger).
 *
 * @returns the value the cell held just before this call took effect (whether or not the call changed it)
 */
export function atomicMax(view: Int32Array, index: number, value: number): number {
  let previous = 0;
  // fn runs again on every retry, so `previous` ends up describing the attempt that succeeded.
  update(view, index, (current) => {
    previous = current;
    return Math.max(current, value);
  });
  return previous;
}

/**
 * Atomically adds 1 to `view[index]` only if the cell holds less than `limit`. Checking and incrementing
 * are one atomic step: when threads together call it many times on a cell that starts at `start <= limit`,
 * exactly `limit - start` calls return `true` and the cell ends at exactly `limit`, never above.
 *
 * @returns `true` if this call incremented the cell; `false`, leaving the cell unchanged, if it already held
 *   `limit` or more
 */
export function boundedIncrement(view: Int32Array, index: number, limit: number): boolean {
  let incremented = false;
  update(view, index, (current) => {
    // Decided afresh on every attempt: only the attempt whose exchange succeeds counts.
    incremented = current < limit;
    return incremented ? current + 1 : current;
  });
  return incremented;
}
