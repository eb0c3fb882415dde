/**
 * Bounded waiting for grading suites. Deadlines here only turn "never happened" into a clear failure;
 * they never decide an ordering (orderings are forced by the tests themselves with release signals).
 */

/** Resolves with `promise`, or rejects with `message` if it has not settled within `ms`. */
export async function within<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  try {
    return await Promise.race([promise, expired]);
  } finally {
    clearTimeout(timer);
  }
}

/** Polls `condition` every few milliseconds until it holds; rejects with `message` after `ms`. */
export async function waitUntil(condition: () => boolean, ms: number, message: string): Promise<void> {
  const give = Date.now() + ms;
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
