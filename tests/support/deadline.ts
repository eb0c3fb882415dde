/**
 * Bounded waiting for grading suites. Deadlines here only turn "never happened" into a clear failure;
 * they never decide an ordering (orderings are forced by the tests themselves with release signals).
 *
 * Every deadline is stretched on a machine with less CPU than the one the limits were set on (2 CPUs): the
 * grader computes the factor from the machine's CPU share (tooling/machine.ts) and passes it to every
 * graded process as WORKBOOK_TIME_SCALE. So a slow machine never turns a correct solution into a failure;
 * it only takes longer to report one that never finishes.
 */

/** How much this machine stretches every deadline: 1 on the reference machine, more on a smaller one. */
export const TIME_SCALE = Math.max(1, Number(process.env.WORKBOOK_TIME_SCALE) || 1);

/** A deadline of `ms` milliseconds on the reference machine, stretched for this one. */
export function scaled(ms: number): number {
  return Math.round(ms * TIME_SCALE);
}

/** `ms` (already scaled) in words for a message: "8 s", "750 ms". */
export function inWords(ms: number): string {
  return ms >= 1000 ? `${Math.round(ms / 100) / 10} s` : `${ms} ms`;
}

/** Resolves with `promise`, or rejects with `message` if it has not settled within `ms` (scaled). */
export async function within<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), scaled(ms));
  });
  try {
    return await Promise.race([promise, expired]);
  } finally {
    clearTimeout(timer);
  }
}

/** Polls `condition` every few milliseconds until it holds; rejects with `message` after `ms` (scaled). */
export async function waitUntil(condition: () => boolean, ms: number, message: string): Promise<void> {
  const give = Date.now() + scaled(ms);
  while (!condition()) {
    if (Date.now() > give) throw new Error(message);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** A promise with its resolve function exposed: a release signal the test fires when it chooses. */
export function gate<T = void>(): { promise: Promise<T>; open: (value: T) => void; opened: () => boolean } {
  let open!: (value: T) => void;
  let isOpen = false;
  const promise = new Promise<T>((resolve) => {
    open = (value) => {
      isOpen = true;
      resolve(value);
    };
  });
  return { promise, open, opened: () => isOpen };
}

/** Tracks whether a promise has settled, without changing it. */
export function track<T>(promise: Promise<T>): { promise: Promise<T>; settled: () => boolean } {
  let done = false;
  promise.then(
    () => (done = true),
    () => (done = true),
  );
  return { promise, settled: () => done };
}
