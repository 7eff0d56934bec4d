// The alert lifecycle at settle: which open alerts the tasks seen to finish resolve, which reminders
// are due, what an ended silence releases (or hands to another silence still covering it), the
// day's counts and the daily summary. It reads the lifecycle store and decides with the pure rules
// of lib/diff/lifecycle.ts; it writes nothing: settle enqueues the messages first, then applies
// the edits, so a crash in between repeats messages (deduplicated by id) instead of losing them.
import {
  dayIn,
  firstReminderAt,
  remind,
  resolvedMessage,
  resolves,
  silences,
  summaryDue,
} from '../diff/lifecycle';
import { stableId } from '../ids';
import type { AlertMessage, Message, Scope, SummaryMessage, Task } from '../model';
import type { DayAdd, OpenAlert, Silence, SlowTask } from '../state/records';
import { hostBackupHash } from '../state/lifecycle-store';
import type { DayRecord, LifecycleEdits } from './effects';
import type { PollRun } from './run';

/** What the lifecycle decided this poll. */
export interface LifecyclePlan {
  messages: Message[];
  edits: LifecycleEdits;
  days: DayRecord[];
}

function isClosed(plan: LifecyclePlan, open: OpenAlert): boolean {
  return plan.edits.closed.some((c) => c.scopeId === open.scopeId && c.key === open.key);
}

function withoutSilence(open: OpenAlert): OpenAlert {
  const { silencedBy: _gone, ...rest } = open;
  return rest;
}

/** Open alerts a finished task may resolve: stored ones and those raised this poll (a dry run stored none). */
async function openAlertsOf(run: PollRun, scopeId: string, task: Task): Promise<OpenAlert[]> {
  const stored = await run.deps.lifecycle.openFor(scopeId, task.hostId, task.backupName);
  const hb = hostBackupHash(task.hostId, task.backupName);
  const raised = run.life.raised.filter(
    (o) =>
      o.scopeId === scopeId &&
      hostBackupHash(o.alert.task.hostId, o.alert.task.backupName) === hb &&
      !stored.some((s) => s.key === o.key),
  );
  return [...stored, ...raised];
}

/**
 * Resolution means success: each task seen in `success` resolves its own open alert (a stuck task
 * that finished) and the earlier ones of its host and backup. A task that merely left the in-flight
 * lists, timed out or was skipped resolves nothing, whatever ALERT_STATUSES says.
 */
async function resolve(run: PollRun, plan: LifecyclePlan, at: number): Promise<Map<string, string[]>> {
  const resolvedIds = new Map<string, string[]>();
  for (const sr of run.scopes) {
    const succeeded = run.life.succeeded.get(sr.scope.id);
    if (!succeeded || succeeded.size === 0) continue;
    const raisedHere = run.life.raised.some((o) => o.scopeId === sr.scope.id);
    if (!raisedHere && !(await run.deps.lifecycle.anyOpen(sr.scope.id))) continue;
    const closedHere: OpenAlert[] = [];
    const looked = new Map<string, OpenAlert[]>();
    for (const [key, task] of succeeded) {
      const hb = hostBackupHash(task.hostId, task.backupName);
      if (!looked.has(hb)) looked.set(hb, await openAlertsOf(run, sr.scope.id, task));
      for (const open of looked.get(hb)!) {
        if (closedHere.includes(open)) continue;
        const how = resolves(open, key, task);
        if (!how) continue;
        closedHere.push(open);
        if (run.options.lifecycle.notifyResolved && !open.silencedBy)
          plan.messages.push(resolvedMessage(open, how, task, at));
      }
    }
    plan.edits.closed.push(...closedHere);
    resolvedIds.set(
      sr.scope.id,
      closedHere.map((o) => o.alert.id),
    );
  }
  return resolvedIds;
}

/** Reminders: open alerts whose interval passed, one message each (channels digest them). */
async function remindDue(run: PollRun, plan: LifecyclePlan, at: number): Promise<void> {
  const hours = run.options.lifecycle.remindAfterHours;
  if (hours <= 0) return;
  for (const open of await run.deps.lifecycle.dueReminders(at)) {
    if (isClosed(plan, open)) continue;
    const r = run.byId.has(open.scopeId) ? remind(open, at, hours) : undefined;
    if (!r) continue;
    plan.messages.push(r.message);
    plan.edits.rewritten.push(r.next);
    run.summary.lifecycle.reminders += 1;
  }
}

/**
 * Ended silences: each alert one swallowed that is still open goes to another active silence that
 * matches it (it stays held), or is sent now; a resolved one is never sent.
 */
