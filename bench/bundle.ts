// Cold start: the deployed bundle of handlers/poll.ts built as `serverless package` builds it
// (serverless-esbuild with serverless.yml's custom.esbuild), the same handler bundled with no size
// work, and how long a fresh `node` takes to load each, against a bare `node -e ''`.
import { spawnSync } from 'node:child_process';
import { readFileSync, statSync, symlinkSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join, relative, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { build, type BuildOptions, type Metafile } from 'esbuild';

/** The repository root (bench/..). */
export const ROOT = resolve(__dirname, '..');
const HANDLER = 'handlers/poll.ts';
const BUILTINS = new Set(builtinModules);

/** One built bundle. */
export interface BundleFacts {
  label: string;
  /** The esbuild options that differ from esbuild's defaults, as used. */
  options: Record<string, unknown>;
  path: string;
  bytes: number;
  gzipBytes: number;
  /** Biggest contributors (package or source folder) by bytes in the output. */
  top: Array<{ name: string; bytes: number }>;
  /** Modules the bundle requires at run time rather than containing them. */
  externals: string[];
}

/** Median process wall times of `node -e "require(bundle)"` and of a bare `node -e ''`. */
export interface LoadFacts {
  runs: number;
  bareMs: number;
  /** By bundle label; `error` when the bundle would not load. */
  bundles: Record<string, { ms: number; error?: string }>;
}

/**
 * Reads `custom.esbuild` from serverless.yml: `key: scalar`, `key:` + `- item` lists and `key:` +
 * `name: scalar` maps, one level deep (all that block uses); throws on anything else rather than guessing.
 */
export function readServerlessEsbuild(file = join(ROOT, 'serverless.yml')): Record<string, unknown> {
  const lines = readFileSync(file, 'utf8').split('\n');
  const out: Record<string, unknown> = {};
  let inCustom = false;
  let blockIndent = -1;
  let keyIndent = -1;
  let open: string | undefined;
  for (const raw of lines) {
    const line = raw.replace(/\s+#.*$/, '').replace(/^\s*#.*$/, '');
    if (line.trim() === '') continue;
    const indent = line.length - line.trimStart().length;
    const text = line.trim();
    if (indent === 0) {
      if (blockIndent >= 0) break;
      inCustom = text.startsWith('custom:');
      continue;
    }
    if (!inCustom) continue;
    if (blockIndent < 0) {
      if (text === 'esbuild:') blockIndent = indent;
      continue;
    }
    if (indent <= blockIndent) break;
    if (keyIndent < 0) keyIndent = indent;
    const cannot = new Error(`serverless.yml custom.esbuild: cannot read line: ${text}`);
    const item = /^-\s+(.*)$/.exec(text);
    const pair = /^([A-Za-z0-9_@./-]+):\s*(.*)$/.exec(text);
    if (indent > keyIndent) {
      // A child of the key opened last: a list item or a map entry.
      if (open === undefined) throw cannot;
      out[open] ??= item ? [] : {};
      const container = out[open];
      if (item && Array.isArray(container)) container.push(scalar(item[1]!));
      else if (pair && !Array.isArray(container) && pair[2] !== '')
        (container as Record<string, unknown>)[pair[1]!] = scalar(pair[2]!);
      else throw cannot;
      continue;
    }
    if (indent !== keyIndent || !pair) throw cannot;
    if (pair[2] === '') open = pair[1]!;
    else {
      out[pair[1]!] = scalar(pair[2]!);
      open = undefined;
    }
  }
  if (blockIndent < 0) throw new Error('serverless.yml has no custom.esbuild block');
  return out;
}

/** A scalar under `params.default` in serverless.yml (e.g. `timeoutSeconds`), or undefined. */
export function readServerlessParam(name: string, file = join(ROOT, 'serverless.yml')): string | undefined {
  const text = readFileSync(file, 'utf8');
  const defaults = /^params:\n\s+default:\n((?:[ \t]+.*\n|\s*\n)+)/m.exec(text)?.[1] ?? '';
  const hit = new RegExp(`^\\s+${name}:\\s*(.+?)\\s*(?:#.*)?$`, 'm').exec(defaults);
  return hit ? String(scalar(hit[1]!)) : undefined;
}

function scalar(value: string): unknown {
  const v = value.trim();
  if (v === 'true' || v === 'false') return v === 'true';
  if (/^-?\d+(\.\d+)?$/.test(v)) return Number(v);
  if (/^'.*'$|^".*"$/.test(v)) return v.slice(1, -1);
  if (v.startsWith('[') || v.startsWith('{')) throw new Error(`flow collections are not read: ${v}`);
  return v;
}

// serverless-esbuild's own options, dropped before esbuild sees them (dist/bundle.js), and its
// defaults (dist/index.js DEFAULT_BUILD_OPTIONS) for what serverless.yml leaves out.
const PLUGIN_ONLY = [
  'concurrency',
  'zipConcurrency',
  'exclude',
  'nativeZip',
  'packager',
  'packagePath',
  'watch',
  'keepOutputDirectory',
  'packagerOptions',
  'installExtraArgs',
  'outputFileExtension',
  'outputBuildFolder',
  'outputWorkFolder',
  'nodeExternals',
  'skipBuild',
  'skipRebuild',
  'skipBuildExcludeFns',
  'stripEntryResolveExtensions',
  'disposeContext',
  'config',
];
const PLUGIN_DEFAULTS = {
  bundle: true,
  target: 'node18',
  platform: 'node',
  external: [],
  exclude: ['aws-sdk'],
};

/** The esbuild options serverless-esbuild derives from a `custom.esbuild` block. */
export function serverlessEsbuildOptions(custom: Record<string, unknown>): BuildOptions {
  // ramda mergeDeepRight: the block's arrays replace the defaults' arrays.
  const merged: Record<string, unknown> = { ...PLUGIN_DEFAULTS, ...custom };
  const exclude = (merged.exclude as string[]) ?? [];
  const external = [...((merged.external as string[]) ?? []), ...(exclude.includes('*') ? [] : exclude)];
  const options: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(merged)) if (!PLUGIN_ONLY.includes(k)) options[k] = v;
  // As serverless-esbuild does: a string names a file (from the service directory) exporting the plugins.
  if (typeof options.plugins === 'string') {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    options.plugins = require(join(ROOT, options.plugins)) as BuildOptions['plugins'];
  }
  return { ...(options as BuildOptions), external };
}

/** Builds the deployed bundle and the no-size-work bundle of handlers/poll.ts into `outDir`. */
export async function buildHandlerBundles(outDir: string): Promise<BundleFacts[]> {
  const deployed = serverlessEsbuildOptions(readServerlessEsbuild());
  const plain: BuildOptions = { bundle: true, platform: 'node', target: deployed.target, minify: false };
  const variants: Array<[string, BuildOptions]> = [
    ['serverless package (minify, @aws-sdk/* external)', deployed],
    ['no size work (no minify, everything bundled)', plain],
  ];
  const facts: BundleFacts[] = [];
  for (const [i, [label, options]] of variants.entries()) {
    const dir = join(outDir, `handler-${i}`);
    const result = await build({
      ...options,
      absWorkingDir: ROOT,
      entryPoints: [HANDLER],
      outdir: dir,
      metafile: true,
      logLevel: 'silent',
    });
    const path = join(dir, 'poll.js');
    const bytes = statSync(path).size;
    facts.push({
      label,
      options: { ...options },
      path,
      bytes,
      gzipBytes: gzipSync(readFileSync(path)).length,
      top: topInputs(result.metafile!, relative(ROOT, path)),
      externals: [
        ...new Set(
          (result.metafile!.outputs[relative(ROOT, path)]?.imports ?? [])
            .filter((i) => i.external && !i.path.startsWith('node:') && !BUILTINS.has(i.path))
            .map((i) => i.path),
        ),
      ].sort(),
    });
  }
  // The minified bundle requires @aws-sdk/* at load, as the Lambda runtime provides them.
  symlinkSync(join(ROOT, 'node_modules'), join(outDir, 'node_modules'), 'dir');
  return facts;
}

function topInputs(meta: Metafile, output: string): Array<{ name: string; bytes: number }> {
  const out = meta.outputs[output];
  if (!out) return [];
  const byName = new Map<string, number>();
  for (const [input, { bytesInOutput }] of Object.entries(out.inputs)) {
    // The innermost package: a nested node_modules is attributed to the package that is in it.
    const pkg = /.*node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input);
    const name = pkg ? pkg[1]! : input.split('/').slice(0, 1).join('/') + '/';
    byName.set(name, (byName.get(name) ?? 0) + bytesInOutput);
  }
  return [...byName.entries()]
    .map(([name, bytes]) => ({ name, bytes }))
    .sort((a, b) => b.bytes - a.bytes)
    .slice(0, 8);
}

