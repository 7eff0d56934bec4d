// How fast one destination may be sent to: at least `minIntervalMs` between two requests and at most
// `perMinute` requests in any rolling minute. Pure: the loop keeps the start times and sleeps.
import type { ChannelLimits } from '../notify/destination';

const MINUTE_MS = 60_000;

/**
 * Earliest time (epoch ms, never before `now`) the next request may start, given the start times of
 * the requests already sent to this destination (ascending). `perMinute` <= 0 means no per-minute cap.
 */
export function nextSendAt(sentAt: readonly number[], limits: ChannelLimits, now: number): number {
  let at = now;
  const last = sentAt[sentAt.length - 1];
  if (last !== undefined) at = Math.max(at, last + limits.minIntervalMs);
  if (limits.perMinute > 0 && sentAt.length >= limits.perMinute) {
    // The request `perMinute` back must have left the rolling minute.
    at = Math.max(at, sentAt[sentAt.length - limits.perMinute]! + MINUTE_MS);
  }
  return at;
}
