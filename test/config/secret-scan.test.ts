import fc from 'fast-check';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SsmParameters } from '../../lib/config';
import { MINIMAL, configError } from './fixtures';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'hss-config-scan-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const secure = (value: string) => ({ value, type: 'SecureString' });

/** Configurations that fail in every way a secret could be mentioned, with where the secret went. */
function badConfigurations(secret: string): [string, Record<string, string | undefined>, SsmParameters?][] {
  const file = (name: string, text: string) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };
  return [
    ['AK with a space, SK', { ...MINIMAL, CLOUD_SDK_AK: `${secret} x`, CLOUD_SDK_SK: secret }],
    ['SK and token together', { ...MINIMAL, CLOUD_SDK_SK: secret, HSS_AUTH_TOKEN: secret }],
    ['SK with a tab, another problem', { ...MINIMAL, CLOUD_SDK_SK: `${secret}\t${secret}`, LAST_DAYS: '99' }],
    ['SK alone', { ...MINIMAL, CLOUD_SDK_AK: undefined, CLOUD_SDK_SK: secret }],
    ['security token with spaces', { ...MINIMAL, CLOUD_SDK_SECURITY_TOKEN: `a b ${secret}` }],
    ['Slack URL over http', { ...MINIMAL, SLACK_WEBHOOK_URL: `http://hooks.slack.com/services/${secret}` }],
    ['Slack URL that is no URL', { ...MINIMAL, SLACK_WEBHOOK_URL: `not a url ${secret}` }],
    [
      'webhook URL with user info',
      { ...MINIMAL, WEBHOOK_URL: `https://user:${secret}@hooks.example.com/${secret}?token=${secret}` },
    ],
    [
      'webhook secret too short',
      { ...MINIMAL, WEBHOOK_URL: 'https://h.example.com/', WEBHOOK_SECRET: secret.slice(0, 23) },
    ],
    [
      'whsec_ key not base64',
      { ...MINIMAL, WEBHOOK_URL: 'https://h.example.com/', WEBHOOK_SECRET: `whsec_${secret}!` },
    ],
    ['Teams URL on another host', { ...MINIMAL, TEAMS_WEBHOOK_URL: `https://evil.example.com/${secret}` }],
    [
      'Feishu secret too long',
      { ...MINIMAL, FEISHU_WEBHOOK_URL: 'http://127.0.0.1:1/', FEISHU_SECRET: secret.repeat(20) },
    ],
    [
      'DingTalk secret without SEC',
      { ...MINIMAL, DINGTALK_WEBHOOK_URL: 'http://127.0.0.1:1/', DINGTALK_SECRET: secret },
    ],
    ['WeCom URL without key', { ...MINIMAL, WECOM_WEBHOOK_URL: `https://qyapi.weixin.qq.com/${secret}` }],
    ['PagerDuty key of another length', { ...MINIMAL, PAGERDUTY_ROUTING_KEY: `${secret}-x` }],
    [
      'Google Chat URL elsewhere',
      { ...MINIMAL, GOOGLE_CHAT_WEBHOOK_URL: `https://chat.example.com/${secret}` },
    ],
    ['Discord URL elsewhere', { ...MINIMAL, DISCORD_WEBHOOK_URL: `https://discord.example.com/${secret}` }],
    [
      'named credential half given, bad',
      {
        ...MINIMAL,
        HSS_SCOPES: undefined,
        CLOUD_SDK_AK__ACME: `${secret} ${secret}`,
        CLOUD_SDK_SK__ACMEE: secret,
      },
    ],
    // A secret pasted into the wrong variables as well as the right one.
    [
      'secret in non-secret variables',
      {
        ...MINIMAL,
        CLOUD_SDK_SK: secret,
        HSS_REGION: secret,
        STATE_TABLE: secret,
        LOG_LEVEL: secret,
        HSS_SCOPES: `cn-north-4/${secret}`,
        DAILY_SUMMARY_TZ: secret,
      },
    ],
    [
      'Slack URL in the statuses',
      {
        ...MINIMAL,
        SLACK_WEBHOOK_URL: `https://hooks.slack.com/${secret}`,
        ALERT_STATUSES: `https://hooks.slack.com/${secret}`,
      },
    ],
    [
      'SSM values that fail their rules',
      {
        ...MINIMAL,
        CLOUD_SDK_SK: undefined,
        CLOUD_SDK_SK_PARAM: '/x/sk',
        TEAMS_WEBHOOK_URL_PARAM: '/x/teams',
        // The Teams URL read from SSM, pasted into the wrong variable too.
        STATE_TABLE: `https://evil.example.com/${secret}`,
      },
      { '/x/sk': secure(`${secret} ${secret}`), '/x/teams': secure(`https://evil.example.com/${secret}`) },
    ],
    [
      'SSM secret stored as String',
      { ...MINIMAL, CLOUD_SDK_SK: undefined, CLOUD_SDK_SK_PARAM: '/x/sk' },
      { '/x/sk': { value: secret, type: 'String' } },
    ],
    [
      'file secrets that fail their rules, and one pasted into a status',
      {
        ...MINIMAL,
        DESTINATIONS_FILE: file(
          'scan.yaml',
          [
            'destinations:',
            '  - { type: feishu, url_param: /x/feishu, secret_param: /x/feishu-secret, hosts: ["[/x/glob"] }',
            `  - { type: teams, url: "http://127.0.0.1:1/${secret}", name: "bad name", statuses: ["http://127.0.0.1:1/${secret}"] }`,
            '  - { type: pagerduty, routing_key: "oops", events_url: "http://127.0.0.1:2/" }',
          ].join('\n'),
        ),
      },
      {
        '/x/feishu': secure(`https://open.feishu.cn/${secret}`),
        '/x/feishu-secret': secure(`${secret} ${secret}`),
      },
    ],
  ];
}

describe('secrets in configuration errors', () => {
  it('never repeats a secret value, or its first 40 characters, in any error message', () => {
    fc.assert(
      // Secrets as real ones look (mixed case and digits), so that none is one of our own words ("toString").
      fc.property(
        fc
          .stringMatching(/^[A-Za-z0-9+=_-]{8,80}$/)
          .filter((s) => /\d/.test(s) && /[a-z]/.test(s) && /[A-Z]/.test(s)),
        (secret) => {
          for (const [why, env, parameters] of badConfigurations(secret)) {
            const error = configError(env, parameters ? { parameters } : undefined);
            expect({ why, message: error.message }).not.toEqual({
              why,
              message: expect.stringContaining(secret),
            });
            expect({ why, message: error.message }).not.toEqual({
              why,
              message: expect.stringContaining(secret.slice(0, 40)),
            });
            expect(error.cause).toBeUndefined();
          }
        },
      ),
      { numRuns: 150 },
    );
  });
});
