import { randomUUID } from 'node:crypto';
import type { Alert } from './diff/alert';
import { decide, decideResolved, type Plan } from './diff/decide';
import { reportRecovered } from './health';
import type { TaskSource } from './hss/types';
import type { Clock, Log } from './log';
import {
  deliverPending,
  DEFAULT_RETRY_POLICY,
  type DeliverySummary,
  type RetryPolicy,
} from './notify/deliver';
import type { Notifier } from './notify/types';
import type { StateStore, StoredAlert } from './state/store';
import { IN_FLIGHT_STATUSES, taskKey, type KnownStatus, type Scope, type Task } from './task';

const DAY_MS = 86_400_000;
const DEFAULT_PERIOD_MS = 300_000;

export interface PollOptions {
  scope: Scope;
  /** Look-back window in days, 1..30. */
  lastDays: number;
  /** Statuses that alert (default failed, timeout). */
  alertStatuses: readonly KnownStatus[];
  /** Record the window without alerting (for users who do not want the backlog). */
  baseline?: boolean;
  /** Fetch and decide, write nothing and send nothing; the summary lists what would be sent. */
  dryRun?: boolean;
  /** Schedule period in ms (default 5 min): picks which in-flight list this tick sweeps. */
  periodMs?: number;
  /** Lease on deliveries; must exceed the function timeout (default 3 min). */
  leaseMs?: number;
  /** Follow-up queries allowed per poll for tasks that left the window unfinished (default 1). */
  maxFollowUps?: number;
  retryPolicy?: RetryPolicy;
}

export interface PollDeps {
  hss: TaskSource;
  store: StateStore;
  notifiers: readonly Notifier[];
  clock: Clock;
  log: Log;
  random?: () => number;
}

/** What one poll did; every count is for this poll only. */
export interface PollSummary {
  tasksSeen: number;
  /** Task state changes recorded (status changes and tracking changes). */
  transitions: number;
  /** Alerts newly recorded (or, on a dry run, that would be). */
  alertsNew: number;
  /** Alert deliveries answered 2xx. */
  alertsSent: number;
  deliveriesPending: number;
  deliveriesFailed: number;
  deliveriesExpired: number;
  deliveriesRetrying: number;
  /** Tasks that left the window unfinished and could not be resolved (logged). */
  unresolved: number;
  hssCalls: number;
  /** HSS answers that were throttled (and retried) this poll. */
  hssThrottled: number;
  dynamoRequests: number;
  readCapacity: number;
  writeCapacity: number;
  durationMs: number;
  /** Alerts this poll would send, set on dry runs only. */
  wouldSend?: Alert[];
}

/**
 * One poll of one scope: fetch -> read state -> decide -> record -> deliver. Throws when the
 * window could not be read whole or state could not be read or written; nothing is lost then,
 * because state is only written after the decision and alerts before they are sent.
 */
export async function poll(deps: PollDeps, options: PollOptions): Promise<PollSummary> {
  const { hss, clock, log } = deps;
  const { store } = deps;
  const statsBefore = { ...store.stats };
  const throttledBefore = hss.stats?.throttled ?? 0;
  const startedAt = clock();
  const { scope, lastDays, alertStatuses } = options;
  const baseline = options.baseline ?? false;
  const periodMs = options.periodMs ?? DEFAULT_PERIOD_MS;
  let hssCalls = 0;

  // Fetch. The in-flight sweep goes first so that a task finishing between two calls shows up
  // in the alert-status lists fetched after it rather than vanishing from both.
  const sweep = sweepStatus(startedAt, periodMs);
  const fetched: Task[] = [];
  const complete: KnownStatus[] = [];
  for (const status of [sweep, ...alertStatuses.filter((s) => s !== sweep)]) {
    const list = await hss.listTasks({ status, lastDays });
    hssCalls += list.calls;
    fetched.push(...list.tasks);
    complete.push(status);
  }

  // Read state: the working set in one Query, plus stored items of alert-status tasks not in it.
  const workingSet = await store.readWorkingSet(scope);
  const stored = new Map(workingSet.tasks);
  const alertKeys = new Set(
    fetched.filter((t) => alertStatuses.includes(t.status as KnownStatus)).map(taskKey),
  );
  const untracked = [...alertKeys].filter((key) => !stored.has(key));
  for (const [key, task] of await store.getTasks(scope, untracked)) stored.set(key, task);

  const now = clock();
  const plan = decide({
    scope,
    now,
    lastDays,
    alertStatuses,
    baseline,
    fetched,
    stored,
    completeStatuses: complete,
    edgeMarginMs: 2 * periodMs,
  });
  const followUp = await resolveEdge(deps, options, plan, now);
  hssCalls += followUp.calls;

  const summary: PollSummary = {
    tasksSeen: new Set(fetched.map(taskKey)).size,
    transitions: plan.writes.length,
    alertsNew: 0,
    alertsSent: 0,
    deliveriesPending: 0,
    deliveriesFailed: 0,
    deliveriesExpired: 0,
    deliveriesRetrying: 0,
    unresolved: followUp.unresolved,
    hssCalls,
    hssThrottled: (hss.stats?.throttled ?? 0) - throttledBefore,
    dynamoRequests: 0,
    readCapacity: 0,
    writeCapacity: 0,
    durationMs: 0,
  };
  if (options.dryRun) {
    summary.alertsNew = plan.alerts.length;
    summary.wouldSend = plan.alerts;
    return finish(summary, store, statsBefore, clock, startedAt);
  }

  // Record: alerts first (conditional: one per task and status, whoever wins), then task state.
  // A crash in between re-decides the same alert next poll, finds it recorded, and moves on.
  const policy = options.retryPolicy ?? DEFAULT_RETRY_POLICY;
  const recorded: StoredAlert[] = [];
  for (const alert of plan.alerts) {
    const record = newRecord(alert, deps.notifiers, lastDays, policy);
    if ((await store.putAlert(record)) === 'created') recorded.push(record);
    else log.info('Alert already recorded by another poll', { alertId: alert.id });
  }
  summary.alertsNew = recorded.length;
  await store.putTasks(scope, plan.writes);

  const delivery: DeliverySummary = await deliverPending(
    { store, notifiers: deps.notifiers, clock, log, random: deps.random },
    {
      scope,
      candidates: dedupeRefs([
        ...recorded.map((r) => ({ key: taskKey(r.alert.task), status: r.alert.status })),
        ...workingSet.pending,
      ]),
      owner: randomUUID(),
      leaseMs: options.leaseMs ?? 180_000,
      policy,
    },
  );
  summary.alertsSent = delivery.sent;
  summary.deliveriesPending = delivery.pending;
  summary.deliveriesFailed = delivery.failed;
  summary.deliveriesExpired = delivery.expired;
  summary.deliveriesRetrying = delivery.retrying;
  if (workingSet.health) await reportRecovered({ store, notifiers: deps.notifiers, clock, log }, scope);
  return finish(summary, store, statsBefore, clock, startedAt);
}

