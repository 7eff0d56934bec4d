// The whole product on local stand-ins, on a virtual clock: the HSS emulator (signatures, the
// per-credential rate limit), a DynamoDB engine (or the state in memory), one local sink per
// destination, and the app built by createApp exactly as the Lambda and the CLI build it. `tick()`
// runs one poll the way the scheduler does (it must end before the next tick) and moves the clock to
// the next tick.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  createApp,
  runInvocation,
  runPoll,
  type App,
  type AppOverrides,
  type AppStores,
} from '../../lib/app';
import { createMemoryBudget } from '../../lib/budget/memory';
import { LOCAL_AWS } from '../../local/dynamo';
import { createMemoryOutboxStore } from '../../local/memory-outbox-store';
import { createMemoryStores } from '../../local/memory-stores';
import type { Config, LifecycleConfig, ScopeConfig } from '../../lib/config/types';
import type { DestinationConfig } from '../../lib/notify/channels';
import type { Log } from '../../lib/log';
import type { PollSummary } from '../../lib/poll';
import {
  startHssEmulator,
  type EmulatedTask,
  type HssEmulator,
  type HssEmulatorOptions,
} from '../../local/hss-emulator';
import {
  startDingtalkSink,
  startDiscordSink,
  startFeishuSink,
  startGoogleChatSink,
  startPagerdutySink,
  startSlackSink,
  startSmnSink,
  startTeamsSink,
  startWebhookSink,
  startWecomSink,
  PAGERDUTY_ROUTING_KEY,
  SMN_PROJECT_ID,
  SMN_TOPIC_URN,
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
export const FEISHU_SECRET = 'feishu-secret';
export const DINGTALK_SECRET = 'SEC0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef';

/** Every destination type has a local sink; a world starts the ones it is given. */
export const SINK_NAMES = [
  'slack',
  'webhook',
  'teams',
  'feishu',
  'pagerduty',
  'dingtalk',
  'wecom',
  'smn',
  'googlechat',
  'discord',
] as const;
export type SinkName = (typeof SINK_NAMES)[number];

/** A clock and a sleep that moves it (test/budget/virtual-time.ts for actors that run at once). */
interface WorldTime {
  clock: () => number;
  sleep: (ms: number) => Promise<void>;
  /** Runs polls at once (virtual time moves when all of them sleep); default Promise.all. */
  run?: <T>(...actors: Array<() => Promise<T>>) => Promise<T[]>;
}

/**
 * The state in this process (local/memory-stores.ts, local/memory-outbox-store.ts and the memory call
 * budget, shared by every app of the world) instead of a DynamoDB engine: for scenarios about the
 * poll at scale, which would otherwise spend most of their time in SDK and engine requests.
 */
export const IN_MEMORY = 'in memory';

export interface WorldOptions {
  engine: Engine | typeof IN_MEMORY;
  scopes?: ScopeConfig[];
  sinks?: SinkName[];
  ratePerMinute?: number;
  periodSeconds?: number;
  /** CHECKS_PER_MINUTE (default 1). */
  checksPerMinute?: number;
  lastDays?: number;
  lifecycle?: Partial<LifecycleConfig>;
  emulator?: HssEmulatorOptions;
  credentials?: Config['credentials'];
  baseline?: boolean;
  /** DESTINATION_DEGRADED_AFTER_MINUTES (default 30). */
  destinationDegradedAfterMinutes?: number;
  log?: Log;
  /** Records per HSS page (10..200; default the poll's 200): small pages make paging cheap to test. */
  pageSize?: number;
  /** HSS request timeout, ms (default 2000). */
  hssTimeoutMs?: number;
  /** Destination request timeout, ms (default 2000). */
  deliveryTimeoutMs?: number;
  /** Virtual time to run on (default: a plain clock that every sleep moves at once). */
  time?: WorldTime;
}

export interface World {
  time: { now: number };
  clock: () => number;
  sleep: (ms: number) => Promise<void>;
  emulator: HssEmulator;
  tasks: EmulatedTask[];
  sinks: Partial<Record<SinkName, Sink>>;
  config: Config;
  /** The state table's name. */
  tableName: string;
  /**
   * A fresh app, as a new Lambda container or CLI process would build it (same table); `overrides`
   * replace the world's (its own DynamoDB client, HTTP leg or log).
   */
  newApp(overrides?: Partial<AppOverrides>): App;
  app: App;
  /**
   * One scheduled invocation on `app` as the Lambda runs it (runInvocation: CHECKS_PER_MINUTE checks)
   * with `timeoutMs` (default the period less 2 s), ending before the next tick; then the clock moves to it.
   */
  invoke(app?: App, timeoutMs?: number): Promise<PollSummary[]>;
  /** One poll on `app` (default: the world's), ending before the next tick; then the clock moves to it. */
  tick(app?: App): Promise<PollSummary>;
  /**
   * One poll on each of `apps` started at the same moment (overlapping invocations), each ending
   * before the next tick; then the clock moves to it. A poll that throws gives its error.
   */
  together(apps: readonly App[]): Promise<Array<PollSummary | Error>>;
  close(): Promise<void>;
}

const quiet: Log = { debug() {}, info() {}, warn() {}, error() {} };

export async function openWorld(o: WorldOptions): Promise<World> {
  let plain = T0;
  const base: WorldTime = o.time ?? {
    clock: () => plain,
    sleep: async (ms: number) => {
      plain += Math.max(0, ms);
    },
  };
  // Tests move the clock by setting `time.now`: an offset over the underlying virtual time.
  let offset = o.time ? T0 - o.time.clock() : 0;
  const time = {
    get now() {
      return base.clock() + offset;
    },
    set now(value: number) {
      offset += value - (base.clock() + offset);
    },
  };
  const clock = () => time.now;
  const sleep = base.sleep;
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
      sinks.feishu = await startFeishuSink({ secret: FEISHU_SECRET, clock });
      destinations.push({ type: 'feishu', name, url: sinks.feishu.url, secret: FEISHU_SECRET, routing });
    } else if (name === 'dingtalk') {
      sinks.dingtalk = await startDingtalkSink({ secret: DINGTALK_SECRET, clock });
      destinations.push({
        type: 'dingtalk',
        name,
        url: sinks.dingtalk.url,
        secret: DINGTALK_SECRET,
        routing,
      });
    } else if (name === 'wecom') {
      sinks.wecom = await startWecomSink({ clock });
      destinations.push({ type: 'wecom', name, url: sinks.wecom.url, routing });
    } else if (name === 'smn') {
      const sink = await startSmnSink({ auth: { ak: AK, sk: SK }, clock });
      sinks.smn = sink;
      destinations.push({
        type: 'smn',
        name,
        topicUrn: SMN_TOPIC_URN,
        endpoint: sink.endpoint,
        projectId: SMN_PROJECT_ID,
        credential: 'default',
        routing,
      });
    } else if (name === 'googlechat') {
      sinks.googlechat = await startGoogleChatSink({ clock });
      destinations.push({ type: 'googlechat', name, url: sinks.googlechat.url, routing });
    } else if (name === 'discord') {
      sinks.discord = await startDiscordSink({ clock });
      destinations.push({ type: 'discord', name, url: sinks.discord.url, routing });
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
  const { engine } = o;
  const tableName = engine === IN_MEMORY ? 'e2e-in-memory' : await engine.freshTable('e2e');
  const config: Config = {
    scopes: o.scopes ?? [
      { projectId: PROJECT, region: 'cn-north-4', enterpriseProjectId: '0', credential: 'default' },
    ],
    credentials: o.credentials ?? { default: { kind: 'aksk', ak: AK, sk: SK } },
    endpoint: emulator.url,
    ratePerMinute: o.ratePerMinute ?? 5,
    lastDays: o.lastDays ?? 1,
    periodSeconds: o.periodSeconds ?? 60,
    checksPerMinute: o.checksPerMinute ?? 1,
    alertStatuses: ['failed', 'timeout'],
    stateTable: tableName,
    stateNamespace: 'e2e',
    awsRegion: 'us-east-1',
    destinations,
    destinationDegradedAfterMinutes: o.destinationDegradedAfterMinutes ?? 30,
    baseline: o.baseline ?? false,
    lifecycle: {
      stuckAfterMinutes: 60,
      stuckMaxHours: 6,
      notifyResolved: true,
      remindAfterHours: 0,
      ...o.lifecycle,
    },
  };
  const stores = engine === IN_MEMORY ? memoryStores(config, clock, sleep) : undefined;
  // In memory, a client no request should reach: one to a closed loopback port fails at once.
  const client =
    engine === IN_MEMORY
      ? new DynamoDBClient({ ...LOCAL_AWS, endpoint: 'http://127.0.0.1:9', maxAttempts: 1 })
      : engine.newClient();
  const newApp = (overrides: Partial<AppOverrides> = {}) =>
    createApp(config, {
      log: o.log ?? quiet,
      clock,
      sleep,
      random: () => 0.5,
      dynamo: client,
      hssTimeoutMs: o.hssTimeoutMs ?? 2_000,
      deliveryTimeoutMs: o.deliveryTimeoutMs ?? 2_000,
      ...(stores ? { stores } : {}),
      ...overrides,
    });
  const app = newApp();
  const periodMs = config.periodSeconds * 1000;
  const extra = o.pageSize ? { pageSize: o.pageSize } : {};
  /** One poll from `start`, as the scheduler runs it: it must end before the next tick. */
  const pollFrom = async (on: App, start: number): Promise<PollSummary> => {
    // The Lambda's timeout sits below the period (serverless.yml: 50 s of 60 s).
    const summary = await runPoll(on, start + periodMs - 10_000, extra);
    if (clock() > start + periodMs) throw new Error(`poll ran past its period: ${clock() - start} ms`);
    return summary;
  };
  return {
    time,
    clock,
    sleep,
    emulator,
    tasks,
    sinks,
    config,
    tableName,
    newApp,
    app,
    async invoke(on = app, timeoutMs = periodMs - 2_000) {
      const start = clock();
      const checks = await runInvocation(on, start + timeoutMs);
      if (clock() > start + periodMs)
        throw new Error(`invocation ran past its period: ${clock() - start} ms`);
      time.now = start + periodMs;
      return checks;
    },
    async tick(on = app) {
      const start = clock();
      const summary = await pollFrom(on, start);
      time.now = start + periodMs;
      return summary;
    },
    async together(apps) {
      const start = clock();
      const run =
        base.run ?? (<T>(...actors: Array<() => Promise<T>>) => Promise.all(actors.map((a) => a())));
      const results = await run(
        ...apps.map((on) => () => pollFrom(on, start).catch((err: unknown) => toError(err))),
      );
      time.now = start + periodMs;
      return results;
    },
    async close() {
      await emulator.close();
      for (const sink of Object.values(sinks)) await sink?.close();
    },
  };
}

/** The world's state in memory, counted as the DynamoDB requests it stands for. */
function memoryStores(config: Config, clock: () => number, sleep: (ms: number) => Promise<void>): AppStores {
  const { store, lifecycle, stats } = createMemoryStores();
  return {
    store,
    lifecycle,
    outbox: createMemoryOutboxStore(config.stateNamespace, stats),
    budget: createMemoryBudget({ ratePerMinute: config.ratePerMinute, clock, sleep }),
    stats,
  };
}

function toError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
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
