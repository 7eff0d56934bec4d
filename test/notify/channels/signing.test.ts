// Feishu, DingTalk and SMN sign at send time; their sinks check with independent code and refuse
// stale or wrong signatures with the vendor's own codes, which classify as permanent.
import { createHmac } from 'node:crypto';
import type { HssAuth } from '../../../lib/huaweicloud/credentials';
import { createDestination } from '../../../lib/notify/channels';
import { dingtalkSign } from '../../../lib/notify/channels/dingtalk';
import { feishuSign } from '../../../lib/notify/channels/feishu';
import {
  SMN_PROJECT_ID,
  SMN_TOPIC_URN,
  startDingtalkSink,
  startFeishuSink,
  startSmnSink,
  type Sink,
} from '../../../local/sinks';
import { alert, HOUR, notice, T0 } from '../support/messages';
import { createTestSender, virtualClock } from '../support/send';

const FEISHU_SECRET = 'feishu-secret';
const DINGTALK_SECRET = 'SECdingtalk-secret';

describe('Feishu signing', () => {
  let sink: Sink;
  const clock = virtualClock(T0);
  beforeEach(async () => {
    clock.set(T0);
    sink = await startFeishuSink({ secret: FEISHU_SECRET, clock: clock.now });
  });
  afterEach(async () => {
    await sink.close();
  });
  const destination = (secret = FEISHU_SECRET) =>
    createDestination(
      { type: 'feishu', name: 'feishu', url: sink.url, secret, routing: {} },
      { credentials: {} },
    );

  it('adds timestamp (seconds) and sign to the body, which the bot accepts', async () => {
    // Act
    const report = await createTestSender(clock)(destination(), [alert(1)]);
    // Assess
    expect(report.outcomes).toEqual([{ kind: 'ok' }]);
    expect(sink.received[0]!.json).toMatchObject({
      timestamp: String(T0 / 1000),
      sign: feishuSign(FEISHU_SECRET, T0 / 1000),
    });
  });

  it('is refused with 19021, permanent, when signed more than an hour off the bot clock', async () => {
    // Prepare: the sender's clock is 2 h behind the bot's.
    const late = virtualClock(T0 - 2 * HOUR);
    // Act
    const report = await createTestSender(late)(destination(), [notice('test')]);
    // Assess
    expect(report.outcomes[0]).toMatchObject({
      kind: 'permanent',
      error: expect.stringContaining('Feishu code 19021'),
    });
  });

  it('is refused with 19021 when signed with another secret', async () => {
    const report = await createTestSender(clock)(destination('other'), [notice('test')]);
    expect(report.outcomes[0]).toMatchObject({ kind: 'permanent', error: expect.stringContaining('19021') });
  });

  it('signs with key = timestamp + "\\n" + secret over an empty message, not the other way round', () => {
    const swapped = createHmac('sha256', FEISHU_SECRET)
      .update(`1700000000\n${FEISHU_SECRET}`)
      .digest('base64');
    expect(feishuSign(FEISHU_SECRET, 1_700_000_000)).not.toBe(swapped);
    expect(feishuSign(FEISHU_SECRET, 1_700_000_000)).toBe(
      createHmac('sha256', `1700000000\n${FEISHU_SECRET}`).digest('base64'),
    );
  });
});

