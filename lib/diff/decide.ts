// Pure decisions, clock passed in: what an observation of a task means given what the scope last
// saw of it (its Entry), what a task missing from a list it was in means, and what a follow-up
// query's answer means. One reason per case; table-tested in test/diff/decide.test.ts.
import type {
  AlertMessage,
  AlertReason,
  AlertStatus,
  KnownStatus,
  ListName,
  StuckFacts,
  Task,
  TaskStatus,
} from '../model';
import { MAX_WINDOW_DAYS } from '../state/layout';
import { DAY_MS, HOUR_MS } from '../time';
import { IN_FLIGHT_STATUSES } from '../task';
import { hash32, toSec, type Entry } from '../state/entry';

/** What one observation of a task means. */
export type Decision =
  | 'unchanged' // same status, progress and error as last seen: nothing to do, nothing to write
  | 'first-seen' // new task in a quiet status (running, waiting): record
  | 'first-seen-in-alert-status' // ALERT: new task already failed or timed out
  | 'moved-into-alert-status' // ALERT: seen before in a quiet status (running -> failed)
  | 'moved-between-alert-statuses' // ALERT: failed -> timeout (a status not yet alerted this episode)
  | 're-entered-alert-status' // ALERT: left an alert status (retried) and entered one again
  | 'failed-again' // ALERT: still failed, but with a new end time or error: retried and failed again unseen
  | 'already-alerted' // timeout -> failed within one episode: record, stay quiet
  | 'left-alert-status' // failed -> running (retried): record; the episode ends
  | 'status-changed' // waiting -> running, or an undocumented status: record
  | 'progress' // same status, `process` moved: record (stuck detection reads it)
  | 'baseline'; // alert status, but BASELINE asks to record the window without alerting

/** Decisions that raise an alert. */
export const ALERTING: ReadonlySet<Decision> = new Set<Decision>([
  'first-seen-in-alert-status',
  'moved-into-alert-status',
  'moved-between-alert-statuses',
  're-entered-alert-status',
  'failed-again',
]);

export interface DecideContext {
  now: number;
  alertStatuses: readonly KnownStatus[];
  baseline: boolean;
}

/** The alert an observation raises (the caller builds the message). */
export type AlertFacts = Pick<
  AlertMessage,
  'status' | 'previousStatus' | 'reason' | 'episode' | 'stuck' | 'wasStuck'
>;

export interface Observed {
  decision: Decision;
  /** The entry to keep (equal to `prev` when unchanged). */
  entry: Entry;
  alert?: AlertFacts;
}

/** Hash of the end time and error of a task (a new one in the same alert status: it failed again). */
function detailHash(task: Task): number {
  return hash32(task.endedAt, task.errorCode, task.errorMessage);
}

/** Hash of everything an observation can change: status, raw status, progress, end time and error. */
export function observedHash(task: Task): number {
  return hash32(task.status, task.rawStatus, task.process, detailHash(task));
}

const isInFlight = (s: TaskStatus): boolean => (IN_FLIGHT_STATUSES as readonly TaskStatus[]).includes(s);