/** Builds bench/child.ts for the measured child processes: everything in, nothing minified. */
export async function buildChild(outDir: string): Promise<string> {
  const outfile = join(outDir, 'child.js');
  await build({
    absWorkingDir: ROOT,
    entryPoints: ['bench/child.ts'],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node20',
    // Only local/dynamo's starter needs dynalite, and the child never starts one.
    external: ['dynalite'],
    logLevel: 'silent',
  });
  return outfile;
}

/** Something to time: `code` run by `node -e` in `cwd`. */
export interface LoadProbe {
  label: string;
  code: string;
}

/** A probe that requires a built bundle. */
export function requireProbe(label: string, path: string): LoadProbe {
  return { label, code: `require(${JSON.stringify(path)})` };
}

/**
 * Times `runs` fresh `node -e` processes per probe, interleaved with bare `node -e ''` runs so that
 * machine noise hits all alike; returns the medians. `cwd` is where bare module names resolve.
 */
export function measureLoad(probes: readonly LoadProbe[], cwd: string, runs = 11): LoadFacts {
  const env: NodeJS.ProcessEnv = { ...process.env, AWS_REGION: 'us-east-1', NODE_NO_WARNINGS: '1' };
  delete env.NODE_OPTIONS;
  const time = (code: string): { ms: number; error?: string } => {
    const t = performance.now();
    const r = spawnSync(process.execPath, ['-e', code], { cwd, env, encoding: 'utf8' });
    const ms = performance.now() - t;
    return r.status === 0 ? { ms } : { ms, error: firstLine(r.stderr) ?? `exit ${r.status}` };
  };
  const bare: number[] = [];
  const loads = probes.map(() => ({ ms: [] as number[], error: undefined as string | undefined }));
  time(''); // the first spawn warms the page cache for node itself
  for (let i = 0; i < runs; i++) {
    bare.push(time('').ms);
    for (const [j, p] of probes.entries()) {
      const r = time(p.code);
      loads[j]!.ms.push(r.ms);
      loads[j]!.error ??= r.error;
    }
  }
  return {
    runs,
    bareMs: median(bare),
    bundles: Object.fromEntries(
      probes.map((p, j) => [
        p.label,
        { ms: median(loads[j]!.ms), ...(loads[j]!.error ? { error: loads[j]!.error } : {}) },
      ]),
    ),
  };
}

function firstLine(text: string | undefined): string | undefined {
  return text
    ?.split('\n')
    .map((l) => l.trim())
    .find((l) => /Error|error:/.test(l));
}

/** Median of a non-empty list. */
export function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}
