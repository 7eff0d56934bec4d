import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig, type Config, type SsmParameters } from '../../lib/config';
import { MINIMAL, PD_KEY, PROJECT, WHSEC, configError, problemsOf } from './fixtures';

const { SLACK_WEBHOOK_URL: _s, ...NO_DESTINATION } = MINIMAL;
const { HSS_REGION: _r, HSS_PROJECT_ID: _p, ...NO_SCOPE } = NO_DESTINATION;

const TEAMS =
  'https://prod-12.westeurope.logic.azure.com:443/workflows/abc/triggers/manual/paths/invoke?sig=teamsSig';
const FEISHU = 'https://open.feishu.cn/open-apis/bot/v2/hook/feishuTokenSecret';
const SLACK_OPS = 'https://hooks.slack.com/services/T1/B1/opsSecret';
const SLACK_DB = 'https://hooks.slack.com/services/T1/B2/dbSecret';

/** SecureStrings as resolveSecretParams would return them. */
function secure(values: Record<string, string>): SsmParameters {
  return Object.fromEntries(Object.entries(values).map(([k, value]) => [k, { value, type: 'SecureString' }]));
}

const PARAMETERS = secure({
  '/hss/prod/slack-ops': SLACK_OPS,
  '/hss/prod/slack-db': SLACK_DB,
  '/hss/prod/teams': TEAMS,
  '/hss/prod/feishu': FEISHU,
  '/hss/prod/feishu-secret': 'feishuSignSecret',
  '/hss/prod/pagerduty': PD_KEY,
  '/hss/prod/webhook-secret': WHSEC,
  '/hss/prod/acme-ak': 'ACMEAK0000000000',
  '/hss/prod/acme-sk': 'ACMESK0000000000',
});

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'hss-config-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Writes `text` as a file of the temp dir and returns its path. */
function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

const YAML_FILE = `
# Two Slack channels split by host, Teams for failures, Feishu with quiet hours, a local PagerDuty sink.
destinations:
  - type: slack
    name: ops
    url_param: /hss/prod/slack-ops
    hosts: { include: ['web-*', 'app-*'], exclude: ['web-test-*'] }
  - type: slack
    name: dba
    url_param: /hss/prod/slack-db
    hosts: ['db-*']
    backups: ['nightly-*']
  - type: teams
    url_param: /hss/prod/teams
    statuses: [failed, stuck]
    enterprise_projects: [0, all_granted_eps]
  - type: feishu
    url_param: /hss/prod/feishu
    secret_param: /hss/prod/feishu-secret
    quiet_hours: { start: '22:00', end: '7:00', time_zone: asia/shanghai }
  - type: pagerduty
    routing_key: ${PD_KEY}
    events_url: http://127.0.0.1:9100/v2/enqueue
    severity: { failed: critical, stuck: info }
  - type: webhook
    url: http://localhost:9300/hook
    secret_param: /hss/prod/webhook-secret
scopes:
  - cn-north-4/${PROJECT}/all_granted_eps
  - { region: ap-southeast-1, project_id: 9f8e7d6c5b4a39281706f5e4d3c2b1a0, credential: acme }
credentials:
  acme: { ak_param: /hss/prod/acme-ak, sk_param: /hss/prod/acme-sk }
`;

