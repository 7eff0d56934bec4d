// Wires the parsed config into the product: one DynamoDB table (scope state, outbox, lifecycle,
// call budget), the HSS page reader, the destinations, and the poll options. The Lambda handler and
// the CLI build one App and run polls on it; lib/ below never reads the environment.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Config, ScopeConfig } from './config/types';
import type { PageReader } from './hss/pages';
import type { CallBudget } from './budget/port';
import { createPageReader } from './hss/reader';
import { realSleep, systemClock, type Clock, type Log, type Sleep } from './log';
import type { Scope } from './model';
import { createDestinations } from './notify/channels';
import type { Destination } from './notify/destination';
import { createPostJson, type PostJson } from './notify/http';
import { createOutbox } from './outbox';
import type { Outbox } from './outbox/types';
import { poll, type PollOptions, type PollSummary } from './poll';
import { createTableBudget } from './budget/dynamodb';
import { createLifecycleStore } from './state/lifecycle-store';
import type { LifecycleStore, ScopeStore } from './state/records';
import { createScopeStore } from './state/scope-store';
import { createTableClient, type StateStats, type TableClient } from './state/table-client';
import type { OutboxStore } from './outbox/store';
import { isLoopbackUrl } from './url';

/** Time kept at the end of a run to record and deliver what it read, ms. */
const DELIVERY_RESERVE_MS = 12_000;
/** The longest one HSS call may take by default, ms. */
const HSS_TIMEOUT_MS = 10_000;
/** Time kept before the hard end of a run (Lambda timeout, the next tick), ms. */
const SAFETY_MS = 3_000;

/** Everything one process needs to poll, built once from the parsed config and reused while warm. */
export interface App {
  config: Config;
  scopes: Scope[];
  dynamo: DynamoDBClient;
  table: TableClient;
  /** The requests and capacity used so far: the table's, or those of the stores given instead. */
  stats: StateStats;
  store: ScopeStore;
  lifecycle: LifecycleStore;
  budget: CallBudget;
  reader: PageReader;
  destinations: Destination[];
  outbox: Outbox;
  clock: Clock;
  sleep: Sleep;
  log: Log;
  /** The longest one HSS call may take, ms: no call starts that could not finish before its deadline. */
  hssTimeoutMs: number;
  /** Poll options but the deadlines (set per run). */
  options: Omit<PollOptions, 'fetchDeadline' | 'deadline'>;
}

export interface AppOverrides {
  log: Log;
  clock?: Clock;
  sleep?: Sleep;
  /** Uniform in [0, 1), for backoff jitter. */
  random?: () => number;
  /** Use this DynamoDB client instead of one built from the config. */
  dynamo?: DynamoDBClient;
  /** HTTP leg of every destination (tests: a recorder). */
  post?: PostJson;
  /** HSS request timeout, ms (tests: short). */
  hssTimeoutMs?: number;
  /** Destination request timeout, ms (tests: short). */
  deliveryTimeoutMs?: number;
  /**
   * Stores to keep state in instead of the DynamoDB table's (tests: the in-memory ones of local/,
   * shared by every app of a scenario), with the requests they count.
   */
  stores?: AppStores;
}

/** The state an app keeps, held elsewhere than in the table: the poll's, the outbox's and the call budget. */
export interface AppStores {
  store: ScopeStore;
  lifecycle: LifecycleStore;
  outbox: OutboxStore;
  budget: CallBudget;
  stats: StateStats;
}

/** `region/project/enterprise project`: the id HSS_SCOPES uses, keying the scope's state. */
function scopeOf(c: ScopeConfig): Scope {
  return {
    id: `${c.region ?? 'endpoint'}/${c.projectId}/${c.enterpriseProjectId}`,
    ...(c.region ? { region: c.region } : {}),
    projectId: c.projectId,
    enterpriseProjectId: c.enterpriseProjectId,
    credential: c.credential,
  };
}

