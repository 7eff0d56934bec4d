import { createHmac } from 'node:crypto';
import { ConfigError } from '../../lib/errors';
import {
  signStandardWebhook,
  standardWebhookKey,
  verifyStandardWebhook,
} from '../../lib/notify/standard-webhooks';

// The example of the Standard Webhooks specification and its reference libraries.
const SPEC = {
  secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  id: 'msg_p5jXN8AQM9LWM0D4loKWxJek',
  timestamp: 1614265330,
  body: '{"test": 2432232314}',
  signature: 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
};

function headersFor(signature: string, id = SPEC.id, timestamp = SPEC.timestamp) {
  return { 'Webhook-Id': id, 'Webhook-Timestamp': String(timestamp), 'Webhook-Signature': signature };
}

describe('signStandardWebhook', () => {
  it('reproduces the specification example', () => {
    expect(signStandardWebhook(SPEC.secret, SPEC.id, SPEC.timestamp, SPEC.body)).toBe(SPEC.signature);
  });

  it('matches an independent node:crypto computation for a whsec_ secret', () => {
    // Prepare
    const key = Buffer.from('c2VjcmV0LWtleS1ieXRlcy0wMTIzNDU2Nzg5', 'base64');
    const body = JSON.stringify({ version: '1', id: 'abc' });
    const expected = createHmac('sha256', key).update(`abc.1700000000.${body}`).digest('base64');
    // Act
    const sig = signStandardWebhook('whsec_c2VjcmV0LWtleS1ieXRlcy0wMTIzNDU2Nzg5', 'abc', 1700000000, body);
    // Assess
    expect(sig).toBe(`v1,${expected}`);
  });

  it('uses the raw UTF-8 bytes of a secret without the whsec_ prefix', () => {
    const expected = createHmac('sha256', 'plain-secret').update('id.1.{}').digest('base64');
    expect(signStandardWebhook('plain-secret', 'id', 1, '{}')).toBe(`v1,${expected}`);
  });

  it('refuses an empty secret and a whsec_ secret that is not base64, without echoing it', () => {
    expect(() => standardWebhookKey('')).toThrow(ConfigError);
    expect(() => standardWebhookKey('whsec_not*base64!')).toThrow(/not base64/);
    expect(() => standardWebhookKey('whsec_not*base64!')).not.toThrow(/not\*base64/);
  });
});

describe('verifyStandardWebhook', () => {
  it('accepts the specification example within the tolerance', () => {
    expect(
      verifyStandardWebhook(SPEC.secret, headersFor(SPEC.signature), SPEC.body, SPEC.timestamp + 10),
    ).toBe(true);
  });

  it('accepts when one of several space-separated signatures matches (key rotation)', () => {
    const headers = headersFor(`v1,bm90LXRoaXMtb25l v2,abc ${SPEC.signature}`);
    expect(verifyStandardWebhook(SPEC.secret, headers, SPEC.body, SPEC.timestamp)).toBe(true);
  });

  it.each([
    ['a changed body', headersFor(SPEC.signature), '{"test": 1}', SPEC.timestamp],
    ['a changed id', headersFor(SPEC.signature, 'msg_other'), SPEC.body, SPEC.timestamp],
    ['a timestamp older than 5 minutes', headersFor(SPEC.signature), SPEC.body, SPEC.timestamp + 301],
    ['a timestamp more than 5 minutes ahead', headersFor(SPEC.signature), SPEC.body, SPEC.timestamp - 301],
    [
      'a missing signature header',
      { 'webhook-id': SPEC.id, 'webhook-timestamp': '1614265330' },
      SPEC.body,
      SPEC.timestamp,
    ],
    [
      'a signature of another version',
      headersFor(SPEC.signature.replace('v1,', 'v2,')),
      SPEC.body,
      SPEC.timestamp,
    ],
    ['a truncated signature', headersFor(SPEC.signature.slice(0, -4)), SPEC.body, SPEC.timestamp],
  ])('rejects %s', (_why, headers, body, now) => {
    expect(verifyStandardWebhook(SPEC.secret, headers, body, now)).toBe(false);
  });

  it('rejects a signature made with another secret', () => {
    const sig = signStandardWebhook('whsec_b3RoZXI=', SPEC.id, SPEC.timestamp, SPEC.body);
    expect(verifyStandardWebhook(SPEC.secret, headersFor(sig), SPEC.body, SPEC.timestamp)).toBe(false);
  });
});
