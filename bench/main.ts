// `npm run bench`: the poll bench (bench/run.ts: three pollers, many scopes, the budget's and the
// outbox's cost), then the cold-start section (bench/cold-start.ts); both write BENCHMARKS.md.
// `npm run bench -- cold-start [--runs N] [--out FILE]`: that section alone.
// `npm run bench -- --quick [--out FILE]`: the quiet 1k and 10k windows only, for a smoke test.
import { join, resolve } from 'node:path';
import { ROOT } from './bundle';
import { coldStartMain } from './cold-start';
import { pollBenchMain } from './run';

async function main(args: string[]): Promise<void> {
  if (args[0] === 'cold-start') return coldStartMain(args.slice(1));
  const out = args.indexOf('--out');
  const outFile = out >= 0 ? resolve(args[out + 1] ?? '') : join(ROOT, 'BENCHMARKS.md');
  await pollBenchMain(args, outFile);
  return coldStartMain(['--out', outFile]);
}

main(process.argv.slice(2)).catch((err: unknown) => {
  process.stderr.write(
    `[bench] failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
  );
  process.exitCode = 1;
});
