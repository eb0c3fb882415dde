// Worker entry: counts the primes below workerData (a number), posts the count and when it counted, and ends.
import { parentPort, workerData } from 'node:worker_threads';
import { countPrimesBelow } from './primes';

export interface Counted {
  count: number;
  /** Date.now() when counting began and ended: one clock that every thread shares. */
  began: number;
  ended: number;
}

const began = Date.now();
const count = countPrimesBelow(workerData as number);
parentPort!.postMessage({ count, began, ended: Date.now() } satisfies Counted);
