// The poll bench: this tree's poller (the deployed code path) and the previous release side by side
// in one run, each bundled and run in its own process on its own deployed limits, on Amazon's
// DynamoDB Local, the HSS emulator at the real 5 calls a minute and local sinks, on the virtual
// clock: small scopes (detection bound, resolution of retried failures), one small scope at 1 to 5
// checks a minute (latency, calls, duration, the Lambda bill), large windows (steady cost, never
// blind, worst case), and the outbox's own cost. Writes every section of BENCHMARKS.md but the cold
// start (bench/cold-start.ts), which it keeps as it finds it.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release as osRelease, tmpdir, totalmem, type as osType } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { format, resolveConfig } from 'prettier';
import { freePort, LOCAL_AWS, startDynamoDbLocal } from '../local/dynamo';
import { runChecks, type ChecksRun } from './checks';
import { buildChild, buildRelease, readDeployed, RELEASE } from './children';
import type { PollerSetup, RunDeps } from './harness';
import { measureOutbox, type OutboxStep } from './outbox-cost';
import { renderReport, type BenchData } from './report';
import { runResolution, type ResolutionRun } from './resolution';
import { SCENARIOS, statusCounts, windowTasks } from './scenarios';
import { runScopes, SCOPE_COUNTS, type ScopeRun } from './scopes';
import { runWindow, type WindowResult } from './windows';

/**
 * The function timeout CHECKS_PER_MINUTE above 1 needs: the invocation spans its period, and the
 * last check must have time for a call (lib/app.ts runInvocation). serverless.yml does not set it
 * (yet): these runs use it; one more run shows 5 checks on the deployed timeout.
 */
const CHECKS_TIMEOUT_SECONDS = 58;

/** `npm run bench` without `cold-start`: `[--quick] [--out FILE]`; `--quick`: a smoke test of every section. */
export async function pollBenchMain(args: readonly string[], outFile: string): Promise<void> {
  const quick = args.includes('--quick');
  const startedAt = performance.now();
  const loadAtStart = loadavg()[0]!;
  const tmp = mkdtempSync(join(tmpdir(), 'hss-bench-'));
  progress('starting DynamoDB Local (Java)');
  const local = startDynamoDbLocal({ port: await freePort() });
  const dynamoStartMs = await local.ready;
  const clients: DynamoDBClient[] = [];
  const newClient = () => {
    const c = new DynamoDBClient({ ...LOCAL_AWS, endpoint: local.endpoint });
    clients.push(c);
    return c;
  };
  const dynamo = newClient();
  try {
    const deployed = readDeployed();
    const ours: PollerSetup = {
      id: 'ours',
      js: await buildChild(tmp),
      deployed,
      timeoutMs: deployed.timeoutSeconds * 1000,
    };
    const built = await buildRelease(tmp);
    if (built.kind === 'skipped')
      progress(`the previous release (${RELEASE}) is not measured: ${built.reason}`);
    const release: PollerSetup | undefined =
      built.kind === 'built'
        ? {
            id: 'release',
            js: built.js,
            deployed: built.deployed,
            timeoutMs: built.deployed.timeoutSeconds * 1000,
          }
        : undefined;
    const both = [ours, ...(release ? [release] : [])];
    const deps: RunDeps = { dynamo, dynamoEndpoint: local.endpoint, progress };

    progress('small scopes under one credential: detection');
    const scopes: ScopeRun[] = [];
    for (const n of quick ? [1] : SCOPE_COUNTS) {
      for (const setup of both) scopes.push(await runScopes(deps, setup, n, 'warm'));
      scopes.push(await runScopes(deps, ours, n, 'cold'));
    }

    progress('one small scope, 1 to 5 checks a minute');
    const checks: ChecksRun[] = [];
    const withChecks = (c: number, timeoutSeconds: number): PollerSetup => ({
      ...ours,
      checksPerMinute: c,
      timeoutMs: timeoutSeconds * 1000,
    });
    const settings: PollerSetup[] = [
      withChecks(1, deployed.timeoutSeconds),
      ...(quick ? [5] : [2, 3, 4, 5]).map((c) => withChecks(c, CHECKS_TIMEOUT_SECONDS)),
      withChecks(5, deployed.timeoutSeconds),
      ...(release ? [release] : []),
    ];
    for (const setup of settings) checks.push(await runChecks(deps, setup));

    progress('resolution of retried failures');
    const resolution: ResolutionRun[] = [];
    for (const n of quick ? [1] : SCOPE_COUNTS)
      for (const setup of both) resolution.push(await runResolution(deps, setup, n));

    progress('large windows');
    const scenarios = quick
      ? SCENARIOS.filter((s) => s.id === '1k').map((s) => ({ ...s, steadyPolls: 10 }))
      : SCENARIOS;
    const windows: WindowResult[] = [];
    for (const scenario of scenarios) {
      progress(`window ${scenario.id}: ${scenario.title}`);
      for (const setup of both) windows.push(await runWindow(deps, scenario, setup));
    }

    progress('outbox cost');
    const outbox: OutboxStep[] = await measureOutbox(dynamo, newClient);

    const data: BenchData = {
      machine: {
        cpu: cpus()[0]?.model ?? 'unknown',
        cores: cpus().length,
        memoryGiB: totalmem() / 2 ** 30,
        os: `${osType()} ${osRelease()}`,
        node: process.version,
        date: new Date().toISOString(),
        load: { start: loadAtStart, end: loadavg()[0]! },
      },
      quick,
      dynamoStartMs,
      deployed,
      checksTimeoutSeconds: CHECKS_TIMEOUT_SECONDS,
      release:
        built.kind === 'built'
          ? { commit: RELEASE, deployed: built.deployed }
          : { commit: RELEASE, skipped: built.reason },
      scopes,
      checks,
      resolution,
      windows: scenarios.map((s) => ({ scenario: s, counts: statusCounts(windowTasks(s)) })),
      runs: windows,
      outbox,
      benchSeconds: (performance.now() - startedAt) / 1000,
    };
    const existing = existsSync(outFile) ? readFileSync(outFile, 'utf8') : '';
    const config = (await resolveConfig(outFile)) ?? {};
    writeFileSync(outFile, await format(renderReport(data, existing), { ...config, parser: 'markdown' }));
    progress(`wrote ${outFile} (poll bench: ${data.benchSeconds.toFixed(0)} s)`);
  } finally {
    for (const c of clients) c.destroy();
    await local.stop();
    rmSync(tmp, { recursive: true, force: true });
  }
}

function progress(message: string): void {
  process.stderr.write(`[bench] ${(performance.now() / 1000).toFixed(0)}s ${message}\n`);
}
