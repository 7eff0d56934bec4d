import type { Alert } from '../diff/alert';
import type { Scope } from '../task';

/** Result of one delivery attempt; `retryable` failures are tried again on a later poll. */
export type DeliveryOutcome =
  | { kind: 'ok' }
  | { kind: 'retryable'; error: string; retryAfterMs?: number }
  | { kind: 'permanent'; error: string };

/** Told the outcome of the alert at `index` of a batch as soon as it is known. */
export type OutcomeListener = (index: number, outcome: DeliveryOutcome) => Promise<void>;

/** A message about the monitoring itself rather than about a task. */
export interface Notice {
  kind: 'test' | 'monitoring-down' | 'monitoring-recovered';
  /** Stable id (dedup key for receivers). */
  id: string;
  scope: Scope;
  /** One line a person can act on, written by us (not escaped as API text). */
  summary: string;
  /** Extra detail, may contain API text (escaped by the notifier). */
  detail?: string;
  at: number;
}

/** One destination (a Slack webhook, a generic webhook...). Adding a channel is one new module. */
export interface Notifier {
  /** Stable destination id used as the key of delivery state (e.g. `slack`, `webhook`). */
  readonly id: string;
  /** Human description safe to log: the URL redacted to scheme + host. */
  readonly description: string;
  /**
   * Delivers `alerts` (one poll's batch for this destination) and returns one outcome per alert,
   * in the same order. May group them (a digest); never throws for delivery failures. Calls
   * `onOutcome` (awaited) as soon as each alert's answer is known, so the caller can record it
   * before the next message goes out: a crash then repeats at most the message in flight.
   */
  deliver(alerts: readonly Alert[], onOutcome?: OutcomeListener): Promise<DeliveryOutcome[]>;
  /** Sends one notice about the monitoring itself; never throws for delivery failures. */
  notice(notice: Notice): Promise<DeliveryOutcome>;
}