describe('DingTalk signing', () => {
  let sink: Sink;
  const clock = virtualClock(T0);
  beforeEach(async () => {
    clock.set(T0);
    sink = await startDingtalkSink({ secret: DINGTALK_SECRET, clock: clock.now });
  });
  afterEach(async () => {
    await sink.close();
  });
  const destination = (secret = DINGTALK_SECRET) =>
    createDestination(
      { type: 'dingtalk', name: 'dingtalk', url: sink.url, secret, routing: {} },
      { credentials: {} },
    );

  it('adds timestamp (ms) and the URL-encoded sign as query parameters, which the robot accepts', async () => {
    // Act
    const report = await createTestSender(clock)(destination(), [alert(1)]);
    // Assess
    expect(report.outcomes).toEqual([{ kind: 'ok' }]);
    const query = new URL(sink.received[0]!.path, 'http://x').searchParams;
    expect(query.get('timestamp')).toBe(String(T0));
    expect(query.get('sign')).toBe(dingtalkSign(DINGTALK_SECRET, T0));
    expect(sink.received[0]!.path).toContain(`sign=${encodeURIComponent(dingtalkSign(DINGTALK_SECRET, T0))}`);
    expect(query.get('access_token')).toMatch(/^0+$/);
  });

  it('is refused with 310000, permanent, when the timestamp is more than an hour old or the secret is wrong', async () => {
    const stale = await createTestSender(virtualClock(T0 - 2 * HOUR))(destination(), [notice('test')]);
    const wrong = await createTestSender(clock)(destination('SECother'), [notice('test')]);
    expect([stale.outcomes[0]!.kind, wrong.outcomes[0]!.kind]).toEqual(['permanent', 'permanent']);
    expect(wrong.outcomes[0]).toMatchObject({ error: expect.stringContaining('DingTalk code 310000') });
  });

  it('replaces the timestamp and sign of a request signed before (a retry) instead of adding a second pair', () => {
    const d = destination();
    const [request] = d.render([notice('test')], { now: T0 });
    const twice = d.sign!(d.sign!(request!, T0), T0 + 60_000);
    const query = new URL(twice.url).searchParams;
    expect(query.getAll('timestamp')).toEqual([String(T0 + 60_000)]);
    expect(query.getAll('sign')).toHaveLength(1);
  });
});

describe('SMN signing', () => {
  const AKSK: HssAuth = { kind: 'aksk', ak: 'AKEXAMPLE', sk: 'SKEXAMPLE-secret' };
  const clock = virtualClock(T0);
  const destination = (sink: { endpoint: string }, auth: HssAuth) =>
    createDestination(
      {
        type: 'smn',
        name: 'smn',
        topicUrn: SMN_TOPIC_URN,
        endpoint: sink.endpoint,
        projectId: SMN_PROJECT_ID,
        credential: 'alerts',
        routing: {},
      },
      { credentials: { alerts: auth } },
    );

  it('publishes signed with the HSS AK/SK signer (content-type, host, x-sdk-date signed)', async () => {
    const sink = await startSmnSink({ auth: { ak: 'AKEXAMPLE', sk: 'SKEXAMPLE-secret' }, clock: clock.now });
    try {
      const report = await createTestSender(clock)(destination(sink, AKSK), [alert(1)]);
      expect(report.outcomes).toEqual([{ kind: 'ok' }]);
      expect(sink.received[0]!.headers.authorization).toMatch(
        /^SDK-HMAC-SHA256 Access=AKEXAMPLE, SignedHeaders=content-type;host;x-sdk-date, Signature=[0-9a-f]{64}$/,
      );
    } finally {
      await sink.close();
    }
  });

  it('is refused (401, permanent) when signed with another SK or more than 15 minutes off', async () => {
    const sink = await startSmnSink({ auth: { ak: 'AKEXAMPLE', sk: 'SKEXAMPLE-secret' }, clock: clock.now });
    try {
      const wrong = await createTestSender(clock)(destination(sink, { ...AKSK, sk: 'other' }), [
        notice('test'),
      ]);
      const late = await createTestSender(virtualClock(T0 - 20 * 60_000))(destination(sink, AKSK), [
        notice('test'),
      ]);
      expect([wrong.outcomes[0], late.outcomes[0]]).toEqual([
        expect.objectContaining({ kind: 'permanent', error: expect.stringContaining('APIGW.0301') }),
        expect.objectContaining({ kind: 'permanent' }),
      ]);
    } finally {
      await sink.close();
    }
  });

  it('publishes with X-Auth-Token when the credential is an IAM token', async () => {
    const sink = await startSmnSink({ auth: { token: 'iam-token' }, clock: clock.now });
    try {
      const report = await createTestSender(clock)(destination(sink, { kind: 'token', token: 'iam-token' }), [
        notice('test'),
      ]);
      expect(report.outcomes).toEqual([{ kind: 'ok' }]);
    } finally {
      await sink.close();
    }
  });

  it('names the missing credential when the config references one that does not exist', () => {
    expect(() =>
      createDestination(
        {
          type: 'smn',
          name: 'smn',
          topicUrn: SMN_TOPIC_URN,
          endpoint: 'https://smn.example',
          projectId: 'p',
          credential: 'nope',
          routing: {},
        },
        { credentials: {} },
      ),
    ).toThrow('SMN destination "smn" names credential "nope", which is not configured');
  });
});
