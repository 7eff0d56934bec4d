import { parseConfig } from '../../lib/config';
import type { DestinationConfig } from '../../lib/notify/channels';
import { CHANNELS } from '../../lib/notify/channels';
import { MINIMAL, PD_KEY, WHSEC, configError, problemsOf } from './fixtures';

const { SLACK_WEBHOOK_URL: _s, ...NO_DESTINATION } = MINIMAL;

/** The variable that turns each channel on (its first), in CHANNELS order. */
const ENABLING = CHANNELS.map((channel) => Object.keys(channel.variables)[0]!);

/** The one destination configured by `env` on top of a destination-less MINIMAL. */
function only(env: Record<string, string>): DestinationConfig {
  const { destinations } = parseConfig({ ...NO_DESTINATION, ...env });
  expect(destinations).toHaveLength(1);
  return destinations[0]!;
}

const TEAMS =
  'https://prod-12.westeurope.logic.azure.com:443/workflows/abc/triggers/manual/paths/invoke?sig=teamsSig';
const TEAMS_PP =
  'https://default0a1b.0a.environment.api.powerplatform.com:443/powerautomate/automations/direct/workflows/abc/triggers/manual/paths/invoke?sig=s';
const FEISHU = 'https://open.feishu.cn/open-apis/bot/v2/hook/feishuTokenSecret';
const LARK = 'https://open.larksuite.com/open-apis/bot/v2/hook/larkTokenSecret';
const DINGTALK = 'https://oapi.dingtalk.com/robot/send?access_token=dingtalkTokenSecret';
const WECOM = 'https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=wecomKeySecret';
const GCHAT = 'https://chat.googleapis.com/v1/spaces/AAAA1234/messages?key=k&token=gchatTokenSecret';
const DISCORD = 'https://discord.com/api/webhooks/123456789012345678/discordTokenSecret';
const URN = 'urn:smn:cn-north-4:0a1b2c3d4e5f60718293a4b5c6d7e8f9:hss-alerts';

