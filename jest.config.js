// Grading configuration: the same suites in tests/ grade whichever tree WORKBOOK_TARGET names.
// Tooling is TypeScript; tsx's hook lets Jest load the runner and reporter written in it.
require('tsx/cjs/api').register();
const { settings } = require('./tooling/settings.ts');
const { graderEnvironment } = require('./tooling/jest/grader-environment.ts');
const { WORKBOOK_ROOT } = require('./tooling/manifest.ts');

// Read once here; the runner and the reporter, in this same process, get the same settings. A broken
// manifest, target or setting stops grading at once, in one line that names what is wrong.
let run;
try {
  run = settings();
} catch (error) {
  require('./tooling/refused-run.ts').refuseRun(error);
}
// Every graded process (suites, and the workers and children they start) inherits this environment.
Object.assign(process.env, graderEnvironment(run.machine.timeScale));
// Start the first suite's process now, so that it loads while Jest is still starting.
require('./tooling/jest/warm-processes.ts').warmUp(1);

/** @type {import('jest').Config} */
module.exports = {
  rootDir: __dirname,
  // The suites live in the workbook root (this folder, unless WORKBOOK_ROOT names another tree).
  roots: [`${WORKBOOK_ROOT}/tests`, run.target.dir],
  testMatch: [`${WORKBOOK_ROOT}/tests/*/*/*.test.ts`],
  moduleNameMapper: { '^@target/(.*)$': `${run.target.dir}/$1` },
  transform: { '^.+\\.ts$': ['@swc/jest', { jsc: { target: 'es2023' } }] },
  testEnvironment: '<rootDir>/tooling/jest/graded-environment.ts',
  runner: '<rootDir>/tooling/jest/isolated-runner.ts',
  reporters: ['<rootDir>/tooling/jest/scorecard-reporter.ts'],
  // Suites graded at once: 2, or 1 on a machine with less than 2 CPUs (a quota, taskset, a container).
  maxWorkers: run.machine.lanes,
  testTimeout: Math.round(10000 * run.machine.timeScale),
  cacheDirectory: '<rootDir>/node_modules/.cache/jest',
  watchPathIgnorePatterns: ['<rootDir>/.workbook/', '<rootDir>/node_modules/'],
};
