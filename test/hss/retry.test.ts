import { decideRetry, RETRY_POLICY, type RetryDecision, type RetryInput } from '../../lib/hss/retry';

describe('decideRetry', () => {
  // random() = 0.5: equal jitter gives three quarters of each step.
  it.each<[string, RetryInput, RetryDecision]>([
    [
      'a throttle waits the Retry-After the gateway sent',
      { kind: 'throttled', status: 429, attempt: 1, retryAfterMs: 7_000 },
      { retry: true, afterMs: 7_000 },
    ],
    [
      'a throttle without Retry-After backs off from 12 s (one call of 5 a minute)',
      { kind: 'throttled', status: 429, attempt: 1 },
      { retry: true, afterMs: 9_000 },
    ],
    [
      'a second throttle doubles the step',
      { kind: 'throttled', status: 400, attempt: 2 },
      { retry: true, afterMs: 18_000 },
    ],
    [
      'a third throttle waits a 48 s step',
      { kind: 'throttled', status: 429, attempt: 3, retryAfterMs: undefined },
      { retry: true, afterMs: 36_000 },
    ],
    ['a 500 backs off from 1 s', { kind: 'server', status: 500, attempt: 1 }, { retry: true, afterMs: 750 }],
    [
      'a 503 with Retry-After waits what the server asked',
      { kind: 'server', status: 503, attempt: 1, retryAfterMs: 2_500 },
      { retry: true, afterMs: 2_500 },
    ],
    [
      'a third 502 waits a 4 s step',
      { kind: 'server', status: 502, attempt: 3 },
      { retry: true, afterMs: 3_000 },
    ],
    [
      '501 Not Implemented will never work: no retry',
      { kind: 'server', status: 501, attempt: 1 },
      { retry: false },
    ],
    [
      '505 HTTP Version Not Supported will never work: no retry',
      { kind: 'server', status: 505, attempt: 1 },
      { retry: false },
    ],
    [
      'a reset or timeout backs off like a 5xx',
      { kind: 'network', attempt: 1 },
      { retry: true, afterMs: 750 },
    ],
    [
      '408 Request Timeout is a transient failure',
      { kind: 'request', status: 408, attempt: 1 },
      { retry: true, afterMs: 750 },
    ],
    [
      'an auth failure is never retried (5 in a row lock the AK)',
      { kind: 'auth', status: 401, attempt: 1 },
      { retry: false },
    ],
    ['a permission refusal is never retried', { kind: 'auth', status: 403, attempt: 1 }, { retry: false }],
    [
      'an invalid parameter (HSS.0001) is never retried',
      { kind: 'request', status: 400, attempt: 1 },
      { retry: false },
    ],
    [
      'an unreadable 2xx body is not retried',
      { kind: 'response', status: 200, attempt: 1 },
      { retry: false },
    ],
    [
      'nothing after the last attempt, whatever the kind',
      { kind: 'server', status: 500, attempt: RETRY_POLICY.maxAttempts },
      { retry: false },
    ],
    [
      'nothing after the last attempt, even with Retry-After',
      { kind: 'throttled', status: 429, attempt: RETRY_POLICY.maxAttempts, retryAfterMs: 1 },
      { retry: false },
    ],
    [
      'a negative Retry-After is ignored in favour of the back-off',
      { kind: 'server', status: 503, attempt: 1, retryAfterMs: -1 },
      { retry: true, afterMs: 750 },
    ],
  ])('%s', (_why, input, expected) => {
    expect(decideRetry(input, () => 0.5)).toEqual(expected);
  });

  it.each([
    ['server', RETRY_POLICY.failureBaseMs, RETRY_POLICY.failureCapMs],
    ['throttled', RETRY_POLICY.throttleBaseMs, RETRY_POLICY.throttleCapMs],
  ] as const)('keeps every %s back-off between half its step and the step, capped', (kind, base, cap) => {
    for (let attempt = 1; attempt < RETRY_POLICY.maxAttempts; attempt++) {
      const step = Math.min(cap, base * 2 ** (attempt - 1));
      const low = decideRetry({ kind, attempt }, () => 0);
      const high = decideRetry({ kind, attempt }, () => 0.999_999);
      expect(low).toEqual({ retry: true, afterMs: step / 2 });
      expect(high).toEqual({ retry: true, afterMs: step });
    }
  });
});
