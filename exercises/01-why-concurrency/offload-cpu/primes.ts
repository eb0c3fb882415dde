/**
 * Exercise 01-why-concurrency/offload-cpu — chapter: chapters/01-why-concurrency.md#exercise-offload-cpu
 *
 * GIVEN: you do not need to change this file. It is the "expensive request" of the exercise: plain,
 * deliberately slow trial division, so that a large limit keeps a CPU busy for a noticeable time.
 */

/**
 * Counts the prime numbers below `limit` (so `countPrimesBelow(10)` is 4: 2, 3, 5 and 7), by trying every
 * divisor up to the square root of each number. Runs synchronously on the calling thread: the work grows
 * a little faster than `limit` itself (about `limit ** 1.5`), so a few million keeps a core busy for a
 * good fraction of a second.
 *
 * @throws RangeError when `limit` is not a non-negative safe integer (for example -1, 1.5 or NaN).
 */
export function countPrimesBelow(limit: number): number {
  if (!Number.isSafeInteger(limit) || limit < 0) {
    throw new RangeError(`countPrimesBelow: the limit must be a non-negative safe integer, got ${limit}`);
  }
  let count = 0;
  for (let candidate = 2; candidate < limit; candidate += 1) {
    let prime = true;
    for (let divisor = 2; divisor * divisor <= candidate; divisor += 1) {
      if (candidate % divisor === 0) {
        prime = false;
        break;
      }
    }
    if (prime) count += 1;
  }
  return count;
}
