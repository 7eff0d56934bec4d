import {
  classifyHttp,
  classifyNetworkError,
  errorWord,
  haltsBatch,
  parseRetryAfter,
} from '../../lib/notify/classify';
import type { DeliveryOutcome } from '../../lib/model';

const NOW = Date.UTC(2025, 2, 6, 5, 30, 0);

describe('classifyHttp', () => {
  // [status, headers, body, expected kind, expected retryAfterMs, text the error must contain, why]
  const cases: [
    number,
    Record<string, string>,
    string,
    DeliveryOutcome['kind'],
    number | undefined,
    string,
    string,
  ][] = [
    [200, {}, 'ok', 'ok', undefined, '', 'Slack success is 200 ok'],
    [204, {}, '', 'ok', undefined, '', 'any 2xx means the receiver took it'],
    [
      429,
      { 'Retry-After': '30' },
      'rate_limited',
      'retryable',
      30_000,
      'HTTP 429',
      'throttled: wait as told, then retry',
    ],
    [
      429,
      { 'retry-after': 'Thu, 06 Mar 2025 05:30:10 GMT' },
      '',
      'retryable',
      10_000,
      'rate limited',
      'Retry-After may be an HTTP-date',
    ],
    [429, {}, '', 'retryable', undefined, 'HTTP 429', 'throttled without advice is still retryable'],
    [
      500,
      {},
      'rollup_error',
      'retryable',
      undefined,
      'rollup_error',
      "Slack's internal error is documented as retryable",
    ],
    [
      503,
      { 'Retry-After': '5' },
      '<html>busy</html>',
      'retryable',
      5000,
      'HTTP 503',
      'outages pass; HTML pages add no word',
    ],
    [
      408,
      {},
      '',
      'retryable',
      undefined,
      'HTTP 408',
      'the receiver timed out reading: sending again can work',
    ],
    [
      400,
      {},
      'invalid_payload',
      'permanent',
      undefined,
      'invalid_payload',
      'the same payload will be refused again',
    ],
    [
      400,
      {},
      'invalid_blocks',
      'permanent',
      undefined,
      'invalid_blocks',
      'blocks rejected: resending them cannot help',
    ],
    [
      403,
      {},
      'action_prohibited',
      'permanent',
      undefined,
      'action_prohibited',
      'an admin restriction does not lift by itself',
    ],
    [404, {}, 'no_service', 'permanent', undefined, 'no_service', 'the webhook was removed'],
    [404, {}, 'channel_not_found', 'permanent', undefined, 'channel_not_found', 'the channel was deleted'],
    [
      410,
      {},
      'channel_is_archived',
      'permanent',
      undefined,
      'channel_is_archived',
      'archived channel: stop retrying, report it',
    ],
    [
      410,
      {},
      '',
      'permanent',
      undefined,
      'endpoint gone',
      'Standard Webhooks: 410 means the endpoint is gone',
    ],
    [
      401,
      {},
      '{"error":"invalid_signature"}',
      'permanent',
      undefined,
      'invalid_signature',
      'a wrong secret stays wrong; JSON error word is shown',
    ],
    [
      422,
      {},
      '{"error":{"code":"E42","message":"bad"}}',
      'permanent',
      undefined,
      'E42',
      'other 4xx are permanent; nested JSON code is shown',
    ],
    [
      301,
      { location: 'https://elsewhere.example/secret-path' },
      '',
      'permanent',
      undefined,
      'redirects',
      'redirects are not followed: fix the URL',
    ],
  ];

  it.each(cases)(
    'HTTP %i %j %j is %s (retryAfterMs %s, says %j): %s',
    (status, headers, body, kind, retryAfterMs, says) => {
      // Act
      const outcome = classifyHttp(status, headers, body, NOW);
      // Assess
      expect(outcome.kind).toBe(kind);
      if (outcome.kind === 'ok') return;
      expect(outcome.error).toContain(says);
      expect(outcome.kind === 'retryable' ? outcome.retryAfterMs : undefined).toBe(retryAfterMs);
      expect(outcome.error).not.toContain('secret-path');
    },
  );

  it('keeps URLs in a body out of the error text', () => {
    const outcome = classifyHttp(400, {}, 'bad hook https://hooks.slack.com/services/T1/B2/SECRET', NOW);
    expect(outcome.kind === 'permanent' && outcome.error).toContain('https://hooks.slack.com/…');
    expect(JSON.stringify(outcome)).not.toContain('SECRET');
  });
});

