// Standard Webhooks signing (https://www.standardwebhooks.com): HMAC-SHA256 over
// `{webhook-id}.{webhook-timestamp}.{body}`, base64, sent as `webhook-signature: v1,{sig}`.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { ConfigError } from '../errors';

const SECRET_PREFIX = 'whsec_';
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/**
 * The HMAC key of a secret: for `whsec_<base64>` the decoded bytes (the standard's format); for a
 * secret without that prefix, its own UTF-8 bytes. Note: the official Standard Webhooks libraries
 * base64-decode un-prefixed secrets too, so give receivers using them the `whsec_` form.
 * Throws ConfigError (without the secret) when it is empty or the part after `whsec_` is not base64.
 */
export function standardWebhookKey(secret: string): Buffer {
  if (secret === '') throw new ConfigError('webhook secret is empty');
  if (!secret.startsWith(SECRET_PREFIX)) return Buffer.from(secret, 'utf8');
  const encoded = secret.slice(SECRET_PREFIX.length);
  if (!BASE64.test(encoded)) {
    throw new ConfigError(
      'webhook secret starts with whsec_ but the rest is not base64 (expected whsec_<base64 key>)',
    );
  }
  return Buffer.from(encoded, 'base64');
}

/** The `webhook-signature` value (`v1,<base64>`) for one message; `timestampSec` is unix seconds. */
export function signStandardWebhook(secret: string, id: string, timestampSec: number, body: string): string {
  return `v1,${hmacBase64(standardWebhookKey(secret), id, timestampSec, body)}`;
}

function hmacBase64(key: Buffer, id: string, timestampSec: number, body: string): string {
  return createHmac('sha256', key).update(`${id}.${timestampSec}.${body}`).digest('base64');
}

/**
 * True when `headers` (any case) carry a `webhook-id`, a `webhook-timestamp` within `toleranceSec`
 * of `nowSec`, and among the space-separated `webhook-signature` values a `v1,` signature of `body`
 * under `secret` (compared in constant time). Throws ConfigError only for a malformed secret.
 */
export function verifyStandardWebhook(
  secret: string,
  headers: Record<string, string | string[] | undefined>,
  body: string,
  nowSec: number,
  toleranceSec = 300,
): boolean {
  const key = standardWebhookKey(secret);
  const id = headerValue(headers, 'webhook-id');
  const timestamp = headerValue(headers, 'webhook-timestamp');
  const signatures = headerValue(headers, 'webhook-signature');
  if (!id || !timestamp || !signatures || !/^\d{1,12}$/.test(timestamp)) return false;
  const ts = Number(timestamp);
  // Old timestamps are rejected so a captured request cannot be replayed later; future ones likewise.
  if (Math.abs(nowSec - ts) > toleranceSec) return false;
  const expected = Buffer.from(hmacBase64(key, id, ts, body), 'utf8');
  let match = false;
  for (const candidate of signatures.split(' ')) {
    const [version, sig] = candidate.split(',', 2);
    if (version !== 'v1' || sig === undefined) continue;
    const given = Buffer.from(sig, 'utf8');
    // No early exit: every candidate is compared, each in constant time.
    if (given.length === expected.length && timingSafeEqual(given, expected)) match = true;
  }
  return match;
}

function headerValue(
  headers: Record<string, string | string[] | undefined>,
  name: string,
): string | undefined {
  for (const [k, v] of Object.entries(headers)) {
    if (k.toLowerCase() === name) return Array.isArray(v) ? v.join(' ') : v;
  }
  return undefined;
}
