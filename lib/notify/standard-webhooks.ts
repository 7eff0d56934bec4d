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
