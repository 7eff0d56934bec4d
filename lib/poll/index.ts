// One poll of every scope, within a call budget and a deadline:
//   1. detect: the alert-status lists of every scope, page by page, each page recorded as it
//      arrives (alerts into the outbox, then what was seen into the digest);
//   2. sweep: with what is left, the in-flight lists (to see tasks finish or leave the window) and
//      follow-ups of tasks that left it unfinished, in turn;
//   3. settle: watermarks, gaps, health notices; write cursors and digests;
//   4. deliver what is due.
// A poll never starts an HSS call that could not finish before its fetch deadline; what it could
// not read is continued by the next poll from the stored cursors.
import {
  ALERTING,
  decideFollowUp,
  decideStuck,
  followUpDueAt,
  observe,
  observedHash,
  stuckDueAt,
  vanished,
  ZONE_MARGIN_MS,
  type AlertFacts,
  type DecideContext,
  type StuckRules,
} from '../diff/decide';
import { entryKey, hash32, toSec, type Entry } from '../diff/entry';
import { HssAuthError, HssError, HssThrottledError } from '../hss/errors';
import type { CallBudget, Page, PageReader } from '../hss/pages';
import type { Clock, Log } from '../log';
import type { AlertMessage, KnownStatus, Message, NoticeMessage, Scope, Task, TaskStatus } from '../model';
import { emptyDeliverySummary } from '../outbox';
import type { DeliverySummary, Outbox } from '../outbox/types';
import type { LifecycleConfig } from '../config/types';
import type { LifecycleStore } from '../state/lifecycle-store';
import { startLifecycle, type Lifecycle, type LifecycleSummary } from './lifecycle';
import { DAY_MS, HOUR_MS, MAX_WINDOW_DAYS } from '../retention';
import { dropEntry, putEntry, type Digest, type ScopeState, type ScopeStore } from '../state/scope-store';
import { IN_FLIGHT_STATUSES, taskKey } from '../task';
import { oneLine } from '../errors';
import { stableId } from '../ids';
import {
  downNotice,
  FAILURE_THRESHOLD,
  lostTrackNotice,
  possibleLossNotice,
  recoveredNotice,
} from './notices';
import { alertOrder, leftoverOrder, type SweepJob } from './plan';
import { createScan, type ListScan } from './scan';

export const PAGE_SIZE = 200;
/** Pages one follow-up try reads before it gives its turn back (a host name can match thousands). */
export const FOLLOW_UP_PAGES = 2;
/** Every this many polls, one HSS call is kept for the in-flight sweep before the alert lists. */
export const SWEEP_EVERY = 5;
/** Shortest gap between two HSS calls worth a delivery run (one send and its recording). */
export const MIN_INTERLEAVED_DELIVERY_MS = 20_000;
/** Least time between two deliveries interleaved with reading (chat digests stay few in an incident). */
export const INTERLEAVED_DELIVERY_MS = 60_000;

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
  /** Fetch and decide; write nothing, send nothing; the summary lists what would be sent. */
  dryRun?: boolean;
  /** Schedule period, ms. */
  periodMs: number;
  /** No HSS call starts that could not finish by then (epoch ms): the rest of the run records and delivers. */
  fetchDeadline: number;
  /** The run ends by then (epoch ms): delivery stops. */
  deadline: number;
  pageSize?: number;
  /** Stuck-task rules; undefined = no stuck alerts. */
  stuck?: StuckRules;
  /** Resolution, reminders, daily summary (default: resolved notices on, no reminders, no summary). */
  lifecycle?: LifecycleConfig;
  /** State namespace (ids of deployment-wide messages). */
  namespace?: string;
}

const DEFAULT_LIFECYCLE: LifecycleConfig = {
  stuckAfterMinutes: 60,
  stuckMaxHours: 6,
  notifyResolved: true,
  remindAfterHours: 0,
};

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
  pagesRead: number;
  /** Pages equal to the last pass: skipped without reading state. */
  pagesUnchanged: number;
  /** Records HSS sent that could not be read (no host id...). */
  recordsRejected: number;
  followUps: { tried: number; ended: number; lostTrack: number; due: number };
  /** Scopes whose window was widened to read a blind gap. */
  widened: Array<{ scope: string; days: number; blindSince: number }>;
  /** Lists left mid-way for the next poll. */
  left: Array<{ scope: string; list: KnownStatus; offset: number }>;
  /** The fetch deadline or the budget stopped reading before everything was read. */
  outOfTime: boolean;
  hssCalls: number;
  hssThrottled: number;
  delivery: DeliverySummary;
  lifecycle?: LifecycleSummary;
  dynamoRequests: number;
  readCapacity: number;
  writeCapacity: number;
  durationMs: number;
  /** Messages this poll would send, on dry runs only. */
  wouldSend?: Message[];
}

