import { Webhook } from 'standardwebhooks';
import { ConfigError } from '../../lib/errors';
import { createWebhookSigner, requireWebhookSecret } from '../../lib/notify/standard-webhooks';

// The example of the Standard Webhooks specification and its reference libraries.
const SPEC = {
  secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  id: 'msg_p5jXN8AQM9LWM0D4loKWxJek',
  timestamp: 1614265330,
  body: '{"test": 2432232314}',
  signature: 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
};

describe('createWebhookSigner', () => {
  it('reproduces the specification example', () => {
    expect(createWebhookSigner(SPEC.secret)(SPEC.id, SPEC.timestamp, SPEC.body)).toBe(SPEC.signature);
  });

  it('signs what the official library verifies', () => {
    const sign = createWebhookSigner(SPEC.secret);
    const now = Math.floor(Date.now() / 1000);
    const headers = {
      'webhook-id': 'e1',
      'webhook-timestamp': String(now),
      'webhook-signature': sign('e1', now, '{}'),
    };
    expect(new Webhook(SPEC.secret).verify('{}', headers)).toEqual({});
  });
});

describe('requireWebhookSecret', () => {
  it.each([
    ['a plain secret, which official receivers cannot verify', 'a-long-plain-secret-of-many-characters'],
    ['whsec_ with a part that is not base64', 'whsec_***not base64***'],
    ['whsec_ with a key under 16 bytes', 'whsec_c2hvcnQ='],
  ])('refuses %s, saying how to build one and never echoing it', (_why, secret) => {
    let error: unknown;
    try {
      requireWebhookSecret(secret);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toContain('whsec_');
    expect((error as Error).message).not.toContain(secret);
  });
});
