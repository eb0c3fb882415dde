// The tooling's own unit tests (manifest, grades, results file, consistency): plain Jest, no grading.
/** @type {import('jest').Config} */
module.exports = {
  rootDir: __dirname,
  roots: ['<rootDir>/tooling'],
  testMatch: ['<rootDir>/tooling/tests/*.test.ts'],
  transform: { '^.+\\.ts$': ['@swc/jest', { jsc: { target: 'es2023' } }] },
  testEnvironment: 'node',
  cacheDirectory: '<rootDir>/node_modules/.cache/jest-tooling',
};