/** Decides what observing `task` (keyed `key`) means after `prev`. Pure. */
export function observe(prev: Entry | undefined, task: Task, key: string, ctx: DecideContext): Observed {
  const nowSec = toSec(ctx.now);
  const hash = observedHash(task);
  const detail = detailHash(task);
  if (prev && prev.stateHash === hash && prev.status === task.status) {
    // Seen again after a cycle missed it (a paging shift): no longer gone, nothing else changed.
    return {
      decision: 'unchanged',
      entry: prev.goneSec === 0 ? prev : { ...prev, goneSec: 0, goneConfirmed: false },
    };
  }
  const isAlertStatus =
    task.status !== 'unknown' && (ctx.alertStatuses as readonly TaskStatus[]).includes(task.status);
  const base: Entry = prev
    ? {
        ...prev,
        status: task.status,
        stateHash: hash,
        detailHash: detail,
        changedSec: nowSec,
        followUp: false,
        goneSec: 0,
        goneConfirmed: false,
      }
    : {
        key,
        status: task.status,
        stateHash: hash,
        detailHash: detail,
        alerted: [],
        episode: 0,
        inAlert: false,
        startedSec: toSec(task.startedMs),
        zoneless: task.zoneless === true,
        progressSec: nowSec,
        changedSec: nowSec,
        followUp: false,
        tries: 0,
        triedSec: 0,
        goneSec: 0,
        goneConfirmed: false,
      };
  if (task.process === undefined) delete base.process;
  else base.process = task.process;
  if (prev && prev.process !== task.process) base.progressSec = nowSec;

  if (!isAlertStatus) {
    if (prev?.inAlert && isInFlight(task.status)) {
      return { decision: 'left-alert-status', entry: { ...base, inAlert: false, alerted: [] } };
    }
    if (!prev) return { decision: 'first-seen', entry: base };
    return { decision: prev.status === task.status ? 'progress' : 'status-changed', entry: base };
  }

  const status = task.status as KnownStatus;
  let decision: Decision;
  let episode = prev?.episode ?? 0;
  let alerted = prev?.inAlert ? prev.alerted : [];
  const wasStuck = prev !== undefined && !prev.inAlert && prev.alerted.includes('stuck');
  if (!prev) decision = 'first-seen-in-alert-status';
  else if (wasStuck) decision = 'moved-into-alert-status';
  else if (!prev.inAlert) decision = episode > 0 ? 're-entered-alert-status' : 'moved-into-alert-status';
  else if (prev.status === status) decision = prev.detailHash === detail ? 'progress' : 'failed-again';
  else if (prev.alerted.includes(status)) decision = 'already-alerted';
  else decision = 'moved-between-alert-statuses';

  if (decision === 'failed-again' || (!prev?.inAlert && !wasStuck)) {
    // A new episode: the task entered an alert status again (or for the first time).
    episode = Math.min(255, episode + 1);
    alerted = [];
  }
  if (decision === 'already-alerted' || decision === 'progress') {
    return { decision, entry: { ...base, inAlert: true, episode, alerted } };
  }
  const entry: Entry = {
    ...base,
    inAlert: true,
    episode,
    alerted: [...new Set<AlertStatus>([...alerted, status])],
  };
  if (ctx.baseline) return { decision: 'baseline', entry };
  const reason: AlertReason =
    decision === 'first-seen-in-alert-status'
      ? 'first-seen'
      : decision === 're-entered-alert-status' || decision === 'failed-again'
        ? 're-entered'
        : 'moved';
  return {
    decision,
    entry,
    alert: {
      status,
      ...(prev ? { previousStatus: prev.status } : {}),
      reason,
      episode,
      ...(wasStuck && prev ? { wasStuck: stuckFacts(prev, ctx.now) } : {}),
    },
  };
}

/** When an in-flight task counts as stuck. */
export interface StuckRules {
  /** Progress unchanged this long, ms (STUCK_AFTER_MINUTES). */
  afterMs: number;
  /** Running this long, ms (STUCK_MAX_HOURS). */
  maxMs: number;
}

/** The progress facts of `entry` at `at` (epoch ms). */
function stuckFacts(entry: Entry, at: number): StuckFacts {
  return {
    ...(entry.process === undefined ? {} : { process: entry.process }),
    stalledMs: Math.max(0, at - entry.progressSec * 1000),
    runningMs: entry.startedSec > 0 ? Math.max(0, at - entry.startedSec * 1000) : 0,
  };
}

/** When `entry` becomes stuck if nothing changes (epoch ms); undefined when it cannot (not in flight, already stuck). */
function stuckDueAt(entry: Entry, rules: StuckRules): number | undefined {
  if (!isInFlight(entry.status) || entry.inAlert || entry.alerted.includes('stuck') || entry.followUp)
    return undefined;
  const stalled = entry.progressSec * 1000 + rules.afterMs;
  return entry.startedSec > 0 ? Math.min(stalled, entry.startedSec * 1000 + rules.maxMs) : stalled;
}