/** Per-scope working state of one poll. */
interface ScopeRun {
  scope: Scope;
  before: ScopeState;
  state: ScopeState;
  /** Alert-list window this poll (lastDays, or wider to read a gap). */
  windowDays: number;
  digest?: Digest;
  scans: Map<KnownStatus, ListScan>;
  failed?: unknown;
  /** Keys seen in any in-flight list this poll (a task moving between them is not gone). */
  inFlightSeen: Set<string>;
}

export async function poll(deps: PollDeps, options: PollOptions): Promise<PollSummary> {
  const { clock, log, reader, store, outbox } = deps;
  const startedAt = clock();
  const pageSize = options.pageSize ?? PAGE_SIZE;
  const dry = options.dryRun === true;
  const dynamoBefore = deps.dynamoStats?.() ?? { requests: 0, readCapacity: 0, writeCapacity: 0 };
  const readerBefore = { ...reader.stats };
  const seenTasks = new Set<string>();
  const wouldSend: Message[] = [];
  const notices: NoticeMessage[] = [];
  const summary: PollSummary = {
    scopes: options.scopes.length,
    scopesComplete: 0,
    scopesFailed: [],
    tasksSeen: 0,
    changes: 0,
    alertsNew: 0,
    pagesRead: 0,
    pagesUnchanged: 0,
    recordsRejected: 0,
    followUps: { tried: 0, ended: 0, lostTrack: 0, due: 0 },
    widened: [],
    left: [],
    outOfTime: false,
    hssCalls: 0,
    hssThrottled: 0,
    delivery: emptyDeliverySummary(),
    dynamoRequests: 0,
    readCapacity: 0,
    writeCapacity: 0,
    durationMs: 0,
  };
  let lastDelivery = 0;
  /** False once the budget or the fetch deadline stopped reading. */
  let inTime = true;

  // ---- prepare: scope states, gaps ---------------------------------------------------------
  const states = await store.readStates(options.scopes.map((s) => s.id));
  const runs = new Map<string, ScopeRun>();
  for (const scope of options.scopes) {
    const before = states.get(scope.id)!;
    const state: ScopeState = structuredClone(before);
    if (state.firstPollAt === 0) state.firstPollAt = startedAt;
    const windowDays = gapWindow(state, options, startedAt, summary, notices, scope);
    runs.set(scope.id, { scope, before, state, windowDays, scans: new Map(), inFlightSeen: new Set() });
  }

  const life: Lifecycle | undefined = dry
    ? undefined
    : await startLifecycle(
        { lifecycle: deps.lifecycle, store, outbox, log, namespace: options.namespace ?? 'default' },
        options.lifecycle ?? DEFAULT_LIFECYCLE,
      );

  const ctx = (): DecideContext => ({
    now: clock(),
    alertStatuses: options.alertStatuses,
    baseline: options.baseline,
  });

  // ---- reading ------------------------------------------------------------------------------
  /** Reads the next page of `scan` for `run`; false when out of time (nothing read). */
  async function readPage(run: ScopeRun, scan: ListScan, lastDays: number): Promise<boolean> {
    const offset = scan.next();
    if (offset === undefined) return true;
    const result = await reader.fetchPage(
      targetOf(run.scope),
      { lastDays, status: scan.list },
      offset,
      options.fetchDeadline,
      pageSize,
    );
    if (result.kind === 'out-of-time') {
      summary.outOfTime = true;
      return false;
    }
    const { page } = result;
    const entryKeys = page.tasks.map((t) => entryKey(run.scope.projectId, taskKey(t)));
    const pageHash = hash32(...page.tasks.map((t, i) => `${entryKeys[i]}:${observedHash(t)}`), page.rows);
    const step = scan.accept(offset, page, pageHash, entryKeys, clock());
    summary.pagesRead += 1;
    noteRejected(page, run, scan.list);
    for (const key of entryKeys) seenTasks.add(key);
    if ((IN_FLIGHT_STATUSES as readonly KnownStatus[]).includes(scan.list)) {
      for (const key of entryKeys) run.inFlightSeen.add(key);
    }
    if (step.unchanged) summary.pagesUnchanged += 1;
    else await recordTasks(run, page.tasks, entryKeys);
    if (step.complete) await settleCycle(run, scan);
    return true;
  }

  function noteRejected(page: Page, run: ScopeRun, list: KnownStatus): void {
    if (page.rejected.length === 0) return;
    summary.recordsRejected += page.rejected.length;
    log.error('HSS sent records that cannot be read; they are skipped', {
      scope: run.scope.id,
      list,
      rejected: page.rejected.slice(0, 5),
      count: page.rejected.length,
    });
  }

  async function digestOf(run: ScopeRun): Promise<Digest> {
    run.digest ??= await store.readDigest(run.scope.id);
    return run.digest;
  }

  /** Decides each task against the digest; records alerts (outbox) before the digest remembers them. */
  async function recordTasks(
    run: ScopeRun,
    tasks: readonly Task[],
    entryKeys: readonly string[],
  ): Promise<void> {
    const digest = await digestOf(run);
    const alerts: Array<{ alert: AlertMessage; key: string }> = [];
    const details: Array<{ key: string; task: Task }> = [];
    const updates: Entry[] = [];
    const c = ctx();
    tasks.forEach((task, i) => {
      const key = entryKeys[i]!;
      const prev = digest.entries.get(key);
      const observed = observe(prev, task, key, c);
      if (observed.decision === 'unchanged') return;
      updates.push(observed.entry);
      if (!prev || prev.status !== task.status) details.push({ key, task });
      if (observed.alert && ALERTING.has(observed.decision)) {
        alerts.push({ alert: alertMessage(run.scope, task, key, observed.alert, c.now), key });
      }
    });
    summary.changes += updates.length;
    if (dry) {
      wouldSend.push(...alerts.map((a) => a.alert));
      summary.alertsNew += alerts.length;
      for (const entry of updates) digest.entries.set(entry.key, entry);
      return;
    }
    if (alerts.length > 0) {
      summary.alertsNew += (await life!.raise(run.scope, alerts, c.now)).length;
      run.state.lastAlertAt = c.now;
    }
    if (details.length > 0) await store.putTasks(run.scope.projectId, details, c.now);
    for (const entry of updates) putEntry(digest, entry);
    if (alerts.length > 0) await deliverBetweenReads();
  }

  /** A list's cycle completed: judge the tasks it no longer shows, and the in-flight ones that stopped moving. */
  async function settleCycle(run: ScopeRun, scan: ListScan): Promise<void> {
    const inFlightList = (IN_FLIGHT_STATUSES as readonly KnownStatus[]).includes(scan.list);
    // A cycle equal to the last one misses exactly what that one missed: only a mark to confirm matters.
    if (scan.cycleChanged || (inFlightList && run.state.goneMarked > 0)) await judgeVanished(run, scan);
    const due = run.state.stuckDueAt;
    if (inFlightList && options.stuck && due > 0 && due <= scan.cycleStart)
      await judgeStuck(run, scan, options.stuck);
  }

  /** Stuck: seen by a whole sweep that started after its progress should have moved. */
  async function judgeStuck(run: ScopeRun, scan: ListScan, rules: StuckRules): Promise<void> {
    const digest = await digestOf(run);
    const found: Array<{ entry: Entry; alert?: AlertFacts }> = [];
    for (const entry of digest.entries.values()) {
      if (entry.status !== scan.list || !scan.seen.has(entry.key)) continue;
      const stuck = decideStuck(entry, scan.cycleStart, rules, options.baseline);
      if (stuck) found.push(stuck);
    }
    if (found.length === 0 || dry) {
      for (const f of found) if (f.alert) summary.alertsNew += 1;
      return;
    }
    const details = await store.getTasks(
      run.scope.projectId,
      found.map((f) => f.entry.key),
    );
    const now = clock();
    const alerts: Array<{ alert: AlertMessage; key: string }> = [];
    for (const { entry, alert } of found) {
      const task = details.get(entry.key);
      if (alert && task) {
        const current: Task = { ...task, status: entry.status, rawStatus: entry.status };
        if (entry.process === undefined) delete current.process;
        else current.process = entry.process;
        alerts.push({ alert: alertMessage(run.scope, current, entry.key, alert, now), key: entry.key });
      }
      putEntry(digest, entry);
    }
    if (alerts.length > 0) {
      summary.alertsNew += (await life!.raise(run.scope, alerts, now)).length;
      run.state.lastAlertAt = now;
    }
  }

  /**
   * A cycle completed: alert-status tasks older than the window are forgotten; in-flight tasks it
   * missed are marked gone, to be judged once the alert lists were read after this (judgeGone).
   */
  async function judgeVanished(run: ScopeRun, scan: ListScan): Promise<void> {
    if (dry) return;
    const digest = await digestOf(run);
    const now = clock();
    const inFlight = (IN_FLIGHT_STATUSES as readonly KnownStatus[]).includes(scan.list);
    let marked = false;
    for (const entry of [...digest.entries.values()]) {
      if (entry.status !== scan.list || scan.seen.has(entry.key) || entry.followUp) continue;
      if (inFlight) {
        if (run.inFlightSeen.has(entry.key) || entry.goneConfirmed) continue;
        if (entry.goneSec === 0) {
          putEntry(digest, { ...entry, goneSec: toSec(now) });
          marked = true;
          continue;
        }
        // Missed by a second whole cycle: it is gone (judged once the alert lists were read since).
        putEntry(digest, { ...entry, goneConfirmed: true });
        const since = entry.goneSec * 1000;
        run.state.goneAt = run.state.goneAt === 0 ? since : Math.min(run.state.goneAt, since);
      } else if (vanished(entry, scan.list, now, run.windowDays) === 'aged-out') {
        dropEntry(digest, entry.key, toSec(now));
      }
    }
    if (inFlight) {
      // Still waiting for confirmation: any entry missed once and not yet confirmed or seen again.
      const waiting = [...digest.entries.values()].some(
        (e) => e.goneSec > 0 && !e.goneConfirmed && !e.followUp,
      );
      run.state.goneMarked = marked || waiting ? now : 0;
    }
  }

  /**
   * In-flight tasks marked gone before the alert lists' cycles that just completed started: had
   * they failed or timed out, those lists would have shown them. Well inside the window they
   * finished; near its edge they get a follow-up.
   */
  async function judgeGone(run: ScopeRun): Promise<void> {
    const scans = options.alertStatuses.map((l) => run.scans.get(l));
    if (dry || !scans.every((s) => s?.complete)) return;
    const readSince = Math.min(...scans.map((s) => s!.cycleStart));
    if (run.state.goneAt === 0 || run.state.goneAt >= readSince) return;
    const digest = await digestOf(run);
    const now = clock();
    let pending = 0;
    for (const entry of [...digest.entries.values()]) {
      if (!entry.goneConfirmed || entry.followUp) continue;
      if (entry.goneSec * 1000 >= readSince) {
        pending = pending === 0 ? entry.goneSec * 1000 : Math.min(pending, entry.goneSec * 1000);
        continue;
      }
      if (!(IN_FLIGHT_STATUSES as readonly TaskStatus[]).includes(entry.status)) continue;
      const outcome = vanished(entry, entry.status as KnownStatus, entry.goneSec * 1000, options.lastDays);
      if (outcome === 'finished') {
        life!.finished(run.scope, entry.key, now);
        dropEntry(digest, entry.key, toSec(now));
      } else {
        putEntry(digest, {
          ...entry,
          followUp: true,
          goneSec: 0,
          goneConfirmed: false,
          changedSec: toSec(now),
        });
        run.state.followUps.push({ key: entry.key, dueAt: now, offset: 0 });
      }
    }
    run.state.goneAt = pending;
  }

  async function deliverBetweenReads(): Promise<void> {
    const now = clock();
    if (dry || (lastDelivery > 0 && now - lastDelivery < INTERLEAVED_DELIVERY_MS)) return;
    lastDelivery = now;
    // Only until the next HSS call may start: reading stays first.
    const until = Math.min(options.fetchDeadline, await deps.budget.nextSlot(firstCredential()));
    // Not worth a delivery run that could not fit one send (the outbox keeps 15 s for it).
    if (until - now < MIN_INTERLEAVED_DELIVERY_MS) return;
    mergeDelivery(summary.delivery, await outbox.deliver(until, { listsIncomplete: true }));
  }

  const firstCredential = () => options.scopes[0]?.credential ?? 'default';

  function fail(run: ScopeRun, err: unknown): void {
    run.failed = err;
    if (!(err instanceof HssError)) throw err; // DynamoDB or a bug: the poll itself fails
    log.error(`Reading HSS failed for scope ${run.scope.id}: ${oneLine(err)}`, { scope: run.scope.id });
  }

  // ---- 1. detect: alert lists of every scope, round-robin page by page -----------------------
  // Every SWEEP_EVERY-th poll, one call goes to the in-flight sweep first: when the alert lists of
  // many scopes take the whole budget, the sweep is stretched, never stopped.
  if (Math.floor(startedAt / options.periodMs) % SWEEP_EVERY === 0) await leftover(1);
  const order = alertOrder(
    [...runs.values()].map((r) => r.state),
    options.alertStatuses,
    startedAt,
  );
  const detect: Array<{ run: ScopeRun; scan: ListScan }> = [];
  for (const { scopeId, list } of order) {
    const run = runs.get(scopeId)!;
    detect.push({ run, scan: scanOf(run, list) });
  }
  while (inTime && detect.some((d) => !d.scan.complete && !d.run.failed)) {
    for (const { run, scan } of detect) {
      if (scan.complete || run.failed) continue;
      try {
        if (!(await readPage(run, scan, run.windowDays))) {
          inTime = false;
          break;
        }
      } catch (err) {
        fail(run, err);
      }
    }
  }

  const now1 = clock();
  for (const run of runs.values()) {
    if (run.failed) countFailure(run, now1);
    else await judgeGone(run);
  }

  // ---- 2. sweep and follow-ups with what is left ---------------------------------------------
  if (inTime) await leftover(Infinity);
  // Tasks the sweep just confirmed gone were missed since before this poll read the alert lists.
  for (const run of runs.values()) if (!run.failed) await judgeGone(run);

  /**
   * Spends calls on in-flight sweeps and due follow-ups, in turn, until they are done, time runs
   * out or `maxCalls` pages were read. A sweep or follow-up never fails the poll.
   */
  async function leftover(maxCalls: number): Promise<void> {
    const jobs = leftoverOrder(
      [...runs.values()].filter((r) => !r.failed).map((r) => r.state),
      clock(),
    );
    summary.followUps.due = Math.max(
      summary.followUps.due,
      jobs.filter((j) => j.kind === 'follow-up').length,
    );
    const active: SweepJob[] = [...jobs];
    let calls = 0;
    while (inTime && active.length > 0 && calls < maxCalls) {
      for (const job of [...active]) {
        const run = runs.get(job.scopeId)!;
        calls += 1;
        try {
          if (job.kind === 'sweep') {
            const scan = scanOf(run, job.list);
            if (!(await readPage(run, scan, options.lastDays))) inTime = false;
            if (scan.complete || !inTime) active.splice(active.indexOf(job), 1);
          } else {
            const done = await followUp(run, job.ref);
            if (done === 'out-of-time') inTime = false;
            active.splice(active.indexOf(job), 1);
          }
        } catch (err) {
          // Counted, logged, tried again next time.
          if (!(err instanceof HssError)) throw err;
          log.warn(`In-flight sweep or follow-up failed for scope ${run.scope.id}: ${oneLine(err)}`);
          active.splice(active.indexOf(job), 1);
        }
        if (!inTime || calls >= maxCalls) break;
      }
    }
  }

  /**
   * The scan of `list` this poll (one per scope and list). Alert lists read the scope's window
   * (widened for a gap), re-read their head and step back when continued; in-flight lists read
   * `lastDays` and continue exactly where they stopped (see ScanOptions).
   */
  function scanOf(run: ScopeRun, list: KnownStatus): ListScan {
    const existing = run.scans.get(list);
    if (existing) return existing;
    const alertList = options.alertStatuses.includes(list);
    const scan = createScan({
      list,
      cursor: run.state.cursors[list],
      seen: run.state.seen[list],
      lastDays: alertList ? run.windowDays : options.lastDays,
      pageSize,
      rereadHead: alertList,
      stepBack: alertList,
      periodMs: options.periodMs,
    });
    run.scans.set(list, scan);
    return scan;
  }

  /** One follow-up try: ask HSS by host name how a task that left the window ended. */
  async function followUp(
    run: ScopeRun,
    ref: { key: string; dueAt: number; offset: number },
  ): Promise<'done' | 'out-of-time'> {
    const digest = await digestOf(run);
    const entry = digest.entries.get(ref.key);
    const refs = run.state.followUps;
    const forget = (): void => {
      run.state.followUps = refs.filter((r) => r.key !== ref.key);
    };
    if (!entry) {
      forget();
      return 'done';
    }
    summary.followUps.tried += 1;
    const task = (await store.getTasks(run.scope.projectId, [ref.key])).get(ref.key);
    const startedMs = task?.startedMs ?? (entry.startedSec > 0 ? entry.startedSec * 1000 : undefined);
    const now = clock();
    const ageDays =
      startedMs === undefined ? MAX_WINDOW_DAYS : Math.ceil((now - startedMs + HOUR_MS) / DAY_MS);
    // A zone-less start may be up to 14 h earlier than read: the query window covers any zone.
    const queryDays =
      entry.zoneless && startedMs !== undefined
        ? Math.min(MAX_WINDOW_DAYS, Math.ceil((now - startedMs + HOUR_MS + ZONE_MARGIN_MS) / DAY_MS))
        : ageDays;
    const queryable = task !== undefined && task.hostName.trim() !== '' && ageDays <= MAX_WINDOW_DAYS;
    let found: Task | undefined;
    let offset = ref.offset;
    let exhausted = false;
    let failed = false;
    if (queryable) {
      try {
        for (let pages = 0; pages < FOLLOW_UP_PAGES && !found && !exhausted; pages++) {
          const result = await reader.fetchPage(
            targetOf(run.scope),
            { lastDays: Math.max(1, queryDays), resourceName: task.hostName },
            offset,
            options.fetchDeadline,
            pageSize,
          );
          if (result.kind === 'out-of-time') {
            summary.outOfTime = true;
            if (pages === 0) return 'out-of-time';
            break;
          }
          summary.pagesRead += 1;
          found = result.page.tasks.find((t) => entryKey(run.scope.projectId, taskKey(t)) === ref.key);
          offset += result.page.rows;
          if (result.page.rows < pageSize) exhausted = true;
        }
      } catch (err) {
        // A query HSS keeps failing (for this host name) counts as a try like any other, so it backs
        // off and ends in one lost-track notice; throttling is ours, not the task's: not counted.
        if (!(err instanceof HssError) || err instanceof HssThrottledError) throw err;
        log.warn(`A follow-up query failed for scope ${run.scope.id}: ${oneLine(err)}`);
        failed = true;
      }
    }
    const decision = decideFollowUp(entry, found, queryable, ctx());
    const why = !task
      ? 'its details were not recorded'
      : task.hostName.trim() === ''
        ? 'HSS gave it no host name to search by'
        : ageDays > MAX_WINDOW_DAYS
          ? 'it started more than 30 days ago'
          : `still unresolved after ${decision.entry.tries} follow-up queries${failed ? ', the last of which HSS failed' : ''}`;
    if (dry) return 'done';
    switch (decision.decision) {
      case 'ended': {
        summary.followUps.ended += 1;
        const observed = decision.observed!;
        if (observed.alert) {
          const alert = alertMessage(run.scope, found!, ref.key, observed.alert, now);
          summary.alertsNew += (await life!.raise(run.scope, [{ alert, key: ref.key }], now)).length;
        } else if (found && found.status !== 'unknown') {
          life!.finished(run.scope, ref.key, now);
        }
        dropEntry(digest, ref.key, toSec(now));
        forget();
        break;
      }
      case 'lost-track':
        summary.followUps.lostTrack += 1;
        log.warn('Lost track of a task that left the window unfinished', {
          scope: run.scope.id,
          key: ref.key,
          why,
        });
        notices.push(lostTrackNotice(run.scope, ref.key, task, why, now));
        dropEntry(digest, ref.key, toSec(now));
        forget();
        break;
      default: {
        putEntry(digest, decision.entry);
        const next = refs.find((r) => r.key === ref.key);
        if (next) {
          next.dueAt = followUpDueAt(decision.entry, options.periodMs);
          // Start over next time once the answer was read to its end without finding the task.
          next.offset = exhausted || found ? 0 : offset;
        }
      }
    }
    return 'done';
  }

  /** Counts a failed scope; the third failed poll in a row enqueues one "NOT working" notice. */
  function countFailure(run: ScopeRun, now: number): void {
    const { state, scope } = run;
    const health = state.health ?? { failures: 0, since: now, lastError: '', lastAt: now };
    health.failures += 1;
    health.lastAt = now;
    health.lastError = oneLine(run.failed).slice(0, 1000);
    state.health = health;
    summary.scopesFailed.push({
      scope: scope.id,
      error: health.lastError,
      auth: run.failed instanceof HssAuthError,
    });
    if (health.failures >= FAILURE_THRESHOLD && !health.downNoticeId) {
      const notice = downNotice(scope, health, now);
      health.downNoticeId = notice.id;
      notices.push(notice);
    }
  }

  /**
   * After the cursors are saved: the watermark is the start of the oldest of the alert lists' last
   * complete cycles. A gap is read once every list completed a cycle started after it was found; a
   * failing scope has recovered once every list completed a cycle started after its last failure
   * (and its gap, if any, is read): then the one "working again" notice goes out.
   */
  function settleWatermark(run: ScopeRun, now: number): void {
    const { state, scope } = run;
    const starts = options.alertStatuses.map((l) => state.cursors[l]?.completedStart ?? 0);
    const watermark = Math.min(...starts);
    if (watermark <= 0) return;
    if (options.alertStatuses.every((l) => run.scans.get(l)?.complete)) summary.scopesComplete += 1;
    const blindSince = state.gapSince > 0 ? state.gapSince : state.watermark;
    if (state.gapSince > 0 && watermark >= state.gapFoundAt) {
      state.gapSince = 0;
      state.gapFoundAt = 0;
    }
    state.watermark = Math.max(state.watermark, watermark);
    const health = state.health;
    if (!health || watermark < health.lastAt || state.gapSince > 0) return;
    if (health.downNoticeId) {
      notices.push(
        recoveredNotice(scope, health, blindSince > 0 ? blindSince : health.since, run.windowDays, now),
      );
    }
    delete state.health;
  }

  // ---- 3. settle: persist cursors, digests and states; enqueue notices -----------------------
  for (const run of runs.values()) {
    for (const [list, scan] of run.scans) {
      const saved = scan.save(clock());
      run.state.cursors[list] = saved.cursor;
      if (saved.seen) run.state.seen[list] = saved.seen;
      else delete run.state.seen[list];
      if (saved.cursor.offset > 0)
        summary.left.push({ scope: run.scope.id, list, offset: saved.cursor.offset });
    }
    if (!run.failed) settleWatermark(run, clock());
  }
  summary.tasksSeen = seenTasks.size;
  if (dry) {
    wouldSend.push(...notices);
    summary.wouldSend = wouldSend;
    return finish();
  }
  const now3 = clock();
  for (const run of runs.values()) {
    if (!run.digest) continue;
    if (options.stuck) run.state.stuckDueAt = earliestStuck(run.digest, options.stuck);
    await store.writeDigest(run.digest, now3);
  }
  const first = runs.get(options.scopes[0]?.id ?? '');
  await life!.settle(options.scopes, clock(), {
    since: first?.state.firstPollAt ?? startedAt,
    get: () => first?.state.summaryDay ?? '',
    set: (day) => {
      if (first) first.state.summaryDay = day;
    },
  });
  summary.lifecycle = life!.summary;
  if (notices.length > 0) await outbox.enqueue(notices);
  for (const run of runs.values()) {
    // With one scope, moving timestamps alone are not worth a write each poll (the watermark may
    // lag up to an hour, well inside any window); several scopes need them for the rotation.
    const material =
      options.scopes.length > 1 ||
      now3 - run.before.watermark > HOUR_MS ||
      JSON.stringify(withoutTimes(run.state)) !== JSON.stringify(withoutTimes(run.before));
    if (material) await store.writeState(run.state, run.before, now3);
  }

  // ---- 4. deliver ------------------------------------------------------------------------------
  mergeDelivery(
    summary.delivery,
    await outbox.deliver(options.deadline, {
      listsIncomplete: summary.left.some((l) => options.alertStatuses.includes(l.list)),
    }),
  );
  return finish();

  function finish(): PollSummary {
    const after = deps.dynamoStats?.() ?? dynamoBefore;
    summary.dynamoRequests = after.requests - dynamoBefore.requests;
    summary.readCapacity = after.readCapacity - dynamoBefore.readCapacity;
    summary.writeCapacity = after.writeCapacity - dynamoBefore.writeCapacity;
    summary.hssCalls = reader.stats.calls - readerBefore.calls;
    summary.hssThrottled = reader.stats.throttled - readerBefore.throttled;
    summary.durationMs = clock() - startedAt;
    return summary;
  }
}

