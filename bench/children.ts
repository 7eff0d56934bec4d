// Builds the measured pollers as plain-node bundles (esbuild, everything in, nothing minified), so
// each runs as a Lambda runs its bundle and their peak RSS compares like for like: bench/child.ts
// (ours and the naive poller) from this tree, and bench/legacy-child.ts against the previous release,
// which is extracted at bench time with `git archive` and never copied into the repository.
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { build, type Plugin } from 'esbuild';
import { readServerlessParam, ROOT } from './bundle';

/** The previous release: "today's design" in the tables. */
export const RELEASE = '02e0dc6';

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
export type Release =
  | {
      kind: 'built';
      js: string;
      periodSeconds: number;
      timeoutSeconds: number;
      rate: number;
      lastDays: number;
      alertStatuses: string;
    }
  | { kind: 'skipped'; reason: string };

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
    {
      cwd: ROOT,
      encoding: 'utf8',
    },
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
  const param = (name: string): string => {
    const value = readServerlessParam(name, join(tree, 'serverless.yml'));
    if (value === undefined) throw new Error(`the release's serverless.yml has no params.default.${name}`);
    return value;
  };
  return {
    kind: 'built',
    js,
    periodSeconds: Number(param('periodSeconds')),
    timeoutSeconds: Number(param('timeoutSeconds')),
    rate: Number(param('rateLimitPerMinute')),
    lastDays: Number(param('lastDays')),
    alertStatuses: param('alertStatuses'),
  };
}

/** `legacy-release/<path>` -> `<tree>/<path>.ts`. */
function releaseResolver(tree: string): Plugin {
  return {
    name: 'legacy-release',
    setup(b) {
      b.onResolve({ filter: /^legacy-release\// }, (args) => ({
        path: join(tree, `${args.path.slice('legacy-release/'.length)}.ts`),
      }));
    },
  };
}
