/**
 * What GitHub Classroom's grading reporter (`classroom-resources/autograding-grading-reporter@v1`) reads:
 * for each runner named in its `runners` input, the environment variable `<RUNNER ID IN CAPITALS>_RESULTS`
 * holding base64 of one JSON result. The schema holds exactly the fields the reporter's source reads (its
 * src/main.js, console-results.js, notify-classroom.js and helpers/test-helpers.js at the v1 tag), plus
 * `version`, which every classroom-resources grader writes and the reporter ignores.
 */
import { z } from 'zod';

/** `status`: main.js fails the job on any runner's 'fail' ("Some tests failed."), then on 'error'. */
const status = z.enum(['pass', 'fail', 'error']);

export const reporterTestSchema = z.strictObject({
  /** Printed after ✅ or ❌ (console-results.js). */
  name: z.string().min(1),
  /** 'pass' counts as passed; 'error' prints `message` instead of the name; anything else is ❌. */
  status,
  /** The grade: notify-classroom.js adds up every test's score, as is, into the points it reports. */
  score: z.number().finite().nonnegative(),
  /** Printed only for a test whose status is 'error'. */
  message: z.string(),
  /** Printed under the test as "Test code:" when not empty. */
  test_code: z.string(),
  /** Printed as " - line N" after the name unless it is 0 (a missing one prints "line undefined"). */
  line_no: z.number().int().nonnegative(),
});

export const reporterResultSchema = z
  .strictObject({
    version: z.literal(1),
    status,
    /**
     * The runner's points possible. notify-classroom.js skips a runner whose max_score is 0 or missing, so
     * its tests' scores would count for nothing.
     */
    max_score: z.number().finite().positive(),
    /** At least one: the console's per-runner score divides by the number of tests. */
    tests: z.array(reporterTestSchema).min(1),
  })
  .refine((result) => reportedPoints([result]).totalPoints <= result.max_score + 1e-9, {
    message: 'the tests score more points than max_score',
    path: ['tests'],
  });

export type ReporterTest = z.infer<typeof reporterTestSchema>;
export type ReporterResult = z.infer<typeof reporterResultSchema>;

/** The value of `<RUNNER>_RESULTS` (and of a grader's `result` output): base64 of the JSON. */
export function encodeReporterResult(result: ReporterResult): string {
  return Buffer.from(JSON.stringify(result), 'utf8').toString('base64');
}

/** Decodes and validates `<RUNNER>_RESULTS` as main.js decodes it: base64, UTF-8, JSON. */
export function decodeReporterResult(encoded: string): ReporterResult {
  return reporterResultSchema.parse(JSON.parse(Buffer.from(encoded, 'base64').toString('utf-8')));
}

/**
 * The points the reporter sends GitHub Classroom (its "Autograding report" annotation), computed as
 * notify-classroom.js computes them: over every runner with a max_score, the sum of max_score and the
 * sum of its tests' scores.
 */
export function reportedPoints(results: { max_score: number; tests: { score: number }[] }[]): {
  totalPoints: number;
  maxPoints: number;
} {
  let totalPoints = 0;
  let maxPoints = 0;
  for (const result of results) {
    if (!result.max_score) continue;
    maxPoints += result.max_score;
    for (const test of result.tests) totalPoints += test.score;
  }
  return { totalPoints, maxPoints };
}
