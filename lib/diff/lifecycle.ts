// Pure rules of an alert's life after it is raised: which open alerts a finished task resolves,
// when reminders fall due, whether a silence swallows an alert, and which day a summary covers.
import picomatch from 'picomatch';
import type { AboutAlert, AlertMessage, ReminderMessage, ResolvedMessage, Task } from '../model';
import { HOUR_MS } from '../time';
import { stableId } from '../ids';
import type { OpenAlert, Silence } from '../state/records';

/** When the first reminder of an alert raised at `at` is due; 0 = never (REMIND_AFTER_HOURS=0). */
export function firstReminderAt(at: number, remindAfterHours: number): number {
  return remindAfterHours > 0 ? at + remindAfterHours * HOUR_MS : 0;
}

/** The reminder due for `open` now, and the open alert after it (next one an interval later). */
export function remind(
  open: OpenAlert,
  now: number,
  remindAfterHours: number,
): { message: ReminderMessage; next: OpenAlert } | undefined {
  if (open.remindAt <= 0 || open.remindAt > now || open.silencedBy) return undefined;
  const n = open.reminders + 1;
  return {
    message: { kind: 'reminder', id: `${open.alert.id}.r${n}`, at: now, ...aboutAlert(open.alert), n },
    // Next reminder one interval after this one was due, so a late poll does not shift the rhythm.
    next: { ...open, reminders: n, remindAt: open.remindAt + remindAfterHours * HOUR_MS },
  };
}

/**
 * Whether `succeeded` (a task seen in `success`) resolves `open`: the same task (a stuck task that
 * finished), or a later task of the same host and backup. Only a success resolves: a task that timed
 * out, was skipped or sent an undocumented status never does.
 */
export function resolves(
  open: OpenAlert,
  succeededKey: string,
  succeeded: Task,
): ResolvedMessage['how'] | undefined {
  if (succeeded.status !== 'success') return undefined;
  if (open.key === succeededKey) return 'finished';
  const t = open.alert.task;
  if (succeeded.hostId !== t.hostId || succeeded.backupName !== t.backupName) return undefined;
  const started = succeeded.startedMs ?? Number.NaN;
  const alerted = t.startedMs ?? Number.NaN;
  return started > alerted ? 'later-success' : undefined;
}

/** The resolved notice of `open`. */
export function resolvedMessage(
  open: OpenAlert,
  how: ResolvedMessage['how'],
  by: Task | undefined,
  now: number,
): ResolvedMessage {
  return {
    kind: 'resolved',
    id: stableId('resolved', open.alert.id),
    at: now,
    ...aboutAlert(open.alert),
    how,
    ...(how === 'later-success' && by ? { resolvedBy: by } : {}),
  };
}

/** What a reminder or a resolved notice says about the alert it follows up. */
function aboutAlert(alert: AlertMessage): AboutAlert {
  return {
    scope: alert.scope,
    alertId: alert.id,
    alertStatus: alert.status,
    alertAt: alert.at,
    task: alert.task,
    taskRef: alert.taskRef,
  };
}

/** Whether `silence` swallows `alert` at `now`. */
export function silences(silence: Silence, alert: AlertMessage, now: number): boolean {
  if (now < silence.startsAt || now >= silence.endsAt) return false;
  if (silence.statuses.length > 0 && !silence.statuses.includes(alert.status)) return false;
  const host = alert.task.hostName || alert.task.hostId;
  if (silence.hosts.length > 0 && !picomatch.isMatch(host, silence.hosts, { nocase: true })) return false;
  if (
    silence.backups.length > 0 &&
    !picomatch.isMatch(alert.task.backupName, silence.backups, { nocase: true })
  )
    return false;
  return true;
}

/** `YYYY-MM-DD` of `ms` in `timeZone`. */
export function dayIn(ms: number, timeZone: string): string {
  const parts = new Intl.DateTimeFormat('en-CA', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  }).formatToParts(ms);
  const get = (type: string) => parts.find((p) => p.type === type)?.value ?? '';
  return `${get('year')}-${get('month')}-${get('day')}`;
}

/** Minutes since midnight of `ms` in `timeZone`. */
function minuteOfDay(ms: number, timeZone: string): number {
  const parts = new Intl.DateTimeFormat('en-GB', {
    timeZone,
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(ms);
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? 0);
  return get('hour') * 60 + get('minute');
}

/**
 * The day a summary is due for at `now`: yesterday (in `timeZone`) once today's `at` (`HH:MM`) has
 * passed; undefined before it.
 */
export function summaryDue(now: number, at: string, timeZone: string): string | undefined {
  const [h, m] = at.split(':').map(Number);
  if (minuteOfDay(now, timeZone) < (h ?? 0) * 60 + (m ?? 0)) return undefined;
  // Yesterday in that zone: step back from today's date at noon to avoid DST edges.
  const today = dayIn(now, timeZone);
  const noon = Date.parse(`${today}T12:00:00Z`);
  return dayIn(noon - 24 * HOUR_MS, 'UTC');
}
