// The domain records every part of the product shares: what a scope is, what we send (the outbox
// messages every destination renders), and how a delivery went. `hss` produces Tasks, `diff` turns
// them into Messages, `outbox` records and delivers them, `notify` renders them per channel.
import type { KnownStatus, Task, TaskStatus } from './task';

export type { KnownStatus, ListName, Task, TaskStatus } from './task';

/** One watched place: a project in a region, filtered to one enterprise project, read with one credential. */
export interface Scope {
  /** Stable id, `region/project/ep` (the form HSS_SCOPES uses); keys the scope's state. */
  id: string;
  /** Huawei Cloud region (`cn-north-4`); absent only when HSS_ENDPOINT serves a single scope. */
  region?: string;
  projectId: string;
  /** Enterprise project queried: `0` = default, `all_granted_eps` = every one the credential may see. */
  enterpriseProjectId: string;
  /** Name of the credential that reads it (a key of Config.credentials). */
  credential: string;
}

/**
 * Statuses an alert can be raised for: any documented task status the user chose, plus `stuck` (a
 * running or waiting task that stopped making progress or ran too long; never a status HSS sends).
 */
export type AlertStatus = KnownStatus | 'stuck';

/** Why a task produced an alert. */
export type AlertReason =
  | 'first-seen' // first observation of the task was already in an alert status
  | 'moved' // observed before in another status (running -> failed, failed -> timeout)
  | 're-entered' // left an alert status (retried) and entered one again: a new episode
  | 'resolved-after-window' // a follow-up query found how a task ended after it left the window
  | 'stuck-no-progress' // `process` did not move for STUCK_AFTER_MINUTES
  | 'stuck-too-long'; // running longer than STUCK_MAX_HOURS

/** Progress facts of a stuck task (or of a task that was stuck before it failed). */
export interface StuckFacts {
  /** Last progress seen, percent; undefined when HSS never sent one. */
  process?: number;
  /** How long `process` has not moved, ms. */
  stalledMs: number;
  /** How long the task has been running (since `started_at`), ms. */
  runningMs: number;
}

/** A task entered an alert status: the message every channel renders as an alert. */
export interface AlertMessage {
  kind: 'alert';
  /** Stable id: hash of project + task key + status + episode; the receivers' dedup key. */
  id: string;
  /** When this product detected it, epoch ms. */
  at: number;
  scope: Scope;
  /** The task as fetched when the change was detected (times already parsed: see Task). */
  task: Task;
  status: AlertStatus;
  /** Status last seen before; undefined when first seen in `status`. */
  previousStatus?: TaskStatus | 'stuck';
  reason: AlertReason;
  /** 1 the first time the task entered an alert status, 2 after it left and re-entered, ... */
  episode: number;
  /** Set on `stuck` alerts. */
  stuck?: StuckFacts;
  /** Set on a failed/timeout alert of a task that had raised a `stuck` alert before. */
  wasStuck?: StuckFacts;
  /** Stable per task (project + task key), whatever the status: PagerDuty's `dedup_key`, Google Chat's thread. */
  taskRef: string;
  /** No destination's routing matched: it went to the `fallback` destination, which says so. */
  noRoute?: true;
}

/** What a message that follows up an alert (resolved, reminder) says about that alert. */
export interface AboutAlert {
  scope: Scope;
  /** The alert followed up: its id, status and when it was raised. */
  alertId: string;
  alertStatus: AlertStatus;
  alertAt: number;
  /** The task that had alerted. */
  task: Task;
  taskRef: string;
  /** No destination's routing matched: it went to the `fallback` destination, which says so. */
  noRoute?: true;
}

/** An alert that no longer needs attention. */
export interface ResolvedMessage extends AboutAlert {
  kind: 'resolved';
  id: string;
  at: number;
  /** `later-success`: a later task of the same host and backup succeeded; `finished`: the stuck task finished. */
  how: 'later-success' | 'finished';
  /** The task that succeeded, when it is another one. */
  resolvedBy?: Task;
}

/** An alert still open after REMIND_AFTER_HOURS; channels digest a batch of reminders into one message. */
export interface ReminderMessage extends AboutAlert {
  kind: 'reminder';
  /** `{alertId}.r{n}`: the n-th reminder of that alert. */
  id: string;
  at: number;
  /** 1 for the first reminder. */
  n: number;
}