const EXPECTED: Partial<Config> = {
  scopes: [
    {
      region: 'cn-north-4',
      projectId: PROJECT,
      enterpriseProjectId: 'all_granted_eps',
      credential: 'default',
    },
    {
      region: 'ap-southeast-1',
      projectId: '9f8e7d6c5b4a39281706f5e4d3c2b1a0',
      enterpriseProjectId: '0',
      credential: 'acme',
    },
  ],
  credentials: {
    default: { kind: 'aksk', ak: MINIMAL.CLOUD_SDK_AK!, sk: MINIMAL.CLOUD_SDK_SK! },
    acme: { kind: 'aksk', ak: 'ACMEAK0000000000', sk: 'ACMESK0000000000' },
  },
  destinations: [
    {
      type: 'slack',
      name: 'ops',
      url: SLACK_OPS,
      routing: { hosts: { include: ['web-*', 'app-*'], exclude: ['web-test-*'] } },
    },
    {
      type: 'slack',
      name: 'dba',
      url: SLACK_DB,
      routing: {
        hosts: { include: ['db-*'], exclude: [] },
        backups: { include: ['nightly-*'], exclude: [] },
      },
    },
    {
      type: 'teams',
      name: 'teams',
      url: TEAMS,
      routing: { statuses: ['failed', 'stuck'], enterpriseProjects: ['0', 'all_granted_eps'] },
    },
    {
      type: 'feishu',
      name: 'feishu',
      url: FEISHU,
      secret: 'feishuSignSecret',
      routing: { quietHours: { start: '22:00', end: '07:00', timeZone: 'Asia/Shanghai' } },
    },
    {
      type: 'pagerduty',
      name: 'pagerduty',
      routingKey: PD_KEY,
      eventsUrl: 'http://127.0.0.1:9100/v2/enqueue',
      severity: { failed: 'critical', timeout: 'warning', stuck: 'info' },
      routing: {},
    },
    { type: 'webhook', name: 'webhook', url: 'http://localhost:9300/hook', secret: WHSEC, routing: {} },
  ],
};

describe('the destinations file', () => {
  it('reads destinations, routing, scopes and credentials from YAML', () => {
    // Prepare
    const path = file('destinations.yaml', YAML_FILE);
    // Act
    const config = parseConfig({ ...NO_SCOPE, DESTINATIONS_FILE: path }, { parameters: PARAMETERS });
    // Assess
    expect(config).toMatchObject(EXPECTED);
  });

  it('reads the same file written as JSON', () => {
    // Prepare: YAML parsed by hand into the JSON a user would write.
    const path = file(
      'destinations.json',
      JSON.stringify({
        destinations: [
          {
            type: 'slack',
            name: 'ops',
            url_param: '/hss/prod/slack-ops',
            hosts: { include: ['web-*', 'app-*'], exclude: ['web-test-*'] },
          },
          {
            type: 'slack',
            name: 'dba',
            url_param: '/hss/prod/slack-db',
            hosts: ['db-*'],
            backups: ['nightly-*'],
          },
          {
            type: 'teams',
            url_param: '/hss/prod/teams',
            statuses: ['failed', 'stuck'],
            enterprise_projects: ['0', 'all_granted_eps'],
          },
          {
            type: 'feishu',
            url_param: '/hss/prod/feishu',
            secret_param: '/hss/prod/feishu-secret',
            quiet_hours: { start: '22:00', end: '7:00', time_zone: 'asia/shanghai' },
          },
          {
            type: 'pagerduty',
            routing_key: PD_KEY,
            events_url: 'http://127.0.0.1:9100/v2/enqueue',
            severity: { failed: 'critical', stuck: 'info' },
          },
          { type: 'webhook', url: 'http://localhost:9300/hook', secret_param: '/hss/prod/webhook-secret' },
        ],
        scopes: [
          `cn-north-4/${PROJECT}/all_granted_eps`,
          { region: 'ap-southeast-1', project_id: '9f8e7d6c5b4a39281706f5e4d3c2b1a0', credential: 'acme' },
        ],
        credentials: { acme: { ak_param: '/hss/prod/acme-ak', sk_param: '/hss/prod/acme-sk' } },
      }),
    );
    // Act
    const config = parseConfig({ ...NO_SCOPE, DESTINATIONS_FILE: path }, { parameters: PARAMETERS });
    // Assess
    expect(config).toMatchObject(EXPECTED);
  });

  it('reads the file from the SSM parameter DESTINATIONS_FILE_PARAM names', () => {
    const config = parseConfig(
      { ...NO_SCOPE, DESTINATIONS_FILE_PARAM: '/hss/prod/destinations' },
      { parameters: { ...PARAMETERS, '/hss/prod/destinations': { value: YAML_FILE, type: 'String' } } },
    );
    expect(config).toMatchObject(EXPECTED);
  });

  it('adds its destinations to those of the variables, and lets them reach nothing', () => {
    const path = file(
      'extra.yaml',
      'destinations:\n  - { type: slack, name: nobody, url: "http://127.0.0.1:1/x", statuses: [] }\n',
    );
    const config = parseConfig({ ...MINIMAL, DESTINATIONS_FILE: path });
    expect(config.destinations.map((d) => [d.name, d.routing])).toEqual([
      ['slack', {}],
      ['nobody', { statuses: [] }],
    ]);
  });

  it('marks the one fallback destination, which takes what no route matched', () => {
    const path = file(
      'fallback.yaml',
      'destinations:\n  - { type: slack, name: web, url_param: /hss/prod/slack-ops, hosts: [web-*] }\n  - { type: slack, name: catch-all, url_param: /hss/prod/slack-db, hosts: [none], fallback: true }\n  - { type: teams, url_param: /hss/prod/teams, fallback: false }\n',
    );
    const config = parseConfig({ ...NO_DESTINATION, DESTINATIONS_FILE: path }, { parameters: PARAMETERS });
    expect(config.destinations.map((d) => [d.name, d.routing])).toEqual([
      ['web', { hosts: { include: ['web-*'], exclude: [] } }],
      ['catch-all', { hosts: { include: ['none'], exclude: [] }, fallback: true }],
      ['teams', {}],
    ]);
  });

  it('reads a file relative to the working directory by default', () => {
    // Prepare
    const cwd = process.cwd();
    file('relative.yaml', 'destinations:\n  - { type: webhook, url: "http://127.0.0.1:1/hook" }\n');
    process.chdir(dir);
    // Act
    let config: Config;
    try {
      config = parseConfig({ ...NO_DESTINATION, DESTINATIONS_FILE: 'relative.yaml' });
    } finally {
      process.chdir(cwd);
    }
    // Assess
    expect(config.destinations).toEqual([
      { type: 'webhook', name: 'webhook', url: 'http://127.0.0.1:1/hook', routing: {} },
    ]);
  });
});

