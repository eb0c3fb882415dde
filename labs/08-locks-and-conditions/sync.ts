/**
 * The locks the chapter builds on Atomics.wait and Atomics.notify, in one place, for its labs to import:
 * a futex-style mutex (three states, after Ulrich Drepper's "Futexes Are Tricky") and a condition variable.
 * Each lives in one or two Int32 cells of a SharedArrayBuffer, so every thread that has the buffer can use it.
 * Not a lab itself.
 */

export const UNLOCKED = 0; // nobody holds the mutex
export const LOCKED = 1; // held, and nobody is waiting for it
export const CONTENDED = 2; // held, and someone may be asleep waiting for it

/** Takes the mutex in cell `i` of `m`, sleeping (not spinning) while another thread holds it. */
export function lock(m: Int32Array, i: number): void {
  let state = Atomics.compareExchange(m, i, UNLOCKED, LOCKED);
  if (state === UNLOCKED) return; // the fast path: it was free, and now it is ours
  if (state !== CONTENDED) state = Atomics.exchange(m, i, CONTENDED); // announce: a waiter is coming
  while (state !== UNLOCKED) {
    Atomics.wait(m, i, CONTENDED); // sleep while the cell still says CONTENDED
    state = Atomics.exchange(m, i, CONTENDED); // took it if it was UNLOCKED; stays CONTENDED, to be safe
  }
}

/** Releases the mutex in cell `i` of `m`, waking one sleeper only if one may be asleep. */
export function unlock(m: Int32Array, i: number): void {
  if (Atomics.sub(m, i, 1) !== LOCKED) {
    // it was CONTENDED: somebody may be asleep in lock()
    Atomics.store(m, i, UNLOCKED);
    Atomics.notify(m, i, 1);
  }
}

/**
 * Waits on the condition variable in cell `cond` (a sequence number), with the mutex in cell `mutex` held:
 * releases the mutex, sleeps until a signal or broadcast (or `timeoutMs`), and takes the mutex again before
 * it returns. It can return without the condition being true: always call it in a `while` loop.
 */
export function condWait(v: Int32Array, cond: number, mutex: number, timeoutMs = Infinity): string {
  const seq = Atomics.load(v, cond); // read BEFORE unlocking: a signal after this point changes it
  unlock(v, mutex);
  const result = Atomics.wait(v, cond, seq, timeoutMs); // 'not-equal' at once if a signal came meanwhile
  lock(v, mutex);
  return result;
}

/** Wakes one thread waiting on the condition variable in cell `cond`. */
export function condSignal(v: Int32Array, cond: number): void {
  Atomics.add(v, cond, 1);
  Atomics.notify(v, cond, 1);
}

/** Wakes every thread waiting on the condition variable in cell `cond`. */
export function condBroadcast(v: Int32Array, cond: number): void {
  Atomics.add(v, cond, 1);
  Atomics.notify(v, cond);
}

const nap = new Int32Array(new SharedArrayBuffer(4));
/** Puts this thread to sleep for `ms` milliseconds without using the CPU (nobody ever notifies `nap`). */
export function sleep(ms: number): void {
  Atomics.wait(nap, 0, 0, ms);
}
