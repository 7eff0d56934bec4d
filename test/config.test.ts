import fc from 'fast-check';
import { CONFIG_DEFAULTS, SECRET_VARIABLES, describeConfig, parseConfig, type Config } from '../lib/config';
import { ConfigError } from '../lib/errors';

const AK = 'QTWAOYTTINDUT2QVKYUC';
const SK = 'MFyfvK41ba2giqM7Uio6PznpdUKGpownRZlmVmHc';
const SLACK = 'https://hooks.slack.com/services/T0001/B0001/slackTokenSecret1234';

/** The smallest environment that parses: every optional variable left to its default. */
const MINIMAL: Record<string, string> = {
  HSS_PROJECT_ID: '0123456789abcdef0123456789abcdef',
  HSS_REGION: 'cn-north-4',
  CLOUD_SDK_AK: AK,
  CLOUD_SDK_SK: SK,
  STATE_TABLE: 'hss-restore-alerts-dev-state',
  SLACK_WEBHOOK_URL: SLACK,
};

/** Runs parseConfig and returns the ConfigError it throws (failing the test when it does not throw). */
function configError(env: Record<string, string | undefined>): ConfigError {
  try {
    parseConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('expected parseConfig to throw a ConfigError');
}

describe('parseConfig', () => {
  it('applies every documented default to a minimal environment', () => {
    // Act
    const config = parseConfig(MINIMAL);
    // Assess
    expect(config).toEqual<Config>({
      projectId: MINIMAL.HSS_PROJECT_ID!,
      enterpriseProjectId: '0',
      region: 'cn-north-4',
      auth: { kind: 'aksk', ak: AK, sk: SK },
      ratePerMinute: 5,
      lastDays: 1,
      periodSeconds: 300,
      alertStatuses: ['failed', 'timeout'],
      stateTable: 'hss-restore-alerts-dev-state',
      awsRegion: 'us-east-1',
      slackWebhookUrl: SLACK,
      baseline: false,
    });
    expect(CONFIG_DEFAULTS.ALERT_STATUSES).toEqual(['failed', 'timeout']);
  });

  it('treats blank values as unset, as deployment tools write unset optional variables as ""', () => {
    // Act
    const config = parseConfig({
      ...MINIMAL,
      HSS_ENDPOINT: '',
      LAST_DAYS: '  ',
      WEBHOOK_URL: '',
      LOG_LEVEL: '',
    });
    // Assess
    expect(config.endpoint).toBeUndefined();
    expect(config.lastDays).toBe(1);
    expect(config.webhookUrl).toBeUndefined();
    expect(config.logLevel).toBeUndefined();
  });

  it('trims surrounding whitespace, such as the newline of a pasted secret', () => {
    const config = parseConfig({ ...MINIMAL, CLOUD_SDK_SK: `${SK}\n`, LAST_DAYS: ' 7 ' });
    expect(config.auth).toEqual({ kind: 'aksk', ak: AK, sk: SK });
    expect(config.lastDays).toBe(7);
  });

  // [why, changes to MINIMAL, part of the resulting Config]
  const accepted: [string, Record<string, string | undefined>, Partial<Config>][] = [
    [
      'a 256-character project id is the documented maximum',
      { HSS_PROJECT_ID: 'p'.repeat(256) },
      { projectId: 'p'.repeat(256) },
    ],
    [
      'a region with a long name and a 3-digit suffix',
      { HSS_REGION: 'eu-west-101' },
      { region: 'eu-west-101' },
    ],
    [
      'a region whose middle part is long',
      { HSS_REGION: 'my-kualalumpur-1' },
      { region: 'my-kualalumpur-1' },
    ],
    [
      'an endpoint override replaces the region',
      { HSS_REGION: undefined, HSS_ENDPOINT: 'https://hss.example.com/' },
      { endpoint: 'https://hss.example.com' },
    ],
    [
      'a plain-http endpoint on loopback is a local emulator',
      { HSS_ENDPOINT: 'http://127.0.0.1:4010' },
      { endpoint: 'http://127.0.0.1:4010', region: 'cn-north-4' },
    ],
    [
      'all_granted_eps queries every enterprise project',
      { HSS_ENTERPRISE_PROJECT_ID: 'all_granted_eps' },
      { enterpriseProjectId: 'all_granted_eps' },
    ],
    [
      'temporary AK/SK carry a security token',
      { CLOUD_SDK_SECURITY_TOKEN: 'gQpjbi1ub3J0aC00token' },
      { auth: { kind: 'aksk', ak: AK, sk: SK, securityToken: 'gQpjbi1ub3J0aC00token' } },
    ],
    [
      'an IAM token replaces AK/SK',
      { CLOUD_SDK_AK: undefined, CLOUD_SDK_SK: undefined, HSS_AUTH_TOKEN: 'MIIEhgYJKoZIhvcNAQcCoIIEdzCC' },
      { auth: { kind: 'token', token: 'MIIEhgYJKoZIhvcNAQcCoIIEdzCC' } },
    ],
    ['the lowest rate', { HSS_RATE_LIMIT_PER_MINUTE: '1' }, { ratePerMinute: 1 }],
    ['the API-wide ceiling', { HSS_RATE_LIMIT_PER_MINUTE: '600' }, { ratePerMinute: 600 }],
    ['the longest window the API takes', { LAST_DAYS: '30' }, { lastDays: 30 }],
    [
      'statuses are case-insensitive, spaced, and deduplicated',
      { ALERT_STATUSES: 'Failed, timeout ,failed,skipped' },
      { alertStatuses: ['failed', 'timeout', 'skipped'] },
    ],
    ['a table name with dots and underscores', { STATE_TABLE: 'a.b_c-1' }, { stateTable: 'a.b_c-1' }],
    [
      'dynalite in another container',
      { DYNAMODB_ENDPOINT: 'http://dynalite:4567' },
      { dynamodbEndpoint: 'http://dynalite:4567' },
    ],
    ['an explicit AWS region', { AWS_REGION: 'eu-central-1' }, { awsRegion: 'eu-central-1' }],
    [
      'the CLI spelling of the AWS region',
      { AWS_DEFAULT_REGION: 'ap-northeast-1' },
      { awsRegion: 'ap-northeast-1' },
    ],
    [
      'a generic webhook alone is a destination',
      { SLACK_WEBHOOK_URL: undefined, WEBHOOK_URL: 'https://hooks.example.com/hss?key=abc' },
      { webhookUrl: 'https://hooks.example.com/hss?key=abc' },
    ],
    [
      'a Standard Webhooks secret',
      {
        WEBHOOK_URL: 'https://hooks.example.com/hss',
        WEBHOOK_SECRET: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
      },
      { webhookSecret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' },
    ],
    [
      'a raw secret of 24 characters',
      { WEBHOOK_URL: 'https://hooks.example.com/hss', WEBHOOK_SECRET: 'x'.repeat(24) },
      { webhookSecret: 'x'.repeat(24) },
    ],
    ['baseline, in any case', { BASELINE: 'TRUE' }, { baseline: true }],
    ['baseline off explicitly', { BASELINE: 'false' }, { baseline: false }],
    ['log level, normalised to upper case', { LOG_LEVEL: 'debug' }, { logLevel: 'DEBUG' }],
  ];

  it.each(accepted)('accepts %s', (_why, changes, expected) => {
    // Act
    const config = parseConfig({ ...MINIMAL, ...changes });
    // Assess
    expect(config).toMatchObject(expected);
  });

  // [why, changes to MINIMAL, the exact problem reported]
  const rejected: [string, Record<string, string | undefined>, string][] = [
    ['a missing project id', { HSS_PROJECT_ID: undefined }, 'HSS_PROJECT_ID is required (1..256 characters)'],
    [
      'a project id longer than the API takes',
      { HSS_PROJECT_ID: 'p'.repeat(257) },
      'HSS_PROJECT_ID must be 1..256 characters, got 257 characters',
    ],
    [
      'neither region nor endpoint',
      { HSS_REGION: undefined },
      'HSS_REGION is required (an HSS region such as cn-north-4) unless HSS_ENDPOINT is set',
    ],
    [
      'a region that is not a region id',
      { HSS_REGION: 'Beijing 4' },
      'HSS_REGION must be a region id such as cn-north-4 or ap-southeast-1, got "Beijing 4"',
    ],
    [
      'a plain-http endpoint off this machine',
      { HSS_ENDPOINT: 'http://hss.example.com' },
      'HSS_ENDPOINT must be an https URL of scheme and host only (http only to 127.0.0.0/8, ::1 or localhost), got http://hss.example.com/…',
    ],
    [
      'an endpoint with a query string',
      { HSS_ENDPOINT: 'https://hss.example.com/?x=1' },
      'HSS_ENDPOINT must be an https URL of scheme and host only (http only to 127.0.0.0/8, ::1 or localhost), got https://hss.example.com/…',
    ],
    [
      'an endpoint with a path the client would drop',
      { HSS_ENDPOINT: 'https://hss.example.com/v5' },
      'HSS_ENDPOINT must be an https URL of scheme and host only (http only to 127.0.0.0/8, ::1 or localhost), got https://hss.example.com/…',
    ],
    [
      'an enterprise project id longer than the API takes',
      { HSS_ENTERPRISE_PROJECT_ID: 'e'.repeat(257) },
      'HSS_ENTERPRISE_PROJECT_ID must be 1..256 characters, got 257 characters',
    ],
    [
      'no credentials at all',
      { CLOUD_SDK_AK: undefined, CLOUD_SDK_SK: undefined },
      'CLOUD_SDK_AK and CLOUD_SDK_SK are required (or HSS_AUTH_TOKEN for token auth)',
    ],
    [
      'an AK without its SK',
      { CLOUD_SDK_SK: undefined },
      'CLOUD_SDK_SK is required when CLOUD_SDK_AK is set',
    ],
    [
      'an SK without its AK',
      { CLOUD_SDK_AK: undefined },
      'CLOUD_SDK_AK is required when CLOUD_SDK_SK is set',
    ],
    [
      'two auth modes at once',
      { HSS_AUTH_TOKEN: 'MIIEhgYJKoZIhvcNAQcCoIIEdzCC' },
      'HSS_AUTH_TOKEN must not be set together with CLOUD_SDK_AK/CLOUD_SDK_SK (choose one auth mode)',
    ],
    [
      'a security token without AK/SK',
      {
        CLOUD_SDK_AK: undefined,
        CLOUD_SDK_SK: undefined,
        HSS_AUTH_TOKEN: 'tok-abcdef',
        CLOUD_SDK_SECURITY_TOKEN: 'sts-abcdef',
      },
      'CLOUD_SDK_SECURITY_TOKEN needs CLOUD_SDK_AK and CLOUD_SDK_SK (it belongs to temporary AK/SK)',
    ],
    [
      'an AK with a space inside',
      { CLOUD_SDK_AK: 'QTWA OYTT' },
      'CLOUD_SDK_AK must be at most 256 characters with no spaces (value not shown)',
    ],
    [
      'a rate of zero',
      { HSS_RATE_LIMIT_PER_MINUTE: '0' },
      'HSS_RATE_LIMIT_PER_MINUTE must be an integer 1..600, got "0"',
    ],
    [
      'a rate that is not a number',
      { HSS_RATE_LIMIT_PER_MINUTE: 'five' },
      'HSS_RATE_LIMIT_PER_MINUTE must be an integer 1..600, got "five"',
    ],
    ['a window beyond 30 days', { LAST_DAYS: '45' }, 'LAST_DAYS must be an integer 1..30, got "45"'],
    ['a fractional window', { LAST_DAYS: '1.5' }, 'LAST_DAYS must be an integer 1..30, got "1.5"'],
    [
      'an unknown status',
      { ALERT_STATUSES: 'failed,error' },
      'ALERT_STATUSES must be a comma-separated list of success/skipped/failed/running/timeout/waiting, got "error"',
    ],
    [
      'a list with nothing in it',
      { ALERT_STATUSES: ',' },
      'ALERT_STATUSES must be a comma-separated list of success/skipped/failed/running/timeout/waiting, got an empty list',
    ],
    ['a missing table', { STATE_TABLE: undefined }, 'STATE_TABLE is required (a DynamoDB table name)'],
    [
      'a table name with a slash',
      { STATE_TABLE: 'a/b' },
      'STATE_TABLE must be a DynamoDB table name (3..255 of A-Z a-z 0-9 _ . -), got "a/b"',
    ],
    [
      'a DynamoDB endpoint that is not http',
      { DYNAMODB_ENDPOINT: 'ftp://x' },
      'DYNAMODB_ENDPOINT must be an http(s) URL, got ftp://x/…',
    ],
    [
      'an AWS region that is not a region id',
      { AWS_REGION: 'virginia' },
      'AWS_REGION must be an AWS region id such as us-east-1, got "virginia"',
    ],
    [
      'no destination',
      { SLACK_WEBHOOK_URL: undefined },
      'SLACK_WEBHOOK_URL or WEBHOOK_URL is required (at least one destination)',
    ],
    [
      'a Slack webhook over plain http',
      { SLACK_WEBHOOK_URL: 'http://hooks.slack.com/services/T0001/B0001/slackTokenSecret1234' },
      'SLACK_WEBHOOK_URL must be an https URL (http only to 127.0.0.0/8, ::1 or localhost) without credentials, got http://hooks.slack.com/…',
    ],
    [
      'a webhook URL with credentials in it',
      { WEBHOOK_URL: 'https://user:pass@hooks.example.com/' },
      'WEBHOOK_URL must be an https URL (http only to 127.0.0.0/8, ::1 or localhost) without credentials, got https://hooks.example.com/…',
    ],
    [
      'a webhook secret that is too short to resist guessing',
      { WEBHOOK_URL: 'https://hooks.example.com/', WEBHOOK_SECRET: 'short-secret' },
      'WEBHOOK_SECRET must be whsec_<base64 key of 16+ bytes> or at least 24 characters (value not shown)',
    ],
    [
      'a whsec_ secret whose key is not base64',
      { WEBHOOK_URL: 'https://hooks.example.com/', WEBHOOK_SECRET: 'whsec_not*base64*at*all*but*long' },
      'WEBHOOK_SECRET must be whsec_<base64 key of 16+ bytes> or at least 24 characters (value not shown)',
    ],
    [
      'a webhook secret with nothing to sign',
      { WEBHOOK_SECRET: 'x'.repeat(24) },
      'WEBHOOK_SECRET is set but WEBHOOK_URL is not (the secret signs webhook deliveries)',
    ],
    ['a baseline that is not a boolean', { BASELINE: 'yes' }, 'BASELINE must be true or false, got "yes"'],
    [
      'an unknown log level',
      { LOG_LEVEL: 'verbose' },
      'LOG_LEVEL must be one of TRACE/DEBUG/INFO/WARN/ERROR/CRITICAL/SILENT, got "verbose"',
    ],
    [
      'an SSM parameter name left unresolved',
      { CLOUD_SDK_SK: undefined, CLOUD_SDK_SK_PARAM: '/hss-restore-alerts/dev/cloud-sdk-sk' },
      'CLOUD_SDK_SK_PARAM is set but CLOUD_SDK_SK was not read from SSM (resolveSecretParams runs before parseConfig)',
    ],
  ];

  it.each(rejected)('rejects %s with one clear message', (_why, changes, problem) => {
    // Act
    const error = configError({ ...MINIMAL, ...changes });
    // Assess
    expect(error.name).toBe('ConfigError');
    expect(error.message.startsWith('Invalid configuration: ')).toBe(true);
    expect(error.message).toBe(`Invalid configuration: ${problem}`);
  });

  it('reports every problem together in one message, naming no variable when there are several', () => {
    // Act
    const error = configError({
      ...MINIMAL,
      HSS_PROJECT_ID: undefined,
      LAST_DAYS: '45',
      SLACK_WEBHOOK_URL: undefined,
    });
    // Assess
    expect(error.message).toBe(
      'Invalid configuration: HSS_PROJECT_ID is required (1..256 characters); LAST_DAYS must be an integer 1..30, got "45"; ' +
        'SLACK_WEBHOOK_URL or WEBHOOK_URL is required (at least one destination)',
    );
    expect(error.variable).toBeUndefined();
  });

  it('names the variable on the error when exactly one is wrong', () => {
    expect(configError({ ...MINIMAL, LAST_DAYS: '0' }).variable).toBe('LAST_DAYS');
    expect(configError({ ...MINIMAL, SCHEDULE_PERIOD_SECONDS: 'five minutes' }).message).toMatch(
      /SCHEDULE_PERIOD_SECONDS must be an integer 60\.\.86400/,
    );
  });

  it('cuts a long non-secret value so the message stays readable', () => {
    const error = configError({ ...MINIMAL, HSS_REGION: `x${'y'.repeat(100)}` });
    expect(error.message).toContain(`got "x${'y'.repeat(39)}…"`);
  });
});

describe('secrets in configuration errors', () => {
  /** Environments that fail in every way a secret could be mentioned. */
  function badEnvironments(secret: string): Record<string, string | undefined>[] {
    return [
      { ...MINIMAL, CLOUD_SDK_AK: `${secret} x`, CLOUD_SDK_SK: secret },
      { ...MINIMAL, CLOUD_SDK_SK: secret, HSS_AUTH_TOKEN: secret },
      { ...MINIMAL, CLOUD_SDK_SK: `${secret}\t${secret}`, LAST_DAYS: '99' },
      { ...MINIMAL, CLOUD_SDK_AK: undefined, CLOUD_SDK_SK: secret },
      { ...MINIMAL, CLOUD_SDK_SECURITY_TOKEN: `a b ${secret}` },
      { ...MINIMAL, SLACK_WEBHOOK_URL: `http://hooks.slack.com/services/${secret}` },
      { ...MINIMAL, SLACK_WEBHOOK_URL: `not a url ${secret}` },
      { ...MINIMAL, WEBHOOK_URL: `https://user:${secret}@hooks.example.com/${secret}?token=${secret}` },
      { ...MINIMAL, WEBHOOK_SECRET: secret.slice(0, 23) },
      { ...MINIMAL, WEBHOOK_URL: 'https://hooks.example.com/', WEBHOOK_SECRET: `whsec_${secret}!` },
      // A secret pasted into the wrong variable as well as the right one.
      { ...MINIMAL, CLOUD_SDK_SK: secret, HSS_REGION: secret, STATE_TABLE: secret, LOG_LEVEL: secret },
      {
        ...MINIMAL,
        SLACK_WEBHOOK_URL: `https://hooks.slack.com/${secret}`,
        ALERT_STATUSES: `https://hooks.slack.com/${secret}`,
      },
    ];
  }

  it('never repeats a secret value in any error message', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[A-Za-z0-9+=_-]{8,80}$/), (secret) => {
        for (const env of badEnvironments(secret)) {
          const message = configError(env).message;
          expect(message).not.toContain(secret);
          expect(message).not.toContain(secret.slice(0, 40));
        }
      }),
      { numRuns: 200 },
    );
  });

  it('marks every secret variable as such', () => {
    expect([...SECRET_VARIABLES].sort()).toEqual(
      [
        'CLOUD_SDK_AK',
        'CLOUD_SDK_SECURITY_TOKEN',
        'CLOUD_SDK_SK',
        'HSS_AUTH_TOKEN',
        'SLACK_WEBHOOK_URL',
        'WEBHOOK_SECRET',
        'WEBHOOK_URL',
      ].sort(),
    );
  });
});

