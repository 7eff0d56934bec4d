// Reading one page and recording what it says, shared by the phases that read HSS (detect, sweep):
// every page is recorded as it arrives (alerts raised into the outbox before the digest remembers
// the task), so a poll cut short by its deadline or a crash loses nothing it read.
import { ALERTING, observe, observedHash, type AlertFacts, type DecideContext } from '../diff/decide';
import { collapseDuplicates, precedes, type Keyed } from '../diff/duplicates';
import { entryKey, hash32, type Entry } from '../state/entry';
import { silences, firstReminderAt } from '../diff/lifecycle';
import type { HssTarget, Page } from '../hss/pages';
import { stableId } from '../ids';
import type { AlertMessage, Scope, Task } from '../model';
import { createHash } from 'node:crypto';
import {
  DUPLICATES_KEPT,
  putEntry,
  type Digest,
  type ListName,
  type ListSketch,
  type ReadPlan,
  type OpenAlert,
} from '../state/records';
import { checkListsOf } from './plan';
import { RETRY_POLICY } from '../hss/retry';
import { IN_FLIGHT_STATUSES, taskKey } from '../task';
import { rejectedNotice } from './notices';
import { credentialRun, type PollRun, type ScopeRun } from './run';
import { createScan, type ListScan } from './scan';

/** Shortest gap between two HSS calls worth a delivery run (one send and its recording). */
const MIN_INTERLEAVED_DELIVERY_MS = 20_000;
/** Least time between two deliveries interleaved with reading (chat digests stay few in an incident). */
const INTERLEAVED_DELIVERY_MS = 60_000;

export const isInFlightList = (list: ListName): boolean =>
  (IN_FLIGHT_STATUSES as readonly string[]).includes(list);

/** A list whose complete cycle shows every in-flight task it should: an in-flight list, or `all`. */
export const showsInFlight = (list: ListName): boolean => list === 'all' || isInFlightList(list);

/**
 * The lists a check of the scope reads whole: its one unfiltered list while the window fits a page
 * (`whole`), else the alert-status lists (`lists`).
 */
export function checkLists(run: PollRun, sr: ScopeRun): readonly ListName[] {
  return checkListsOf(sr.state, run.options.alertStatuses);
}

/**
 * Switches how a scope's window is read (`lists` after a full unfiltered page; `whole` once one
 * unfiltered page held it all); returns the lists its check reads now. Nothing read is lost: every
 * task keeps its entry, and the new lists start their cycles at their first page.
 */
export function switchPlan(run: PollRun, sr: ScopeRun, plan: ReadPlan): readonly ListName[] {
  const was = sr.state.plan ?? 'whole';
  if (was !== plan) {
    sr.state.plan = plan;
    run.deps.log.info(
      `Scope ${sr.scope.id} is read ${plan === 'whole' ? 'with one unfiltered page' : 'by status'} now`,
      {
        scope: sr.scope.id,
        plan,
      },
    );
  }
  return checkLists(run, sr);
}

/** The query target of a scope. */
export function targetOf(scope: Scope): HssTarget {
  return {
    projectId: scope.projectId,
    ...(scope.region ? { region: scope.region } : {}),
    enterpriseProjectId: scope.enterpriseProjectId,
    credential: scope.credential,
  };
}

/** The decision context at the run's clock. */
export function decideContext(run: PollRun): DecideContext {
  return {
    now: run.deps.clock(),
    alertStatuses: run.options.alertStatuses,
    baseline: run.options.baseline,
  };
}

/** 16 hex digits of a row's key and everything an observation can change: equal rows, equal hashes. */
function rowHash(key: string, task: Task): string {
  return createHash('sha256')
    .update(`${key}:${observedHash(task)}`)
    .digest('hex')
    .slice(0, 16);
}

/** A list's sketch of its last complete cycle, read on first need; undefined when none is kept. */
export async function sketchOf(run: PollRun, sr: ScopeRun, list: ListName): Promise<ListSketch | undefined> {
  if (!sr.sketches.has(list))
    sr.sketches.set(list, (await run.deps.store.readSketch(sr.scope.id, list)) ?? null);
  return sr.sketches.get(list) ?? undefined;
}

/** The scope's digest, read on first need. */
export async function digestOf(run: PollRun, sr: ScopeRun): Promise<Digest> {
  sr.digest ??= await run.deps.store.readDigest(sr.scope.id);
  return sr.digest;
}

