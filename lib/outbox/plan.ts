// The outbox's decisions, pure and clock-passed: who gets a message (routing, quiet hours), which
// deliveries a run sends, expires or defers, in what order a batch goes out, and the state a delivery
// moves to after an answer (backoff with jitter, Retry-After). No I/O here: send.ts acts on these.
import type { DeliveryOutcome, DeliveryState, Message } from '../model';
import type { Destination } from '../notify/destination';
import { HOUR_MS } from '../time';
import { RETENTION } from '../state/layout';
import type { OutboxRecord } from './types';

/** How failing deliveries are retried; all durations in ms. */
export interface RetryPolicy {
  /** First backoff after a retryable failure; doubles per attempt, then jittered to 50..100 %. */
  baseMs: number;
  /** Longest backoff (before jitter). */
  maxMs: number;
  /** A delivery still failing this long after it became due is given up (expired). */
  horizonMs: number;
}

export const RETRY_POLICY: RetryPolicy = {
  baseMs: 60_000,
  maxMs: 30 * 60_000,
  horizonMs: RETENTION.deliveryRetryMs,
};

/** A delivery to a destination no longer configured is looked at again this much later (until it expires). */
export const UNCONFIGURED_RECHECK_MS = HOUR_MS;

/** Decides when `destination` must not get `message` before a time (quiet hours); undefined = now. */
export type HoldUntil = (destination: Destination, message: Message, now: number) => number | undefined;

/** How a new message found its destinations. */
export type RouteVia =
  /** Destinations' routing matched (or the message is a notice or a summary, which go everywhere they may). */
  | 'routing'
  /** An alert or follow-up no routing matched: the fallback destination takes it. */
  | 'fallback'
  /** An alert or follow-up no routing matched and no fallback destination takes: it reaches no one. */
  | 'no-route';

/**
 * The deliveries of a new message: one per destination that accepts it and is not in its
 * `skipDestinations`, `pending` now or `held` until `holdUntil` says. An alert, resolved message or
 * reminder that no destination accepts goes to the fallback destination when there is one that takes
 * it (`via: 'fallback'`), else nowhere (`via: 'no-route'`). A message without deliveries is still
 * recorded: the record is what stops the same alert twice.
 */
export function route(
  message: Message,
  destinations: readonly Destination[],
  now: number,
  holdUntil?: HoldUntil,
): { deliveries: Record<string, DeliveryState>; via: RouteVia } {
  const skip = new Set(message.kind === 'notice' ? (message.skipDestinations ?? []) : []);
  const deliveries: Record<string, DeliveryState> = {};
  const deliver = (destination: Destination): void => {
    const until = holdUntil?.(destination, message, now);
    deliveries[destination.id] =
      until !== undefined && until > now
        ? { state: 'held', attempts: 0, nextAt: until, dueSince: until }
        : { state: 'pending', attempts: 0, nextAt: 0, dueSince: now };
  };
  for (const destination of destinations) {
    if (!skip.has(destination.id) && destination.accepts(message)) deliver(destination);
  }
  const routable = message.kind === 'alert' || message.kind === 'resolved' || message.kind === 'reminder';
  if (!routable || Object.keys(deliveries).length > 0) return { deliveries, via: 'routing' };
  const fallback = destinations.find((d) => d.takesUnrouted?.(message));
  if (!fallback) return { deliveries, via: 'no-route' };
  deliver(fallback);
  return { deliveries, via: 'fallback' };
}

/** What a run does with one delivery, and why. */
export type DeliveryDecision =
  | { action: 'leave'; reason: 'settled' | 'not-due' }
  | { action: 'send'; reason: 'first-try' | 'hold-ended' | 'retry-due' }
  | { action: 'expire'; reason: 'retry-horizon-passed' }
  | { action: 'defer'; reason: 'destination-not-configured'; nextAt: number };

/**
 * Decides one delivery at `now`: settled ones and those not due yet are left; a due one past the
 * retry horizon (counted from `dueSince`, else from `recordedAt`) expires; a due one whose
 * destination is no longer configured is looked at again later; any other due one is sent.
 */