/** The in-flight list this tick sweeps: running and waiting alternate, one call per poll. */
export function sweepStatus(now: number, periodMs: number): KnownStatus {
  return IN_FLIGHT_STATUSES[Math.floor(now / periodMs) % IN_FLIGHT_STATUSES.length]!;
}

/**
 * Resolves tasks that may have left the window before they were seen to finish: one query by
 * host name over a window wide enough to hold them, at most `maxFollowUps` per poll (the rest
 * stay tracked and are tried on a later poll). Adds to `plan` in place.
 */
async function resolveEdge(
  deps: PollDeps,
  options: PollOptions,
  plan: Plan,
  now: number,
): Promise<{ calls: number; unresolved: number }> {
  let calls = 0;
  let unresolved = 0;
  for (const prev of plan.edge.slice(0, options.maxFollowUps ?? 1)) {
    const started = Date.parse(prev.startedAt);
    // Wide enough to hold the task with an hour to spare for the time between deciding and asking.
    const ageDays = Number.isNaN(started) ? 30 : Math.ceil((now - started + 3_600_000) / DAY_MS);
    const list = await deps.hss.listTasks({
      resourceName: prev.hostName,
      lastDays: Math.min(30, Math.max(1, ageDays)),
    });
    calls += list.calls;
    const found = list.tasks.find((t) => taskKey(t) === prev.key);
    const result = decideResolved({ ...options, baseline: options.baseline ?? false, now }, prev, found);
    if (result.decision === 'unresolved') {
      unresolved += 1;
      deps.log.warn(
        'A task left the query window before it was seen to finish and could not be found again',
        {
          hostId: prev.hostId,
          hostName: prev.hostName,
          backupName: prev.backupName,
          startedAt: prev.startedAt,
          lastStatus: prev.status,
        },
      );
    }
    if (result.alert) plan.alerts.push(result.alert);
    plan.writes.push(result.write);
  }
  return { calls, unresolved };
}

function newRecord(
  alert: Alert,
  notifiers: readonly Notifier[],
  lastDays: number,
  policy: RetryPolicy,
): StoredAlert {
  const deliveries = Object.fromEntries(
    notifiers.map((n) => [n.id, { state: 'pending' as const, attempts: 0, nextAt: 0 }]),
  );
  // The alert must outlive both the window its task can reappear in and its delivery retries.
  const keepMs = Math.max((lastDays + 2) * DAY_MS, policy.expireAfterMs + DAY_MS);
  return { alert, deliveries, expiresAt: Math.ceil((alert.detectedAt + keepMs) / 1000) };
}

function dedupeRefs<T extends { key: string; status: string }>(refs: T[]): T[] {
  const seen = new Map(refs.map((r) => [`${r.key}#${r.status}`, r]));
  return [...seen.values()];
}

function finish(
  summary: PollSummary,
  store: StateStore,
  before: { requests: number; readCapacity: number; writeCapacity: number },
  clock: Clock,
  startedAt: number,
): PollSummary {
  summary.dynamoRequests = store.stats.requests - before.requests;
  summary.readCapacity = store.stats.readCapacity - before.readCapacity;
  summary.writeCapacity = store.stats.writeCapacity - before.writeCapacity;
  summary.durationMs = clock() - startedAt;
  return summary;
}
