/**
 * The test environment grading suites run in: Jest's Node environment, plus one duty. An exception
 * nothing caught (thrown from a timer, an event handler, a worker with no 'error' listener) or a
 * promise rejection nothing handled would end a plain Node program. Jest instead records it and lets
 * the test wait on, often until a timeout. Here it is reported to the isolated runner at once, which
 * marks the exercise as crashed and stops it.
 *
 * With WORKBOOK_STOP_AT_FIRST_FAILURE=1 (set by mutation testing, where one failure decides), the tests
 * after the first that fails are skipped.
 */
import type { Circus } from '@jest/types';
import NodeEnvironment from 'jest-environment-node';
import type { FileMessage } from './file-protocol';

const STOP_AT_FIRST_FAILURE = process.env.WORKBOOK_STOP_AT_FIRST_FAILURE === '1';

export default class GradedEnvironment extends NodeEnvironment {
  private failed = false;

  handleTestEvent(event: Circus.Event): void {
    if (STOP_AT_FIRST_FAILURE) {
      if (event.name === 'test_done' && event.test.errors.length > 0) this.failed = true;
      // jest-circus reads the mode after this event, so the test is skipped.
      if (event.name === 'test_start' && this.failed) event.test.mode = 'skip';
    }
    if (event.name !== 'error' || !process.send) return;
    const error = event.error as { stack?: unknown } | undefined;
    const message: FileMessage = {
      kind: 'uncaught',
      rejection: event.promise !== undefined,
      stack: String(error?.stack ?? error),
    };
    process.send(message);
  }
}
