// The explicit state of one poll: what it depends on, what it was asked to do, the working copy of
// every scope it reads, the effects port it writes through, and the summary it builds. Every phase
// (prepare, detect, sweep, judge, settle, deliver) takes this one object; nothing is shared
// through closures.
import type { LifecycleConfig } from '../config/types';
import type { StuckRules } from '../diff/decide';
import type { Entry } from '../state/entry';
import type { PageReader } from '../hss/pages';
import type { CallBudget } from '../budget/port';
import type { Clock, Log } from '../log';
import type { AlertStatus, KnownStatus, Message, NoticeMessage, Scope, Task } from '../model';
import type { DeliverySummary, Outbox } from '../outbox/types';
import type {
  Digest,
  LifecycleStore,
  ListName,
  ListSketch,
  Markers,
  ScopeState,
  ScopeStore,
  OpenAlert,
  Silence,
} from '../state/records';
import type { Effects } from './effects';
import type { ListScan } from './scan';

/** Records per HSS page: the API's most, so the fewest calls. */
export const PAGE_SIZE = 200;

export interface PollDeps {
  reader: PageReader;
  budget: CallBudget;
  store: ScopeStore;
  lifecycle: LifecycleStore;
  outbox: Outbox;
  clock: Clock;
  log: Log;
  /** DynamoDB usage so far (the summary reports this poll's share). */
  dynamoStats?: () => { requests: number; readCapacity: number; writeCapacity: number };
}

export interface PollOptions {
  scopes: readonly Scope[];
  /** Look-back window in days, 1..30 (widened for a gap). */
  lastDays: number;
  alertStatuses: readonly KnownStatus[];
  baseline: boolean;
  /** Fetch and decide with the recording effects: write nothing, send nothing; the summary lists what would be sent. */
  dryRun?: boolean;
  /** Schedule period, ms. */
  periodMs: number;
  /** No HSS call starts that could not finish by then (epoch ms): the rest of the run records and delivers. */
  fetchDeadline: number;
  /** The run ends by then (epoch ms): delivery stops. */
  deadline: number;
  pageSize?: number;
  /**
   * HSS calls a poll may make per credential (rate per minute x period); a scope that fails gets at
   * most its share of them (default: no limit).
   */
  callsPerPoll?: number;
  /** Stuck tasks, resolution, reminders, daily summary. */
  lifecycle: LifecycleConfig;
  /** State namespace (ids of deployment-wide messages). */
  namespace?: string;
}

/** What one poll did; counts are for this poll. */
export interface PollSummary {
  scopes: number;
  /** Scopes whose alert lists were read whole (a cycle completed) this poll. */
  scopesComplete: number;
  /** Scopes whose alert lists could not be read (API, auth): each named with its error. */
  scopesFailed: Array<{ scope: string; error: string; /** HSS refused the credentials. */ auth: boolean }>;
  tasksSeen: number;
  /** Entries changed (status, progress, new tasks). */
  changes: number;
  alertsNew: number;
  /** New alerts by status (failed, timeout, stuck, ...). */
  alertsByStatus: Partial<Record<AlertStatus, number>>;
  /**
   * Scopes not read whole within the latency bound their schedule and call budget promise (one
   * period more): blind now, whatever the reason (HSS failing, the budget, a stopped poller).
   */
  scopesBlind: number;
  /** The longest any scope's check has gone unread whole, ms: the detection lag now. */
  detectionLagMs: number;
  pagesRead: number;
  /** Pages equal to the last pass: skipped without reading state. */
  pagesUnchanged: number;
  /** Records HSS sent that could not be read (no host id...): skipped, reported once a day per scope. */
  recordsRejected: number;
  /** Rows naming a task another row of the same list already named: collapsed into one. */
  recordsDuplicated: number;
  followUps: { tried: number; ended: number; lostTrack: number; due: number };
  /** Scopes whose window was widened to read a blind gap. */
  widened: Array<{ scope: string; days: number; blindSince: number }>;
  /** Lists left mid-way for the next poll. */
  left: Array<{ scope: string; list: ListName; offset: number }>;
  /** The fetch deadline or the budget stopped reading before everything was read. */
  outOfTime: boolean;
  /** Credentials whose budget let no call start for 3 polls in a row: monitoring is NOT working. */
  budgetStarved: string[];
  hssCalls: number;
  hssThrottled: number;
  delivery: DeliverySummary;
  lifecycle: {
    silenced: number;
    released: number;
    resolved: number;
    reminders: number;
    summarySent?: string;
  };
  dynamoRequests: number;
  readCapacity: number;
  writeCapacity: number;
  durationMs: number;
  /** Messages this poll would send, on dry runs only. */
  wouldSend?: Message[];
}

/** Per-scope working state of one poll. */
export interface ScopeRun {
  scope: Scope;
  /** The state as read; `state` is the working copy written at the end. */
  before: ScopeState;
  state: ScopeState;
  /** Alert-list window this poll (lastDays, or wider to read a gap). */
  windowDays: number;
  /** Read on first need (a page that changed, a judgment). */
  digest?: Digest;
  scans: Map<ListName, ListScan>;
  /** Why reading its alert lists failed this poll. */
  failed?: unknown;
  /** Keys seen in any in-flight list this poll (a task moving between them is not gone). */
  inFlightSeen: Set<string>;
  /** HSS calls spent on this scope this poll. */
  calls: number;
  /** Row hashes this poll read, per list and key (what a cycle spanning polls keeps aside). */
  rows: Map<ListName, Map<string, string>>;
  /** Every row a completed cycle saw (this poll's and those kept aside), per list, read on first need. */
  cycleRows: Map<ListName, ReadonlyMap<string, string>>;
  /** Each list's sketch of its last complete cycle, read on first need (null: none kept). */
  sketches: Map<ListName, ListSketch | null>;
  /** Tasks observed this poll, with the list and the entry as the poll found it (duplicates across pages). */
  observed: Map<string, { task: Task; prev: Entry | undefined; list: ListName }>;
}

