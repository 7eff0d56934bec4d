// Builds the measured pollers as plain-node bundles (esbuild, everything in, nothing minified), so
// each runs as a Lambda runs its bundle and their peak RSS compares like for like: bench/child.ts
// from this tree, and bench/legacy-child.ts against the previous release, which is extracted at bench
// time with `git archive` and never copied into the repository. Each runs on its own deployed limits,
// read from its own serverless.yml.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { build, type Plugin } from 'esbuild';
import { readServerlessParam, ROOT } from './bundle';

/** The previous release: the last release landed before this round of work. */
export const RELEASE = '1e73da5';

/** What a function is deployed with (serverless.yml `params.default`). */
export interface Deployed {
  periodSeconds: number;
  timeoutSeconds: number;
  rate: number;
  lastDays: number;
  alertStatuses: string;
  memorySize: number;
  /** `params.default.checksPerMinute` where serverless.yml has it (it sets CHECKS_PER_MINUTE), else undefined. */
  checksPerMinute?: number;
  /** The rest of the function's environment that changes what a poll does (lifecycle, baseline). */
  env: Record<string, string>;
  file: string;
}

/** Reads the deployed limits from `file`; throws one line naming the missing param. */
export function readDeployed(file = join(ROOT, 'serverless.yml')): Deployed {
  const param = (name: string): string => {
    const value = readServerlessParam(name, file);
    if (value === undefined) throw new Error(`${file} has no params.default.${name}`);
    return value;
  };
  const checks = readServerlessParam('checksPerMinute', file);
  return {
    periodSeconds: Number(param('periodSeconds')),
    timeoutSeconds: Number(param('timeoutSeconds')),
    rate: Number(param('rateLimitPerMinute')),
    lastDays: Number(param('lastDays')),
    alertStatuses: param('alertStatuses'),
    memorySize: Number(param('memorySize')),
    ...(checks !== undefined ? { checksPerMinute: Number(checks) } : {}),
    env: {
      BASELINE: param('baseline'),
      STUCK_AFTER_MINUTES: param('stuckAfterMinutes'),
      STUCK_MAX_HOURS: param('stuckMaxHours'),
      NOTIFY_RESOLVED: param('notifyResolved'),
      REMIND_AFTER_HOURS: param('remindAfterHours'),
    },
    file,
  };
}

/** Bundles bench/child.ts (this tree's poller) into `outDir`. */
export async function buildChild(outDir: string): Promise<string> {
  const outfile = join(outDir, 'child.js');
  await build({
    absWorkingDir: ROOT,
    entryPoints: ['bench/child.ts'],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node20',
    logLevel: 'silent',
  });
  return outfile;
}

/** The release's bundle and its deployed limits, or why it could not be had. */
export type Release = { kind: 'built'; js: string; deployed: Deployed } | { kind: 'skipped'; reason: string };

/**
 * Extracts `git archive RELEASE lib local serverless.yml` into `outDir` and bundles
 * bench/legacy-child.ts against it; its packages resolve from this repository's node_modules.
 * A clone without that commit (shallow) gets `skipped` with the reason.
 */
export async function buildRelease(outDir: string): Promise<Release> {
  const has = spawnSync('git', ['cat-file', '-e', `${RELEASE}^{commit}`], { cwd: ROOT, encoding: 'utf8' });
  if (has.status !== 0) {
    const shallow = spawnSync('git', ['rev-parse', '--is-shallow-repository'], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    return {
      kind: 'skipped',
      reason:
        shallow.stdout.trim() === 'true'
          ? `this clone is shallow and lacks commit ${RELEASE} (run \`git fetch --unshallow\` to measure it)`
          : `commit ${RELEASE} is not in this repository (${has.stderr.trim().split('\n')[0] || 'git cat-file failed'})`,
    };
  }
  const tree = join(outDir, `release-${RELEASE}`);
  mkdirSync(tree, { recursive: true });
  const extract = spawnSync(
    'sh',
    ['-c', `git archive ${RELEASE} lib local serverless.yml | tar -x -C "$0"`, tree],
    { cwd: ROOT, encoding: 'utf8' },
  );
  if (extract.status !== 0)
    return { kind: 'skipped', reason: `git archive failed: ${extract.stderr.trim()}` };
  const js = join(outDir, 'legacy-child.js');
  await build({
    absWorkingDir: ROOT,
    entryPoints: ['bench/legacy-child.ts'],
    outfile: js,
    bundle: true,
    platform: 'node',
    target: 'node20',
    nodePaths: [join(ROOT, 'node_modules')],
    plugins: [releaseResolver(tree)],
    logLevel: 'silent',
  });
  return { kind: 'built', js, deployed: readDeployed(join(tree, 'serverless.yml')) };
}

/** `legacy-release/<path>` -> `<tree>/<path>.ts`, or `<tree>/<path>/index.ts` for a folder. */
function releaseResolver(tree: string): Plugin {
  return {
    name: 'legacy-release',
    setup(b) {
      b.onResolve({ filter: /^legacy-release\// }, (args) => {
        const base = join(tree, args.path.slice('legacy-release/'.length));
        return { path: existsSync(`${base}.ts`) ? `${base}.ts` : join(base, 'index.ts') };
      });
    },
  };
}
