// The whole product on local stand-ins, on a virtual clock: the HSS emulator (signatures, the
// per-credential rate limit), a DynamoDB engine, one local sink per destination, and the app built
// by createApp exactly as the Lambda and the CLI build it. `tick()` runs one poll the way the
// scheduler does (it must end before the next tick) and moves the clock to the next tick.
import { createApp, runPoll, type App } from '../../lib/app';
import type { Config, DestinationConfig, LifecycleConfig, ScopeConfig } from '../../lib/config/types';
import type { Log } from '../../lib/log';
import type { PollSummary } from '../../lib/poll';
import {
  startHssEmulator,
  type EmulatedTask,
  type HssEmulator,
  type HssEmulatorOptions,
} from '../../local/hss-emulator';
import {
  startFeishuSink,
  startPagerdutySink,
  startSlackSink,
  startTeamsSink,
  startWebhookSink,
  PAGERDUTY_ROUTING_KEY,
  type Sink,
} from '../../local/sinks';
import type { Engine } from '../support/engines';

export const T0 = Date.UTC(2026, 10, 27, 12, 0, 0);
export const MIN = 60_000;
export const HOUR = 60 * MIN;
export const DAY = 24 * HOUR;
export const AK = 'EMULATORAK';
export const SK = 'EMULATORSK';
export const WEBHOOK_SECRET = 'whsec_c2VjcmV0LWZvci10ZXN0cy1vbmx5LTEyMzQ1Njc4';
export const PROJECT = 'demo-project';

export type SinkName = 'slack' | 'webhook' | 'teams' | 'feishu' | 'pagerduty';

export interface WorldOptions {
  engine: Engine;
  scopes?: ScopeConfig[];
  sinks?: SinkName[];
  ratePerMinute?: number;
  periodSeconds?: number;
  lastDays?: number;
  lifecycle?: Partial<LifecycleConfig>;
  emulator?: HssEmulatorOptions;
  credentials?: Config['credentials'];
  baseline?: boolean;
  log?: Log;
}

export interface World {
  time: { now: number };
  clock: () => number;
  sleep: (ms: number) => Promise<void>;
  emulator: HssEmulator;
  tasks: EmulatedTask[];
  sinks: Partial<Record<SinkName, Sink>>;
  config: Config;
  /** A fresh app, as a new Lambda container or CLI process would build it (same table). */
  newApp(): App;
  app: App;
  /** One poll on `app` (default: the world's), ending before the next tick; then the clock moves to it. */
  tick(app?: App): Promise<PollSummary>;
  close(): Promise<void>;
}

const quiet: Log = { debug() {}, info() {}, warn() {}, error() {} };

export async function openWorld(o: WorldOptions): Promise<World> {
  const time = { now: T0 };
  const clock = () => time.now;
  const sleep = async (ms: number) => {
    time.now += Math.max(0, ms);
  };
  const tasks: EmulatedTask[] = [];
  const emulator = await startHssEmulator({
    projects: [PROJECT, 'project-b', 'project-c'],
    ratePerMinute: o.ratePerMinute ?? 5,
    now: clock,
    tasks,
    ...o.emulator,
  });
  const sinks: Partial<Record<SinkName, Sink>> = {};
  const destinations: DestinationConfig[] = [];
  for (const name of o.sinks ?? ['slack', 'webhook']) {
    const routing = {};
    if (name === 'slack') {
      sinks.slack = await startSlackSink({ clock });
      destinations.push({ type: 'slack', name, url: sinks.slack.url, routing });
    } else if (name === 'webhook') {
      sinks.webhook = await startWebhookSink({ secret: WEBHOOK_SECRET, clock });
      destinations.push({ type: 'webhook', name, url: sinks.webhook.url, secret: WEBHOOK_SECRET, routing });
    } else if (name === 'teams') {
      sinks.teams = await startTeamsSink({ clock });
      destinations.push({ type: 'teams', name, url: sinks.teams.url, routing });
    } else if (name === 'feishu') {
      sinks.feishu = await startFeishuSink({ secret: 'feishu-secret', clock });
      destinations.push({ type: 'feishu', name, url: sinks.feishu.url, secret: 'feishu-secret', routing });
    } else {
      const sink = await startPagerdutySink({ clock });
      sinks.pagerduty = sink;
      destinations.push({
        type: 'pagerduty',
        name,
        routingKey: PAGERDUTY_ROUTING_KEY,
        eventsUrl: sink.url,
        severity: {},
        routing,
      });
    }
  }
  const tableName = await o.engine.freshTable('e2e');
  const config: Config = {
    scopes: o.scopes ?? [
      { projectId: PROJECT, region: 'cn-north-4', enterpriseProjectId: '0', credential: 'default' },
    ],
    credentials: o.credentials ?? { default: { kind: 'aksk', ak: AK, sk: SK } },
    endpoint: emulator.url,
    ratePerMinute: o.ratePerMinute ?? 5,
    lastDays: o.lastDays ?? 1,
    periodSeconds: o.periodSeconds ?? 60,
    alertStatuses: ['failed', 'timeout'],
    stateTable: tableName,
    stateNamespace: 'e2e',
    awsRegion: 'us-east-1',
    destinations,
    baseline: o.baseline ?? false,
    lifecycle: {
      stuckAfterMinutes: 60,
      stuckMaxHours: 6,
      notifyResolved: true,
      remindAfterHours: 0,
      ...o.lifecycle,
    },
  };
  const client = o.engine.newClient();
  const newApp = () =>
    createApp(config, {
      log: o.log ?? quiet,
      clock,
      sleep,
      random: () => 0.5,
      dynamo: client,
      hssTimeoutMs: 2_000,
      deliveryTimeoutMs: 2_000,
    });
  const app = newApp();
  const periodMs = config.periodSeconds * 1000;
  return {
    time,
    clock,
    sleep,
    emulator,
    tasks,
    sinks,
    config,
    newApp,
    app,
    async tick(on = app) {
      const start = clock();
      // The Lambda's timeout sits below the period (serverless.yml: 50 s of 60 s).
      const summary = await runPoll(on, start + periodMs - 10_000);
      if (clock() > start + periodMs) throw new Error(`poll ran past its period: ${clock() - start} ms`);
      time.now = start + periodMs;
      return summary;
    },
    async close() {
      await emulator.close();
      for (const sink of Object.values(sinks)) await sink?.close();
    },
  };
}

/** A raw HSS record for the emulator. */
export function record(
  host: string,
  status: string,
  startedAt: number,
  extra: Partial<EmulatedTask> = {},
): EmulatedTask {
  return {
    host_id: `${host}-id`,
    host_name: host,
    backup_name: extra.backup_name ?? 'nightly',
    process: status === 'success' ? 100 : 40,
    status,
    started_at: new Date(startedAt).toISOString(),
    error_info:
      status === 'failed'
        ? { code: 'HSS.5004', message: 'Vault capacity insufficient' }
        : { code: '', message: '' },
    ...extra,
  };
}

/** How many deliveries each host got at a webhook sink (events of type `hss.task.status_alert`). */
export function webhookAlertsByHost(sink: Sink, status = 'failed'): Map<string, number> {
  const counts = new Map<string, number>();
  for (const r of sink.received) {
    const body = r.json as { type?: string; status?: string; task?: { host_name?: string } } | undefined;
    if (body?.type !== 'hss.task.status_alert' || body.status !== status) continue;
    const host = body.task?.host_name ?? '';
    counts.set(host, (counts.get(host) ?? 0) + 1);
  }
  return counts;
}