/** One credential's reading this poll. */
export interface CredentialRun {
  /** Some read wanted a call with it. */
  wanted: boolean;
  /** Calls started with it. */
  calls: number;
  /** Its budget has no slot before the fetch deadline: nothing more is read with it this poll. */
  exhausted: boolean;
}

/** The lifecycle's inputs gathered while reading: tasks seen to succeed, alerts raised. */
interface LifecycleInputs {
  /** Per scope id: tasks seen in `success` (digest key -> task). */
  succeeded: Map<string, Map<string, Task>>;
  /** Per scope id: tasks that ended quietly (left the in-flight lists well inside the window), by digest key. */
  ended: Map<string, Set<string>>;
  /** Alerts raised this poll (opened), for resolution within the same poll and the day's counts. */
  raised: OpenAlert[];
}

export interface PollRun {
  readonly deps: PollDeps;
  readonly options: PollOptions;
  readonly effects: Effects;
  readonly startedAt: number;
  readonly pageSize: number;
  /** Stuck rules from the lifecycle config. */
  readonly stuck: StuckRules;
  /** Scope runs in the configured order. */
  readonly scopes: ScopeRun[];
  readonly byId: Map<string, ScopeRun>;
  readonly credentials: Map<string, CredentialRun>;
  readonly silences: Silence[];
  readonly markers: { before: Markers; next: Markers };
  readonly life: LifecycleInputs;
  /** Notices about the monitoring, enqueued at settle. */
  readonly notices: NoticeMessage[];
  readonly summary: PollSummary;
  /** When the last delivery between reads ran (epoch ms; 0 = none). */
  lastDelivery: number;
  /** The reader's and DynamoDB's counters when the poll began. */
  readonly baseline: {
    reader: PageReader['stats'];
    dynamo: { requests: number; readCapacity: number; writeCapacity: number };
  };
}

/** The run's credential record for `name`. */
export function credentialRun(run: PollRun, name: string): CredentialRun {
  let c = run.credentials.get(name);
  if (!c) run.credentials.set(name, (c = { wanted: false, calls: 0, exhausted: false }));
  return c;
}

/**
 * One summary of the checks of an invocation: counts add up; what describes the state now (failed
 * scopes, lists left, starved credentials, pending deliveries and destination health) is the last
 * check's.
 */
export function combineChecks(checks: readonly PollSummary[]): PollSummary {
  const last = checks.at(-1)!;
  if (checks.length === 1) return last;
  const sum = (f: (s: PollSummary) => number) => checks.reduce((n, s) => n + f(s), 0);
  return {
    ...last,
    scopesComplete: Math.max(...checks.map((s) => s.scopesComplete)),
    tasksSeen: Math.max(...checks.map((s) => s.tasksSeen)),
    changes: sum((s) => s.changes),
    alertsNew: sum((s) => s.alertsNew),
    alertsByStatus: Object.fromEntries(
      [...new Set(checks.flatMap((s) => Object.keys(s.alertsByStatus)))].map((k) => [
        k,
        sum((s) => s.alertsByStatus[k as AlertStatus] ?? 0),
      ]),
    ),
    pagesRead: sum((s) => s.pagesRead),
    pagesUnchanged: sum((s) => s.pagesUnchanged),
    recordsRejected: sum((s) => s.recordsRejected),
    recordsDuplicated: sum((s) => s.recordsDuplicated),
    followUps: {
      tried: sum((s) => s.followUps.tried),
      ended: sum((s) => s.followUps.ended),
      lostTrack: sum((s) => s.followUps.lostTrack),
      due: last.followUps.due,
    },
    widened: checks.flatMap((s) => s.widened),
    outOfTime: checks.some((s) => s.outOfTime),
    hssCalls: sum((s) => s.hssCalls),
    hssThrottled: sum((s) => s.hssThrottled),
    delivery: {
      ...last.delivery,
      sent: sum((s) => s.delivery.sent),
      requests: sum((s) => s.delivery.requests),
      retrying: sum((s) => s.delivery.retrying),
      failed: sum((s) => s.delivery.failed),
      expired: sum((s) => s.delivery.expired),
      unrouted: sum((s) => s.delivery.unrouted),
    },
    lifecycle: {
      silenced: sum((s) => s.lifecycle.silenced),
      released: sum((s) => s.lifecycle.released),
      resolved: sum((s) => s.lifecycle.resolved),
      reminders: sum((s) => s.lifecycle.reminders),
      ...(checks.find((s) => s.lifecycle.summarySent)?.lifecycle.summarySent
        ? { summarySent: checks.find((s) => s.lifecycle.summarySent)!.lifecycle.summarySent! }
        : {}),
    },
    dynamoRequests: sum((s) => s.dynamoRequests),
    readCapacity: sum((s) => s.readCapacity),
    writeCapacity: sum((s) => s.writeCapacity),
    durationMs: sum((s) => s.durationMs),
  };
}
