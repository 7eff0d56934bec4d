#!/usr/bin/env node
'use strict';
// The CLI runs from the TypeScript sources of a clone (tsx compiles on load), so `npm ci` is all it needs.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
require('tsx/cjs');
const { main } = require('../cli/main.ts');

main(process.argv.slice(2), {
  env: process.env,
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
}).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`hss-restore-alerts: ${err && err.message ? err.message : err}\n`);
    process.exitCode = 1;
  },
);
