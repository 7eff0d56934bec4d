// What the bench reads from serverless.yml: the esbuild options serverless-esbuild derives from
// `custom.esbuild` (the deployed bundle, for the cold start) and the deployed params (the limits the
// measured polls run under).
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { BuildOptions } from 'esbuild';

/** The repository root (bench/..). */
export const ROOT = resolve(__dirname, '..');

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

/** Median of a non-empty list. */
export function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}
