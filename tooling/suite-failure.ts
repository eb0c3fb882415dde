/** Why a grading suite did not finish, or was not run at all. */
export type SuiteFailureKind = 'hung' | 'exited' | 'crashed' | 'runaway' | 'not submitted' | 'out of time';

export const SUITE_FAILURE_KINDS: readonly SuiteFailureKind[] = [
  'hung',
  'exited',
  'crashed',
  'runaway',
  'not submitted',
  'out of time',
];

export class SuiteFailure extends Error {
  constructor(
    readonly kind: SuiteFailureKind,
    reason: string,
  ) {
    super(reason);
    this.name = 'SuiteFailure';
  }
}