/** Yesterday's counts per scope (DAILY_SUMMARY_AT), one message per destination. */
export interface SummaryMessage {
  kind: 'daily-summary';
  id: string;
  at: number;
  /** The day summarised, `YYYY-MM-DD` in `timeZone`. */
  day: string;
  timeZone: string;
  scopes: Array<{
    scope: Scope;
    succeeded: number;
    failed: number;
    timedOut: number;
    stuck: number;
    resolved: number;
    stillOpen: number;
  }>;
  /** The slowest restores/backups of the day, slowest first (at most 5). */
  slowest: Array<{ scope: Scope; task: Task; durationMs: number }>;
}

/** Notices about the monitoring itself. */
export type NoticeKind =
  | 'test' // test-notify
  | 'monitoring-down' // a scope's polls kept failing: failures there are not being reported
  | 'monitoring-recovered' // polls work again; says how long monitoring was blind and that the gap was read
  | 'possible-loss' // a blind gap longer than the API's 30-day window: failures in it may never be seen
  | 'lost-track' // a task left the window unfinished and could not be found again
  | 'records-rejected' // HSS sent records that cannot be read (once a day per scope, with the count and a sample)
  | 'destination-failing' // a destination answers permanently (gone, forbidden): sent to the others
  | 'destination-recovered' // that destination works again (after failing, or after being degraded)
  | 'destination-degraded' // a destination has delivered nothing for a while and messages wait: sent to the others
  | 'no-route'; // alerts matched no destination's routing and reached no one: once a day

/** A message about the monitoring rather than about one task. */
export interface NoticeMessage {
  kind: 'notice';
  notice: NoticeKind;
  /** Stable id (one per outage, per lost task, ...): the receivers' dedup key. */
  id: string;
  at: number;
  /** The scope it concerns; undefined for deployment-wide notices (test, destination-failing). */
  scope?: Scope;
  /** One line a person can act on, written by us (channels do not escape it as API text, but must still neutralise markup). */
  summary: string;
  /** More detail; may contain API or receiver text (channels escape it). */
  detail?: string;
  /** Labelled facts shown as a table (`Blind since` -> `2026-11-29 17:00 UTC`); values may contain API text. */
  facts?: Array<[label: string, value: string]>;
  /** Destination ids that must not get it (a failing destination is not told that it is failing). */
  skipDestinations?: string[];
  /**
   * Ids of earlier notices this one makes moot (the `monitoring-down` a `monitoring-recovered` ends):
   * when it is recorded, their deliveries still pending or held for a destination it goes to are
   * skipped, so no destination hears "NOT working" after "working again".
   */
  supersedes?: string[];
  /**
   * Ties the notices of one incident together: `monitoring-down` and the `monitoring-recovered` that
   * ends it share it (one per outage, e.g. `{scope.id}#{blind since}`), likewise `destination-failing`
   * and `destination-recovered`. PagerDuty's dedup_key (trigger, then resolve); when absent, PagerDuty
   * falls back to one key per scope (or destination) and notice family.
   */
  incidentKey?: string;
}

/** Everything the product sends goes through the outbox as one of these. */
export type Message = AlertMessage | ResolvedMessage | ReminderMessage | SummaryMessage | NoticeMessage;

/** Result of one delivery attempt (one HTTP request carrying one or more messages). */
export type DeliveryOutcome =
  | { kind: 'ok' }
  | { kind: 'retryable'; error: string; retryAfterMs?: number }
  /** `endpoint`: the endpoint refuses every message (gone, unauthorised, misconfigured), not just this one. */
  | { kind: 'permanent'; error: string; endpoint?: true };

/**
 * `pending` due at `nextAt`; `held` by quiet hours or a silence until `nextAt`; `done` delivered
 * (2xx); `failed` permanently; `expired` gave up after the retry horizon; `skipped` not sent by
 * decision (a silenced alert resolved before its silence ended).
 */
type DeliveryStateName = 'pending' | 'held' | 'done' | 'failed' | 'expired' | 'skipped';

/** Delivery of one message to one destination. */
export interface DeliveryState {
  state: DeliveryStateName;
  attempts: number;
  /** Earliest next attempt, epoch ms (0 = now). */
  nextAt: number;
  lastError?: string;
  /**
   * When this delivery first became due, epoch ms: when its message was recorded, or when its hold
   * ended. The retry horizon (RETENTION.deliveryRetryMs) counts from it, so a long hold (quiet hours,
   * a silence) does not use up the time a failing destination is retried. Whoever holds a delivery
   * sets it to the hold's end.
   */
  dueSince?: number;
}
