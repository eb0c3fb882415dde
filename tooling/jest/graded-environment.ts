/**
 * The test environment grading suites run in: Jest's Node environment, plus one duty. An exception
 * nothing caught (thrown from a timer, an event handler, a worker with no 'error' listener) or a
 * promise rejection nothing handled would end a plain Node program. Jest instead records it and lets
 * the test wait on, often until a timeout. Here it is reported to the isolated runner at once, which
 * marks the exercise as crashed and stops it.
 */
import type { Circus } from '@jest/types';
import NodeEnvironment from 'jest-environment-node';
import type { FileMessage } from './file-protocol';

export default class GradedEnvironment extends NodeEnvironment {
  handleTestEvent(event: Circus.Event): void {
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
