/** Counts the primes below `limit` by plain trial division: deliberately CPU-heavy, no I/O at all. */
export function countPrimesBelow(limit: number): number {
  let count = 0;
  for (let n = 2; n < limit; n++) {
    let prime = true;
    for (let d = 2; d * d <= n; d++) {
      if (n % d === 0) {
        prime = false;
        break;
      }
    }
    if (prime) count++;
  }
  return count;
}
