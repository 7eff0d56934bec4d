// Standard Webhooks signing (https://www.standardwebhooks.com) through the spec authors' own package,
// so any receiver using an official library verifies what we send: HMAC-SHA256 over
// `{webhook-id}.{webhook-timestamp}.{body}`, base64, sent as `webhook-signature: v1,{sig}`.
import { Webhook } from 'standardwebhooks';
import { ConfigError } from '../errors';

const SECRET_PREFIX = 'whsec_';
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
const HOW_TO =
  'expected whsec_<base64 key>, e.g. whsec_$(openssl rand -base64 32); give the receiver the same string';

/**
 * Checks a Standard Webhooks secret: `whsec_` followed by base64 of at least 16 bytes. Throws
 * ConfigError naming `variable` and how to build one (never echoing the secret).
 */
export function requireWebhookSecret(secret: string, variable = 'WEBHOOK_SECRET'): void {
  if (!secret.startsWith(SECRET_PREFIX)) {
    throw new ConfigError(
      `${variable} must be a Standard Webhooks secret (official receiver libraries reject others): ${HOW_TO}`,
      variable,
    );
  }
  const encoded = secret.slice(SECRET_PREFIX.length);
  if (!BASE64.test(encoded) || Buffer.from(encoded, 'base64').length < 16) {
    throw new ConfigError(
      `${variable} starts with whsec_ but the rest is not base64 of at least 16 bytes: ${HOW_TO}`,
      variable,
    );
  }
}

/** Signs with one `whsec_` secret (checked by requireWebhookSecret first): `(id, unix seconds, body) -> "v1,<base64>"`. */
export function createWebhookSigner(
  secret: string,
): (id: string, timestampSec: number, body: string) => string {
  requireWebhookSecret(secret);
  const webhook = new Webhook(secret);
  return (id, timestampSec, body) => webhook.sign(id, new Date(timestampSec * 1000), body);
}

// ---------------------------------------------------------------------------------------------
// Legacy: the old webhook notifier (lib/notify/webhook.ts) and the demo (cli/demo.ts) use these;
// delete them with those files. New code uses createWebhookSigner (whsec_ only).

/**
 * Legacy: the HMAC key of a secret (`whsec_<base64>` decoded; otherwise its UTF-8 bytes). Throws
 * ConfigError (without the secret) when it is empty or the part after `whsec_` is not base64.
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

/** Legacy: the `webhook-signature` value for one message; `timestampSec` is unix seconds. */
export function signStandardWebhook(secret: string, id: string, timestampSec: number, body: string): string {
  return new Webhook(standardWebhookKey(secret), { format: 'raw' }).sign(
    id,
    new Date(timestampSec * 1000),
    body,
  );
}

/**
 * Legacy: true when `headers` carry a `webhook-id`, a `webhook-timestamp` within `toleranceSec` of
 * `nowSec`, and a `v1,` signature of `body` under `secret` among the space-separated ones.
 */
export function verifyStandardWebhook(
  secret: string,
  headers: Record<string, string | string[] | undefined>,
  body: string,
  nowSec: number,
  toleranceSec = 300,
): boolean {
  const get = (name: string): string | undefined => {
    for (const [k, v] of Object.entries(headers)) {
      if (k.toLowerCase() === name) return Array.isArray(v) ? v.join(' ') : v;
    }
    return undefined;
  };
  const id = get('webhook-id');
  const timestamp = get('webhook-timestamp');
  const signatures = get('webhook-signature');
  if (!id || !timestamp || !signatures || !/^\d{1,12}$/.test(timestamp)) return false;
  if (Math.abs(nowSec - Number(timestamp)) > toleranceSec) return false;
  const expected = signStandardWebhook(secret, id, Number(timestamp), body);
  // Each candidate is compared whole: the signature is not secret, but a timing side channel is cheap to avoid.
  let match = false;
  for (const candidate of signatures.split(' ')) if (constantTimeEqual(candidate, expected)) match = true;
  return match;
}

function constantTimeEqual(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}