describe('URL rule for destinations and endpoints', () => {
  // [url, accepted?, why]
  const cases: [string, boolean, string][] = [
    ['https://hooks.example.com/hook', true, 'https anywhere'],
    ['http://127.0.0.1:8080/hook', true, 'a local sink'],
    ['http://127.10.20.30/hook', true, 'anywhere in 127.0.0.0/8'],
    ['http://[::1]:9000/hook', true, 'IPv6 loopback'],
    ['http://localhost:9000/hook', true, 'localhost by name'],
    ['http://hooks.example.com/hook', false, 'plain http leaves the machine in clear text'],
    ['http://128.0.0.1/hook', false, 'just outside the loopback range'],
    ['http://localhost.example.com/hook', false, 'a name that only starts like localhost'],
    ['http://10.0.0.5/hook', false, 'a private address is still a network'],
    ['ftp://hooks.example.com/hook', false, 'not HTTP at all'],
    ['hooks.example.com/hook', false, 'no scheme'],
  ];

  it.each(cases)('%s accepted: %s (%s)', (url, ok) => {
    // The endpoint is scheme and host only, so it is tried without the path.
    const values = { SLACK_WEBHOOK_URL: url, WEBHOOK_URL: url, HSS_ENDPOINT: url.replace(/\/hook$/, '') };
    for (const [variable, value] of Object.entries(values)) {
      const env = { ...MINIMAL, [variable]: value };
      if (ok) expect(() => parseConfig(env)).not.toThrow();
      else expect(configError(env).message).toContain(`${variable} must be an https`);
    }
  });
});

