// CONTRACT (written first; the outbox helper implements it): one outbox for everything the product
// sends (alerts, resolved notices, reminders, daily summaries, monitoring notices, tests). A message
// is recorded before it is sent, delivered per destination under one lease, retried with backoff,
// given up on permanent answers (and reported through the other destinations) or after the retry
// horizon (lib/state/layout.ts). The poll enqueues; deliver() runs at the end of a poll (and whenever
// the poll has time to spare between HSS calls).
import type { DeliveryState, Message } from '../model';

/** What one deliver() run did; counts are (message, destination) deliveries unless stated. */
export interface DeliverySummary {
  /** Deliveries answered 2xx this run. */
  sent: number;
  /** HTTP requests made this run (a digest carries many deliveries in one request). */
  requests: number;
  /** Retryable failures this run (tried again later). */
  retrying: number;
  /** Permanent failures this run (destination gone, payload refused). */
  failed: number;
  /** Given up this run after the retry horizon. */
  expired: number;
  /**
   * Still pending or held after this run, among the messages it read (those due when it ran); a run
   * with nothing due reads none and says 0. `pendingByDestination()` counts every one.
   */
  pending: number;
  /** Another run held the lease: this one sent nothing. */
  leaseBusy: boolean;
  /** Stopped early because the lease or the deadline would not cover the next send. */
  stoppedEarly: boolean;
  /** Destination ids failing permanently now (this run or since an earlier one, until a 2xx). */
  destinationsFailing: string[];
  /**
   * Destination ids degraded now: only retryable failures and no 2xx for `degradedAfterMs` (until a
   * 2xx); a destination failing permanently is listed there instead.
   */
  destinationsDegraded: string[];
  /** Every configured destination is degraded or failing permanently: nothing reaches anyone. */
  allDestinationsDown: boolean;
  /**
   * Alerts this outbox recorded since its previous run that matched no destination's routing and
   * went to no one (there is no `fallback` destination): each was logged, and a notice told every
   * destination (once a UTC day).
   */
  unrouted: number;
}

/** A message as the outbox holds it. */
export interface OutboxRecord {
  message: Message;
  /** One entry per destination that accepts the message (routing decided when it was recorded). */
  deliveries: Record<string, DeliveryState>;
  /** TTL, epoch seconds (lib/state/layout.ts). */
  expiresAt: number;
}

/** Per-destination health, kept while a destination fails permanently. */
export interface DestinationHealth {
  destination: string;
  /** First permanent failure of this streak, epoch ms. */
  failingSince: number;
  lastError: string;
  /** Deliveries it did not get because of it (failed permanently). */
  undelivered: number;
}

/** A destination answering only retryable failures (429, 5xx, network) since `since`, with no 2xx after. */
export interface DestinationDelay {
  destination: string;
  /** First retryable failure with no 2xx after it, epoch ms. */
  since: number;
  lastError: string;
  /** The streak is at least `degradedAfterMs` long: the other destinations were told. */
  degraded: boolean;
}

/** Alerts of one UTC day that matched no destination's routing and went to no one. */
export interface UnroutedDay {
  /** `YYYY-MM-DD` (UTC). */
  day: string;
  alerts: number;
  /** When the last one was recorded, epoch ms. */
  lastAt: number;
  /** The last one in words (`failed web-01 backup nightly in cn-north-4/p/0`; API text, not escaped). */
  last: string;
}

export interface Outbox {
  /**
   * Records each message not recorded before (conditional put by id, bounded parallelism); a
   * message gets a `pending` delivery for each destination that `accepts` it, or `held` until
   * `holdUntil` when quiet hours apply. An alert (or follow-up) no destination's routing matched goes
   * to the fallback destination marked `noRoute`; without one, an alert is logged, counted per UTC
   * day and told to every destination once a day (the notice is recorded before the alert, so it is
   * never lost; a crash between the alert and its count may leave the count one short). Returns
   * the ids newly recorded and those that already were (another poll, or an earlier run that
   * crashed after recording). Throws StateError on DynamoDB failure (nothing is half-recorded: a
   * message either exists or not).
   */
  enqueue(messages: readonly Message[]): Promise<{ created: string[]; existing: string[] }>;
  /**
   * Sends due deliveries (oldest first) until `deadline` (epoch ms), under the outbox lease, which it
   * checks (and renews) before each send so that an expired lease never lets two runs send the same
   * delivery. Records every outcome as soon as its request is answered (a crash repeats at most the
   * request in flight). Never throws for a destination's failure; throws StateError when DynamoDB
   * fails, after recording what it can and releasing the lease.
   */
  deliver(deadline: number, context?: { listsIncomplete?: boolean }): Promise<DeliverySummary>;
  /** Destinations failing permanently now (for `status` and the CLI's exit code). */
  failingDestinations(): Promise<DestinationHealth[]>;
  /** Destinations answering only retryable failures now, degraded or not yet (for `status`). */
  delayedDestinations(): Promise<DestinationDelay[]>;
  /** Alerts that went to no one, per UTC day, for today and yesterday (for `status`). */
  unroutedAlerts(): Promise<UnroutedDay[]>;
  /** Pending/held deliveries per destination id (for `status`). */
  pendingByDestination(): Promise<Record<string, number>>;
  /** Reads recorded messages by id (strongly consistent); missing ids are absent. */
  get(ids: readonly string[]): Promise<OutboxRecord[]>;
}