/**
 * The scan of `list` for a scope this poll (one per scope and list). Alert lists read the scope's
 * window (widened for a gap), re-read their head and step back when continued; in-flight lists read
 * `lastDays` and continue exactly where they stopped (see ScanOptions); the unfiltered list reads
 * the window from its first page every time (a full page switches the scope to `lists`).
 */
export function scanOf(run: PollRun, sr: ScopeRun, list: ListName): ListScan {
  const existing = sr.scans.get(list);
  if (existing) return existing;
  const alertList = list !== 'all' && run.options.alertStatuses.includes(list);
  const cursor = sr.state.cursors[list];
  const scan = createScan({
    list,
    cursor: list === 'all' && cursor ? { ...cursor, offset: 0, cycleStart: 0 } : cursor,
    lastDays: alertList || list === 'all' ? sr.windowDays : run.options.lastDays,
    pageSize: run.pageSize,
    rereadHead: alertList,
    stepBack: alertList,
    periodMs: run.options.periodMs,
  });
  sr.scans.set(list, scan);
  return scan;
}

/** The alert message of an observation. */
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

/**
 * Raises alerts of a scope: a silence active now holds each it matches (the first, by id), every
 * one is opened for resolution and reminders, and the effects port records them. Counts the new ones.
 */
export async function raiseAlerts(
  run: PollRun,
  sr: ScopeRun,
  alerts: ReadonlyArray<{ alert: AlertMessage; key: string }>,
  now: number,
): Promise<void> {
  if (alerts.length === 0) return;
  const active = [...run.silences].filter((s) => !s.releasedAt).sort((a, b) => (a.id < b.id ? -1 : 1));
  const opened: OpenAlert[] = alerts.map(({ alert, key }) => {
    const silence = active.find((s) => silences(s, alert, now));
    return {
      key,
      scopeId: sr.scope.id,
      alert,
      remindAt: firstReminderAt(alert.at, run.options.lifecycle.remindAfterHours),
      reminders: 0,
      ...(silence ? { silencedBy: silence.id } : {}),
    };
  });
  const created = new Set(await run.effects.raise(opened, now));
  run.life.raised.push(...opened);
  for (const o of opened) {
    if (!created.has(o.alert.id)) continue;
    run.summary.alertsNew += 1;
    run.summary.alertsByStatus[o.alert.status] = (run.summary.alertsByStatus[o.alert.status] ?? 0) + 1;
  }
  run.summary.lifecycle.silenced += opened.filter((o) => o.silencedBy && created.has(o.alert.id)).length;
  sr.state.lastAlertAt = now;
  sr.state.mayHaveOpen = true;
}

/** A task seen in `success`: it may resolve open alerts of its host and backup. */
export function noteSucceeded(run: PollRun, sr: ScopeRun, key: string, task: Task): void {
  let tasks = run.life.succeeded.get(sr.scope.id);
  if (!tasks) run.life.succeeded.set(sr.scope.id, (tasks = new Map()));
  tasks.set(key, task);
}

/** Counts unreadable records; the first of a UTC day (per scope) is told to every destination. */
function noteRejected(run: PollRun, sr: ScopeRun, page: Page, list: ListName, offset: number): void {
  if (page.rejected.length === 0) return;
  run.summary.recordsRejected += page.rejected.length;
  const now = run.deps.clock();
  const day = new Date(now).toISOString().slice(0, 10);
  const today = sr.state.rejected?.day === day ? sr.state.rejected : { day, count: 0 };
  today.count += page.rejected.length;
  run.deps.log.error('HSS sent records that cannot be read; they are skipped', {
    scope: sr.scope.id,
    list,
    rejected: page.rejected.slice(0, 5).map((r) => ({ record: offset + r.index, reason: r.reason })),
    count: page.rejected.length,
  });
  if (!today.noticeId) {
    const notice = rejectedNotice(sr.scope, day, today.count, page.rejected, offset, now);
    today.noticeId = notice.id;
    run.notices.push(notice);
  }
  sr.state.rejected = today;
}

/**
 * Records one page of `scan` read at `offset`: duplicates collapse, an unchanged page is skipped
 * without reading state, and every task is decided against the digest. Alerts are raised (outbox)
 * before the task details and the digest remember what was seen.
 */