describe('destinations from their variables', () => {
  // [why, variables, the destination]
  const accepted: [string, Record<string, string>, DestinationConfig][] = [
    [
      'Slack',
      { SLACK_WEBHOOK_URL: MINIMAL.SLACK_WEBHOOK_URL! },
      { type: 'slack', name: 'slack', url: MINIMAL.SLACK_WEBHOOK_URL!, routing: {} },
    ],
    [
      'a webhook signed per Standard Webhooks',
      { WEBHOOK_URL: 'https://hooks.example.com/hss?key=abc', WEBHOOK_SECRET: WHSEC },
      {
        type: 'webhook',
        name: 'webhook',
        url: 'https://hooks.example.com/hss?key=abc',
        secret: WHSEC,
        routing: {},
      },
    ],
    [
      'Teams on logic.azure.com',
      { TEAMS_WEBHOOK_URL: TEAMS },
      { type: 'teams', name: 'teams', url: TEAMS, routing: {} },
    ],
    [
      'Teams on Power Platform',
      { TEAMS_WEBHOOK_URL: TEAMS_PP },
      { type: 'teams', name: 'teams', url: TEAMS_PP, routing: {} },
    ],
    [
      'Feishu with a signing secret',
      { FEISHU_WEBHOOK_URL: FEISHU, FEISHU_SECRET: 'feishuSignSecret' },
      { type: 'feishu', name: 'feishu', url: FEISHU, secret: 'feishuSignSecret', routing: {} },
    ],
    [
      'Lark, unsigned',
      { FEISHU_WEBHOOK_URL: LARK },
      { type: 'feishu', name: 'feishu', url: LARK, routing: {} },
    ],
    [
      'DingTalk with a signing secret',
      { DINGTALK_WEBHOOK_URL: DINGTALK, DINGTALK_SECRET: 'SEC0123456789abcdef' },
      { type: 'dingtalk', name: 'dingtalk', url: DINGTALK, secret: 'SEC0123456789abcdef', routing: {} },
    ],
    ['WeCom', { WECOM_WEBHOOK_URL: WECOM }, { type: 'wecom', name: 'wecom', url: WECOM, routing: {} }],
    [
      'PagerDuty with default severities',
      { PAGERDUTY_ROUTING_KEY: PD_KEY },
      {
        type: 'pagerduty',
        name: 'pagerduty',
        routingKey: PD_KEY,
        eventsUrl: 'https://events.pagerduty.com/v2/enqueue',
        severity: { failed: 'error', timeout: 'warning', stuck: 'warning' },
        routing: {},
      },
    ],
    [
      'PagerDuty on a local sink with its own severities',
      {
        PAGERDUTY_ROUTING_KEY: PD_KEY,
        PAGERDUTY_EVENTS_URL: 'http://127.0.0.1:9100/v2/enqueue',
        PAGERDUTY_SEVERITY_FAILED: 'CRITICAL',
        PAGERDUTY_SEVERITY_TIMEOUT: 'error',
        PAGERDUTY_SEVERITY_STUCK: 'info',
      },
      {
        type: 'pagerduty',
        name: 'pagerduty',
        routingKey: PD_KEY,
        eventsUrl: 'http://127.0.0.1:9100/v2/enqueue',
        severity: { failed: 'critical', timeout: 'error', stuck: 'info' },
        routing: {},
      },
    ],
    [
      "SMN at its region's endpoint, signed by the default credential",
      { SMN_TOPIC_URN: URN },
      {
        type: 'smn',
        name: 'smn',
        topicUrn: URN,
        endpoint: 'https://smn.cn-north-4.myhuaweicloud.com',
        projectId: '0a1b2c3d4e5f60718293a4b5c6d7e8f9',
        credential: 'default',
        routing: {},
      },
    ],
    [
      'SMN on a local sink',
      { SMN_TOPIC_URN: URN, SMN_ENDPOINT: 'http://localhost:9200/' },
      expect.objectContaining({ type: 'smn', endpoint: 'http://localhost:9200' }),
    ],
    [
      'Google Chat',
      { GOOGLE_CHAT_WEBHOOK_URL: GCHAT },
      { type: 'googlechat', name: 'googlechat', url: GCHAT, routing: {} },
    ],
    [
      'Discord',
      { DISCORD_WEBHOOK_URL: DISCORD },
      { type: 'discord', name: 'discord', url: DISCORD, routing: {} },
    ],
    [
      'Discord on its old domain and a versioned path',
      { DISCORD_WEBHOOK_URL: 'https://discordapp.com/api/v10/webhooks/1/t' },
      expect.objectContaining({ type: 'discord' }),
    ],
    [
      'any channel on a local sink, whatever its path',
      { FEISHU_WEBHOOK_URL: 'http://127.0.0.1:9000/feishu' },
      expect.objectContaining({ type: 'feishu', url: 'http://127.0.0.1:9000/feishu' }),
    ],
  ];

  it.each(accepted)('accepts %s', (_why, env, destination) => {
    expect(only(env)).toEqual(destination);
  });

  // [why, variables, the exact problems]
  const rejected: [string, Record<string, string>, string[]][] = [
    [
      'no destination',
      {},
      [
        `no destination: set one of ${ENABLING.join(', ')}, or list destinations in DESTINATIONS_FILE (at least one destination)`,
      ],
    ],
    [
      'a Slack webhook over plain http',
      { SLACK_WEBHOOK_URL: 'http://hooks.slack.com/services/T0001/B0001/slackTokenSecret1234' },
      [
        'SLACK_WEBHOOK_URL must be an https URL (http only to 127.0.0.0/8, ::1 or localhost) without user info, got http://hooks.slack.com/…',
      ],
    ],
    [
      'a webhook URL with credentials in it',
      { WEBHOOK_URL: 'https://user:pass@hooks.example.com/' },
      [
        'WEBHOOK_URL must be an https URL (http only to 127.0.0.0/8, ::1 or localhost) without user info, got https://hooks.example.com/…',
      ],
    ],
    [
      'a raw webhook secret, however long',
      { WEBHOOK_URL: 'https://hooks.example.com/', WEBHOOK_SECRET: 'x'.repeat(40) },
      [
        `WEBHOOK_SECRET must be whsec_ followed by the base64 of a key of at least 24 bytes (Standard Webhooks) (value not shown) (make one with: node -e "console.log('whsec_'+require('crypto').randomBytes(32).toString('base64'))")`,
      ],
    ],
    [
      'a whsec_ secret whose key is 16 bytes',
      {
        WEBHOOK_URL: 'https://hooks.example.com/',
        WEBHOOK_SECRET: `whsec_${Buffer.alloc(16, 1).toString('base64')}`,
      },
      [
        expect.stringMatching(
          /^WEBHOOK_SECRET must be whsec_ followed by the base64 of a key of at least 24 bytes/,
        ),
      ],
    ],
    [
      'a webhook secret with nothing to sign',
      { SLACK_WEBHOOK_URL: MINIMAL.SLACK_WEBHOOK_URL!, WEBHOOK_SECRET: WHSEC },
      ['WEBHOOK_SECRET is set but WEBHOOK_URL is not (it only applies with WEBHOOK_URL)'],
    ],
    [
      'a Teams URL on another host (an old Office 365 connector)',
      { TEAMS_WEBHOOK_URL: 'https://acme.webhook.office.com/webhookb2/abc/IncomingWebhook/def' },
      [
        'TEAMS_WEBHOOK_URL must be a Teams Workflows URL on https://*.logic.azure.com, https://*.environment.api.powerplatform.com or https://api.powerautomate.com, without user info (or any http(s) URL on loopback), got https://acme.webhook.office.com/…',
      ],
    ],
    [
      'a host that only ends like logic.azure.com',
      { TEAMS_WEBHOOK_URL: 'https://evillogic.azure.com.example.com/x' },
      [
        expect.stringMatching(
          /^TEAMS_WEBHOOK_URL must be a Teams Workflows URL .*, got https:\/\/evillogic\.azure\.com\.example\.com\/…$/,
        ),
      ],
    ],
    [
      'a Feishu URL without the bot path',
      { FEISHU_WEBHOOK_URL: 'https://open.feishu.cn/open-apis/im/v1/messages' },
      [
        'FEISHU_WEBHOOK_URL must be a bot URL https://open.feishu.cn/open-apis/bot/v2/hook/… (Lark: open.larksuite.com), without user info (or any http(s) URL on loopback), got https://open.feishu.cn/…',
      ],
    ],
    [
      'a Feishu secret with nothing to sign',
      { SLACK_WEBHOOK_URL: MINIMAL.SLACK_WEBHOOK_URL!, FEISHU_SECRET: 'abc' },
      ['FEISHU_SECRET is set but FEISHU_WEBHOOK_URL is not (it only applies with FEISHU_WEBHOOK_URL)'],
    ],
    [
      'a Feishu secret longer than 128 characters',
      { FEISHU_WEBHOOK_URL: FEISHU, FEISHU_SECRET: 's'.repeat(129) },
      ['FEISHU_SECRET must be 1..128 characters without spaces (value not shown)'],
    ],
    [
      'a DingTalk URL without its access token',
      { DINGTALK_WEBHOOK_URL: 'https://oapi.dingtalk.com/robot/send' },
      [
        'DINGTALK_WEBHOOK_URL must be a robot URL https://oapi.dingtalk.com/robot/send?access_token=…, without user info (or any http(s) URL on loopback), got https://oapi.dingtalk.com/…',
      ],
    ],
    [
      'a DingTalk secret that is not a robot secret',
      { DINGTALK_WEBHOOK_URL: DINGTALK, DINGTALK_SECRET: 'abcdef' },
      [
        'DINGTALK_SECRET must be the robot secret starting with SEC (up to 128 characters, no spaces) (value not shown)',
      ],
    ],
    [
      'a WeCom URL without its key',
      { WECOM_WEBHOOK_URL: 'https://qyapi.weixin.qq.com/cgi-bin/webhook/send?debug=1' },
      [
        'WECOM_WEBHOOK_URL must be a robot URL https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…, without user info (or any http(s) URL on loopback), got https://qyapi.weixin.qq.com/…',
      ],
    ],
    [
      'a PagerDuty key of the wrong length',
      { PAGERDUTY_ROUTING_KEY: 'short' },
      ['PAGERDUTY_ROUTING_KEY must be 32 characters of A-Z a-z 0-9, got 5 characters (value not shown)'],
    ],
    [
      'PagerDuty settings without a key',
      {
        SLACK_WEBHOOK_URL: MINIMAL.SLACK_WEBHOOK_URL!,
        PAGERDUTY_SEVERITY_STUCK: 'info',
        PAGERDUTY_EVENTS_URL: 'http://127.0.0.1:1/',
      },
      [
        'PAGERDUTY_EVENTS_URL is set but PAGERDUTY_ROUTING_KEY is not (it only applies with PAGERDUTY_ROUTING_KEY)',
        'PAGERDUTY_SEVERITY_STUCK is set but PAGERDUTY_ROUTING_KEY is not (it only applies with PAGERDUTY_ROUTING_KEY)',
      ],
    ],
    [
      'a PagerDuty events URL over plain http',
      { PAGERDUTY_ROUTING_KEY: PD_KEY, PAGERDUTY_EVENTS_URL: 'http://events.pagerduty.com/v2/enqueue' },
      [
        'PAGERDUTY_EVENTS_URL must be an https URL (http only to 127.0.0.0/8, ::1 or localhost) without user info, got http://events.pagerduty.com/…',
      ],
    ],
    [
      'an SMN topic that is not a URN',
      { SMN_TOPIC_URN: 'hss-alerts' },
      ['SMN_TOPIC_URN must be an SMN topic URN urn:smn:{region}:{project_id}:{topic}, got "hss-alerts"'],
    ],
    [
      'SMN signed by a credential nobody defined',
      { SMN_TOPIC_URN: URN, SMN_CREDENTIAL: 'Notify' },
      [
        'SMN_TOPIC_URN uses credential "notify", which is not defined: set CLOUD_SDK_AK__NOTIFY and CLOUD_SDK_SK__NOTIFY (or HSS_AUTH_TOKEN__NOTIFY), or add it under credentials: in the destinations file',
      ],
    ],
    [
      'a Google Chat URL that is not a space webhook',
      { GOOGLE_CHAT_WEBHOOK_URL: 'https://chat.googleapis.com/v1/spaces/AAAA/members' },
      [
        'GOOGLE_CHAT_WEBHOOK_URL must be a space webhook URL https://chat.googleapis.com/v1/spaces/…/messages?key=…&token=…, without user info (or any http(s) URL on loopback), got https://chat.googleapis.com/…',
      ],
    ],
    [
      'a Discord URL on another host',
      { DISCORD_WEBHOOK_URL: 'https://discord.example.com/api/webhooks/1/t' },
      [
        'DISCORD_WEBHOOK_URL must be a webhook URL https://discord.com/api/webhooks/{id}/{token} (or discordapp.com), without user info (or any http(s) URL on loopback), got https://discord.example.com/…',
      ],
    ],
  ];

  it.each(rejected)('rejects %s', (_why, env, problems) => {
    expect(problemsOf(configError({ ...NO_DESTINATION, ...env }))).toEqual(problems);
  });

  it('signs SMN with a named credential that nothing else uses', () => {
    const config = parseConfig({
      ...MINIMAL,
      SMN_TOPIC_URN: URN,
      SMN_CREDENTIAL: 'notify',
      CLOUD_SDK_AK__NOTIFY: 'NOTIFYAK00000000',
      CLOUD_SDK_SK__NOTIFY: 'NOTIFYSK00000000',
    });
    expect(config.destinations).toContainEqual(
      expect.objectContaining({ type: 'smn', credential: 'notify' }),
    );
    expect(Object.keys(config.credentials)).toEqual(['default', 'notify']);
  });
});

