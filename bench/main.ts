// `npm run bench`: the poll bench (bench/run.ts, which rewrites BENCHMARKS.md), then the cold-start
// section (bench/cold-start.ts). `npm run bench -- cold-start [--runs N] [--out FILE]`: that section
// alone. Other arguments (`--quick`, `--out FILE`) go to both.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { coldStartMain } from './cold-start';

async function main(args: string[]): Promise<void> {
  if (args[0] === 'cold-start') return coldStartMain(args.slice(1));
  // run.ts starts on import and keeps its own process: run it as tsx runs it.
  const poll = spawnSync(process.execPath, [...process.execArgv, join(__dirname, 'run.ts'), ...args], {
    stdio: 'inherit',
  });
  if (poll.status !== 0) throw new Error(`bench/run.ts exited with ${poll.status ?? poll.signal}`);
  const out = args.indexOf('--out');
  return coldStartMain(out >= 0 ? ['--out', args[out + 1] ?? ''] : []);
}

main(process.argv.slice(2)).catch((err: unknown) => {
  process.stderr.write(`[bench] failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
