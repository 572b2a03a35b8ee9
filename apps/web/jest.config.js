// The browser tests drive Debian's Chromium (playwright-core) against a real embedded Tandem.
/** @type {import('jest').Config} */
const preset = require('../../jest.preset.js');
module.exports = {
  ...preset,
  transform: { '^.+\\.ts$': ['ts-jest', { diagnostics: false, tsconfig: '<rootDir>/test/tsconfig.json' }] },
  testTimeout: 120000,
  globalSetup: '<rootDir>/test/build-once.js',
};
