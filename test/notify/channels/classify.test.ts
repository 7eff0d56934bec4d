// What each vendor's answer means for delivery, one line of "why" per case.
import type { DestinationConfig } from '../../../lib/notify/channels';
import type { DeliveryOutcome } from '../../../lib/model';
import { createDestination } from '../../../lib/notify/channels';
import { classifyDingtalk } from '../../../lib/notify/channels/dingtalk';
import { classifyDiscord } from '../../../lib/notify/channels/discord';
import { classifyFeishu } from '../../../lib/notify/channels/feishu';
import { classifyPagerduty } from '../../../lib/notify/channels/pagerduty';
import { classifySlack } from '../../../lib/notify/channels/slack';
import { classifyTeams } from '../../../lib/notify/channels/teams';
import { classifyWecom } from '../../../lib/notify/channels/wecom';
import type { HttpAnswer } from '../../../lib/notify/http';

const answer = (status: number, bodyText = '', headers: Record<string, string> = {}): HttpAnswer => ({
  status,
  bodyText,
  headers,
});
type Classify = (a: HttpAnswer, now: number) => DeliveryOutcome;

it.each<[string, Classify, HttpAnswer, Partial<DeliveryOutcome> & { kind: DeliveryOutcome['kind'] }, string]>(
  [
    ['slack', classifySlack, answer(200, 'ok'), { kind: 'ok' }, "Slack's own success"],
    [
      'slack',
      classifySlack,
      answer(200, '{"ok":true}'),
      { kind: 'ok' },
      'Mattermost-style receivers answer JSON',
    ],
    ['slack', classifySlack, answer(204), { kind: 'ok' }, 'any 2xx is a delivery'],
    [
      'slack',
      classifySlack,
      answer(200, 'no_service'),
      { kind: 'permanent', endpoint: true },
      'an error word is not a delivery, whatever the status; this one condemns the webhook',
    ],
    [
      'slack',
      classifySlack,
      answer(200, 'invalid_blocks'),
      { kind: 'permanent' },
      'a refused payload says nothing of the next message',
    ],
    [
      'slack',
      classifySlack,
      answer(200, 'rollup_error'),
      { kind: 'retryable' },
      "Slack's internal error is worth a retry",
    ],
    [
      'slack',
      classifySlack,
      answer(200, 'no_service and more'),
      { kind: 'ok' },
      'only a body that IS an error word counts',
    ],
    ['slack', classifySlack, answer(410, 'channel_is_archived'), { kind: 'permanent' }, 'archived: stop'],
    [
      'slack',
      classifySlack,
      answer(429, 'rate_limited', { 'retry-after': '3' }),
      { kind: 'retryable', retryAfterMs: 3000 },
      'wait as asked',
    ],
    ['teams', classifyTeams, answer(202), { kind: 'ok' }, 'Workflows accept and run later'],
    [
      'teams',
      classifyTeams,
      answer(413, 'Request Entity Too Large'),
      { kind: 'permanent' },
      'too large stays too large',
    ],
    [
      'teams',
      classifyTeams,
      answer(400, '{"error":{"message":"Request Entity Too Large"}}'),
      { kind: 'permanent' },
      'the same refusal in another status',
    ],
    ['teams', classifyTeams, answer(429), { kind: 'retryable' }, 'bursts are throttled'],
    ['feishu', classifyFeishu, answer(200, '{"code":0,"msg":"success"}'), { kind: 'ok' }, 'code 0'],
    [
      'feishu',
      classifyFeishu,
      answer(200, '{"StatusCode":0,"StatusMessage":"success"}'),
      { kind: 'ok' },
      'the older answer shape',
    ],
    [
      'feishu',
      classifyFeishu,
      answer(200, '{"code":11232,"msg":"frequency limited"}'),
      { kind: 'retryable', retryAfterMs: 60_000 },
      'throttled with HTTP 200',
    ],
    [
      'feishu',
      classifyFeishu,
      answer(200, '{"code":19021,"msg":"sign match fail"}'),
      { kind: 'permanent', endpoint: true },
      'bad signature or clock: every message will be refused',
    ],
    [
      'feishu',
      classifyFeishu,
      answer(200, '{"code":19022}'),
      { kind: 'permanent', endpoint: true },
      'IP not allowed',
    ],
    [
      'feishu',
      classifyFeishu,
      answer(200, '{"code":19024}'),
      { kind: 'permanent', endpoint: true },
      'keyword missing (it is in every message or in none)',
    ],
    [
      'feishu',
      classifyFeishu,
      answer(404, '{"code":19001,"msg":"param invalid: incoming webhook access token invalid"}'),
      { kind: 'permanent', endpoint: true },
      'the bot was removed',
    ],
    [
      'feishu',
      classifyFeishu,
      answer(400, '{"code":9499,"msg":"Bad Request"}'),
      { kind: 'permanent' },
      'bad request',
    ],
    [
      'feishu',
      classifyFeishu,
      answer(200, '{"code":12345}'),
      { kind: 'retryable' },
      'an unknown code: a late alert beats a lost one',
    ],
    [
      'feishu',
      classifyFeishu,
      answer(503, 'upstream'),
      { kind: 'retryable' },
      'no code: the HTTP status decides',
    ],
    ['dingtalk', classifyDingtalk, answer(200, '{"errcode":0,"errmsg":"ok"}'), { kind: 'ok' }, 'errcode 0'],
    [
      'dingtalk',
      classifyDingtalk,
      answer(200, '{"errcode":130101,"errmsg":"send too fast"}'),
      { kind: 'retryable', retryAfterMs: 600_000 },
      'muted for 10 minutes',
    ],
    [
      'dingtalk',
      classifyDingtalk,
      answer(200, '{"errcode":310000,"errmsg":"sign not match"}'),
      { kind: 'permanent', endpoint: true },
      'security settings refuse it, and every message after it',
    ],
    [
      'dingtalk',
      classifyDingtalk,
      answer(200, '{"errcode":300001,"errmsg":"token is not exist"}'),
      { kind: 'permanent', endpoint: true },
      'the robot was removed',
    ],
    ['wecom', classifyWecom, answer(200, '{"errcode":0,"errmsg":"ok"}'), { kind: 'ok' }, 'errcode 0'],
    [
      'wecom',
      classifyWecom,
      answer(200, '{"errcode":93000,"errmsg":"invalid webhook url"}'),
      { kind: 'permanent', endpoint: true },
      'the robot was removed',
    ],
    [
      'wecom',
      classifyWecom,
      answer(200, '{"errcode":45009,"errmsg":"api freq out of limit"}'),
      { kind: 'retryable', retryAfterMs: 60_000 },
      'frequency limit',
    ],
    ['discord', classifyDiscord, answer(200, '{"id":"1"}'), { kind: 'ok' }, 'wait=true answers the message'],
    [
      'discord',
      classifyDiscord,
      answer(429, '{"retry_after":1.234,"global":false}', { 'retry-after': '2' }),
      { kind: 'retryable', retryAfterMs: 1234 },
      'retry_after is float seconds, more precise than the header',
    ],
    [
      'discord',
      classifyDiscord,
      answer(404, '{"message":"Unknown Webhook","code":10015}'),
      { kind: 'permanent' },
      'webhook deleted',
    ],
    ['pagerduty', classifyPagerduty, answer(202, '{"status":"success"}'), { kind: 'ok' }, 'accepted'],
    [
      'pagerduty',
      classifyPagerduty,
      answer(400, '{"status":"invalid event"}'),
      { kind: 'permanent' },
      'never resend an invalid event',
    ],
    [
      'pagerduty',
      classifyPagerduty,
      answer(429, '{"status":"throttle event"}'),
      { kind: 'retryable', retryAfterMs: 120_000 },
      'back off for minutes',
    ],
  ],
)('%s: %j -> %j (%s)', (_channel, classify, a, expected) => {
  const outcome = classify(a, 0);
  expect(outcome).toMatchObject(expected);
  // Only a refusal of the endpoint itself reports the destination as failing.
  expect(outcome.kind === 'permanent' && outcome.endpoint === true).toBe('endpoint' in expected);
});