/**
 * Decides whether an in-flight task, seen unchanged by a sweep that started at `asOf`, is stuck:
 * its progress has not moved for `afterMs`, or it has run for `maxMs`. Alerts once per episode.
 * Pure.
 */
function decideStuck(
  entry: Entry,
  asOf: number,
  rules: StuckRules,
  baseline: boolean,
): { entry: Entry; alert?: AlertFacts } | undefined {
  const due = stuckDueAt(entry, rules);
  if (due === undefined || due > asOf) return undefined;
  const facts = stuckFacts(entry, asOf);
  const episode = Math.min(255, entry.episode + 1);
  const next: Entry = { ...entry, episode, alerted: ['stuck'], changedSec: toSec(asOf) };
  if (baseline) return { entry: next };
  return {
    entry: next,
    alert: {
      status: 'stuck',
      previousStatus: entry.status,
      reason: facts.stalledMs >= rules.afterMs ? 'stuck-no-progress' : 'stuck-too-long',
      episode,
      stuck: facts,
    },
  };
}

/**
 * The stuck tasks among `entries` of an in-flight list (or of `all`) whose whole cycle, started at
 * `cycleStart`, saw them (`seen`): each with its next entry and, unless in baseline, its alert. Pure.
 */
export function judgeStuck(
  entries: Iterable<Entry>,
  cycle: { list: ListName; seen: ReadonlySet<string>; cycleStart: number },
  rules: StuckRules,
  baseline: boolean,
): Array<{ entry: Entry; alert?: AlertFacts }> {
  const found: Array<{ entry: Entry; alert?: AlertFacts }> = [];
  for (const entry of entries) {
    if ((cycle.list !== 'all' && entry.status !== cycle.list) || !cycle.seen.has(entry.key)) continue;
    const stuck = decideStuck(entry, cycle.cycleStart, rules, baseline);
    if (stuck) found.push(stuck);
  }
  return found;
}

/** The earliest time any of `entries` becomes stuck (epoch ms); 0 = none can. */
export function earliestStuck(entries: Iterable<Entry>, rules: StuckRules): number {
  let earliest = 0;
  for (const entry of entries) {
    const due = stuckDueAt(entry, rules);
    if (due !== undefined && (earliest === 0 || due < earliest)) earliest = due;
  }
  return earliest;
}

/** What a task missing from a list it was last seen in (read whole this cycle) means. */
export type Vanish =
  | 'finished' // left its in-flight list well inside the window: it ended, and not in an alert status we read
  | 'follow-up' // left its in-flight list near the window edge: it may have aged out unfinished: ask HSS
  | 'aged-out' // an alert-status task older than the window: forget it (its alert record stays 32 days)
  | 'kept'; // an alert-status task inside the window missing once (paging shift): keep as is

/** How far a zone-less time can be off: any zone is within +-14 h of UTC. */
const ZONE_MARGIN_MS = 14 * HOUR_MS;
/** Allowance for HSS's clock and the time between reading a list and judging it. */
const EDGE_SLACK_MS = 10 * 60_000;

/**
 * Decides a task missing from `list` when a cycle of it completed at `cycleEnd` (epoch ms) with
 * window `lastDays`. Pure.
 */
export function vanished(entry: Entry, list: KnownStatus, cycleEnd: number, lastDays: number): Vanish {
  const windowStart = cycleEnd - lastDays * DAY_MS;
  const started = entry.startedSec * 1000;
  const margin = EDGE_SLACK_MS + (entry.zoneless ? ZONE_MARGIN_MS : 0);
  if (isInFlight(list)) {
    // It could only have aged out if it started before the window's start at some moment of the cycle.
    return entry.startedSec > 0 && started - margin > windowStart ? 'finished' : 'follow-up';
  }
  return entry.startedSec > 0 && started + margin < windowStart ? 'aged-out' : 'kept';
}

