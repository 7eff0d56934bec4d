import { CHANNELS } from '../../lib/notify/channels';
import { describeConfig, parseConfig } from '../../lib/config';
import { AK, MINIMAL, PD_KEY, SK, WHSEC } from './fixtures';

// Every value below that is a secret, as a token that appears nowhere else.
const SECRETS = {
  slack: 'slackTokenSecret1234',
  webhookPath: 'webhookPathSecret',
  webhookQuery: 'webhookQuerySecret',
  whsec: WHSEC.slice('whsec_'.length),
  teams: 'teamsSigSecret',
  feishu: 'feishuHookSecret',
  feishuSign: 'feishuSignSecret',
  dingtalk: 'dingtalkTokenSecret',
  dingtalkSign: 'SECdingtalkSignSecret',
  wecom: 'wecomKeySecret',
  pagerduty: PD_KEY,
  gchat: 'gchatTokenSecret',
  discord: 'discordTokenSecret',
  sts: 'stsTokenSecret123',
  namedToken: 'namedTokenSecret123',
  ak: AK,
  sk: SK,
};

const ENV = {
  ...MINIMAL,
  HSS_REGION: undefined,
  HSS_PROJECT_ID: undefined,
  HSS_SCOPES: 'cn-north-4/p1,ap-southeast-1/p2@acme',
  HSS_AUTH_TOKEN__ACME: SECRETS.namedToken,
  CLOUD_SDK_SECURITY_TOKEN: SECRETS.sts,
  SLACK_WEBHOOK_URL: `https://hooks.slack.com/services/T0001/B0001/${SECRETS.slack}`,
  WEBHOOK_URL: `https://hooks.example.com/${SECRETS.webhookPath}?key=${SECRETS.webhookQuery}`,
  WEBHOOK_SECRET: WHSEC,
  TEAMS_WEBHOOK_URL: `https://prod-1.westeurope.logic.azure.com/workflows/x/invoke?sig=${SECRETS.teams}`,
  FEISHU_WEBHOOK_URL: `https://open.feishu.cn/open-apis/bot/v2/hook/${SECRETS.feishu}`,
  FEISHU_SECRET: SECRETS.feishuSign,
  DINGTALK_WEBHOOK_URL: `https://oapi.dingtalk.com/robot/send?access_token=${SECRETS.dingtalk}`,
  DINGTALK_SECRET: SECRETS.dingtalkSign,
  WECOM_WEBHOOK_URL: `https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=${SECRETS.wecom}`,
  PAGERDUTY_ROUTING_KEY: PD_KEY,
  SMN_TOPIC_URN: 'urn:smn:cn-north-4:0a1b2c3d4e5f60718293a4b5c6d7e8f9:hss-alerts',
  GOOGLE_CHAT_WEBHOOK_URL: `https://chat.googleapis.com/v1/spaces/AAAA/messages?key=k&token=${SECRETS.gchat}`,
  DISCORD_WEBHOOK_URL: `https://discord.com/api/webhooks/1234/${SECRETS.discord}`,
  DYNAMODB_ENDPOINT: 'http://local:localPassword@127.0.0.1:8000',
};

describe('describeConfig', () => {
  const config = parseConfig(ENV);
  const view = describeConfig(config);
  const text = JSON.stringify(view);

  it('configures a destination of every channel whose variable it sets, so that the checks below cover each', () => {
    // Every channel, each from its fixture, is also shown without its secrets by test/config/channels.test.ts.
    const set = CHANNELS.filter((channel) => Object.keys(channel.variables)[0]! in ENV).map((c) => c.type);
    expect(set).toHaveLength(10);
    expect(config.destinations.map((d) => d.type).sort()).toEqual(set.sort());
  });

  it.each(Object.entries(SECRETS))('never shows the %s secret', (_name, secret) => {
    expect(text).not.toContain(secret);
  });

  it('shows every destination with its URL cut to scheme and host, and its secrets redacted', () => {
    expect(view.destinations).toEqual([
      { type: 'slack', name: 'slack', url: 'https://hooks.slack.com/…', routing: {} },
      {
        type: 'webhook',
        name: 'webhook',
        url: 'https://hooks.example.com/…',
        secret: '[redacted]',
        routing: {},
      },
      { type: 'teams', name: 'teams', url: 'https://prod-1.westeurope.logic.azure.com/…', routing: {} },
      { type: 'feishu', name: 'feishu', url: 'https://open.feishu.cn/…', secret: '[redacted]', routing: {} },
      {
        type: 'dingtalk',
        name: 'dingtalk',
        url: 'https://oapi.dingtalk.com/…',
        secret: '[redacted]',
        routing: {},
      },
      { type: 'wecom', name: 'wecom', url: 'https://qyapi.weixin.qq.com/…', routing: {} },
      {
        type: 'pagerduty',
        name: 'pagerduty',
        routingKey: '[redacted]',
        eventsUrl: 'https://events.pagerduty.com/…',
        severity: { failed: 'error', timeout: 'warning', stuck: 'warning' },
        routing: {},
      },
      {
        type: 'smn',
        name: 'smn',
        topicUrn: 'urn:smn:cn-north-4:0a1b2c3d4e5f60718293a4b5c6d7e8f9:hss-alerts',
        endpoint: 'https://smn.cn-north-4.myhuaweicloud.com/…',
        projectId: '0a1b2c3d4e5f60718293a4b5c6d7e8f9',
        credential: 'default',
        routing: {},
      },
      { type: 'googlechat', name: 'googlechat', url: 'https://chat.googleapis.com/…', routing: {} },
      { type: 'discord', name: 'discord', url: 'https://discord.com/…', routing: {} },
    ]);
  });

  it('shows which credentials exist and their kind, not their keys', () => {
    expect(view.credentials).toEqual({
      default: { kind: 'aksk', ak: '[redacted]', sk: '[redacted]', securityToken: '[redacted]' },
      acme: { kind: 'token', token: '[redacted]' },
    });
  });

  it('shows the DynamoDB endpoint without its user info', () => {
    expect(view.dynamodbEndpoint).toBe('http://127.0.0.1:8000/…');
    expect(text).not.toContain('localPassword');
  });

  it('shows everything that is not a secret as it is', () => {
    expect(view).toMatchObject({
      scopes: config.scopes,
      stateTable: config.stateTable,
      lifecycle: config.lifecycle,
      alertStatuses: ['failed', 'timeout'],
    });
  });
});