it('names the vendor code and message in the error, without URLs', () => {
  const outcome = classifyFeishu(
    answer(200, '{"code":19024,"msg":"Key Words Not Found https://open.feishu.cn/x/secret"}'),
    0,
  );
  expect(outcome).toEqual({
    kind: 'permanent',
    endpoint: true,
    error:
      'HTTP 200, Feishu code 19024 "Key Words Not Found https://open.feishu.cn/…": the message lacks the keyword the bot requires (use "HSS")',
  });
});

describe("a receiver's echo of the destination's own secrets", () => {
  const AK = { kind: 'aksk' as const, ak: 'AKECHO00000000000000', sk: 'SKECHO-secret-key-0000000000000' };
  const WHSEC = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
  it.each<[string, DestinationConfig, string[]]>([
    [
      'Slack: the token of its URL',
      {
        type: 'slack',
        name: 'slack',
        url: 'https://hooks.slack.com/services/T0/B0/tokenSECRET1234567890',
        routing: {},
      },
      ['tokenSECRET1234567890'],
    ],
    [
      'PagerDuty: the routing key',
      {
        type: 'pagerduty',
        name: 'pagerduty',
        routingKey: 'R0123456789abcdef0123456789abcde',
        eventsUrl: 'https://events.pagerduty.com/v2/enqueue',
        severity: {},
        routing: {},
      },
      ['R0123456789abcdef0123456789abcde'],
    ],
    [
      'webhook: the signing secret and its key',
      { type: 'webhook', name: 'webhook', url: 'https://hooks.example.com/in', secret: WHSEC, routing: {} },
      [WHSEC, WHSEC.slice(6)],
    ],
    [
      'Feishu: the bot token and the signing secret',
      {
        type: 'feishu',
        name: 'feishu',
        url: 'https://open.feishu.cn/open-apis/bot/v2/hook/0f0e0d0c-0b0a-4908-8706-050403020100',
        secret: 'feishuSigningSecret',
        routing: {},
      },
      ['0f0e0d0c-0b0a-4908-8706-050403020100', 'feishuSigningSecret'],
    ],
    [
      'SMN: the AK and SK it signs with',
      {
        type: 'smn',
        name: 'smn',
        topicUrn: 'urn:smn:ap-southeast-1:0123456789abcdef0123456789abcdef:alerts',
        endpoint: 'https://smn.ap-southeast-1.myhuaweicloud.com',
        projectId: '0123456789abcdef0123456789abcdef',
        credential: 'default',
        routing: {},
      },
      [AK.ak, AK.sk],
    ],
  ])('%s is redacted from the outcome', (_why, config, secrets) => {
    const destination = createDestination(config, { credentials: { default: AK } });
    const echo = `unknown: ${secrets.join(' and ')}`;
    const outcome = destination.classify(answer(410, echo), 0);
    expect(outcome.kind).toBe('permanent');
    expect(secrets.filter((s) => JSON.stringify(outcome).includes(s))).toEqual([]);
    expect(JSON.stringify(outcome)).toContain('[redacted]');
  });
});
