// `npm run bench -- cold-start`: how long a fresh `node` takes to load the deployed handler bundle,
// paired with the AWS SDK clients it loads alone and with a bare `node -e ''`, interleaved so that
// machine noise hits all alike. Writes the "## Cold start" section of BENCHMARKS.md (or `--out FILE`).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { format, resolveConfig } from 'prettier';
import { median, readServerlessEsbuild, ROOT, serverlessEsbuildOptions } from './bundle';

/** What the handler needs to stay below bare node, the AWS SDK aside (issue 14). */
const OUR_PART_TARGET_MS = 40;
export const COLD_START_BEGIN = '<!-- cold-start:begin -->';
export const COLD_START_END = '<!-- cold-start:end -->';

/** Something timed: `code` run by `node -e`, with extra environment. */
interface Probe {
  id: 'bare' | 'sdk' | 'bundle' | 'bundleMaps' | 'ssm';
  label: string;
  code: string;
  env?: NodeJS.ProcessEnv;
}

interface ColdStartFacts {
  runs: number;
  machine: { cpu: string; cores: number; node: string; date: string; loadAverage: number };
  bundle: { options: string; jsBytes: number; gzipBytes: number; mapBytes: number };
  /** The SDK clients the bundle requires while loading (the rest it requires later, if ever). */
  sdkAtLoad: string[];
  /** Median wall ms per probe. */
  medians: Record<Probe['id'], number>;
  /** Median of the per-run differences between two probes measured in the same round. */
  paired: { ours: number; sourceMaps: number; sdk: number };
  /** Median ms to format the first stack trace of an error thrown in lib/, with source maps on. */
  firstStackMs: number;
  labels: Record<Probe['id'], string>;
}

/** Builds the deployed bundle (serverless.yml's custom.esbuild, plugins included) into `dir`. */
async function buildDeployed(dir: string): Promise<{ path: string; options: string }> {
  const options = serverlessEsbuildOptions(readServerlessEsbuild());
  await build({
    ...options,
    absWorkingDir: ROOT,
    entryPoints: ['handlers/poll.ts'],
    outdir: dir,
    logLevel: 'silent',
  });
  const shown = { ...options, plugins: options.plugins?.map((p) => p.name) };
  return { path: join(dir, 'poll.js'), options: JSON.stringify(shown) };
}

// A clean environment: no `_PARAM` variable (so the SSM client is not required), no NODE_OPTIONS.
const ENV: NodeJS.ProcessEnv = { PATH: process.env.PATH, AWS_REGION: 'us-east-1', NODE_NO_WARNINGS: '1' };

function time(probe: Probe, cwd: string): number {
  const started = performance.now();
  const child = spawnSync(process.execPath, ['-e', probe.code], {
    cwd,
    env: { ...ENV, ...probe.env },
    encoding: 'utf8',
  });
  const ms = performance.now() - started;
  if (child.status !== 0)
    throw new Error(`${probe.label} failed: ${child.stderr.split('\n').find(Boolean) ?? child.status}`);
  return ms;
}

/**
 * Milliseconds to format the first stack trace of a failed poll (a ConfigError from lib/config/)
 * in a fresh node with source maps on: when Node decodes the map's mappings.
 */
function firstStackTrace(bundle: string, cwd: string): number {
  const code = `const { handler } = require(${JSON.stringify(bundle)});
handler({}, { functionName: 'poll', awsRequestId: 'r', getRemainingTimeInMillis: () => 1000 }).catch((err) => {
  const started = performance.now();
  if (!/lib\\/config\\/[\\w-]+\\.ts:\\d+/.test(err.stack)) throw new Error('no lib/config/*.ts:line in ' + err.stack);
  console.log(performance.now() - started);
});`;
  const env = {
    ...ENV,
    NODE_OPTIONS: '--enable-source-maps',
    // The handler passes LOG_LEVEL to its Logger; stdout must hold only the measured number.
    LOG_LEVEL: 'SILENT',
    POWERTOOLS_LOG_LEVEL: 'SILENT',
    POWERTOOLS_METRICS_DISABLED: 'true',
  };
  const child = spawnSync(process.execPath, ['-e', code], { cwd, env, encoding: 'utf8' });
  const ms = Number(child.stdout.trim());
  if (child.status !== 0 || !Number.isFinite(ms))
    throw new Error(`first stack trace: ${child.stderr.split('\n').find(Boolean) ?? child.stdout}`);
  return ms;
}