/** Follow-up tries before a task is reported as lost track of. */
export const MAX_FOLLOW_UP_TRIES = 12;
/** Longest wait between two follow-up tries of one task. */
const MAX_FOLLOW_UP_GAP_MS = 6 * HOUR_MS;

/** When `entry`'s next follow-up is due (epoch ms): right away, then backing off by the period. */
export function followUpDueAt(entry: Entry, periodMs: number): number {
  if (entry.tries === 0) return 0;
  return entry.triedSec * 1000 + Math.min(MAX_FOLLOW_UP_GAP_MS, periodMs * 2 ** (entry.tries - 1));
}

/** How to ask HSS how a task that left the window ended, or why it cannot be asked. */
export type FollowUpQuery =
  { queryable: true; lastDays: number; resourceName: string } | { queryable: false; why: string };

/**
 * The follow-up query of `entry` at `now` (`task` is its recorded detail): by host name, over a
 * window reaching back to its start (wider by the zone margin for a zone-less start), at most the
 * API's 30 days. Not queryable without details, without a host name, or when it started too long
 * ago. Pure.
 */
export function followUpQuery(entry: Entry, task: Task | undefined, now: number): FollowUpQuery {
  if (!task) return { queryable: false, why: 'its details were not recorded' };
  if (task.hostName.trim() === '') return { queryable: false, why: 'HSS gave it no host name to search by' };
  const startedMs = task.startedMs ?? (entry.startedSec > 0 ? entry.startedSec * 1000 : undefined);
  const ageDays = startedMs === undefined ? MAX_WINDOW_DAYS : Math.ceil((now - startedMs + HOUR_MS) / DAY_MS);
  if (ageDays > MAX_WINDOW_DAYS) return { queryable: false, why: 'it started more than 30 days ago' };
  // A zone-less start may be up to 14 h earlier than read: the query window covers any zone.
  const days =
    entry.zoneless && startedMs !== undefined
      ? Math.min(MAX_WINDOW_DAYS, Math.ceil((now - startedMs + HOUR_MS + ZONE_MARGIN_MS) / DAY_MS))
      : ageDays;
  return { queryable: true, lastDays: Math.max(1, days), resourceName: task.hostName };
}

/** What a follow-up query's answer means. */
export type FollowUpDecision =
  | 'ended' // found in a final status: decided like any observation (may alert), then forgotten
  | 'still-running' // found still in flight beyond the window: try again later
  | 'not-found' // not in the answer (or not in the pages read): try again later
  | 'lost-track'; // tries used up, or nothing to query by: reported once, then forgotten

/**
 * Decides a follow-up: `found` is the task with the entry's key in the answer (undefined when
 * absent), `queryable` false when the task has no host name to query by. Pure.
 */
export function decideFollowUp(
  entry: Entry,
  found: Task | undefined,
  queryable: boolean,
  ctx: DecideContext,
): { decision: FollowUpDecision; observed?: Observed; entry: Entry } {
  const nowSec = toSec(ctx.now);
  if (!queryable) return { decision: 'lost-track', entry };
  if (found && !isInFlight(found.status)) {
    const observed = observe(entry, found, entry.key, ctx);
    const alert = observed.alert
      ? { ...observed.alert, reason: 'resolved-after-window' as const }
      : undefined;
    return {
      decision: 'ended',
      observed: { ...observed, ...(alert ? { alert } : {}) },
      entry: observed.entry,
    };
  }
  const tried: Entry = {
    ...entry,
    tries: Math.min(255, entry.tries + 1),
    triedSec: nowSec,
    changedSec: nowSec,
  };
  if (tried.tries >= MAX_FOLLOW_UP_TRIES) return { decision: 'lost-track', entry: tried };
  return { decision: found ? 'still-running' : 'not-found', entry: tried };
}
