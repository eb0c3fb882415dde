/**
 * The small lock this chapter's thread labs share: one Int32 slot of a SharedArrayBuffer, 0 when free and
 * `owner + 1` when taken, so that anyone can read who holds it. Taking it is one compareExchange; waiting for
 * it is Atomics.wait with a timeout, so that a waiter never blocks for ever and can give up (chapter 08 builds
 * such a mutex properly). Not a lab of its own: the labs import it.
 */

/** Takes the lock in `view[index]` for `owner` if it is free, at once; returns whether it did. */
export function tryLock(view: Int32Array, index: number, owner: number): boolean {
  return Atomics.compareExchange(view, index, 0, owner + 1) === 0;
}

/**
 * Waits until the lock in `view[index]` can be taken for `owner`, and takes it. Sleeps in slices of
 * `sliceMs`; before each, asks `giveUp()`, and returns false without the lock when it says so.
 */
export function lock(view: Int32Array, index: number, owner: number, giveUp: () => boolean, sliceMs = 20): boolean {
  for (;;) {
    const seen = Atomics.compareExchange(view, index, 0, owner + 1);
    if (seen === 0) return true;
    if (giveUp()) return false;
    Atomics.wait(view, index, seen, sliceMs); // sleeps while the slot still holds `seen`, at most sliceMs
  }
}

/** Frees the lock in `view[index]` and wakes one thread waiting for it. */
export function unlock(view: Int32Array, index: number): void {
  Atomics.store(view, index, 0);
  Atomics.notify(view, index, 1);
}

const nap = new Int32Array(new SharedArrayBuffer(4)); // nobody ever notifies it: a wait on it is a sleep

/** Blocks this thread for `ms` milliseconds (a worker may; the main thread should not). */
export function sleep(ms: number): void {
  Atomics.wait(nap, 0, 0, ms);
}
