// The poll bench: our poll (the deployed code path), the previous release and the naive poller side
// by side in one run, on Amazon's DynamoDB Local, the HSS emulator at the real 5 calls a minute and
// local sinks, on the virtual clock; then the many-scopes latency (issue 12), the call budget's and
// the outbox's own cost. Writes every section of BENCHMARKS.md but the cold start (bench/cold-start.ts),
// which it keeps as it finds it.
import { mkdtempSync, readFileSync, existsSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, release as osRelease, tmpdir, totalmem, type as osType } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { format, resolveConfig } from 'prettier';
import { freePort, LOCAL_AWS, startDynamoDbLocal } from '../local/dynamo';
import { readServerlessParam, ROOT } from './bundle';
import { runChain, type ChainResult, type PollerSetup } from './chains';
import { buildChild, buildRelease, RELEASE } from './children';
import { measureOutbox, type OutboxStep } from './outbox-cost';
import { renderReport, type BenchData } from './report';
import { SCENARIOS, statusCounts, windowTasks } from './scenarios';
import { runScopes, SCOPE_COUNTS, type ScopeRun } from './scopes';

/** `npm run bench` without `cold-start`: `[--quick] [--out FILE]`; `--quick` runs the 1k and 10k windows only. */
export async function pollBenchMain(args: readonly string[], outFile: string): Promise<void> {
  const quick = args.includes('--quick');
  const startedAt = performance.now();
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
    const deployed = deployedParams();
    const ours: PollerSetup = {
      id: 'ours',
      js: await buildChild(tmp),
      periodMs: deployed.periodSeconds * 1000,
      timeoutMs: deployed.timeoutSeconds * 1000,
      ratePerMinute: deployed.rate,
      lastDays: deployed.lastDays,
      alertStatuses: deployed.alertStatuses,
      backToBack: false,
    };
    // The naive poller runs as a loop on the same one-minute tick: the next poll when both the tick
    // and the previous poll are done (it has no deadline; no function timeout could hold it).
    const naive: PollerSetup = { ...ours, id: 'naive', timeoutMs: undefined, backToBack: true };
    const release = await buildRelease(tmp);
    if (release.kind === 'skipped')
      progress(`today's design (${RELEASE}) is not measured: ${release.reason}`);
    const today: PollerSetup | undefined =
      release.kind === 'built'
        ? {
            id: 'today',
            js: release.js,
            periodMs: release.periodSeconds * 1000,
            timeoutMs: release.timeoutSeconds * 1000,
            ratePerMinute: release.rate,
            lastDays: release.lastDays,
            alertStatuses: release.alertStatuses,
            backToBack: false,
          }
        : undefined;

    const deps = { dynamo, dynamoEndpoint: local.endpoint, progress };
    const chains: ChainResult[] = [];
    const scenarios = quick
      ? SCENARIOS.filter((s) => s.size <= 10_000 && s.failed + s.inFlight === 0)
      : SCENARIOS;
    for (const scenario of scenarios) {
      progress(`window ${scenario.id}: ${scenario.title}`);
      chains.push(await runChain(deps, scenario, ours, 'full'));
      if (today) chains.push(await runChain(deps, scenario, today, 'full'));
      if (scenario.naive !== 'skip') chains.push(await runChain(deps, scenario, naive, scenario.naive));
    }

    progress('many scopes at 5 calls a minute (issue 12)');
    const scopeSettings = {
      ratePerMinute: deployed.rate,
      periodSeconds: deployed.periodSeconds,
      timeoutSeconds: deployed.timeoutSeconds,
      lastDays: deployed.lastDays,
      alertStatuses: deployed.alertStatuses,
    };
    const scopes: ScopeRun[] = [];
    for (const n of SCOPE_COUNTS) {
      for (const container of ['warm', 'cold'] as const) {
        scopes.push(await runScopes({ dynamo, dynamoEndpoint: local.endpoint }, n, container, scopeSettings));
      }
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
      },
      quick,
      dynamoStartMs,
      deployed,
      release:
        release.kind === 'built'
          ? { commit: RELEASE, ...release }
          : { commit: RELEASE, skipped: release.reason },
      windows: scenarios.map((s) => ({ scenario: s, counts: statusCounts(windowTasks(s)) })),
      chains,
      scopes,
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

/** The limits the function is deployed with (serverless.yml params.default). */
function deployedParams(): BenchData['deployed'] {
  const param = (name: string): string => {
    const value = readServerlessParam(name);
    if (value === undefined) throw new Error(`serverless.yml has no params.default.${name}`);
    return value;
  };
  return {
    periodSeconds: Number(param('periodSeconds')),
    timeoutSeconds: Number(param('timeoutSeconds')),
    rate: Number(param('rateLimitPerMinute')),
    lastDays: Number(param('lastDays')),
    alertStatuses: param('alertStatuses'),
    memorySize: Number(param('memorySize')),
    file: join(ROOT, 'serverless.yml'),
  };
}

function progress(message: string): void {
  process.stderr.write(`[bench] ${message}\n`);
}
