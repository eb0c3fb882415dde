/**
 * Errors in a grading suite. Jest runs each suite in its own realm (a `vm` context), so an error made
 * outside it (by Node itself, as a spawn or clone error is; in another thread; or in the learner's module
 * if it is loaded outside the sandbox) is a real Error that fails `instanceof Error`. Every check of an
 * error that learner code passes along uses these, so a correct `child.on('error', reject)` is never
 * rejected for its realm.
 */
import { types } from 'node:util';

/** True for any Error, from whichever realm it was made in. */
export function isError(value: unknown): value is Error {
  return value instanceof Error || types.isNativeError(value);
}

/** How a thrown or rejected value reads in a failure message: `Name: message`, or the value shown. */
export function describeError(value: unknown): string {
  if (isError(value)) return `${value.name}: ${value.message}`;
  return `${typeof value === 'string' ? JSON.stringify(value) : String(value)} (not an Error)`;
}