async function endSilences(run: PollRun, plan: LifecyclePlan, at: number): Promise<void> {
  const { lifecycle, log } = run.deps;
  const active = (s: Silence) => !s.releasedAt && s.startsAt <= at && s.endsAt > at;
  for (const silence of run.silences) {
    if (silence.releasedAt || silence.endsAt > at) continue;
    const held = await lifecycle.swallowed(silence.id);
    let released = 0;
    for (const alert of held) {
      const open = (await lifecycle.openFor(alert.scope.id, alert.task.hostId, alert.task.backupName)).find(
        (o) => o.silencedBy === silence.id && o.alert.id === alert.id,
      );
      // Resolved meanwhile (or this poll), or already handed on: never sent from here.
      if (!open || isClosed(plan, open)) continue;
      const next = [...run.silences]
        .filter((s) => s.id !== silence.id && active(s) && silences(s, alert, at))
        .sort((a, b) => (a.id < b.id ? -1 : 1))[0];
      if (next) {
        plan.edits.transferred.push({ silenceId: next.id, alert });
        plan.edits.rewritten.push({ ...open, silencedBy: next.id });
        continue;
      }
      plan.messages.push(alert);
      plan.edits.rewritten.push({
        ...withoutSilence(open),
        remindAt: firstReminderAt(at, run.options.lifecycle.remindAfterHours),
      });
      released += 1;
    }
    run.summary.lifecycle.released += released;
    plan.edits.over.push({ ...silence, releasedAt: at });
    log.info('Silence ended', { silence: silence.id, swallowed: held.length, released });
  }
}

/** Day counters of each scope: alerts by id (a repeated poll counts nothing twice), finishes, the slowest. */
function countDays(run: PollRun, plan: LifecyclePlan, resolvedIds: Map<string, string[]>, at: number): void {
  const zone = run.options.lifecycle.dailySummary?.timeZone;
  if (!zone) return;
  const day = dayIn(at, zone);
  for (const sr of run.scopes) {
    const raised = run.life.raised.filter((o) => o.scopeId === sr.scope.id).map((o) => o.alert);
    const ids = (status: AlertMessage['status']) =>
      raised.filter((a) => a.status === status).map((a) => a.id);
    const finished = [...(run.life.succeeded.get(sr.scope.id)?.values() ?? [])];
    const endedKeys = [...(run.life.ended.get(sr.scope.id) ?? [])];
    const add: DayAdd = {
      failed: ids('failed'),
      timedOut: ids('timeout'),
      stuck: ids('stuck'),
      resolved: resolvedIds.get(sr.scope.id) ?? [],
      succeeded: new Set([...(run.life.succeeded.get(sr.scope.id)?.keys() ?? []), ...endedKeys]).size,
    };
    const slow: SlowTask[] = finished
      .filter((t) => t.startedMs !== undefined)
      .map((t) => ({ task: t, durationMs: (t.endedMs ?? at) - t.startedMs! }))
      .sort((a, b) => b.durationMs - a.durationMs)
      .slice(0, 5);
    const empty = Object.values(add).every((v) => (Array.isArray(v) ? v.length === 0 : v === 0));
    if (!empty || slow.length > 0) plan.days.push({ scopeId: sr.scope.id, day, add, slow });
  }
}

/** The daily summary of yesterday once its time has come (a day before monitoring began is skipped). */
async function dailySummary(run: PollRun, plan: LifecyclePlan, at: number): Promise<void> {
  const config = run.options.lifecycle.dailySummary;
  if (!config) return;
  const due = summaryDue(at, config.at, config.timeZone);
  const markers = run.markers.next;
  if (!due || dayIn(markers.since, config.timeZone) > due || markers.summaryDay === due) return;
  const rows: SummaryMessage['scopes'] = [];
  const slowest: SummaryMessage['slowest'] = [];
  for (const { scope } of run.scopes) {
    const { counts: c, slowest: s } = await run.deps.lifecycle.readDay(scope.id, due);
    const open = await run.deps.lifecycle.allOpen(scope.id);
    rows.push({ scope, ...c, stillOpen: open.length });
    slowest.push(...s.map((x) => ({ scope: scope as Scope, task: x.task, durationMs: x.durationMs })));
  }
  plan.messages.push({
    kind: 'daily-summary',
    id: stableId('daily-summary', run.options.namespace ?? 'default', due),
    at,
    day: due,
    timeZone: config.timeZone,
    scopes: rows,
    slowest: slowest.sort((a, b) => b.durationMs - a.durationMs).slice(0, 5),
  });
  markers.summaryDay = due;
  run.summary.lifecycle.summarySent = due;
}

/** Decides the lifecycle's messages and edits at `at`; reads the stores, writes nothing. */
export async function planLifecycle(run: PollRun, at: number): Promise<LifecyclePlan> {
  const plan: LifecyclePlan = {
    messages: [],
    edits: { closed: [], rewritten: [], transferred: [], over: [] },
    days: [],
  };
  const resolvedIds = await resolve(run, plan, at);
  run.summary.lifecycle.resolved += plan.edits.closed.length;
  await remindDue(run, plan, at);
  await endSilences(run, plan, at);
  countDays(run, plan, resolvedIds, at);
  await dailySummary(run, plan, at);
  return plan;
}