describe('describeConfig', () => {
  it('shows what is configured and no secret', () => {
    // Prepare
    const config = parseConfig({
      ...MINIMAL,
      CLOUD_SDK_SECURITY_TOKEN: 'sts-token-value-123456',
      WEBHOOK_URL: 'https://hooks.example.com/hss?key=webhookQueryToken',
      WEBHOOK_SECRET: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
    });
    // Act
    const view = describeConfig(config);
    const text = JSON.stringify(view);
    // Assess
    for (const secret of [
      AK,
      SK,
      'sts-token-value-123456',
      'slackTokenSecret1234',
      'webhookQueryToken',
      'MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
    ]) {
      expect(text).not.toContain(secret);
    }
    expect(view).toMatchObject({
      projectId: MINIMAL.HSS_PROJECT_ID,
      region: 'cn-north-4',
      auth: { kind: 'aksk', ak: '[redacted]', sk: '[redacted]', securityToken: '[redacted]' },
      slackWebhookUrl: 'https://hooks.slack.com/…',
      webhookUrl: 'https://hooks.example.com/…',
      webhookSecret: '[redacted]',
      lastDays: 1,
    });
  });

  it('redacts a token too', () => {
    const config = parseConfig({
      ...MINIMAL,
      CLOUD_SDK_AK: undefined,
      CLOUD_SDK_SK: undefined,
      HSS_AUTH_TOKEN: 'MIIEhgYJKoZIhvcNAQcCoIIEdzCC',
    });
    expect(describeConfig(config).auth).toEqual({ kind: 'token', token: '[redacted]' });
  });
});
