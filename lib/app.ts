import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Config } from './config';
import { createHssClient, type HssClient, type HssClientOptions } from './hss/client';
import { realSleep, systemClock, type Clock, type Log, type Sleep } from './log';
import { createSlackNotifier, type SlackNotifierOptions } from './notify/slack';
import type { Notifier } from './notify/types';
import { createWebhookNotifier, type WebhookNotifierOptions } from './notify/webhook';
import { reportFailedPoll } from './health';
import { poll, type PollDeps, type PollOptions, type PollSummary } from './poll';
import { createStateStore, type StateStore } from './state/store';
import type { Scope } from './task';
import { isLoopbackUrl } from './url';

/** Everything one process needs to poll, built once from the parsed config and reused while warm. */
export interface App {
  config: Config;
  scope: Scope;
  hss: HssClient;
  dynamo: DynamoDBClient;
  store: StateStore;
  notifiers: Notifier[];
  deps: PollDeps;
  options: PollOptions;
}

export interface AppOverrides {
  log: Log;
  clock?: Clock;
  sleep?: Sleep;
  /** Use this DynamoDB client instead of one built from the config. */
  dynamo?: DynamoDBClient;
  /** Schedule period, ms (default: the config's `periodSeconds`). */
  periodMs?: number;
  /** Client settings on top of the config's (tests: short timeouts, small pages). */
  hss?: Partial<HssClientOptions>;
  slack?: Partial<SlackNotifierOptions>;
  webhook?: Partial<WebhookNotifierOptions>;
  /** Uniform in [0, 1), for backoff jitter. */
  random?: () => number;
}

/** Wires config into clients (HSS, DynamoDB, notifiers) and poll options; makes no request. */
export function createApp(config: Config, overrides: AppOverrides): App {
  const { log } = overrides;
  const periodMs = overrides.periodMs ?? config.periodSeconds * 1000;
  const clock = overrides.clock ?? systemClock;
  const sleep = overrides.sleep ?? realSleep;
  const scope: Scope = {
    projectId: config.projectId,
    enterpriseProjectId: config.enterpriseProjectId,
    ...(config.region ? { region: config.region } : {}),
  };
  const hss = createHssClient({
    projectId: config.projectId,
    enterpriseProjectId: config.enterpriseProjectId,
    region: config.region,
    endpoint: config.endpoint,
    auth: config.auth,
    ratePerMinute: config.ratePerMinute,
    // Waiting out HSS throttling must end well inside the function timeout (240 s by default).
    maxThrottleWaitMs: 45_000,
    // 10 pages (2,000 tasks) per status list: a bigger list fails fast with a clear paging error
    // instead of running into the function timeout at 5 calls a minute; shorten LAST_DAYS then.
    maxPages: 10,
    clock,
    sleep,
    log,
    random: overrides.random,
    ...overrides.hss,
  });
  const dynamo =
    overrides.dynamo ??
    new DynamoDBClient({
      region: config.awsRegion,
      ...(config.dynamodbEndpoint ? { endpoint: config.dynamodbEndpoint } : {}),
      // A local DynamoDB (dynalite) accepts any credentials; a real endpoint uses the normal chain.
      ...(config.dynamodbEndpoint && isLoopbackUrl(config.dynamodbEndpoint)
        ? { credentials: { accessKeyId: 'local', secretAccessKey: 'local' } }
        : {}),
    });
  const store = createStateStore({ client: dynamo, tableName: config.stateTable, sleep });
  const notifiers: Notifier[] = [];
  if (config.slackWebhookUrl)
    notifiers.push(
      createSlackNotifier({ url: config.slackWebhookUrl, clock, sleep, log, ...overrides.slack }),
    );
  if (config.webhookUrl) {
    notifiers.push(
      createWebhookNotifier({
        url: config.webhookUrl,
        secret: config.webhookSecret,
        clock,
        log,
        ...overrides.webhook,
      }),
    );
  }
  const options: PollOptions = {
    scope,
    lastDays: config.lastDays,
    alertStatuses: config.alertStatuses,
    baseline: config.baseline,
    periodMs,
    // The lease must outlive the longest run (the function timeout, below the period) and expire
    // before the next tick, so a crashed run never blocks delivery for more than one period.
    leaseMs: periodMs - 15_000,
  };
  return {
    config,
    scope,
    hss,
    dynamo,
    store,
    notifiers,
    deps: { hss, store, notifiers, clock, log },
    options,
  };
}

/**
 * One poll as the entry points run it: a failure is counted towards the "monitoring is not
 * working" notice and then rethrown, so the invocation or command fails with its own error.
 */
export async function runPoll(app: App, extra: Partial<PollOptions> = {}): Promise<PollSummary> {
  try {
    return await poll(app.deps, { ...app.options, ...extra });
  } catch (err) {
    if (!extra.dryRun) {
      const { store, notifiers, deps } = app;
      await reportFailedPoll({ store, notifiers, clock: deps.clock, log: deps.log }, app.scope, err);
    }
    throw err;
  }
}
