const { readdirSync, readFileSync } = require('node:fs');
const { availableParallelism } = require('node:os');
const { join, relative, sep } = require('node:path');

// A test file uses the run's DynamoDB Local when it names it (useEngine('DynamoDB Local')), runs on
// every engine (describeEachEngine, ENGINE_NAMES) or asks for its endpoint (sharedEndpoint).
const USES_DYNAMODB_LOCAL = /'DynamoDB Local'\)|describeEachEngine\(|ENGINE_NAMES|sharedEndpoint\(/;

/** Every test file under test/, relative to this directory, with forward slashes. */
function testFiles(dir = join(__dirname, 'test')) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return testFiles(path);
    return e.name.endsWith('.test.ts') ? [relative(__dirname, path).split(sep).join('/')] : [];
  });
}

const dynamoFiles = testFiles().filter((f) =>
  USES_DYNAMODB_LOCAL.test(readFileSync(join(__dirname, f), 'utf8')),
);
const escape = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** What both projects share. */
const project = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  transform: {
    '^.+\\.(t|j)sx?$': ['@swc/jest', { jsc: { target: 'es2022' }, module: { type: 'commonjs' } }],
  },
  // middy 6 ships ESM only: let swc transpile it and point jest at its entry file.
  transformIgnorePatterns: ['/node_modules/(?!@middy/)'],
  moduleNameMapper: { '^@middy/core$': '<rootDir>/node_modules/@middy/core/index.js' },
  setupFiles: ['<rootDir>/test/support/setup-env.ts'],
};

/** @type {import('jest').Config} */
module.exports = {
  // A file shares the cores with another worker (and, on a shared machine, with other jobs): a
  // timeout only catches a hang, so it is generous.
  testTimeout: 120000,
  // Most of a file's time is spent waiting on DynamoDB Local (Java), dynalite or a loopback server:
  // a worker per core keeps both cores busy (jest's default leaves one for itself, idle).
  maxWorkers: Math.max(2, availableParallelism()),
  // A worker that held megabytes of records (the scale and property suites) starts afresh rather
  // than carrying a large heap, whose collections slow every later file, into the next one.
  workerIdleMemoryLimit: '800MB',
  // The slowest files first, also on a fresh clone (no timings cached yet).
  testSequencer: '<rootDir>/test/support/sequencer.cjs',
  projects: [
    {
      ...project,
      displayName: 'unit',
      testMatch: ['**/*.test.ts'],
      testPathIgnorePatterns: ['/node_modules/', ...dynamoFiles.map((f) => `/${escape(f)}$`)],
    },
    {
      ...project,
      // Only a run that selects one of these files starts Java: see test/support/engines.ts.
      displayName: 'dynamodb-local',
      testMatch: dynamoFiles.map((f) => `<rootDir>/${f}`),
      globalSetup: '<rootDir>/test/global-setup.ts',
      globalTeardown: '<rootDir>/test/global-teardown.ts',
    },
  ],
};