async function recordPage(
  run: PollRun,
  sr: ScopeRun,
  scan: ListScan,
  offset: number,
  page: Page,
): Promise<void> {
  const { clock } = run.deps;
  const collapsed = collapseDuplicates(
    page.tasks.map((task): Keyed => ({ task, key: entryKey(sr.scope.projectId, taskKey(task)) })),
  );
  run.summary.recordsDuplicated += collapsed.duplicates;
  for (const [key, tasks] of collapsed.variants) {
    const winner = collapsed.rows.find((r) => r.key === key)!.task;
    const same = tasks.filter((t) => t.status === winner.status).map(observedHash);
    if (new Set(same).size > 1) rememberDuplicate(sr, key, winner.status, same);
  }
  const rows = collapsed.rows;
  const keys = rows.map((r) => r.key);
  const pageHash = hash32(...rows.map((r) => `${r.key}:${observedHash(r.task)}`), page.rows);
  const step = scan.accept(offset, page, pageHash, keys, clock());
  run.summary.pagesRead += 1;
  noteRejected(run, sr, page, scan.list, offset);
  let listRows = sr.rows.get(scan.list);
  if (!listRows) sr.rows.set(scan.list, (listRows = new Map()));
  const hashes = rows.map(({ key, task }) => rowHash(key, task));
  rows.forEach(({ key, task }, i) => {
    listRows.set(key, hashes[i]!);
    const inFlight = (IN_FLIGHT_STATUSES as readonly string[]).includes(task.status);
    if (isInFlightList(scan.list) || (scan.list === 'all' && inFlight)) sr.inFlightSeen.add(key);
  });
  if (step.unchanged) {
    run.summary.pagesUnchanged += 1;
    return;
  }
  // A page that moved (a continued read steps back) but holds only rows of the last complete cycle
  // changed nothing: no state is read for it.
  if (scan.list !== 'all') {
    const sketch = await sketchOf(run, sr, scan.list);
    if (sketch && hashes.every((h) => sketch.rows.has(h))) {
      scan.markShifted();
      run.summary.pagesUnchanged += 1;
      return;
    }
  }
  scan.markChanged();
  const digest = await digestOf(run, sr);
  const ctx = decideContext(run);
  const alerts: Array<{ alert: AlertMessage; key: string }> = [];
  const details: Array<{ key: string; task: Task }> = [];
  const updates: Entry[] = [];
  for (const { task, key } of rows) {
    const prev = decisionBase(run, sr, scan.list, key, task, digest.entries.get(key));
    if (prev === 'duplicate') continue;
    const observed = observe(prev, task, key, ctx);
    if (observed.decision === 'unchanged') {
      if (observed.entry !== prev) updates.push(observed.entry);
      continue;
    }
    updates.push(observed.entry);
    if (!prev || prev.status !== task.status) details.push({ key, task });
    if (task.status === 'success' && prev?.status !== 'success') noteSucceeded(run, sr, key, task);
    if (observed.alert && ALERTING.has(observed.decision)) {
      alerts.push({ alert: alertMessage(sr.scope, task, key, observed.alert, ctx.now), key });
    }
  }
  run.summary.changes += updates.length;
  await raiseAlerts(run, sr, alerts, ctx.now);
  await run.effects.recordTasks(sr.scope.projectId, details, ctx.now);
  for (const entry of updates) putEntry(digest, entry);
  if (alerts.length > 0) await deliverBetweenReads(run);
}

/**
 * The entry a row is decided against, or `duplicate` when the row only repeats a task already
 * decided: another row of the same list this poll named it (the winner by `precedes` stands, and is
 * decided against the entry as the poll found it, so the task alerts once), or a row known to be a
 * duplicate of it (same status, a hash remembered as the other copy's).
 */
