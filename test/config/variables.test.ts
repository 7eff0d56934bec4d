import { parseConfig, type Config } from '../../lib/config';
import { SECRET_VARIABLES, VARIABLES } from '../../lib/config/variables';
import { check, type Rule } from '../../lib/rules';
import { CHANNELS } from '../../lib/notify/channels';
import { AK, MINIMAL, PD_KEY, PROJECT, SK, SLACK, WHSEC, configError, problemsOf } from './fixtures';

describe('parseConfig on a minimal environment', () => {
  it('applies every documented default', () => {
    // Act
    const config = parseConfig(MINIMAL);
    // Assess
    expect(config).toEqual<Config>({
      scopes: [{ region: 'cn-north-4', projectId: PROJECT, enterpriseProjectId: '0', credential: 'default' }],
      credentials: { default: { kind: 'aksk', ak: AK, sk: SK } },
      ratePerMinute: 5,
      lastDays: 1,
      periodSeconds: 60,
      checksPerMinute: 1,
      alertStatuses: ['failed', 'timeout'],
      stateTable: 'hss-restore-alerts-dev-state',
      stateNamespace: 'default',
      awsRegion: 'us-east-1',
      destinations: [{ type: 'slack', name: 'slack', url: SLACK, routing: {} }],
      destinationDegradedAfterMinutes: 30,
      baseline: false,
      lifecycle: { stuckAfterMinutes: 60, stuckMaxHours: 6, notifyResolved: true, remindAfterHours: 24 },
    });
  });

  it('treats blank values as unset, as deployment tools write unset optional variables as ""', () => {
    const config = parseConfig({
      ...MINIMAL,
      HSS_ENDPOINT: '',
      LAST_DAYS: '  ',
      WEBHOOK_URL: '',
      LOG_LEVEL: '',
    });
    expect(config.endpoint).toBeUndefined();
    expect(config.lastDays).toBe(1);
    expect(config.destinations.map((d) => d.type)).toEqual(['slack']);
    expect(config.logLevel).toBeUndefined();
  });

  it('trims surrounding whitespace, such as the newline of a pasted secret', () => {
    const config = parseConfig({ ...MINIMAL, CLOUD_SDK_SK: `${SK}\n`, LAST_DAYS: ' 7 ' });
    expect(config.credentials.default).toEqual({ kind: 'aksk', ak: AK, sk: SK });
    expect(config.lastDays).toBe(7);
  });
});

