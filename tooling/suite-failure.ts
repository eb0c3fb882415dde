/** Why a grading suite produced no test results at all. */
export type SuiteFailureKind = 'hung' | 'exited' | 'crashed' | 'runaway';

export const SUITE_FAILURE_KINDS: readonly SuiteFailureKind[] = ['hung', 'exited', 'crashed', 'runaway'];

export class SuiteFailure extends Error {
  constructor(
    readonly kind: SuiteFailureKind,
    reason: string,
  ) {
    super(reason);
    this.name = 'SuiteFailure';
  }
}
