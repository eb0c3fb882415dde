/**
 * What a suite's process reported about its tests before it stopped: Jest's workers forward
 * `test-case-start` and `test-case-result` events to their parent as they happen. When a suite hangs or
 * dies, this says which test it was in and what had already failed, so the learner can find the cause, and
 * keeps the results of the tests that finished, which are graded as they ended.
 */
import type { AssertionResult } from '@jest/test-result';
import { cleanFailureMessage } from '../grades';

/** jest-worker's tag for a custom message from a worker (PARENT_MESSAGE_CUSTOM). */
const CUSTOM_MESSAGE = 3;

type TestCaseInfo = Partial<AssertionResult>;

export class SuiteProgress {
  #running: string | undefined;
  #firstFailure: string | undefined;
  readonly #finished: AssertionResult[] = [];

  /** Records a message from the suite's process; ignores anything that is not a test event. */
  observe(message: unknown): void {
    if (!Array.isArray(message) || message[0] !== CUSTOM_MESSAGE || !Array.isArray(message[1])) return;
    const [event, payload] = message[1] as [unknown, unknown];
    const test = (Array.isArray(payload) ? payload[1] : undefined) as TestCaseInfo | undefined;
    if (!test) return;
    const name = test.fullName ?? test.title ?? 'a test';
    if (event === 'test-case-start') this.#running = name;
    if (event === 'test-case-result') {
      this.#running = undefined;
      if (typeof test.title === 'string' && Array.isArray(test.ancestorTitles))
        this.#finished.push(test as AssertionResult);
      if (test.status === 'failed' && this.#firstFailure === undefined) {
        this.#firstFailure = `"${name}": ${cleanFailureMessage((test.failureMessages ?? []).join('\n'))}`;
      }
    }
  }

  /** Sentences to add to a hung/exited/crashed report; empty when nothing was reported. */
  describe(): string {
    const parts: string[] = [];
    if (this.#running)
      parts.push(`It stopped during the test "${this.#running}" (${this.#finished.length} finished before it).`);
    if (this.#firstFailure) parts.push(`Before that, a test had failed: ${this.#firstFailure}`);
    return parts.join('\n');
  }

  /** The results of the tests that finished, in the order they finished. */
  finished(): AssertionResult[] {
    return [...this.#finished];
  }
}
