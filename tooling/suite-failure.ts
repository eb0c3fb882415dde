/** Why a grading suite produced no test results at all. */
export type SuiteFailureKind = 'hung' | 'exited' | 'crashed';

export const SUITE_FAILURE_KINDS: readonly SuiteFailureKind[] = ['hung', 'exited', 'crashed'];

export class SuiteFailure extends Error {
  constructor(
    readonly kind: SuiteFailureKind,
    reason: string,
    /** The tail of what the suite's process printed, to help explain the failure. */
    readonly output = '',
  ) {
    super(output.trim() ? `${reason}\n\nLast output before it stopped:\n${output.trim()}` : reason);
    this.name = 'SuiteFailure';
  }
}