describe('each variable', () => {
  // [why, changes to MINIMAL, part of the resulting Config]
  const accepted: [string, Record<string, string | undefined>, Partial<Config>][] = [
    ['the lowest rate', { HSS_RATE_LIMIT_PER_MINUTE: '1' }, { ratePerMinute: 1 }],
    ['the API-wide ceiling', { HSS_RATE_LIMIT_PER_MINUTE: '600' }, { ratePerMinute: 600 }],
    ['the longest window the API takes', { LAST_DAYS: '30' }, { lastDays: 30 }],
    [
      'statuses are case-insensitive, spaced, and deduplicated',
      { ALERT_STATUSES: 'Failed, timeout ,failed,skipped' },
      { alertStatuses: ['failed', 'timeout', 'skipped'] },
    ],
    ['the shortest schedule period', { SCHEDULE_PERIOD_SECONDS: '60' }, { periodSeconds: 60 }],
    ['a daily schedule', { SCHEDULE_PERIOD_SECONDS: '86400' }, { periodSeconds: 86_400 }],
    ['a CLI poll budget', { POLL_BUDGET_SECONDS: '10' }, { pollBudgetSeconds: 10 }],
    [
      'a destination degraded after an hour',
      { DESTINATION_DEGRADED_AFTER_MINUTES: '60' },
      { destinationDegradedAfterMinutes: 60 },
    ],
    ['a table name with dots and underscores', { STATE_TABLE: 'a.b_c-1' }, { stateTable: 'a.b_c-1' }],
    ['a namespace per stack', { STATE_NAMESPACE: 'prod.cn_2-a' }, { stateNamespace: 'prod.cn_2-a' }],
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
      'AWS_REGION wins over the CLI spelling',
      { AWS_REGION: 'eu-central-1', AWS_DEFAULT_REGION: 'ap-northeast-1' },
      { awsRegion: 'eu-central-1' },
    ],
    ['baseline, in any case', { BASELINE: 'TRUE' }, { baseline: true }],
    ['log level, normalised to upper case', { LOG_LEVEL: 'debug' }, { logLevel: 'DEBUG' }],
    [
      'stuck after the shortest stall',
      { STUCK_AFTER_MINUTES: '5' },
      { lifecycle: expect.objectContaining({ stuckAfterMinutes: 5 }) },
    ],
    [
      'stuck after a week at most',
      { STUCK_AFTER_MINUTES: '10080' },
      { lifecycle: expect.objectContaining({ stuckAfterMinutes: 10_080 }) },
    ],
    [
      'stuck max hours',
      { STUCK_MAX_HOURS: '720' },
      { lifecycle: expect.objectContaining({ stuckMaxHours: 720 }) },
    ],
    [
      'resolved notices off',
      { NOTIFY_RESOLVED: 'False' },
      { lifecycle: expect.objectContaining({ notifyResolved: false }) },
    ],
    [
      'reminders off with 0',
      { REMIND_AFTER_HOURS: '0' },
      { lifecycle: expect.objectContaining({ remindAfterHours: 0 }) },
    ],
    [
      'a daily summary in UTC by default',
      { DAILY_SUMMARY_AT: '09:00' },
      { lifecycle: expect.objectContaining({ dailySummary: { at: '09:00', timeZone: 'UTC' } }) },
    ],
    [
      'a daily summary at a one-digit hour, in a zone written in lower case',
      { DAILY_SUMMARY_AT: '7:30', DAILY_SUMMARY_TZ: 'asia/shanghai' },
      { lifecycle: expect.objectContaining({ dailySummary: { at: '07:30', timeZone: 'Asia/Shanghai' } }) },
    ],
  ];

  it.each(accepted)('accepts %s', (_why, changes, expected) => {
    // Act
    const config = parseConfig({ ...MINIMAL, ...changes });
    // Assess
    expect(config).toMatchObject(expected);
  });

  // [why, changes to MINIMAL, the exact problem reported]
  const rejected: [string, Record<string, string | undefined>, string][] = [
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
    [
      'a destination degraded before it could be retried',
      { DESTINATION_DEGRADED_AFTER_MINUTES: '1' },
      'DESTINATION_DEGRADED_AFTER_MINUTES must be an integer 5..1440, got "1"',
    ],
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
    [
      'a period shorter than the one-minute schedule',
      { SCHEDULE_PERIOD_SECONDS: '30' },
      'SCHEDULE_PERIOD_SECONDS must be an integer 60..86400, got "30"',
    ],
    [
      'a poll budget too short to make one call',
      { POLL_BUDGET_SECONDS: '5' },
      'POLL_BUDGET_SECONDS must be an integer 10..86400, got "5"',
    ],
    [
      'a missing table',
      { STATE_TABLE: undefined },
      'STATE_TABLE is required (3..255 characters, A-Z a-z 0-9 _ . -)',
    ],
    [
      'a table name with a slash',
      { STATE_TABLE: 'a/b' },
      'STATE_TABLE must be 3..255 characters, A-Z a-z 0-9 _ . -, got "a/b"',
    ],
    [
      'a namespace with a space',
      { STATE_NAMESPACE: 'prod cn' },
      'STATE_NAMESPACE must be 1..64 characters, A-Z a-z 0-9 _ . -, got "prod cn"',
    ],
    [
      'a namespace longer than 64 characters',
      { STATE_NAMESPACE: 'n'.repeat(65) },
      'STATE_NAMESPACE must be 1..64 characters, A-Z a-z 0-9 _ . -, got 65 characters',
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
    ['a baseline that is not a boolean', { BASELINE: 'yes' }, 'BASELINE must be true or false, got "yes"'],
    [
      'an unknown log level',
      { LOG_LEVEL: 'verbose' },
      'LOG_LEVEL must be one of TRACE/DEBUG/INFO/WARN/ERROR/CRITICAL/SILENT, got "verbose"',
    ],
    [
      'a stall shorter than 5 minutes',
      { STUCK_AFTER_MINUTES: '4' },
      'STUCK_AFTER_MINUTES must be an integer 5..10080, got "4"',
    ],
    [
      'a maximum run of 0 hours',
      { STUCK_MAX_HOURS: '0' },
      'STUCK_MAX_HOURS must be an integer 1..720, got "0"',
    ],
    ['resolved notices "no"', { NOTIFY_RESOLVED: 'no' }, 'NOTIFY_RESOLVED must be true or false, got "no"'],
    [
      'a reminder every 31 days',
      { REMIND_AFTER_HOURS: '744' },
      'REMIND_AFTER_HOURS must be an integer 0..720, got "744"',
    ],
    [
      'a summary at 24:00',
      { DAILY_SUMMARY_AT: '24:00' },
      'DAILY_SUMMARY_AT must be a time HH:MM (24-hour clock), got "24:00"',
    ],
    [
      'a summary in a time zone that does not exist',
      { DAILY_SUMMARY_AT: '09:00', DAILY_SUMMARY_TZ: 'Asia/Beijing' },
      'DAILY_SUMMARY_TZ must be an IANA time zone such as Asia/Shanghai or UTC, got "Asia/Beijing"',
    ],
    [
      'a summary zone without a summary time',
      { DAILY_SUMMARY_TZ: 'Asia/Shanghai' },
      'DAILY_SUMMARY_TZ is set but DAILY_SUMMARY_AT is not (it only applies with DAILY_SUMMARY_AT)',
    ],
    [
      'a non-secret variable named by SSM parameter',
      { STATE_TABLE_PARAM: '/x/table' },
      'STATE_TABLE_PARAM is not read: only secret variables (and DESTINATIONS_FILE) may come from SSM, set STATE_TABLE itself',
    ],
  ];

  it.each(rejected)('rejects %s with one clear message', (_why, changes, problem) => {
    // Act
    const error = configError({ ...MINIMAL, ...changes });
    // Assess
    expect(error.name).toBe('ConfigError');
    expect(error.message).toBe(`Invalid configuration: ${problem}`);
  });
});

