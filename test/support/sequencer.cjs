// The order jest starts test files in. Jest runs the slowest first when its cache knows their
// times, and otherwise (a fresh clone, as in CI) the largest first; but our slowest files are short
// (a scale scenario is 40 lines), so they would start last and leave one worker running alone.
'use strict';
/* global module, require */ // CommonJS: jest require()s its sequencer untransformed.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { relative } = require('node:path');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { default: Sequencer } = require('@jest/test-sequencer');

/**
 * Seconds each of the slowest files took in one jest process on a quiet machine (`npx jest --json`,
 * endTime - startTime), for runs without timings; a stale figure only changes the order, never a result.
 */
const SECONDS = {
  'test/reliability/fault-matrix.test.ts': 58,
  'test/reliability/crash.test.ts': 34,
  'test/serverless.test.ts': 24,
  'test/notify/conformance.test.ts': 19,
  'test/e2e/budgeted-poll.test.ts': 13,
  'test/e2e/gaps-delivery.test.ts': 11,
  'test/outbox/destination-degraded.test.ts': 10,
  'test/e2e/budgeted-incident.test.ts': 10,
  'test/cli/status-scopes.test.ts': 9,
  'test/outbox/crash.test.ts': 8,
  'test/handler.test.ts': 8,
};

/** Failed first, then the cached time, else the figure above, else the larger file first. */
module.exports = class SlowestFirst extends Sequencer {
  sort(tests) {
    const known = (t) => SECONDS[relative(t.context.config.rootDir, t.path).split('\\').join('/')];
    // jest caches milliseconds.
    const ms = (t) => this.time(t) ?? (known(t) ?? 0) * 1000;
    const size = (t) => t.context.hasteFS.getSize(t.path) ?? 0;
    return [...tests].sort(
      (a, b) => Number(this.hasFailed(b)) - Number(this.hasFailed(a)) || ms(b) - ms(a) || size(b) - size(a),
    );
  }
};
