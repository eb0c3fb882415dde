/**
 * Exercise 05-threads/parallel-sum — chapter: chapters/05-threads.md#exercise-parallel-sum
 *
 * GIVEN: you do not need to change this file. It is the built-in work module, the work parallelSum does
 * when it is given no other work file: a per-element value that is slow on purpose (roughly half a
 * microsecond of CPU per element: a million elements keep a core busy for about half a second), so that
 * splitting a large range over several threads pays off.
 *
 * A work module is any CommonJS (.js) or TypeScript (.ts) file that exports
 * `sumSlice(start, end, context)` (see WorkModule in index.ts). This one ignores its context.
 */

/** Rounds of mixing per element: what makes each element cost CPU time. */
const ROUNDS = 64;

/** The value of element `i`: a 32-bit hash of `i`, an integer with 0 ≤ value < 2 ** 32. */
export function elementValue(i: number): number {
  let hash = i | 0;
  for (let round = 0; round < ROUNDS; round += 1) {
    hash = Math.imul(hash ^ (hash >>> 16), 0x45d9f3b);
    hash = (hash ^ (hash >>> 13)) + round;
  }
  return hash >>> 0;
}

/** Elements added up as a plain number before it is moved into the bigint: 2 ** 20 values < 2 ** 32 stay exact. */
const CHUNK = 2 ** 20;

/**
 * The exact sum of `elementValue(i)` over the integers start ≤ i < end (0n when end ≤ start). Runs
 * synchronously on the calling thread.
 */
export function sumSlice(start: number, end: number): bigint {
  let total = 0n;
  let chunk = 0;
  let inChunk = 0;
  for (let i = start; i < end; i += 1) {
    chunk += elementValue(i);
    inChunk += 1;
    if (inChunk === CHUNK) {
      total += BigInt(chunk);
      chunk = 0;
      inChunk = 0;
    }
  }
  return total + BigInt(chunk);
}