/**
 * The alert-list window of a scope this poll: `lastDays`, or wider (up to the API's 30 days) when
 * monitoring was blind for longer than the window since the last poll that read the lists whole.
 */
function gapWindow(
  state: ScopeState,
  options: PollOptions,
  now: number,
  summary: PollSummary,
  notices: NoticeMessage[],
  scope: Scope,
): number {
  const blindSince = state.gapSince > 0 ? state.gapSince : state.watermark;
  if (blindSince <= 0) return options.lastDays;
  // A margin of two periods and 10 minutes: a poll that read the lists a moment ago is no gap.
  const gapMs = now - blindSince;
  if (gapMs <= options.lastDays * DAY_MS - 2 * options.periodMs - 10 * 60_000) return options.lastDays;
  const days = Math.min(MAX_WINDOW_DAYS, Math.max(options.lastDays, Math.ceil((gapMs + HOUR_MS) / DAY_MS)));
  if (state.gapSince === 0) state.gapFoundAt = now;
  state.gapSince = blindSince;
  summary.widened.push({ scope: scope.id, days, blindSince });
  if (gapMs + HOUR_MS > MAX_WINDOW_DAYS * DAY_MS && state.lossNoticeFor !== blindSince) {
    state.lossNoticeFor = blindSince;
    notices.push(possibleLossNotice(scope, blindSince, now));
  }
  return days;
}

