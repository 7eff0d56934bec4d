// Issue 12 on the virtual clock: 1, 3, 10 and 30 scopes under one credential at 5 calls a minute
// with the deployed 1-minute schedule, one failure per scope appearing right after the poll read
// that scope's failed list (its worst moment), the time until chat named it, next to the bound the
// scheduler promises (lib/poll/plan.ts latencyBoundMs); and what the DynamoDB call budget costs per
// HSS call, in a warm container (one app for every poll) and a cold one (a new app for each poll).
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createApp, runPoll, type App } from '../lib/app';
import { parseConfig } from '../lib/config';
import { latencyBoundMs } from '../lib/poll/plan';
import { createStateTable } from '../lib/state/table';
import { makeTasks } from '../local/hss-emulator';
import {
  arrival,
  armProbes,
  detectedAt,
  disarm,
  startChainServers,
  webhookArrival,
  type Probe,
} from './harness';
import { countDynamo, recordingLog, type DynamoUse } from './protocol';
import { EMULATOR_AK, EMULATOR_SK, HOUR, REGION, T_BASE, WEBHOOK_SECRET } from './scenarios';

export const SCOPE_COUNTS = [1, 3, 10, 30] as const;

export interface ScopeRun {
  scopes: number;
  container: 'warm' | 'cold';
  /** latencyBoundMs(scopes, alert lists, rate, period). */
  boundMs: number;
  /** Failure-to-chat per scope, ms (undefined: chat never named it before the cap). */
  latencies: Array<number | undefined>;
  /** Failure to detection (the alert recorded: the webhook's `detected_at`) per scope, ms: what latencyBoundMs promises. */
  detections: Array<number | undefined>;
  polls: number;
  hssCalls: number;
  throttled: number;
  maxCallsInAnyMinute: number;
  dynamo: DynamoUse;
  budget: DynamoUse;
  /** Scopes whose failure reached only the webhook by name (a chat digest counted it without naming it). */
  webhookOnly: number;
}

export interface ScopeSettings {
  ratePerMinute: number;
  periodSeconds: number;
  timeoutSeconds: number;
  lastDays: number;
  alertStatuses: string;
}

export async function runScopes(
  deps: { dynamo: DynamoDBClient; dynamoEndpoint: string },
  scopes: number,
  container: 'warm' | 'cold',
  settings: ScopeSettings,
): Promise<ScopeRun> {
  const time = { now: T_BASE };
  const projects = Array.from({ length: scopes }, (_, i) => `project-${String(i).padStart(2, '0')}`);
  // A quiet window of 100 tasks per project: every list fits one page.
  const tasks = projects.flatMap((p, i) =>
    makeTasks(100, { now: T_BASE, seed: 100 + i, status: 'success', projectId: p }),
  );
  const servers = await startChainServers(time, tasks, settings.ratePerMinute, projects);
  const table = `bench-scopes-${scopes}-${container}`;
  await createStateTable(deps.dynamo, table);
  const env = {
    HSS_SCOPES: projects.map((p) => `${REGION}/${p}`).join(','),
    HSS_ENDPOINT: servers.emulator.url,
    CLOUD_SDK_AK: EMULATOR_AK,
    CLOUD_SDK_SK: EMULATOR_SK,
    HSS_RATE_LIMIT_PER_MINUTE: String(settings.ratePerMinute),
    LAST_DAYS: String(settings.lastDays),
    ALERT_STATUSES: settings.alertStatuses,
    SCHEDULE_PERIOD_SECONDS: String(settings.periodSeconds),
    STATE_TABLE: table,
    DYNAMODB_ENDPOINT: deps.dynamoEndpoint,
    AWS_REGION: 'us-east-1',
    SLACK_WEBHOOK_URL: servers.slack.url,
    WEBHOOK_URL: servers.webhook.url,
    WEBHOOK_SECRET,
  };
  const config = parseConfig(env);
  const { log } = recordingLog();
  const clock = () => time.now;
  const sleep = async (ms: number) => {
    time.now += Math.max(0, ms);
  };
  const totals = { calls: 0, dynamo: zero(), budget: zero() };
  const apps: App[] = [];
  let warm: { app: App; counter: ReturnType<typeof countDynamo> } | undefined;
  const periodMs = settings.periodSeconds * 1000;
  let polls = 0;
  const tick = async (): Promise<void> => {
    const start = time.now;
    const built =
      container === 'warm' && warm
        ? warm
        : (() => {
            const app = createApp(config, { log, clock, sleep });
            apps.push(app);
            return { app, counter: countDynamo(app.dynamo) };
          })();
    if (container === 'warm') warm = built;
    const before = {
      calls: built.app.reader.stats.calls,
      all: { ...built.counter.all },
      budget: { ...built.counter.budget },
    };
    // As the handler: the run must end by the function's timeout.
    await runPoll(built.app, start + settings.timeoutSeconds * 1000);
    totals.calls += built.app.reader.stats.calls - before.calls;
    add(totals.dynamo, built.counter.all, before.all);
    add(totals.budget, built.counter.budget, before.budget);
    polls += 1;
    if (time.now > start + periodMs) throw new Error(`${scopes} scopes: a poll ran past its period`);
    time.now = start + periodMs;
  };
  const alertLists = config.alertStatuses.length;
  const boundMs = latencyBoundMs(scopes, 'whole', settings.ratePerMinute, periodMs);
  try {
    // Every scope's alert lists read at least once before the failures appear.
    const warmUp = Math.ceil((scopes * alertLists) / settings.ratePerMinute) + 1;
    for (let i = 0; i < warmUp; i++) await tick();
    const probes: Probe[] = projects.map((p, i) => ({
      host: `probe-${p}`,
      projectId: p,
      end: 'head',
      order: 'newest-first',
      startedAt: time.now - 30_000 - i * 1000,
    }));
    armProbes(servers, probes);
    const cap = time.now + 2 * boundMs + HOUR;
    const named = (p: Probe) => p.appearAt !== undefined && arrival(servers.slack, p.host, p.appearAt);
    while (!probes.every(named) && time.now < cap) await tick();
    disarm(servers);
    return {
      scopes,
      container,
      boundMs,
      latencies: probes.map((p) => {
        const at = p.appearAt !== undefined ? arrival(servers.slack, p.host, p.appearAt)?.at : undefined;
        return at !== undefined && p.appearAt !== undefined ? at - p.appearAt : undefined;
      }),
      detections: probes.map((p) => {
        const at = p.appearAt !== undefined ? detectedAt(servers.webhook, p.host, p.appearAt) : undefined;
        return at !== undefined && p.appearAt !== undefined ? at - p.appearAt : undefined;
      }),
      polls,
      hssCalls: totals.calls,
      throttled: servers.emulator.requests.filter((r) => r.status === 429).length,
      maxCallsInAnyMinute: servers.emulator.maxCallsInAnyMinute(),
      dynamo: totals.dynamo,
      budget: totals.budget,
      webhookOnly: probes.filter(
        (p) => !named(p) && p.appearAt !== undefined && webhookArrival(servers.webhook, p.host, p.appearAt),
      ).length,
    };
  } finally {
    for (const app of apps) app.dynamo.destroy();
    await servers.close();
  }
}

function zero(): DynamoUse {
  return { requests: 0, rcu: 0, wcu: 0 };
}

function add(into: DynamoUse, after: DynamoUse, before: DynamoUse): void {
  into.requests += after.requests - before.requests;
  into.rcu += after.rcu - before.rcu;
  into.wcu += after.wcu - before.wcu;
}