/** The `@aws-sdk/client-*` packages a fresh node has loaded after requiring `bundle`. */
function sdkClientsLoadedBy(bundle: string, cwd: string): string[] {
  const code = `require(${JSON.stringify(bundle)});
console.log(JSON.stringify([...new Set(Object.keys(require.cache).map((k) => /node_modules\\/(@aws-sdk\\/client-[^/]+)\\//.exec(k)?.[1]).filter(Boolean))].sort()));`;
  const child = spawnSync(process.execPath, ['-e', code], { cwd, env: ENV, encoding: 'utf8' });
  if (child.status !== 0)
    throw new Error(`the bundle did not load: ${child.stderr.split('\n').find(Boolean)}`);
  return JSON.parse(child.stdout) as string[];
}

async function measureColdStart(runs: number): Promise<ColdStartFacts> {
  const dir = mkdtempSync(join(tmpdir(), 'hss-cold-start-'));
  try {
    const { path, options } = await buildDeployed(join(dir, 'handlers'));
    // The bundle requires the SDK at run time, as the Lambda runtime provides it: resolve it here.
    symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
    const sdkAtLoad = sdkClientsLoadedBy(path, dir);
    const requireAll = (modules: string[]) => modules.map((m) => `require(${JSON.stringify(m)})`).join(';');
    const probes: Probe[] = [
      { id: 'bare', label: "bare `node -e ''`", code: '' },
      {
        id: 'sdk',
        label: `the SDK clients it loads, alone (${sdkAtLoad.map((m) => `\`${m}\``).join(', ')})`,
        code: requireAll(sdkAtLoad),
      },
      { id: 'bundle', label: 'the handler bundle', code: `require(${JSON.stringify(path)})` },
      {
        id: 'bundleMaps',
        label: 'the handler bundle with `--enable-source-maps` (as deployed)',
        code: `require(${JSON.stringify(path)})`,
        env: { NODE_OPTIONS: '--enable-source-maps' },
      },
      {
        id: 'ssm',
        label:
          '`@aws-sdk/client-ssm` alone (required at the first invocation when a `_PARAM` variable names a secret)',
        code: requireAll(['@aws-sdk/client-ssm']),
      },
    ];
    const samples = Object.fromEntries(probes.map((p) => [p.id, [] as number[]])) as Record<
      Probe['id'],
      number[]
    >;
    // One unreported round warms the page cache; then each round runs every probe, in a rotating order.
    for (const p of probes) time(p, dir);
    for (let round = 0; round < runs; round++) {
      for (let k = 0; k < probes.length; k++) {
        const p = probes[(round + k) % probes.length]!;
        samples[p.id].push(time(p, dir));
      }
    }
    const firstStackMs = median(Array.from({ length: 7 }, () => firstStackTrace(path, dir)));
    const pairedMedian = (a: Probe['id'], b: Probe['id']) =>
      median(samples[a].map((ms, i) => ms - samples[b][i]!));
    const mapPath = `${path}.map`;
    return {
      runs,
      machine: {
        cpu: cpus()[0]?.model ?? 'unknown',
        cores: cpus().length,
        node: process.version,
        date: new Date().toISOString(),
        loadAverage: loadavg()[0] ?? 0,
      },
      bundle: {
        options,
        jsBytes: statSync(path).size,
        gzipBytes: gzipSync(readFileSync(path)).length,
        mapBytes: existsSync(mapPath) ? statSync(mapPath).size : 0,
      },
      sdkAtLoad,
      medians: Object.fromEntries(probes.map((p) => [p.id, median(samples[p.id])])) as Record<
        Probe['id'],
        number
      >,
      paired: {
        ours: pairedMedian('bundle', 'sdk'),
        sourceMaps: pairedMedian('bundleMaps', 'bundle'),
        sdk: pairedMedian('sdk', 'bare'),
      },
      firstStackMs,
      labels: Object.fromEntries(probes.map((p) => [p.id, p.label])) as Record<Probe['id'], string>,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const ms = (n: number) => n.toFixed(1);
const kb = (n: number) => (n / 1000).toFixed(1);

/** The "## Cold start" section, between markers so that a rerun replaces it. Pure. */
function renderColdStart(f: ColdStartFacts): string {
  const met = f.paired.ours <= OUR_PART_TARGET_MS;
  const row = (id: Probe['id']) =>
    `| ${f.labels[id]} | ${ms(f.medians[id])} | ${id === 'bare' ? '—' : ms(f.medians[id] - f.medians.bare)} |`;
  return [
    COLD_START_BEGIN,
    '## Cold start',
    '',
    '<!-- Generated by `npm run bench -- cold-start` (bench/cold-start.ts); edit the bench, not this section. -->',
    '',
    `- **${met ? 'Met' : 'Missed'}.** **Our part (everything but the AWS SDK) at most ${OUR_PART_TARGET_MS} ms above bare node**: ${ms(f.paired.ours)} ms (bundle − the SDK clients it loads, median of ${f.runs} paired runs).`,
    `- Machine: ${f.machine.cpu}, ${f.machine.cores} cores, Node ${f.machine.node} (the Lambda runs nodejs24.x); ${f.machine.date}; load average ${f.machine.loadAverage.toFixed(2)} when it started (other work on the machine adds noise to every row alike).`,
    `- Bundle: \`handlers/poll.ts\` built as \`serverless package\` builds it (serverless.yml's \`custom.esbuild\`, read at bench time: \`${f.bundle.options}\`): poll.js ${kb(f.bundle.jsBytes)} KB (${kb(f.bundle.gzipBytes)} KB gzipped), poll.js.map ${kb(f.bundle.mapBytes)} KB (1 KB = 1,000 bytes).`,
    `- Method: the process wall time of \`node -e "<code>"\`, ${f.runs} rounds after one unreported warm-up round; each round runs every row once, in a rotating order, so the rows are paired. Medians per row; "paired" figures are the median of the per-round differences. The bundle resolves its external \`@aws-sdk/*\` from node_modules, as the Lambda runtime provides them; no \`_PARAM\` variable is set.`,
    '',
    '| Process | Median (ms) | Above bare node (ms) |',
    '| --- | --- | --- |',
    row('bare'),
    row('sdk'),
    row('bundle'),
    row('bundleMaps'),
    row('ssm'),
    '',
    `Paired: the SDK clients cost ${ms(f.paired.sdk)} ms over bare node, our part ${ms(f.paired.ours)} ms over them, and \`--enable-source-maps\` ${ms(f.paired.sourceMaps)} ms over the bundle without it (Node reads and parses poll.js.map at load; it decodes the mappings when a stack trace is first formatted: ${ms(f.firstStackMs)} ms, median of 7, once per container and only when an error's stack is read, so a stack trace names \`lib/...:line\`). With the default params the secrets come from SSM, so the first invocation also requires \`@aws-sdk/client-ssm\` (last row): in the invocation, not at load.`,
    COLD_START_END,
  ].join('\n');
}

