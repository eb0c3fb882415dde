// Grading configuration: the same suites in tests/ grade whichever tree WORKBOOK_TARGET names.
// Tooling is TypeScript; tsx's hook lets Jest load the runner and reporter written in it.
require('tsx/cjs/api').register();
const { resolveTarget } = require('./tooling/target.ts');
const { tsxNodeOptions } = require('./tooling/jest/grader-environment.ts');

const { loadManifest, ManifestError, WORKBOOK_ROOT } = require('./tooling/manifest.ts');

// A broken manifest or target stops grading at once, with the file and field named, not a stack trace.
let target;
try {
  loadManifest();
  target = resolveTarget();
} catch (error) {
  if (!(error instanceof ManifestError) && !/WORKBOOK_TARGET/.test(String(error))) throw error;
  console.error(`\n${error.message}\n`);
  process.exit(2);
}
process.env.NODE_OPTIONS = tsxNodeOptions();
// Start the first suite's process now, so that it loads while Jest is still starting.
require('./tooling/jest/warm-processes.ts').warmUp(1);

/** @type {import('jest').Config} */
module.exports = {
  rootDir: __dirname,
  // The suites live in the workbook root (this folder, unless WORKBOOK_ROOT names another tree).
  roots: [`${WORKBOOK_ROOT}/tests`, target.dir],
  testMatch: [`${WORKBOOK_ROOT}/tests/*/*/*.test.ts`],
  moduleNameMapper: { '^@target/(.*)$': `${target.dir}/$1` },
  transform: { '^.+\\.ts$': ['@swc/jest', { jsc: { target: 'es2023' } }] },
  testEnvironment: '<rootDir>/tooling/jest/graded-environment.ts',
  runner: '<rootDir>/tooling/jest/isolated-runner.ts',
  reporters: ['<rootDir>/tooling/jest/scorecard-reporter.ts'],
  maxWorkers: 2,
  testTimeout: 10000,
  cacheDirectory: '<rootDir>/node_modules/.cache/jest',
  watchPathIgnorePatterns: ['<rootDir>/.workbook/', '<rootDir>/node_modules/'],
};
