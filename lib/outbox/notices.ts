// The notices the outbox itself raises about a destination (issue 10 #6): "failing permanently"
// (once per streak, to every other destination) and "works again". Pure: they are ordinary messages
// that the outbox enqueues and delivers like any alert.
import { stableId as noticeId } from '../ids';
import type { NoticeMessage } from '../model';
import { displayName } from '../notify/channels';
import type { Destination } from '../notify/destination';
import { utcMinute } from '../wording';
import type { DestinationHealth } from './types';

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