export function decideDelivery(
  state: DeliveryState,
  recordedAt: number,
  configured: boolean,
  now: number,
  policy: RetryPolicy = RETRY_POLICY,
): DeliveryDecision {
  if (state.state !== 'pending' && state.state !== 'held') return { action: 'leave', reason: 'settled' };
  if (state.nextAt > now) return { action: 'leave', reason: 'not-due' };
  if (now - (state.dueSince ?? recordedAt) >= policy.horizonMs)
    return { action: 'expire', reason: 'retry-horizon-passed' };
  if (!configured)
    return { action: 'defer', reason: 'destination-not-configured', nextAt: now + UNCONFIGURED_RECHECK_MS };
  if (state.state === 'held') return { action: 'send', reason: 'hold-ended' };
  return { action: 'send', reason: state.attempts === 0 ? 'first-try' : 'retry-due' };
}

/** A record as a run holds it: `recordedAt` is the fallback start of the retry horizon. */
export interface PlannedRecord extends OutboxRecord {
  recordedAt: number;
}

/** One destination's work in one run. */
export interface DestinationPlan<R extends PlannedRecord> {
  /** To send now, in batch order (oldest `at` first, then host name, then id). */
  send: R[];
  expire: R[];
  defer: Array<{ record: R; nextAt: number }>;
}

/** Splits `records` into what `destinationId` sends, expires and defers at `now`. */
export function planDestination<R extends PlannedRecord>(
  records: readonly R[],
  destinationId: string,
  configured: boolean,
  now: number,
  policy: RetryPolicy = RETRY_POLICY,
): DestinationPlan<R> {
  const plan: DestinationPlan<R> = { send: [], expire: [], defer: [] };
  for (const record of records) {
    const state = record.deliveries[destinationId];
    if (!state) continue;
    const decision = decideDelivery(state, record.recordedAt, configured, now, policy);
    if (decision.action === 'send') plan.send.push(record);
    else if (decision.action === 'expire') plan.expire.push(record);
    else if (decision.action === 'defer') plan.defer.push({ record, nextAt: decision.nextAt });
  }
  plan.send.sort((a, b) => compareBatchOrder(a.message, b.message));
  return plan;
}

/** Batch order: oldest `at` first, then host name, then id (a stable order whatever DynamoDB returned). */
function compareBatchOrder(a: Message, b: Message): number {
  return a.at - b.at || compareText(hostOf(a), hostOf(b)) || compareText(a.id, b.id);
}

function hostOf(message: Message): string {
  return 'task' in message ? message.task.hostName : '';
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * The state of a delivery after one attempt at `now`: `done` on ok, `failed` on a permanent
 * answer, else `pending` again after a backoff of `baseMs * 2^(attempts-1)` (capped at `maxMs`,
 * jittered to 50..100 % by `random()` in [0, 1)), or after `Retry-After` when that is longer.
 */
export function nextState(
  state: DeliveryState,
  outcome: DeliveryOutcome,
  now: number,
  random: () => number,
  policy: RetryPolicy = RETRY_POLICY,
): DeliveryState {
  const attempts = state.attempts + 1;
  const since = state.dueSince === undefined ? {} : { dueSince: state.dueSince };
  if (outcome.kind === 'ok') return { state: 'done', attempts, nextAt: 0, ...since };
  if (outcome.kind === 'permanent')
    return { state: 'failed', attempts, nextAt: 0, lastError: outcome.error, ...since };
  const backoff = Math.min(policy.maxMs, policy.baseMs * 2 ** (attempts - 1)) * (0.5 + random() / 2);
  return {
    state: 'pending',
    attempts,
    nextAt: Math.ceil(now + Math.max(backoff, outcome.retryAfterMs ?? 0)),
    lastError: outcome.error,
    ...since,
  };
}

/**
 * When the message is next due for any destination (the due index's sort key), epoch ms; undefined
 * once every delivery is settled (done, failed, expired, skipped): the message leaves the index.
 */
export function earliestDue(deliveries: Readonly<Record<string, DeliveryState>>): number | undefined {
  let earliest: number | undefined;
  for (const d of Object.values(deliveries)) {
    if (d.state !== 'pending' && d.state !== 'held') continue;
    earliest = earliest === undefined ? d.nextAt : Math.min(earliest, d.nextAt);
  }
  return earliest;
}
