/**
 * What each suite's process printed (the tail of its stdout and stderr), by test file path. The runner
 * fills it and the scorecard reporter reads it, both in the Jest process: a learner sees their program's
 * output only for the exercises that did not pass, so it never garbles the scorecard.
 */
export const suiteOutput = new Map<string, string>();