describe('problems in the destinations file', () => {
  // [why, file text, extra variables, problems with <file> for the file's label]
  const rejected: [string, string, Record<string, string>, string[]][] = [
    [
      'text that is not YAML',
      'destinations: [ { type: slack',
      {},
      [
        expect.stringMatching(
          /^DESTINATIONS_FILE=<file> is not valid YAML or JSON: .* at line 1, column \d+$/,
        ),
      ],
    ],
    [
      'an empty file',
      '',
      {},
      ['DESTINATIONS_FILE=<file> is empty: expected a mapping with destinations, scopes, credentials'],
    ],
    [
      'a misspelt section',
      'destination: []',
      {},
      ['DESTINATIONS_FILE=<file> has unknown key "destination": expected destinations, scopes, credentials'],
    ],
    [
      'destinations that are not a list',
      'destinations: { type: slack }',
      {},
      ['DESTINATIONS_FILE=<file>: destinations must be a list of destinations'],
    ],
    [
      'a destination without a type',
      'destinations: [{ url_param: /hss/prod/slack-ops }]',
      {},
      [
        'DESTINATIONS_FILE=<file>: destinations[0].type is required (one of slack/webhook/teams/feishu/dingtalk/wecom/pagerduty/smn/googlechat/discord)',
      ],
    ],
    [
      'an unknown type',
      'destinations: [{ type: email, url_param: /x }]',
      {},
      [
        'DESTINATIONS_FILE=<file>: destinations[0].type must be one of slack/webhook/teams/feishu/dingtalk/wecom/pagerduty/smn/googlechat/discord, got "email"',
      ],
    ],
    [
      'a key of another type',
      'destinations: [{ type: slack, url_param: /hss/prod/slack-ops, secret_param: /hss/prod/feishu-secret }]',
      {},
      [
        'DESTINATIONS_FILE=<file>: destinations[0] has unknown key "secret_param": expected type, name, url, url_param, statuses, hosts, backups, enterprise_projects, quiet_hours, fallback',
      ],
    ],
    [
      'a raw secret in the file',
      `destinations: [{ type: teams, url: "${TEAMS}" }]`,
      {},
      [
        'DESTINATIONS_FILE=<file>: destinations[0].url is a secret, and secrets are not written in the destinations file (it is bundled with the code and kept in git): store the webhook URL as an SSM SecureString and give its name as url_param (raw values are accepted only for a destination on loopback)',
      ],
    ],
    [
      'a raw signing secret next to a URL from SSM',
      'destinations: [{ type: feishu, url_param: /hss/prod/feishu, secret: feishuSignSecret }]',
      {},
      [
        expect.stringMatching(
          /^DESTINATIONS_FILE=<file>: destinations\[0\]\.secret is a secret, and secrets are not written/,
        ),
      ],
    ],
    [
      'two fallback destinations (at most one may take what no route matched)',
      'destinations: [{ type: slack, name: a, url_param: /hss/prod/slack-ops, fallback: true }, { type: slack, name: b, url_param: /hss/prod/slack-db, fallback: true }]',
      {},
      [
        'DESTINATIONS_FILE=<file>: destinations[1] has fallback: true like DESTINATIONS_FILE=<file>: destinations[0]: at most one destination may be the fallback',
      ],
    ],
    [
      'a fallback that is not true or false',
      'destinations: [{ type: slack, url_param: /hss/prod/slack-ops, fallback: yes please }]',
      {},
      ['DESTINATIONS_FILE=<file>: destinations[0].fallback must be true or false, got "yes please"'],
    ],
    [
      'a URL given both ways',
      'destinations: [{ type: slack, url: "http://127.0.0.1:1/", url_param: /hss/prod/slack-ops }]',
      {},
      ['DESTINATIONS_FILE=<file>: destinations[0].url and url_param are both set (set one)'],
    ],
    [
      'a destination without its URL',
      'destinations: [{ type: discord }]',
      {},
      [
        'DESTINATIONS_FILE=<file>: destinations[0].url_param is required (the SSM SecureString holding the webhook URL)',
      ],
    ],
    [
      'a parameter SSM does not have',
      'destinations: [{ type: slack, url_param: /hss/prod/nope }]',
      {},
      ['DESTINATIONS_FILE=<file>: destinations[0].url_param (/hss/prod/nope): SSM parameter not found'],
    ],
    [
      'a parameter holding a URL of the wrong host',
      'destinations: [{ type: teams, url_param: /hss/prod/slack-ops }]',
      {},
      [
        'DESTINATIONS_FILE=<file>: destinations[0].url_param (/hss/prod/slack-ops) must be a Teams Workflows URL on https://*.logic.azure.com, https://*.environment.api.powerplatform.com or https://api.powerautomate.com, without user info (or any http(s) URL on loopback), got https://hooks.slack.com/…',
      ],
    ],
    [
      'a status that does not alert',
      'destinations: [{ type: slack, url_param: /hss/prod/slack-ops, statuses: [failed, running] }]',
      {},
      [
        'DESTINATIONS_FILE=<file>: destinations[0].statuses[1] must be one of failed/timeout/stuck, got "running"',
      ],
    ],
    [
      'a glob picomatch cannot read',
      'destinations: [{ type: slack, url_param: /hss/prod/slack-ops, hosts: { include: ["web-[0-9"], excludes: [] } }]',
      {},
      [
        'DESTINATIONS_FILE=<file>: destinations[0].hosts has unknown key "excludes": expected include, exclude',
        'DESTINATIONS_FILE=<file>: destinations[0].hosts.include[0] must be a glob pattern such as web-* or db-0[1-3], got "web-[0-9"',
      ],
    ],
    [
      'quiet hours in an unknown zone, and without an end',
      'destinations: [{ type: slack, url_param: /hss/prod/slack-ops, quiet_hours: { start: "22:00", time_zone: Asia/Peking } }]',
      {},
      [
        'DESTINATIONS_FILE=<file>: destinations[0].quiet_hours.time_zone must be an IANA time zone such as Asia/Shanghai or UTC, got "Asia/Peking"',
        'DESTINATIONS_FILE=<file>: destinations[0].quiet_hours.end is required (a time HH:MM (24-hour clock))',
      ],
    ],
    [
      'quiet hours that start when they end',
      'destinations: [{ type: slack, url_param: /hss/prod/slack-ops, quiet_hours: { start: "7:00", end: "07:00", time_zone: UTC } }]',
      {},
      [
        'DESTINATIONS_FILE=<file>: destinations[0].quiet_hours start and end are both 07:00: quiet hours need an end that differs from the start',
      ],
    ],
    [
      'enterprise projects that are not a list',
      'destinations: [{ type: slack, url_param: /hss/prod/slack-ops, enterprise_projects: all_granted_eps }]',
      {},
      [
        'DESTINATIONS_FILE=<file>: destinations[0].enterprise_projects must be a list of enterprise project ids',
      ],
    ],
    [
      'a type repeated without names',
      'destinations:\n  - { type: slack, url_param: /hss/prod/slack-ops }\n  - { type: slack, url_param: /hss/prod/slack-db }',
      {},
      [
        'DESTINATIONS_FILE=<file>: destinations[1] is named "slack" like DESTINATIONS_FILE=<file>: destinations[0]: names must be unique (give a repeated type a name:)',
      ],
    ],
    [
      'a file destination named like a variable one',
      'destinations: [{ type: slack, url_param: /hss/prod/slack-ops }]',
      { SLACK_WEBHOOK_URL: MINIMAL.SLACK_WEBHOOK_URL! },
      [
        'DESTINATIONS_FILE=<file>: destinations[0] is named "slack" like SLACK_WEBHOOK_URL: names must be unique (give a repeated type a name:)',
      ],
    ],
    [
      'a PagerDuty severity for a status that does not alert',
      `destinations: [{ type: pagerduty, routing_key_param: /hss/prod/pagerduty, severity: { success: info } }]`,
      {},
      [
        'DESTINATIONS_FILE=<file>: destinations[0].severity key "success" must be one of failed/timeout/stuck, got "success"',
      ],
    ],
    [
      'an SMN destination without its topic',
      'destinations: [{ type: smn, endpoint: "http://127.0.0.1:9200" }]',
      {},
      [
        'DESTINATIONS_FILE=<file>: destinations[0].topic_urn is required (an SMN topic URN urn:smn:{region}:{project_id}:{topic})',
      ],
    ],
    [
      'scopes in the file and in the variables',
      `destinations: [{ type: slack, url_param: /hss/prod/slack-ops }]\nscopes: [cn-north-4/${PROJECT}]`,
      { HSS_REGION: 'cn-north-4', HSS_PROJECT_ID: PROJECT },
      [
        'scopes are given in more than one way (HSS_REGION/HSS_PROJECT_ID and scopes: in DESTINATIONS_FILE=<file>): use one of HSS_SCOPES, HSS_REGION + HSS_PROJECT_ID (+ HSS_ENTERPRISE_PROJECT_ID), or scopes: in the destinations file',
      ],
    ],
    [
      'file scopes with a bad item, a missing project and a repeat',
      `destinations: [{ type: slack, url_param: /hss/prod/slack-ops }]\nscopes:\n  - cn-north-4\n  - { region: cn-north-4 }\n  - cn-north-4/${PROJECT}\n  - { region: cn-north-4, project_id: ${PROJECT}, enterprise_project_id: 0 }`,
      {},
      [
        'DESTINATIONS_FILE=<file>: scopes[0] must be region/project_id[/enterprise_project_id][@credential] or a mapping, got "cn-north-4" (not region/project_id[/enterprise_project_id][@credential])',
        'DESTINATIONS_FILE=<file>: scopes[1].project_id is required',
        'DESTINATIONS_FILE=<file>: scopes[3] repeats the scope of DESTINATIONS_FILE=<file>: scopes[2]',
      ],
    ],
    [
      'a file credential that is also a variable one, and one nobody uses',
      `destinations: [{ type: slack, url_param: /hss/prod/slack-ops }]\nscopes: [cn-north-4/${PROJECT}]\ncredentials:\n  default: { token_param: /hss/prod/acme-ak }\n  spare: { ak_param: /hss/prod/acme-ak, sk_param: /hss/prod/acme-sk }`,
      {},
      [
        'DESTINATIONS_FILE=<file>: credentials.default defines credential "default" again (it is already set by CLOUD_SDK_AK/CLOUD_SDK_SK)',
        'credential "spare" (DESTINATIONS_FILE=<file>: credentials.spare) is used by no scope or SMN destination (a typo? a scope picks it with @spare)',
      ],
    ],
    [
      'a raw key in a file credential',
      `destinations: [{ type: slack, url_param: /hss/prod/slack-ops }]\nscopes: [cn-north-4/${PROJECT}@acme]\ncredentials:\n  acme: { ak: ACMEAK0000000000, sk_param: /hss/prod/acme-sk }`,
      {},
      [
        'DESTINATIONS_FILE=<file>: credentials.acme has unknown key "ak": expected ak_param, sk_param, security_token_param, token_param',
        'DESTINATIONS_FILE=<file>: credentials.acme.ak_param is required when credentials.acme.sk_param is set',
      ],
    ],
  ];

  it.each(rejected)('rejects %s, naming the file and the place', (_why, text, extra, problems) => {
    // Prepare
    const path = file('bad.yaml', text);
    const env = {
      ...(text.includes('scopes:') ? NO_SCOPE : NO_DESTINATION),
      ...extra,
      DESTINATIONS_FILE: path,
    };
    // Act
    const error = configError(env, { parameters: PARAMETERS });
    // Assess
    expect(problemsOf(error).map((p) => p.replaceAll(path, '<file>'))).toEqual(problems);
  });

  it('says a file that cannot be read, and where relative paths start', () => {
    const error = configError({ ...MINIMAL, DESTINATIONS_FILE: 'no/such/destinations.yaml' });
    expect(error.message).toBe(
      'Invalid configuration: DESTINATIONS_FILE=no/such/destinations.yaml cannot be read (ENOENT: a relative path starts at the working directory, the function root on Lambda)',
    );
    expect(error.variable).toBe('DESTINATIONS_FILE');
  });

  it('refuses a file given both ways', () => {
    const error = configError({
      ...MINIMAL,
      DESTINATIONS_FILE: 'a.yaml',
      DESTINATIONS_FILE_PARAM: '/x/destinations',
    });
    expect(problemsOf(error)).toEqual([
      'DESTINATIONS_FILE and DESTINATIONS_FILE_PARAM are both set (set one)',
    ]);
  });

  it('says that SSM was not read when parameters are named but none were passed', () => {
    const path = file(
      'unresolved.yaml',
      'destinations: [{ type: slack, name: ops, url_param: /hss/prod/slack-ops }]',
    );
    const error = configError({ ...MINIMAL, DESTINATIONS_FILE: path });
    expect(problemsOf(error)).toEqual([
      `DESTINATIONS_FILE=${path}: destinations[0].url_param (/hss/prod/slack-ops): not read from SSM (resolveSecretParams runs before parseConfig)`,
    ]);
  });

  it('refuses a file parameter of another type than String or SecureString', () => {
    const error = configError(
      { ...MINIMAL, DESTINATIONS_FILE_PARAM: '/x/destinations' },
      { parameters: { '/x/destinations': { value: 'a,b', type: 'StringList' } } },
    );
    expect(problemsOf(error)).toEqual([
      'DESTINATIONS_FILE_PARAM=/x/destinations: is a StringList parameter, expected String or SecureString',
    ]);
  });
});