function earliestStuck(digest: Digest, rules: StuckRules): number {
  let earliest = 0;
  for (const entry of digest.entries.values()) {
    const due = stuckDueAt(entry, rules);
    if (due !== undefined && (earliest === 0 || due < earliest)) earliest = due;
  }
  return earliest;
}

/** A scope state without the timestamps that move every poll. */
function withoutTimes(state: ScopeState): unknown {
  const cursors = Object.fromEntries(
    Object.entries(state.cursors).map(([list, c]) => [
      list,
      { ...c, readAt: 0, completedAt: 0, completedStart: 0, cycleMs: 0 },
    ]),
  );
  return { ...state, cursors, watermark: 0 };
}

function targetOf(scope: Scope) {
  return {
    projectId: scope.projectId,
    ...(scope.region ? { region: scope.region } : {}),
    enterpriseProjectId: scope.enterpriseProjectId,
    credential: scope.credential,
  };
}

/** Builds the alert message of an observation. */
export function alertMessage(
  scope: Scope,
  task: Task,
  key: string,
  facts: AlertFacts,
  now: number,
): AlertMessage {
  return {
    kind: 'alert',
    id: stableId('alert', scope.projectId, key, facts.status, facts.episode),
    at: now,
    scope,
    task,
    status: facts.status,
    ...(facts.previousStatus ? { previousStatus: facts.previousStatus } : {}),
    reason: facts.reason,
    episode: facts.episode,
    ...(facts.stuck ? { stuck: facts.stuck } : {}),
    ...(facts.wasStuck ? { wasStuck: facts.wasStuck } : {}),
    taskRef: stableId('task', scope.projectId, key),
  };
}

function mergeDelivery(into: DeliverySummary, run: DeliverySummary): void {
  into.sent += run.sent;
  into.requests += run.requests;
  into.retrying += run.retrying;
  into.failed += run.failed;
  into.expired += run.expired;
  into.pending = run.pending;
  into.leaseBusy = run.leaseBusy;
  into.stoppedEarly = run.stoppedEarly;
  into.destinationsFailing = run.destinationsFailing;
  into.destinationsDegraded = run.destinationsDegraded;
  into.allDestinationsDown = run.allDestinationsDown;
  into.unrouted += run.unrouted;
}
