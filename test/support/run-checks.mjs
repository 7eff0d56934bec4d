#!/usr/bin/env node
// Runs the named npm scripts side by side, one per core (each is a single-threaded tool: ESLint,
// Prettier, tsc, knip, dependency-cruiser), longest first as given; prints each one's output whole
// once it ends, and exits 1 naming every script that failed. `npm test` runs the static checks this
// way before jest, in about half the time of running them one after another.
/* global console */
import { Buffer } from 'node:buffer';
import { spawn } from 'node:child_process';
import { availableParallelism } from 'node:os';
import process from 'node:process';

const scripts = process.argv.slice(2);
if (scripts.length === 0) {
  console.error('usage: run-checks.mjs <npm script>...');
  process.exit(2);
}
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

/** Runs `npm run -s <script>`, its stdout and stderr kept together in order; resolves its exit code. */
function run(script) {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(npm, ['run', '-s', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    const output = [];
    child.stdout.on('data', (chunk) => output.push(chunk));
    child.stderr.on('data', (chunk) => output.push(chunk));
    child.on('error', (err) => output.push(Buffer.from(`${err.message}\n`)));
    child.on('close', (code) => {
      const seconds = ((Date.now() - started) / 1000).toFixed(1);
      const text = Buffer.concat(output).toString().trimEnd();
      console.log(`> ${script}: ${code === 0 ? 'ok' : `FAILED (exit ${code})`} in ${seconds} s`);
      if (text) console.log(text);
      resolve(code ?? 1);
    });
  });
}

async function main() {
  const queue = [...scripts];
  const failed = [];
  const lane = async () => {
    for (let script = queue.shift(); script !== undefined; script = queue.shift()) {
      if ((await run(script)) !== 0) failed.push(script);
    }
  };
  const lanes = Math.max(2, availableParallelism());
  await Promise.all(Array.from({ length: Math.min(lanes, scripts.length) }, lane));
  if (failed.length > 0) {
    console.error(`checks failed: ${failed.join(', ')}`);
    process.exit(1);
  }
}

void main();
