// Whether to try an HSS call again, and after how long: a pure decision (modelled on alertmanager's
// notify/util.go Retrier.Check). The reader owns the deadline and the call budget; this owns the
// rules: throttling waits out the server's hint, 5xx and network failures back off with jitter,
// refusals are final (an auth failure is never repeated: 5 in a row lock the AK for 5 minutes).

/** How one HTTP attempt failed (see transport.ts). */
export type FailureKind = 'throttled' | 'server' | 'network' | 'auth' | 'request' | 'response';

export interface RetryInput {
  kind: FailureKind;
  /** HTTP status of the answer; absent for a network failure. */
  status?: number;
  /** Attempts made so far, this one included (1 after the first try). */
  attempt: number;
  /** The server's Retry-After, ms, when it sent one. */
  retryAfterMs?: number;
}

export type RetryDecision = { retry: true; afterMs: number } | { retry: false };

/** Attempts (first try included) and back-off steps; equal jitter: each wait is half its step plus up to half again. */
export const RETRY_POLICY = {
  maxAttempts: 4,
  // A throttle lasts up to a rate window: 12 s is one call's share of a minute at 5 calls/minute.
  throttleBaseMs: 12_000,
  throttleCapMs: 60_000,
  // A 5xx or a dropped connection is usually over within seconds.
  failureBaseMs: 1_000,
  failureCapMs: 20_000,
} as const;

/** Statuses that say the same request will never succeed, even though they are 5xx. */
const PERMANENT_5XX: ReadonlySet<number> = new Set([501, 505]);

/**
 * Decides whether to retry after a failed attempt. Throttled: after `retryAfterMs`, else a jittered
 * 12 s..60 s back-off; server errors (but 501/505), network failures and 408: after `retryAfterMs`,
 * else a jittered 1 s..20 s back-off; auth, other 4xx and unreadable 2xx bodies: never; nothing
 * after RETRY_POLICY.maxAttempts attempts. `random` is uniform in [0, 1).
 */
export function decideRetry(input: RetryInput, random: () => number): RetryDecision {
  const { kind, status, attempt, retryAfterMs } = input;
  if (attempt >= RETRY_POLICY.maxAttempts) return { retry: false };
  const retryable =
    kind === 'throttled' ||
    kind === 'network' ||
    (kind === 'server' && !(status !== undefined && PERMANENT_5XX.has(status))) ||
    (kind === 'request' && status === 408);
  if (!retryable) return { retry: false };
  if (retryAfterMs !== undefined && Number.isFinite(retryAfterMs) && retryAfterMs >= 0) {
    return { retry: true, afterMs: Math.ceil(retryAfterMs) };
  }
  const [base, cap] =
    kind === 'throttled'
      ? [RETRY_POLICY.throttleBaseMs, RETRY_POLICY.throttleCapMs]
      : [RETRY_POLICY.failureBaseMs, RETRY_POLICY.failureCapMs];
  const step = Math.min(cap, base * 2 ** (attempt - 1));
  return { retry: true, afterMs: Math.round(step / 2 + (random() * step) / 2) };
}