describe('the URL rule of every channel', () => {
  // The variable of every channel configured by a webhook URL.
  const variables = CHANNELS.filter((channel) => 'url' in channel).map(
    (channel) => Object.keys(channel.variables)[0]!,
  );
  // [url, why]: loopback passes every channel's shape; anything else off this machine needs https.
  const local: [string, string][] = [
    ['http://127.0.0.1:8080/hook', 'a local sink'],
    ['http://127.10.20.30/hook', 'anywhere in 127.0.0.0/8'],
    ['http://[::1]:9000/hook', 'IPv6 loopback'],
    ['http://localhost:9000/hook', 'localhost by name'],
  ];
  const refused: [string, string][] = [
    ['http://128.0.0.1/hook/SECRET', 'just outside the loopback range'],
    ['http://localhost.example.com/hook/SECRET', 'a name that only starts like localhost'],
    ['http://127.0.0.1.evil.example/hook/SECRET', 'a name that only starts like a loopback address'],
    ['http://10.0.0.5/hook/SECRET', 'a private address is still a network'],
    ['ftp://hooks.example.com/hook/SECRET', 'not HTTP at all'],
    ['hooks.example.com/hook/SECRET', 'no scheme'],
    ['http://user:pw@127.0.0.1/hook/SECRET', 'user info, even on loopback'],
  ];

  it.each(local)('accepts %s on every channel (%s)', (url) => {
    const { destinations } = parseConfig({
      ...NO_DESTINATION,
      ...Object.fromEntries(variables.map((v) => [v, url])),
    });
    expect(destinations).toHaveLength(variables.length);
  });

  it.each(refused)('refuses %s on every channel (%s)', (url) => {
    const problems = problemsOf(
      configError({ ...NO_DESTINATION, ...Object.fromEntries(variables.map((v) => [v, url])) }),
    );
    expect(problems.map((p) => p.split(' ')[0])).toEqual(variables);
    // The path is the secret: a refusal shows scheme and host at most.
    expect(problems.filter((p) => p.includes('SECRET'))).toEqual([]);
  });
});