describe('parseRetryAfter', () => {
  it.each([
    ['0', 0, 'zero means retry now'],
    ['2', 2000, 'seconds become ms'],
    ['1.5', 1500, 'tolerates a fraction'],
    ['Thu, 06 Mar 2025 05:29:00 GMT', 0, 'a date in the past means now, never negative'],
    ['soon', undefined, 'unreadable text gives no advice'],
    ['', undefined, 'empty gives no advice'],
  ])('%j -> %s (%s)', (value, expected, _why) => {
    expect(parseRetryAfter(value, NOW)).toBe(expected);
  });
});

describe('errorWord', () => {
  it('caps a long body at 120 characters and removes control characters', () => {
    const word = errorWord(`boom\u0007${'x'.repeat(500)}`);
    expect(word).toHaveLength(120);
    expect(word).not.toMatch(/\p{Cc}/u);
  });
});

describe('classifyNetworkError', () => {
  const withUrl = (code: string) =>
    Object.assign(new Error(`connect ${code}`), {
      code,
      config: { url: 'https://hooks.slack.com/services/T1/B2/SECRET' },
    });

  it.each([
    ['ECONNRESET', 'connection reset'],
    ['ECONNREFUSED', 'connection refused'],
    ['ETIMEDOUT', 'timed out'],
    ['ECONNABORTED', 'timed out'],
    ['ENOTFOUND', 'DNS lookup failed'],
    ['EAI_AGAIN', 'DNS lookup failed'],
    ['CERT_HAS_EXPIRED', 'TLS certificate rejected'],
  ])('%s is retryable and says %j with the host but not the path', (code, says) => {
    // Act
    const outcome = classifyNetworkError(withUrl(code));
    // Assess
    expect(outcome.kind).toBe('retryable');
    expect(outcome.error).toContain(says);
    expect(outcome.error).toContain('https://hooks.slack.com/…');
    expect(outcome.error).not.toContain('SECRET');
  });

  it('finds the precise code on the cause of a wrapper error', () => {
    const err = Object.assign(new Error('wrapped'), {
      code: 'ERR_NETWORK',
      cause: Object.assign(new Error('x'), { code: 'EHOSTUNREACH' }),
    });
    expect(classifyNetworkError(err).error).toContain('host unreachable (EHOSTUNREACH)');
  });

  it('keeps an unknown error retryable and scrubs URLs from its message', () => {
    const outcome = classifyNetworkError(new TypeError('bad thing at https://x.example/secret/path'));
    expect(outcome).toEqual({
      kind: 'retryable',
      error: 'network error: TypeError: bad thing at https://x.example/…',
    });
  });
});

describe('haltsBatch', () => {
  it.each<[string, Parameters<typeof haltsBatch>[0], boolean]>([
    ['a delivery goes on to the next message', { outcome: { kind: 'ok' }, status: 200 }, false],
    ['a throttled or failing receiver is not hammered', { outcome: { kind: 'retryable', error: 'x' } }, true],
    [
      'a refused payload concerns that message only',
      { outcome: { kind: 'permanent', error: 'x' }, status: 400 },
      false,
    ],
    [
      'a gone endpoint refuses every message',
      { outcome: { kind: 'permanent', error: 'x' }, status: 410 },
      true,
    ],
    [
      'a vendor code in a 200 that condemns the endpoint (wrong secret, robot removed)',
      { outcome: { kind: 'permanent', error: 'x', endpoint: true }, status: 200 },
      true,
    ],
  ])('%s', (_why, result, halts) => {
    expect(haltsBatch(result)).toBe(halts);
  });
});
