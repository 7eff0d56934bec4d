// The alert lifecycle stage of a poll: every alert is raised here (through the silences, into the
// outbox, opened for resolution and reminders, counted for the day), tasks seen to finish resolve
// open alerts, due reminders and expired silences are released, and the daily summary goes out.
import type { LifecycleConfig } from '../config/types';
import {
  firstReminderAt,
  remind,
  resolvedMessage,
  resolves,
  silences,
  summaryDue,
  dayIn,
  type OpenAlert,
  type Silence,
} from '../diff/lifecycle';
import { stableId } from '../ids';
import type { Log } from '../log';
import type { AlertMessage, Message, Scope, SummaryMessage, Task } from '../model';
import type { Outbox } from '../outbox/types';
import type { DayCounts, LifecycleStore, SlowTask } from '../state/lifecycle-store';
import type { ScopeStore } from '../state/scope-store';
import { IN_FLIGHT_STATUSES } from '../task';

export interface LifecycleDeps {
  lifecycle: LifecycleStore;
  store: ScopeStore;
  outbox: Outbox;
  log: Log;
  namespace: string;
}

/** What the lifecycle stage did this poll. */
export interface LifecycleSummary {
  silenced: number;
  released: number;
  resolved: number;
  reminders: number;
  summarySent?: string;
}

export interface Lifecycle {
  readonly summary: LifecycleSummary;
  /**
   * Raises alerts (each with its task's digest key): silenced ones are recorded with their silence,
   * the rest go to the outbox; returns the ids newly raised.
   */
  raise(
    scope: Scope,
    alerts: ReadonlyArray<{ alert: AlertMessage; key: string }>,
    now: number,
  ): Promise<string[]>;
  /** A task of `scope` was seen to end without failing (its digest key). */
  finished(scope: Scope, key: string, now: number): void;
  /** Resolves, reminds, releases expired silences, counts the day, sends the daily summary. */
  settle(
    scopes: readonly Scope[],
    now: number,
    /** The deployment's summary marker: the day last summarised, and since when it is monitoring. */
    summaryDay: { since: number; get(): string; set(day: string): void },
  ): Promise<void>;
}