/** `doc` with its cold-start section replaced by `section`, or with `section` appended. */
function spliceSection(doc: string, section: string): string {
  const begin = doc.indexOf(COLD_START_BEGIN);
  const end = doc.indexOf(COLD_START_END);
  if (begin >= 0 && end > begin)
    return `${doc.slice(0, begin)}${section}${doc.slice(end + COLD_START_END.length)}`;
  return `${doc.trimEnd()}\n\n${section}\n`;
}

/** Measures and writes the section; `args`: `[--runs N] [--out FILE]`. */
export async function coldStartMain(args: readonly string[]): Promise<void> {
  const outIndex = args.indexOf('--out');
  const outFile = outIndex >= 0 ? resolve(args[outIndex + 1] ?? '') : join(ROOT, 'BENCHMARKS.md');
  const runsIndex = args.indexOf('--runs');
  const runs = runsIndex >= 0 ? Number(args[runsIndex + 1]) : 21;
  if (!Number.isInteger(runs) || runs < 15) throw new Error('--runs must be an integer of at least 15');
  process.stderr.write(`[bench] cold start: ${runs} paired rounds\n`);
  const facts = await measureColdStart(runs);
  const doc = existsSync(outFile) ? readFileSync(outFile, 'utf8') : '# Benchmarks\n';
  const config = (await resolveConfig(outFile)) ?? {};
  writeFileSync(
    outFile,
    await format(spliceSection(doc, renderColdStart(facts)), { ...config, parser: 'markdown' }),
  );
  process.stderr.write(`[bench] wrote the cold-start section of ${outFile}\n`);
}
