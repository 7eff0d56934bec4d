import type { StoredTask } from '../state/store';
import {
  IN_FLIGHT_STATUSES,
  taskKey,
  type KnownStatus,
  type Scope,
  type Task,
  type TaskStatus,
} from '../task';
import { alertId, type Alert, type AlertReason } from './alert';

const DAY_MS = 86_400_000;

/** What one fetched task means, given what was stored; one reason per case. */
export type Decision =
  | 'first-seen-in-alert-status' // alert: new task already failed or timed out
  | 'moved-into-alert-status' // alert: e.g. running -> failed, or failed -> timeout
  | 'already-alerted' // status changed back to one that alerted before: record, stay quiet
  | 'baseline' // alert status, but the user asked to record the window without alerting
  | 'status-changed' // e.g. waiting -> running: record only
  | 'first-seen' // new task in a quiet status: record only
  | 'unchanged'; // nothing to do, nothing to write

/** Decides what a task's current observation means. Pure; `baseline` suppresses alerts. */
export function decideTask(
  prev: StoredTask | undefined,
  cur: Task,
  alertStatuses: readonly TaskStatus[],
  baseline: boolean,
): Decision {
  if (prev && prev.status === cur.status && prev.rawStatus === cur.rawStatus) return 'unchanged';
  if (!alertStatuses.includes(cur.status) || cur.status === 'unknown') {
    return prev ? 'status-changed' : 'first-seen';
  }
  if (prev?.alerted.includes(cur.status)) return 'already-alerted';
  if (baseline) return 'baseline';
  return prev ? 'moved-into-alert-status' : 'first-seen-in-alert-status';
}

export const ALERTING_DECISIONS: ReadonlySet<Decision> = new Set([
  'first-seen-in-alert-status',
  'moved-into-alert-status',
]);

/** What happens to a tracked task that is missing from a list fetched whole this poll. */
export type VanishDecision =
  | 'finished' // left the in-flight list inside the window and did not fail: stop tracking it
  | 'aged-out' // an alert-status task older than the window: stop tracking it
  | 'edge'; // may have left the window unfinished: resolve it with a follow-up query

export interface DecideInput {
  scope: Scope;
  now: number;
  lastDays: number;
  alertStatuses: readonly KnownStatus[];
  baseline: boolean;
  /** Tasks fetched this poll; a later entry for the same key wins (the lists are fetched in order). */
  fetched: readonly Task[];
  /** Stored state of every fetched key that has one, plus the whole tracked working set. */
  stored: ReadonlyMap<string, StoredTask>;
  /** Statuses whose lists were fetched whole this poll: only their absentees can be judged. */
  completeStatuses: readonly KnownStatus[];
  /** A task younger than the window by less than this may drop out before the next poll. */
  edgeMarginMs: number;
}

export interface Plan {
  alerts: Alert[];
  /** Task items to write (status changes and tracking changes), never unchanged ones. */
  writes: StoredTask[];
  /** Tracked tasks that may have left the window unfinished. */
  edge: StoredTask[];
  /** Count of each decision, for the summary and logs. */
  decisions: Record<Decision | VanishDecision, number>;
}

/** Turns one poll's observations into alerts and state writes. Pure: the clock is `input.now`. */
export function decide(input: DecideInput): Plan {
  const { now, alertStatuses, baseline, stored } = input;
  const latest = new Map<string, Task>();
  for (const task of input.fetched) latest.set(taskKey(task), task);

  const plan: Plan = { alerts: [], writes: [], edge: [], decisions: emptyCounts() };
  for (const [key, task] of latest) {
    const prev = stored.get(key);
    const decision = decideTask(prev, task, alertStatuses, baseline);
    plan.decisions[decision] += 1;
    if (decision === 'unchanged') {
      const tracked = isTracked(task.status, alertStatuses);
      if (prev && prev.tracked !== tracked) plan.writes.push({ ...prev, tracked });
      continue;
    }
    if (ALERTING_DECISIONS.has(decision)) {
      plan.alerts.push(makeAlert(input.scope, task, prev?.status, prev ? 'moved' : 'first-seen', now));
    }
    const alerted =
      ALERTING_DECISIONS.has(decision) || decision === 'baseline'
        ? [...(prev?.alerted ?? []), task.status]
        : (prev?.alerted ?? []);
    plan.writes.push(storedFrom(task, alerted, now, input.lastDays, alertStatuses));
  }

  for (const prev of stored.values()) {
    if (!prev.tracked || latest.has(prev.key)) continue;
    if (!(input.completeStatuses as readonly TaskStatus[]).includes(prev.status)) continue;
    const vanish = decideVanished(prev, now, input.lastDays, input.edgeMarginMs);
    plan.decisions[vanish] += 1;
    if (vanish === 'edge') plan.edge.push(prev);
    else plan.writes.push({ ...prev, tracked: false });
  }
  return plan;
}