export async function startLifecycle(deps: LifecycleDeps, config: LifecycleConfig): Promise<Lifecycle> {
  const { lifecycle, outbox, log } = deps;
  const active: Silence[] = await lifecycle.listSilences();
  const finishedByScope = new Map<string, { scope: Scope; keys: Set<string> }>();
  const counts = new Map<string, Partial<DayCounts>>();
  const slow = new Map<string, SlowTask[]>();
  const summary: LifecycleSummary = { silenced: 0, released: 0, resolved: 0, reminders: 0 };
  const timeZone = config.dailySummary?.timeZone;

  function count(scopeId: string, name: keyof DayCounts, n = 1): void {
    if (!timeZone || n === 0) return;
    const c = counts.get(scopeId) ?? {};
    c[name] = (c[name] ?? 0) + n;
    counts.set(scopeId, c);
  }

  function opened(scopeId: string, key: string, alert: AlertMessage, silencedBy?: string): OpenAlert {
    return {
      key,
      scopeId,
      alert,
      remindAt: firstReminderAt(alert.at, config.remindAfterHours),
      reminders: 0,
      ...(silencedBy ? { silencedBy } : {}),
    };
  }

  return {
    summary,
    async raise(scope, raised, at) {
      if (raised.length === 0) return [];
      const alerts = raised.map((r) => r.alert);
      const keyOf = new Map(raised.map((r) => [r.alert.id, r.key]));
      const silenced: Array<{ alert: AlertMessage; by: string }> = [];
      const loud: AlertMessage[] = [];
      for (const alert of alerts) {
        const silence = active.find((s) => !s.releasedAt && silences(s, alert, at));
        if (silence) silenced.push({ alert, by: silence.id });
        else loud.push(alert);
      }
      const created = new Set((await outbox.enqueue(loud)).created);
      for (const { alert, by } of silenced) {
        if (await lifecycle.swallow(by, alert, at)) {
          created.add(alert.id);
          summary.silenced += 1;
        }
      }
      const fresh = alerts.filter((a) => created.has(a.id));
      const silencedIds = new Map(silenced.map((s) => [s.alert.id, s.by]));
      await lifecycle.putOpen(
        fresh.map((a) => opened(scope.id, keyOf.get(a.id)!, a, silencedIds.get(a.id))),
        at,
      );
      for (const a of fresh) {
        count(scope.id, a.status === 'timeout' ? 'timedOut' : a.status === 'stuck' ? 'stuck' : 'failed');
      }
      return [...created];
    },

    finished(scope, key) {
      const entry = finishedByScope.get(scope.id) ?? { scope, keys: new Set<string>() };
      entry.keys.add(key);
      finishedByScope.set(scope.id, entry);
    },

    async settle(scopes, at, summaryDay) {
      // Messages are recorded (one enqueue) before the state that produced them moves on, so a
      // crash in between repeats them (deduplicated by id) instead of losing them.
      const messages: Message[] = [];
      const closed: OpenAlert[] = [];
      const advanced: OpenAlert[] = [];
      const over: Silence[] = [];

      // Resolution: each finished task resolves its own open alert and earlier ones of its host + backup.
      for (const { scope, keys } of finishedByScope.values()) {
        count(scope.id, 'succeeded', keys.size);
        const open = await lifecycle.anyOpen(scope.id);
        // Task details serve resolution and the day's slowest tasks: read them only for those.
        if (!open && !timeZone) continue;
        const details = await deps.store.getTasks(scope.projectId, [...keys]);
        if (timeZone) {
          const durations: SlowTask[] = [...details.values()]
            .filter((t) => t.startedMs !== undefined)
            .map((t) => ({ task: t, durationMs: (t.endedMs ?? at) - t.startedMs! }));
          slow.set(scope.id, durations.sort((a, b) => b.durationMs - a.durationMs).slice(0, 5));
        }
        if (!open) continue;
        const resolvedHere: OpenAlert[] = [];
        const looked = new Map<string, OpenAlert[]>();
        for (const key of keys) {
          const task: Task | undefined = details.get(key);
          if (!task) continue;
          const hb = `${task.hostId}\n${task.backupName}`;
          if (!looked.has(hb))
            looked.set(hb, await lifecycle.openFor(scope.id, task.hostId, task.backupName));
          for (const alert of looked.get(hb)!) {
            if (resolvedHere.includes(alert)) continue;
            const how = resolves(alert, key, task);
            if (!how) continue;
            resolvedHere.push(alert);
            if (config.notifyResolved && !alert.silencedBy)
              messages.push(resolvedMessage(alert, how, ended(task), at));
          }
        }
        closed.push(...resolvedHere);
        count(scope.id, 'resolved', resolvedHere.length);
      }

      // Reminders: open alerts whose interval passed, one message each (channels digest them).
      if (config.remindAfterHours > 0) {
        const configured = new Set(scopes.map((s) => s.id));
        for (const alert of await lifecycle.dueReminders(at)) {
          const r = configured.has(alert.scopeId) ? remind(alert, at, config.remindAfterHours) : undefined;
          if (!r) continue;
          messages.push(r.message);
          advanced.push(r.next);
        }
      }

      // Expired silences: what they swallowed is sent now if it is still unresolved.
      for (const silence of active) {
        if (silence.releasedAt || silence.endsAt > at) continue;
        const held = await lifecycle.swallowed(silence.id);
        let released = 0;
        for (const alert of held) {
          const open = (
            await lifecycle.openFor(alert.scope.id, alert.task.hostId, alert.task.backupName)
          ).find((o) => o.silencedBy === silence.id && o.alert.id === alert.id);
          if (!open) continue; // resolved meanwhile: never sent
          messages.push(alert);
          advanced.push({ ...withoutSilence(open), remindAt: firstReminderAt(at, config.remindAfterHours) });
          released += 1;
        }
        summary.released += released;
        over.push({ ...silence, releasedAt: at });
        log.info('Silence ended', { silence: silence.id, swallowed: held.length, released });
      }

      if (messages.length > 0) await outbox.enqueue(messages);
      if (closed.length > 0) await lifecycle.deleteOpen(closed);
      if (advanced.length > 0) await lifecycle.putOpen(advanced, at);
      for (const silence of over) await lifecycle.putSilence(silence, at);
      summary.resolved += closed.length;
      summary.reminders += messages.filter((m) => m.kind === 'reminder').length;

      // Day counters, then the daily summary of yesterday once its time has come.
      if (timeZone) {
        const day = dayIn(at, timeZone);
        for (const scope of scopes) {
          const c = counts.get(scope.id);
          const s = slow.get(scope.id) ?? [];
          if (c || s.length > 0) await lifecycle.addDay(scope.id, day, c ?? {}, s, at);
        }
        const due = summaryDue(at, config.dailySummary!.at, timeZone);
        // A day that ended before monitoring began has nothing to say: skip it.
        const watched = due !== undefined && dayIn(summaryDay.since, timeZone) <= due;
        if (due && watched && summaryDay.get() !== due) {
          await outbox.enqueue([await dailySummary(scopes, due, timeZone, at)]);
          summaryDay.set(due);
          summary.summarySent = due;
        }
      }
    },
  };

  async function dailySummary(
    scopes: readonly Scope[],
    day: string,
    zone: string,
    at: number,
  ): Promise<SummaryMessage> {
    const rows: SummaryMessage['scopes'] = [];
    const slowest: SummaryMessage['slowest'] = [];
    for (const scope of scopes) {
      const { counts: c, slowest: s } = await lifecycle.readDay(scope.id, day);
      const open = await lifecycle.allOpen(scope.id);
      rows.push({
        scope,
        succeeded: c.succeeded,
        failed: c.failed,
        timedOut: c.timedOut,
        stuck: c.stuck,
        resolved: c.resolved,
        stillOpen: open.length,
      });
      slowest.push(...s.map((x) => ({ scope, task: x.task, durationMs: x.durationMs })));
    }
    return {
      kind: 'daily-summary',
      id: stableId('daily-summary', deps.namespace, day),
      at,
      day,
      timeZone: zone,
      scopes: rows,
      slowest: slowest.sort((a, b) => b.durationMs - a.durationMs).slice(0, 5),
    };
  }
}

/**
 * A finished task as a resolved notice names it: its record holds the status it was last read in
 * (running, waiting), but it left the in-flight lists without entering an alert list: it succeeded.
 */
function ended(task: Task): Task {
  return (IN_FLIGHT_STATUSES as readonly string[]).includes(task.status)
    ? { ...task, status: 'success', rawStatus: 'success' }
    : task;
}

function withoutSilence(open: OpenAlert): OpenAlert {
  const { silencedBy: _gone, ...rest } = open;
  return rest;
}
