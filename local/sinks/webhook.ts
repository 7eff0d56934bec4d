// A generic webhook receiver on 127.0.0.1: 200; 400 for a body that is not JSON; with a secret, 401
// unless the Standard Webhooks signature verifies. The verifier here is written from the
// specification with node:crypto, independently of the `standardwebhooks` package the sender uses.
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Clock } from '../../lib/log';
import { systemClock } from '../../lib/log';
import { json, startSink, type Sink, urlFixture } from './base';

const WEBHOOK_SINK_PATH = '/hooks/hss-restore-alerts';

/**
 * True when `headers` carry `webhook-id`, a `webhook-timestamp` within `toleranceSec` of `nowSec`,
 * and among the space-separated `webhook-signature` values a `v1,` base64 HMAC-SHA256 of
 * `{id}.{timestamp}.{body}` keyed with the base64-decoded part of `whsec_...` (a secret without the
 * prefix: its UTF-8 bytes, the old notifier's form), compared in constant time.
 */
export function verifyWebhookSignature(
  secret: string,
  headers: Record<string, string | undefined>,
  body: string,
  nowSec: number,
  toleranceSec = 300,
): boolean {
  const key = secret.startsWith('whsec_')
    ? Buffer.from(secret.slice(6), 'base64')
    : Buffer.from(secret, 'utf8');
  const id = headers['webhook-id'];
  const timestamp = headers['webhook-timestamp'];
  const signatures = headers['webhook-signature'];
  if (!id || !timestamp || !signatures || !/^\d{1,12}$/.test(timestamp)) return false;
  if (Math.abs(nowSec - Number(timestamp)) > toleranceSec) return false;
  const expected = Buffer.from(
    createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64'),
  );
  let match = false;
  for (const candidate of signatures.split(' ')) {
    const [version, sig] = candidate.split(',', 2);
    if (version !== 'v1' || sig === undefined) continue;
    const given = Buffer.from(sig);
    if (given.length === expected.length && timingSafeEqual(given, expected)) match = true;
  }
  return match;
}

/** Starts a webhook receiver (machine data: API text in it is not rendered, so nothing is flagged). */
export function startWebhookSink(opts: { secret?: string; clock?: Clock } = {}): Promise<Sink> {
  const clock = opts.clock ?? systemClock;
  return startSink({
    path: WEBHOOK_SINK_PATH,
    clock,
    notFound: json(404, { error: 'not_found' }),
    answer(req) {
      const nowSec = Math.floor(clock() / 1000);
      if (opts.secret !== undefined && !verifyWebhookSignature(opts.secret, req.headers, req.body, nowSec)) {
        return { status: 401, body: '{"error":"invalid_signature"}' };
      }
      if (req.json === undefined) return { status: 400, body: '{"error":"invalid_json"}' };
      return { status: 200, body: '' };
    },
    vendorError: (code) => json(code, { error: `error ${code}` }),
  });
}

const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

/**
 * The conformance suite's view of the generic webhook, signed.
 * @public Found by name (`channelFixture`), never imported.
 */
export const webhookFixture = urlFixture(
  'webhook',
  { url: 'WEBHOOK_URL', secret: 'WEBHOOK_SECRET' },
  (clock) => startWebhookSink({ secret: SECRET, clock }),
  {
    secret: SECRET,
    markdown: false,
    maxBodyBytes: 1_000_000,
    rateLimited: false,
    vendorFaults: [
      [{ kind: 'vendor', code: 410 }, 'permanent'],
      [{ kind: 'vendor', code: 503 }, 'retryable'],
    ],
    forPrograms: true,
  },
);
