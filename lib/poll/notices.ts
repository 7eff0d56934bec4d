// The notices a poll raises about the monitoring itself, built purely from scope state. Every one
// goes through the outbox like an alert (recorded, retried, leased), with an id stable for the event
// (one outage, one gap, one lost task), so no notice is sent twice or lost on a destination's hiccup.
import type { Page } from '../hss/pages';
import { stableId as noticeId } from '../ids';
import type { NoticeMessage, Scope, Task } from '../model';
import type { ScopeHealth, Starvation } from '../state/records';
import { DAY_MS } from '../time';
import { durationText, scopeText, statusText, utcMinute } from '../wording';

/** "Monitoring is NOT working" for one scope: one per outage (the id is the outage's start). */
export function downNotice(scope: Scope, health: ScopeHealth, now: number): NoticeMessage {
  return {
    kind: 'notice',
    notice: 'monitoring-down',
    id: noticeId('down', scope.id, health.since),
    incidentKey: `${scope.id}#${health.since}`,
    at: now,
    scope,
    summary: `HSS restore alerting is NOT working for ${scopeText(scope)}: the last ${health.failures} polls failed (since ${utcMinute(health.since)}). Failed restores there are not being reported until this is fixed.`,
    detail: health.lastError,
    facts: [
      ['Failing since', utcMinute(health.since)],
      ['Failed polls', String(health.failures)],
    ],
  };
}

/**
 * "Working again" for one scope, sent once the alert lists were read whole again: says how long
 * monitoring was blind and that the gap was read (failures in it are alerted now, no extra message).
 */
export function recoveredNotice(
  scope: Scope,
  health: ScopeHealth,
  blindSince: number,
  windowDays: number,
  now: number,
): NoticeMessage {
  const blind = now - blindSince;
  return {
    kind: 'notice',
    notice: 'monitoring-recovered',
    id: noticeId('recovered', scope.id, health.since),
    incidentKey: `${scope.id}#${health.since}`,
    at: now,
    scope,
    ...(health.downNoticeId ? { supersedes: [health.downNoticeId] } : {}),
    summary: `HSS restore alerting is working again for ${scopeText(scope)} after ${health.failures} failed polls. It was blind for ${durationText(blind)} (since ${utcMinute(blindSince)}); that gap has been read with a ${windowDays}-day window and any failure in it is alerted now.`,
    facts: [
      ['Blind since', utcMinute(blindSince)],
      ['Blind for', durationText(blind)],
      ['Gap read with', `${windowDays} day(s)`],
    ],
  };
}

/** A gap longer than the API's 30-day window: failures in part of it may never be seen. */
export function possibleLossNotice(scope: Scope, blindSince: number, now: number): NoticeMessage {
  const readableFrom = now - 30 * DAY_MS;
  return {
    kind: 'notice',
    notice: 'possible-loss',
    id: noticeId('possible-loss', scope.id, blindSince),
    at: now,
    scope,
    summary: `Possible missed alerts for ${scopeText(scope)}: monitoring was blind from ${utcMinute(blindSince)} until now, longer than the 30 days HSS can be asked about. Tasks that failed between ${utcMinute(blindSince)} and ${utcMinute(readableFrom)} may never be reported; check them in the HSS console.`,
    facts: [
      ['Blind since', utcMinute(blindSince)],
      ['Not readable before', utcMinute(readableFrom)],
    ],
  };
}

/** A task that left the window unfinished and could not be found again: reported once. */
export function lostTrackNotice(
  scope: Scope,
  key: string,
  task: Task | undefined,
  why: string,
  now: number,
): NoticeMessage {
  const facts: Array<[string, string]> = task
    ? [
        ['Host', `${task.hostName || '(no name)'} (${task.hostId})`],
        ['Backup', task.backupName],
        ['Last status', statusText(task.status, task.rawStatus)],
        ['Started', task.startedMs === undefined ? `${task.startedAt} (as sent)` : utcMinute(task.startedMs)],
      ]
    : [['Task', key]];
  return {
    kind: 'notice',
    notice: 'lost-track',
    id: noticeId('lost-track', scope.id, key),
    at: now,
    scope,
    summary: `Lost track of a backup/restore task in ${scopeText(scope)}: it left the ${'query'} window unfinished and HSS could not say how it ended (${why}). Check it in the HSS console.`,
    facts,
  };
}

/** HSS sent records that cannot be read: once a day per scope, with the count so far and a sample. */
export function rejectedNotice(
  scope: Scope,
  day: string,
  count: number,
  rejected: Page['rejected'],
  offset: number,
  now: number,
): NoticeMessage {
  const first = rejected[0]!;
  return {
    kind: 'notice',
    notice: 'records-rejected',
    id: noticeId('records-rejected', scope.id, day),
    at: now,
    scope,
    summary: `HSS sent ${count} record(s) that cannot be read for ${scopeText(scope)} today: they are skipped, and every other record is still alerted on. Check the task list in the HSS console; this is said once a day.`,
    detail: first.sample,
    facts: [
      ['Day (UTC)', day],
      ['Unreadable so far', String(count)],
      ['First', `record ${offset + first.index}: ${first.reason}`],
    ],
  };
}

/** The call budget of a credential let no HSS call start for several polls: monitoring is NOT working. */
export function starvedNotice(
  credential: string,
  scopes: readonly Scope[],
  starved: Starvation,
  now: number,
): NoticeMessage {
  return {
    kind: 'notice',
    notice: 'monitoring-down',
    id: noticeId('budget-starved', credential, starved.since),
    incidentKey: `budget#${credential}#${starved.since}`,
    at: now,
    summary: `HSS restore alerting is NOT working for ${scopes.length} scope(s) read with credential "${credential}": the HSS call budget let no call start in the last ${starved.polls} polls (since ${utcMinute(starved.since)}). Another poller or tool may be using this HSS user's 5 calls a minute, or clocks disagree.`,
    facts: [
      ['Credential', credential],
      ['Starved since', utcMinute(starved.since)],
      ['Scopes', scopes.map((s) => s.id).join(', ')],
    ],
  };
}

/** Calls can start again with a starved credential: monitoring works again. */
export function unstarvedNotice(
  credential: string,
  scopes: readonly Scope[],
  starved: Starvation,
  now: number,
): NoticeMessage {
  return {
    kind: 'notice',
    notice: 'monitoring-recovered',
    id: noticeId('budget-unstarved', credential, starved.since),
    incidentKey: `budget#${credential}#${starved.since}`,
    at: now,
    ...(starved.noticeId ? { supersedes: [starved.noticeId] } : {}),
    summary: `HSS restore alerting is working again for the scope(s) read with credential "${credential}": HSS calls start again after ${durationText(now - starved.since)} (since ${utcMinute(starved.since)}). Lists are read from where they stopped.`,
    facts: [
      ['Credential', credential],
      ['Starved for', durationText(now - starved.since)],
      ['Scopes', scopes.map((s) => s.id).join(', ')],
    ],
  };
}