function decisionBase(
  run: PollRun,
  sr: ScopeRun,
  list: ListName,
  key: string,
  task: Task,
  current: Entry | undefined,
): Entry | undefined | 'duplicate' {
  const hash = observedHash(task);
  const known = sr.state.duplicates?.[key];
  if (
    known &&
    known.status === task.status &&
    current &&
    current.stateHash !== hash &&
    known.hashes.includes(hash)
  ) {
    run.summary.recordsDuplicated += 1;
    return 'duplicate';
  }
  const earlier = sr.observed.get(key);
  if (!earlier || earlier.list !== list) {
    sr.observed.set(key, { task, prev: current, list });
    return current;
  }
  if (observedHash(earlier.task) === hash) return 'duplicate';
  run.summary.recordsDuplicated += 1;
  if (earlier.task.status === task.status)
    rememberDuplicate(sr, key, task.status, [observedHash(earlier.task), hash]);
  if (!precedes(task, earlier.task)) return 'duplicate';
  sr.observed.set(key, { task, prev: earlier.prev, list });
  return earlier.prev;
}

function rememberDuplicate(sr: ScopeRun, key: string, status: string, hashes: number[]): void {
  const all = { ...sr.state.duplicates };
  const known = all[key]?.status === status ? all[key].hashes : [];
  delete all[key];
  all[key] = { status, hashes: [...new Set([...known, ...hashes])].slice(-8) };
  const kept = Object.entries(all).slice(-DUPLICATES_KEPT);
  sr.state.duplicates = Object.fromEntries(kept);
}

/**
 * Delivers what is due between two HSS calls when there is time for it (an incident's first alerts
 * go out while its later pages are still being read), at most once a minute.
 */
async function deliverBetweenReads(run: PollRun): Promise<void> {
  const now = run.deps.clock();
  if (run.options.dryRun || (run.lastDelivery > 0 && now - run.lastDelivery < INTERLEAVED_DELIVERY_MS))
    return;
  run.lastDelivery = now;
  const credential = run.options.scopes[0]?.credential ?? 'default';
  // Only until the next HSS call may start: reading stays first.
  const until = Math.min(run.options.fetchDeadline, await run.deps.budget.nextSlot(credential));
  if (until - now < MIN_INTERLEAVED_DELIVERY_MS) return;
  mergeDelivery(run, await run.effects.deliver(until, { listsIncomplete: true }));
}

/** Adds a delivery run's counts to the summary (the latest run's pending count and flags win). */
export function mergeDelivery(run: PollRun, d: Awaited<ReturnType<PollRun['effects']['deliver']>>): void {
  const into = run.summary.delivery;
  into.sent += d.sent;
  into.requests += d.requests;
  into.retrying += d.retrying;
  into.failed += d.failed;
  into.expired += d.expired;
  into.pending = d.pending;
  into.leaseBusy = d.leaseBusy;
  into.stoppedEarly = d.stoppedEarly;
  into.destinationsFailing = d.destinationsFailing;
  into.destinationsDegraded = d.destinationsDegraded;
  into.allDestinationsDown = d.allDestinationsDown;
  into.unrouted += d.unrouted;
}

/** Attempts one call of `sr` may make: one for a scope that failed lately, else up to its share of the poll's calls. */
export function attemptsFor(run: PollRun, sr: ScopeRun): number {
  if (sr.before.health) return 1;
  const sharing = run.scopes.filter((s) => s.scope.credential === sr.scope.credential).length;
  const share = Math.floor((run.options.callsPerPoll ?? Infinity) / sharing);
  return Math.max(1, Math.min(RETRY_POLICY.maxAttempts, share));
}

/**
 * Reads the page of `scan` at its next offset and records it. `out-of-time` when the credential's
 * budget has no slot before the fetch deadline (nothing was read; the credential is exhausted for
 * this poll). Throws HssError when HSS failed (after the attempts the scope may make).
 */
export async function readPage(run: PollRun, sr: ScopeRun, scan: ListScan): Promise<'read' | 'out-of-time'> {
  const offset = scan.next();
  if (offset === undefined) return 'read';
  const credential = credentialRun(run, sr.scope.credential);
  credential.wanted = true;
  if (credential.exhausted) return 'out-of-time';
  sr.calls += 1;
  const result = await run.deps.reader.fetchPage(
    targetOf(sr.scope),
    { lastDays: scan.lastDays, ...(scan.list === 'all' ? {} : { status: scan.list }) },
    offset,
    run.options.fetchDeadline,
    run.pageSize,
    attemptsFor(run, sr),
  );
  if (result.kind === 'out-of-time') {
    sr.calls -= 1;
    credential.exhausted = true;
    run.summary.outOfTime = true;
    return 'out-of-time';
  }
  credential.calls += 1;
  await recordPage(run, sr, scan, offset, result.page);
  return 'read';
}