describe('problems together', () => {
  it('reports every problem in one message, naming no variable when there are several', () => {
    // Act
    const error = configError({
      ...MINIMAL,
      STATE_TABLE: undefined,
      LAST_DAYS: '45',
      SLACK_WEBHOOK_URL: undefined,
    });
    // Assess
    expect(problemsOf(error)).toEqual([
      'LAST_DAYS must be an integer 1..30, got "45"',
      'STATE_TABLE is required (3..255 characters, A-Z a-z 0-9 _ . -)',
      expect.stringMatching(
        /^no destination: set one of SLACK_WEBHOOK_URL, WEBHOOK_URL, TEAMS_WEBHOOK_URL, /,
      ),
    ]);
    expect(error.variable).toBeUndefined();
  });

  it('names the variable on the error when all problems are about one', () => {
    expect(configError({ ...MINIMAL, LAST_DAYS: '0' }).variable).toBe('LAST_DAYS');
  });

  it('does not report a refused value again in the checks that use it', () => {
    // A refused PagerDuty severity falls back to its default: only its own problem is reported.
    const error = configError({
      ...MINIMAL,
      PAGERDUTY_ROUTING_KEY: PD_KEY,
      PAGERDUTY_SEVERITY_FAILED: 'sev1',
    });
    expect(problemsOf(error)).toEqual([
      'PAGERDUTY_SEVERITY_FAILED must be one of critical/error/warning/info, got "sev1"',
    ]);
  });

  it('cuts a long non-secret value so the message stays readable', () => {
    const error = configError({ ...MINIMAL, HSS_REGION: `x${'y'.repeat(100)}` });
    expect(error.message).toContain(`got "x${'y'.repeat(39)}…"`);
  });
});

describe('the table of variables', () => {
  const entries = Object.entries(VARIABLES);

  it.each(entries.filter(([, v]) => 'default' in v))(
    '%s: its default passes its own rule',
    (name, variable) => {
      const checked = check(variable.rule as Rule<unknown>, (variable as { default: string }).default, name);
      expect(checked).toMatchObject({ ok: true });
    },
  );

  it('lets a variable depend only on a variable of the table', () => {
    const needs = entries.flatMap(([, v]) => ('needs' in v && v.needs !== undefined ? [v.needs] : []));
    expect(needs.length).toBeGreaterThan(0);
    expect(needs.filter((n) => !(n in VARIABLES))).toEqual([]);
  });

  it("marks every credential as a secret, and no other variable but channels' URLs, keys and signing secrets", () => {
    // Which of a channel's variables are secrets is checked against what its fixture holds, channel by
    // channel, in test/config/channels.test.ts.
    const channelVariables = new Set(CHANNELS.flatMap((channel) => Object.keys(channel.variables)));
    expect(SECRET_VARIABLES.filter((name) => !channelVariables.has(name)).sort()).toEqual(
      ['CLOUD_SDK_AK', 'CLOUD_SDK_SK', 'CLOUD_SDK_SECURITY_TOKEN', 'HSS_AUTH_TOKEN'].sort(),
    );
  });

  it('keeps a webhook secret of the documented form', () => {
    expect(
      parseConfig({ ...MINIMAL, WEBHOOK_URL: 'https://hooks.example.com/h', WEBHOOK_SECRET: WHSEC })
        .destinations,
    ).toContainEqual({
      type: 'webhook',
      name: 'webhook',
      url: 'https://hooks.example.com/h',
      secret: WHSEC,
      routing: {},
    });
  });
});