/** Builds clients and options from the config; makes no request. */
export function createApp(config: Config, overrides: AppOverrides): App {
  const { log } = overrides;
  const clock = overrides.clock ?? systemClock;
  const sleep = overrides.sleep ?? realSleep;
  const random = overrides.random ?? Math.random;
  const dynamo =
    overrides.dynamo ??
    new DynamoDBClient({
      region: config.awsRegion,
      ...(config.dynamodbEndpoint ? { endpoint: config.dynamodbEndpoint } : {}),
      // A local DynamoDB accepts any credentials; a real endpoint uses the normal chain.
      ...(config.dynamodbEndpoint && isLoopbackUrl(config.dynamodbEndpoint)
        ? { credentials: { accessKeyId: 'local', secretAccessKey: 'local' } }
        : {}),
    });
  const table = createTableClient({
    client: dynamo,
    tableName: config.stateTable,
    region: config.awsRegion,
    sleep,
  });
  const namespace = config.stateNamespace;
  const { stores } = overrides;
  const budget =
    stores?.budget ??
    createTableBudget({
      table,
      credentials: config.credentials,
      ratePerMinute: config.ratePerMinute,
      clock,
      sleep,
    });
  const reader = createPageReader({
    credentials: config.credentials,
    ...(config.endpoint ? { endpoint: config.endpoint } : {}),
    budget,
    timeoutMs: overrides.hssTimeoutMs ?? HSS_TIMEOUT_MS,
    clock,
    sleep,
    log,
    random,
  });
  const destinations = createDestinations(config.destinations, { credentials: config.credentials, log });
  const periodMs = config.periodSeconds * 1000;
  const outbox = createOutbox({
    table,
    ...(stores ? { store: stores.outbox } : {}),
    namespace,
    destinations,
    post: overrides.post ?? createPostJson({ log }),
    clock,
    sleep,
    log,
    random,
    // Renewed before any send it would not outlive; half a period at most, so a run that dies holding
    // it never stops the next tick from delivering.
    leaseMs: Math.max(30_000, Math.min(periodMs / 2, 120_000)),
    ...(overrides.deliveryTimeoutMs ? { requestTimeoutMs: overrides.deliveryTimeoutMs } : {}),
    holdUntil: (destination, message, now) => destination.holdUntil?.(message, now),
    degradedAfterMs: config.destinationDegradedAfterMinutes * 60_000,
  });
  const { lifecycle: life } = config;
  const scopes = config.scopes.map(scopeOf);
  return {
    config,
    scopes,
    dynamo,
    table,
    stats: stores?.stats ?? table.stats,
    store: stores?.store ?? createScopeStore({ table, namespace }),
    lifecycle: stores?.lifecycle ?? createLifecycleStore({ table, namespace }),
    budget,
    reader,
    destinations,
    outbox,
    clock,
    sleep,
    log,
    hssTimeoutMs: overrides.hssTimeoutMs ?? HSS_TIMEOUT_MS,
    options: {
      scopes,
      lastDays: config.lastDays,
      alertStatuses: config.alertStatuses,
      baseline: config.baseline,
      periodMs,
      callsPerPoll: config.ratePerMinute * (periodMs / 60_000),
      lifecycle: life,
      namespace,
    },
  };
}

/**
 * One poll that must end by `end` (epoch ms: the Lambda's remaining time, or the CLI's budget):
 * HSS reads stop DELIVERY_RESERVE_MS before it, so there is time left to record and deliver.
 */
export function runPoll(app: App, end: number, extra: Partial<PollOptions> = {}): Promise<PollSummary> {
  const deadline = end - SAFETY_MS;
  return poll(
    {
      reader: app.reader,
      budget: app.budget,
      store: app.store,
      lifecycle: app.lifecycle,
      outbox: app.outbox,
      clock: app.clock,
      log: app.log,
      dynamoStats: () => ({ ...app.stats }),
    },
    { ...app.options, fetchDeadline: deadline - DELIVERY_RESERVE_MS, deadline, ...extra },
  );
}

/** Margin kept before the next check of an invocation, and between reading and that margin, ms. */
const CHECK_GAP_MS = 500;

/**
 * One scheduled invocation, ending by `end` (epoch ms). With one check a minute (CHECKS_PER_MINUTE=1,
 * the default) it is one `runPoll`. With more, the checks are spread evenly from the start, each a
 * whole poll that reads HSS while a call can finish before the next check and delivers until the
 * invocation's end (a send needs its timeout and recording margin, more than the spacing);
 * the spacing leaves the last check time for one HSS call (`hssTimeoutMs`) before `end`, and a
 * check whose call budget has no slot in time reads nothing (the budget decides). Returns every
 * check's summary, in order.
 */
export async function runInvocation(app: App, end: number): Promise<PollSummary[]> {
  const start = app.clock();
  const periodMs = app.config.periodSeconds * 1000;
  const checks = Math.max(1, Math.round((app.config.checksPerMinute * periodMs) / 60_000));
  if (checks === 1) return [await runPoll(app, end)];
  const last = end - SAFETY_MS;
  const spacing = Math.min(
    periodMs / checks,
    (last - start - app.hssTimeoutMs - 2 * CHECK_GAP_MS) / (checks - 1),
  );
  const summaries: PollSummary[] = [];
  for (let i = 0; i < checks; i++) {
    const at = start + i * spacing;
    if (app.clock() < at) await app.sleep(at - app.clock());
    const deadline = i === checks - 1 ? last : Math.min(last, at + spacing - CHECK_GAP_MS);
    if (deadline <= app.clock()) break;
    summaries.push(await runPoll(app, last + SAFETY_MS, { fetchDeadline: deadline - CHECK_GAP_MS }));
  }
  return summaries;
}

/** How long a CLI poll may run: POLL_BUDGET_SECONDS, else the period less the safety margin. */
export function cliRunMs(config: Config): number {
  return config.pollBudgetSeconds !== undefined
    ? config.pollBudgetSeconds * 1000
    : config.periodSeconds * 1000 - SAFETY_MS - 5_000;
}
