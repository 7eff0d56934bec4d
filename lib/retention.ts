// Every expiry rule in one place: how long each kind of state is kept (DynamoDB TTL, epoch seconds)
// and when a delivery is given up. Alerts outlive the longest window the API allows (30 days) plus
// margin, so no later configuration (a wider LAST_DAYS, another enterprise project filter, a gap
// catch-up) can alert the same task and status again.

export const DAY_MS = 86_400_000;
export const HOUR_MS = 3_600_000;

/** The API's longest look-back window, days. */
export const MAX_WINDOW_DAYS = 30;

export const RETENTION = {
  /** Alert messages (the dedup record of a task + status + episode): the API's 30 days + 2. */
  alertDays: MAX_WINDOW_DAYS + 2,
  /** Every other message (notices, reminders, resolved, summaries): long enough to dedupe retries. */
  messageDays: 7,
  /** A delivery still failing this long after its message was recorded is given up (expired). */
  deliveryRetryMs: 24 * HOUR_MS,
  /**
   * A scope's state item (cursors, watermark, health): a year and a month after its last write, so a
   * poller stopped for longer than the API's 30 days still finds its watermark and announces the
   * possible loss; the state of a scope no longer polled is dropped after that.
   */
  scopeStateDays: 400,
  /** A scope's digest (what its lists showed): the API's 30 days + 5 after its last write. */
  digestDays: MAX_WINDOW_DAYS + 5,
  /** A task's detail item: the API's 30 days + 2 after it was last written. */
  taskDays: MAX_WINDOW_DAYS + 2,
  /** A credential's call-budget item: a day after its last write or the end of its throttle hold (it matters for a minute). */
  budgetDays: 1,
} as const;

/** TTL (epoch seconds) of an item written at `now` and kept `days`. */
export function ttlAfter(now: number, days: number): number {
  return Math.ceil((now + days * DAY_MS) / 1000);
}
