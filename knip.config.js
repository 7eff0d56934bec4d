// Unused files, exports and dependencies (`npm run unused`, part of `npm test`): both reports must be
// empty. The default run covers the whole repository: an export used only in its own file is
// unused (drop the `export`). The `--production` run sees only what ships and what the CLI runs
// (lib/, handlers/, cli/, bin/): a file or export of lib/ that only tests, local tools or the bench
// use is reported there, since lib/ ships in the bundle; such helpers live in local/ or test/.
// Exports used in their own file and by tests are test seams: the production run lets them be.
const production = process.argv.includes('--production');

/** @type {import('knip').KnipConfig} */
module.exports = {
  // The real entry points (`!`: production ones). Besides these, knip finds package.json's bin (the
  // CLI) and scripts (local/run.ts, bench/main.ts), jest's tests and setup files, eslint's config.
  entry: [
    // The Lambda handler (serverless.yml functions.*.handler).
    'handlers/*.ts!',
    // osls plugins and the esbuild plugins serverless.yml loads.
    'deploy/*.cjs!',
    'bundle/*.cjs!',
    // Bundled and run as children by bench/children.ts (by path, which knip cannot follow).
    'bench/child.ts',
    'bench/legacy-child.ts',
  ],
  project: [
    'lib/**/*.ts!',
    'handlers/**/*.ts!',
    'cli/**/*.ts!',
    'bin/*.js!',
    'deploy/*.cjs!',
    'bundle/*.cjs!',
    'local/**/*.ts',
    'bench/**/*.ts',
    'test/**/*.ts',
  ],
  ignoreExportsUsedInFile: production,
  ignoreDependencies: [
    // Run by the tests through its bin (test/support/serverless.ts), never imported.
    'osls',
    // The previous release, resolved by bench/children.ts at bench time.
    'legacy-release',
  ],
};
