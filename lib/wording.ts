// The words every part of the product uses for times, durations, scopes, hosts and task statuses, so
// that a card, a notice, a PagerDuty event and the CLI say the same thing the same way. Pure: text in,
// text out; making the text safe for a channel's markup is lib/notify/inert.ts's job.
import type { AlertMessage, AlertStatus, Scope, StuckFacts, Task, TaskStatus } from './model';

/** `2026-11-29 17:00:03 UTC` for epoch ms (to the second: task times, detection times); the number itself when it is no time. */
export function utcTime(ms: number): string {
  const d = new Date(ms);
  return Number.isNaN(d.getTime()) ? String(ms) : `${d.toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

/** `2026-11-29 17:00 UTC` for epoch ms (to the minute: outages, silences, what a poll read). */
export function utcMinute(ms: number): string {
  const d = new Date(ms);
  return Number.isNaN(d.getTime()) ? String(ms) : `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/**
 * `41 min`, `2 h 10 min`, `3 h`, `3 d 4 h`, `0 min` for a duration in ms (negative counts as 0),
 * rounded to the nearest unit shown: the minute below a day, the hour from a day on (59 min 50 s
 * reads `1 h`, not `59 min`; 2 d 23 h 40 min reads `3 d`).
 */
export function durationText(ms: number): string {
  const minutes = Math.round(Math.max(0, ms) / MINUTE);
  if (minutes * MINUTE >= DAY) {
    const hours = Math.round(Math.max(0, ms) / HOUR);
    const d = Math.floor(hours / 24);
    const h = hours % 24;
    return h > 0 ? `${d} d ${h} h` : `${d} d`;
  }
  const h = Math.floor(minutes / 60);
  const m = minutes % 60;
  if (h > 0) return m > 0 ? `${h} h ${m} min` : `${h} h`;
  return `${m} min`;
}

/** `cn-north-4 · project 0a1b… · enterprise project 0` (no region part when HSS_ENDPOINT serves the scope). */
export function scopeText(scope: Pick<Scope, 'region' | 'projectId' | 'enterpriseProjectId'>): string {
  const parts = [`project ${scope.projectId}`, `enterprise project ${scope.enterpriseProjectId}`];
  return (scope.region ? [scope.region, ...parts] : parts).join(' · ');
}

/** The host as people know it: its name, or its id when HSS sent no name. */
export function hostText(task: Pick<Task, 'hostName' | 'hostId'>): string {
  return task.hostName || task.hostId || '(no host)';
}

/** A status as people read it: the documented name, `unknown (<raw>)` for an undocumented one. */
export function statusText(status: TaskStatus | AlertStatus, rawStatus?: string): string {
  return status === 'unknown' && rawStatus ? `unknown (${rawStatus})` : status;
}

/** The change that raised an alert: `running → failed`, or `first seen failed`. */
export function transitionText(alert: {
  status: TaskStatus | AlertStatus;
  previousStatus?: TaskStatus | AlertStatus;
  task: Pick<Task, 'rawStatus'>;
}): string {
  // `stuck` is our status, not HSS's: the raw status of a stuck task says `running`.
  const current = statusText(alert.status, alert.status === 'unknown' ? alert.task.rawStatus : undefined);
  return alert.previousStatus === undefined
    ? `first seen ${current}`
    : `${statusText(alert.previousStatus)} → ${current}`;
}

/** `41% for 2 h 10 min, running 5 h 3 min` (or `no progress reported for ...`). */
export function stuckText(facts: StuckFacts): string {
  const at = facts.process === undefined ? 'no progress reported' : `${facts.process}%`;
  return `${at} for ${durationText(facts.stalledMs)}, running ${durationText(facts.runningMs)}`;
}

// The zone designator that ends an ISO time (`Z`, `+08:00`, `-0500`, `+08`).
const ZONE_AT_END = /\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)$/i;
const EPOCH_TEXT = /^\d{10,13}(?:\.\d+)?$/;

/**
 * A task time: from the parsed epoch ms as UTC, noting how a time sent without a zone was read (as
 * UTC, or in the zone of `other`, the task's other time, when that had an offset: lib/hss/parse.ts
 * reads it so), else the raw value marked `(as sent)`, else `—`. Start and end are always rendered
 * the same way, so a task never seems to end before it starts. `zoneless`: the task had such a time.
 */
export function taskTimeText(
  ms: number | undefined,
  raw: string | undefined,
  zoneless?: boolean,
  other?: string,
): string {
  if (ms !== undefined && Number.isFinite(ms)) {
    const text = raw?.trim() ?? '';
    if (!zoneless || ZONE_AT_END.test(text) || EPOCH_TEXT.test(text)) return utcTime(ms);
    const zone = ZONE_AT_END.exec(other?.trim() ?? '')?.[1];
    return zone !== undefined && zone.toUpperCase() !== 'Z'
      ? `${utcTime(ms)} (sent without a zone, read in the other time's zone, UTC${zone})`
      : `${utcTime(ms)} (sent without a zone, read as UTC)`;
  }
  if (raw !== undefined && raw.trim() !== '') return `${raw} (as sent)`;
  return '—';
}

/** When a task started, as taskTimeText writes it. */
export function startedText(task: Pick<Task, 'startedMs' | 'startedAt' | 'zoneless' | 'endedAt'>): string {
  return taskTimeText(task.startedMs, task.startedAt, task.zoneless, task.endedAt);
}

/** When a task ended, as taskTimeText writes it (`—` while it runs). */
export function endedText(task: Pick<Task, 'endedMs' | 'endedAt' | 'zoneless' | 'startedAt'>): string {
  return taskTimeText(task.endedMs, task.endedAt, task.zoneless, task.startedAt);
}

const WHAT: Readonly<Partial<Record<AlertStatus, string>>> = {
  failed: 'failed',
  timeout: 'timed out',
  stuck: 'is stuck',
};

// The task list mixes backup and restore tasks and no field says which, so the wording names both.
/** `Restore/backup failed on web-03`, `Restore/backup is stuck on web-03`, `Restore/backup is skipped on ...`. */
export function alertTitle(message: Pick<AlertMessage, 'status' | 'task'>): string {
  const what = WHAT[message.status] ?? `is ${statusText(message.status, message.task.rawStatus)}`;
  return `Restore/backup ${what} on ${hostText(message.task)}`;
}

/** `1st`, `2nd`, `11th`, `23rd`. */
export function ordinal(n: number): string {
  const s = n % 100 >= 11 && n % 100 <= 13 ? 'th' : (['th', 'st', 'nd', 'rd'][n % 10] ?? 'th');
  return `${n}${s}`;
}

/** `1 task`, `3 tasks` (`many` for an irregular plural). */
export function plural(n: number, word: string, many = `${word}s`): string {
  return `${n} ${n === 1 ? word : many}`;
}

/** What a message sent to the fallback destination says about why it is there. */
export const NO_ROUTE_TEXT = "no destination's routing matched: sent here, to the fallback destination";