/** Why a tracked task is missing from its status list. Pure. */
export function decideVanished(
  prev: StoredTask,
  now: number,
  lastDays: number,
  edgeMarginMs: number,
): VanishDecision {
  const started = Date.parse(prev.startedAt);
  const windowStart = now - lastDays * DAY_MS;
  // An unparseable start time cannot prove the task is inside the window: resolve it.
  const nearEdge = Number.isNaN(started) || started < windowStart + edgeMarginMs;
  if ((IN_FLIGHT_STATUSES as readonly TaskStatus[]).includes(prev.status))
    return nearEdge ? 'edge' : 'finished';
  return 'aged-out';
}

/**
 * Decides a task found by a follow-up query after it left the window: alerts if it ended in an
 * alert status not yet alerted; `undefined` task means it could not be found at all.
 */
export function decideResolved(
  input: Pick<DecideInput, 'scope' | 'now' | 'lastDays' | 'alertStatuses' | 'baseline'>,
  prev: StoredTask,
  found: Task | undefined,
): { alert?: Alert; write: StoredTask; decision: Decision | 'unresolved' } {
  if (!found) return { write: { ...prev, tracked: false }, decision: 'unresolved' };
  const decision = decideTask(prev, found, input.alertStatuses, input.baseline);
  const alerting = ALERTING_DECISIONS.has(decision);
  const alerted = alerting || decision === 'baseline' ? [...prev.alerted, found.status] : prev.alerted;
  const write = storedFrom(found, alerted, input.now, input.lastDays, input.alertStatuses);
  // Still in flight beyond the window: keep tracking it, with its TTL counted from now.
  write.expiresAt = expiry(input.now, input.now, input.lastDays);
  return {
    alert: alerting
      ? makeAlert(input.scope, found, prev.status, 'resolved-after-window', input.now)
      : undefined,
    write,
    decision,
  };
}

function makeAlert(
  scope: Scope,
  task: Task,
  previousStatus: TaskStatus | undefined,
  reason: AlertReason,
  now: number,
): Alert {
  return {
    id: alertId(scope, task, task.status),
    scope,
    task,
    status: task.status,
    ...(previousStatus ? { previousStatus } : {}),
    reason,
    detectedAt: now,
  };
}

function isTracked(status: TaskStatus, alertStatuses: readonly TaskStatus[]): boolean {
  return (IN_FLIGHT_STATUSES as readonly TaskStatus[]).includes(status) || alertStatuses.includes(status);
}

function storedFrom(
  task: Task,
  alerted: TaskStatus[],
  now: number,
  lastDays: number,
  alertStatuses: readonly TaskStatus[],
): StoredTask {
  const started = Date.parse(task.startedAt);
  return {
    key: taskKey(task),
    hostId: task.hostId,
    hostName: task.hostName,
    backupName: task.backupName,
    startedAt: task.startedAt,
    status: task.status,
    rawStatus: task.rawStatus,
    alerted: [...new Set(alerted)],
    tracked: isTracked(task.status, alertStatuses),
    changedAt: now,
    expiresAt: expiry(Number.isNaN(started) ? now : started, now, lastDays),
  };
}

/** TTL in epoch seconds: state outlives the window the task can be seen in by two days. */
export function expiry(startedMs: number, now: number, lastDays: number): number {
  return Math.ceil(Math.max(startedMs, now) / 1000) + (lastDays + 2) * 86_400;
}

function emptyCounts(): Record<Decision | VanishDecision, number> {
  return {
    'first-seen-in-alert-status': 0,
    'moved-into-alert-status': 0,
    'already-alerted': 0,
    baseline: 0,
    'status-changed': 0,
    'first-seen': 0,
    unchanged: 0,
    finished: 0,
    'aged-out': 0,
    edge: 0,
  };
}
