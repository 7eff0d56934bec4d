// The notices the outbox itself raises: about a destination, "failing permanently" or "degraded"
// (once per streak, to every other destination) and "works again"; and about alerts that matched no
// destination's routing (once a UTC day, to every destination). Pure: they are ordinary messages
// that the outbox enqueues and delivers like any alert.
import { stableId as noticeId } from '../ids';
import type { AlertMessage, NoticeMessage } from '../model';
import { displayName } from '../notify/channels';
import type { Destination } from '../notify/destination';
import { durationText, utcMinute } from '../wording';
import type { DestinationDelay, DestinationHealth } from './types';

/** The short head of an error (`HTTP 404 no_service` of `HTTP 404 no_service: the webhook was removed`). */
function errorHead(error: string): string {
  const head = error.split(': ', 1)[0]!.trim();
  return head.length > 80 ? `${head.slice(0, 79)}…` : head;
}

/**
 * The one "failing permanently" notice of a streak (its id is stable for the streak), sent to every
 * destination but the failing one. `undeliveredAlerts` counts the alerts it did not get so far.
 */
export function destinationFailingNotice(
  destination: Pick<Destination, 'id' | 'type' | 'description'>,
  health: DestinationHealth,
  undeliveredAlerts: number,
  now: number,
): NoticeMessage {
  const name = displayName(destination);
  const alerts = `${undeliveredAlerts} alert${undeliveredAlerts === 1 ? '' : 's'} undelivered`;
  return {
    kind: 'notice',
    notice: 'destination-failing',
    id: noticeId('destination-failing', destination.id, health.failingSince),
    at: now,
    summary: `${name} is failing permanently since ${utcMinute(health.failingSince)} (${errorHead(health.lastError)}): ${alerts}`,
    detail: `Every message to ${destination.description} is refused: ${health.lastError}. Fix the destination (a new webhook URL, restored permissions) or remove it; alerts it misses are not sent to it later.`,
    facts: [
      ['Destination', destination.description],
      ['Failing since', utcMinute(health.failingSince)],
      ['Last error', health.lastError],
      ['Undelivered alerts', String(undeliveredAlerts)],
    ],
    skipDestinations: [destination.id],
  };
}

/** "Works again" after the streak that began at `health.failingSince`, to every destination. */
export function destinationRecoveredNotice(
  destination: Pick<Destination, 'id' | 'type' | 'description'>,
  health: DestinationHealth,
  now: number,
): NoticeMessage {
  const name = displayName(destination);
  return {
    kind: 'notice',
    notice: 'destination-recovered',
    id: noticeId('destination-recovered', destination.id, health.failingSince),
    at: now,
    supersedes: [noticeId('destination-failing', destination.id, health.failingSince)],
    summary: `${name} works again (it was failing since ${utcMinute(health.failingSince)}); ${health.undelivered} deliver${health.undelivered === 1 ? 'y' : 'ies'} refused meanwhile are not repeated`,
    facts: [
      ['Destination', destination.description],
      ['Failing since', utcMinute(health.failingSince)],
      ['Working again', utcMinute(now)],
    ],
  };
}

/**
 * The one "degraded" notice of a retry streak (its id is stable for the streak), sent to every
 * destination but the degraded one: it has delivered nothing for `now - since` while messages wait.
 */
export function degradedNotice(
  destination: Pick<Destination, 'id' | 'type' | 'description'>,
  streak: Pick<DestinationDelay, 'since' | 'lastError'>,
  now: number,
): NoticeMessage {
  const name = displayName(destination);
  const silent = durationText(now - streak.since);
  return {
    kind: 'notice',
    notice: 'destination-degraded',
    id: noticeId('destination-degraded', destination.id, streak.since),
    at: now,
    summary: `${name} has delivered nothing for ${silent} (since ${utcMinute(streak.since)}; ${errorHead(streak.lastError)}): its messages wait and are retried`,
    detail: `Every attempt to reach ${destination.description} since ${utcMinute(streak.since)} failed with a retryable answer: ${streak.lastError}. Messages to it wait and are retried until they expire; nothing reaches the people who rely on it alone. A "delivers again" notice follows when it answers again.`,
    facts: [
      ['Destination', destination.description],
      ['Nothing delivered since', utcMinute(streak.since)],
      ['For', silent],
      ['Last error', streak.lastError],
    ],
    skipDestinations: [destination.id],
    incidentKey: degradedIncident(destination.id, streak.since),
  };
}

/** "Delivers again" after the retry streak that began at `since`, to every destination. */
export function deliversAgainNotice(
  destination: Pick<Destination, 'id' | 'type' | 'description'>,
  since: number,
  now: number,
): NoticeMessage {
  const name = displayName(destination);
  return {
    kind: 'notice',
    notice: 'destination-recovered',
    id: noticeId('destination-delivers-again', destination.id, since),
    at: now,
    supersedes: [degradedNoticeId(destination.id, since)],
    summary: `${name} delivers again: it delivered nothing for ${durationText(now - since)} (since ${utcMinute(since)}); messages that waited are sent, those past the retry horizon are not`,
    facts: [
      ['Destination', destination.description],
      ['Nothing delivered from', utcMinute(since)],
      ['Delivering again', utcMinute(now)],
    ],
    incidentKey: degradedIncident(destination.id, since),
  };
}

/** The id of the degraded notice of the streak that began at `since`. */
export function degradedNoticeId(destination: string, since: number): string {
  return noticeId('destination-degraded', destination, since);
}

function degradedIncident(destination: string, since: number): string {
  return `hss-restore-alerts/destination-degraded/${destination}/${since}`;
}

/** `2026-11-30`: the UTC day of `ms`. */
export function utcDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** An alert in words for a count or a notice: `failed web-01 (backup nightly) in cn-north-4/p/0` (API text, unescaped). */
export function alertInWords(alert: AlertMessage): string {
  return `${alert.status} ${alert.task.hostName || alert.task.hostId} (backup ${alert.task.backupName || '—'}) in ${alert.scope.id}`;
}

/**
 * The one notice of a UTC day that alerts matched no destination's routing and reached no one, to
 * every destination; `alerts` are those of the enqueue that found the first (the first is shown).
 */
export function noRouteNotice(alerts: readonly AlertMessage[], now: number): NoticeMessage {
  const first = alerts[0]!;
  const day = utcDay(now);
  const n = alerts.length;
  return {
    kind: 'notice',
    notice: 'no-route',
    id: noticeId('no-route', '', Date.parse(day)),
    at: now,
    summary: `${n} alert${n === 1 ? '' : 's'} matched no destination's routing and reached no one (first today at ${utcMinute(now)}): add a route, or mark one destination fallback: true`,
    detail: `Routing (statuses, hosts, backups, enterprise_projects in the destinations file) sent these alerts nowhere. This notice comes once a day; \`hss-restore-alerts status\` counts them. First: ${alertInWords(first)}.`,
    facts: [
      ['Day (UTC)', day],
      ['Host', first.task.hostName || first.task.hostId],
      ['Backup', first.task.backupName || '—'],
      ['Status', first.status],
      ['Scope', first.scope.id],
    ],
    incidentKey: `hss-restore-alerts/no-route/${day}`,
  };
}
