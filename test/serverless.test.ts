import { execFile, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { inflateRawSync } from 'node:zlib';

// Packages the real serverless.yml offline (no AWS call) and checks the CloudFormation it produces.

const ROOT = join(__dirname, '..');
// The YAML parser of DESTINATIONS_FILE is a third of it, evaluated only when a file is read.
const BUNDLE_LIMIT_BYTES = 480 * 1024;
const run = promisify(execFile);

/** `serverless package` of the real serverless.yml into `out`, with fake credentials and no profile. */
function packageService(out: string, params: string[]) {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    CI: 'true',
    SLS_TELEMETRY_DISABLED: '1',
    SLS_NOTIFICATIONS_MODE: 'off',
    AWS_ACCESS_KEY_ID: 'AKIAIOSFODNN7EXAMPLE',
    AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
  };
  delete env.AWS_PROFILE;
  return run(
    'npx',
    [
      '--no-install',
      'serverless',
      'package',
      '--stage',
      'test',
      '--package',
      out,
      '--param=hssProjectId=0123456789abcdef0123456789abcdef',
      '--param=hssRegion=ap-southeast-1',
      ...params,
    ],
    { cwd: ROOT, env, timeout: 110_000 },
  );
}

type Json = Record<string, unknown>;
interface Template {
  Resources: Record<string, { Type: string; Properties: Json; Condition?: string; DeletionPolicy?: string }>;
  Conditions?: Json;
  Parameters?: Record<string, Json>;
  Outputs?: Record<string, Json>;
}
interface Statement {
  Effect: string;
  Action: string[];
  Resource: unknown[];
  Condition?: Json;
}

/** The entries of a zip, read through its central directory: name, uncompressed size and content. */
function zipEntries(zip: Buffer): { name: string; size: number; content: Buffer }[] {
  const end = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  if (end < 0) throw new Error('not a zip file');
  const count = zip.readUInt16LE(end + 10);
  let at = zip.readUInt32LE(end + 16);
  const entries: { name: string; size: number; content: Buffer }[] = [];
  for (let i = 0; i < count; i += 1) {
    if (zip.readUInt32LE(at) !== 0x02014b50) throw new Error('bad central directory');
    const nameLength = zip.readUInt16LE(at + 28);
    const local = zip.readUInt32LE(at + 42);
    const dataAt = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
    const data = zip.subarray(dataAt, dataAt + zip.readUInt32LE(at + 20));
    entries.push({
      name: zip.toString('utf8', at + 46, at + 46 + nameLength),
      size: zip.readUInt32LE(at + 24),
      content: zip.readUInt16LE(at + 10) === 8 ? inflateRawSync(data) : data,
    });
    at += 46 + nameLength + zip.readUInt16LE(at + 30) + zip.readUInt16LE(at + 32);
  }
  return entries;
}

/** Seconds in one period of an EventBridge `rate(...)` expression. */
function rateSeconds(expression: string): number {
  const match = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/.exec(expression);
  if (match === null) throw new Error(`not a rate expression: ${expression}`);
  const unit = { minute: 60, hour: 3600, day: 86400 }[
    match[2]!.replace(/s$/, '') as 'minute' | 'hour' | 'day'
  ];
  return Number(match[1]) * unit;
}

describe('serverless.yml, packaged offline', () => {
  const out = mkdtempSync(join(tmpdir(), 'hss-sls-'));
  let template: Template;
  let resources: Template['Resources'];
  let statements: Statement[];

  beforeAll(async () => {
    // Act: fake credentials and no profile, so nothing here could reach a real account.
    await packageService(out, ['--param=alarmEmail=ops@example.com']);
    template = JSON.parse(
      readFileSync(join(out, 'cloudformation-template-update-stack.json'), 'utf8'),
    ) as Template;
    resources = template.Resources;
    const role = resources.IamRoleLambdaExecution!.Properties as {
      Policies: { PolicyDocument: { Statement: Statement[] } }[];
    };
    statements = role.Policies.flatMap((p) => p.PolicyDocument.Statement);
  }, 120_000);

  afterAll(() => rmSync(out, { recursive: true, force: true }));

  const fn = () => resources.PollLambdaFunction!.Properties;
  const schedule = () => Object.values(resources).find((r) => r.Type === 'AWS::Events::Rule')!.Properties;
  const period = () => rateSeconds(schedule().ScheduleExpression as string);

  it('runs the poll handler on Node 24 on arm64, reserving no concurrency unless asked', () => {
    expect(fn()).toMatchObject({
      Handler: 'handlers/poll.handler',
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      MemorySize: 256,
    });
    expect(fn()).not.toHaveProperty('ReservedConcurrentExecutions');
  });

  it('fires every minute and times out before the next tick', () => {
    expect(schedule()).toMatchObject({ ScheduleExpression: 'rate(1 minute)', State: 'ENABLED' });
    expect(fn().Timeout).toBe(50);
    expect(fn().Timeout as number).toBeLessThan(period());
  });

  it('logs in Lambda’s JSON format and maps stack traces back to the sources', () => {
    expect(fn().LoggingConfig).toEqual({ LogFormat: 'JSON' });
    const variables = (fn().Environment as { Variables: Record<string, unknown> }).Variables;
    expect(variables.NODE_OPTIONS).toBe('--enable-source-maps');
  });

  it('never retries a failed invocation and drops ticks older than one period', () => {
    const config = Object.values(resources).find(
      (r) => r.Type === 'AWS::Lambda::EventInvokeConfig',
    )!.Properties;
    expect(config.MaximumRetryAttempts).toBe(0);
    expect(config.MaximumEventAgeInSeconds).toBeLessThanOrEqual(period());
  });

  it('wires the configuration, with secrets only as SSM parameter names under the stage path', () => {
    const variables = (fn().Environment as { Variables: Record<string, unknown> }).Variables;
    expect(variables).toMatchObject({
      HSS_PROJECT_ID: '0123456789abcdef0123456789abcdef',
      HSS_REGION: 'ap-southeast-1',
      HSS_ENTERPRISE_PROJECT_ID: '0',
      HSS_RATE_LIMIT_PER_MINUTE: '5',
      LAST_DAYS: '1',
      ALERT_STATUSES: 'failed,timeout',
      BASELINE: 'false',
      STATE_TABLE: 'hss-restore-alerts-test-state',
      SCHEDULE_PERIOD_SECONDS: '60',
      CLOUD_SDK_AK_PARAM: '/hss-restore-alerts/test/cloud-sdk-ak',
      CLOUD_SDK_SK_PARAM: '/hss-restore-alerts/test/cloud-sdk-sk',
      SLACK_WEBHOOK_URL_PARAM: '/hss-restore-alerts/test/slack-webhook-url',
      POWERTOOLS_SERVICE_NAME: 'hss-restore-alerts',
      STAGE: 'test',
    });
    for (const secret of [
      'CLOUD_SDK_AK',
      'CLOUD_SDK_SK',
      'HSS_AUTH_TOKEN',
      'SLACK_WEBHOOK_URL',
      'WEBHOOK_URL',
      'WEBHOOK_SECRET',
    ]) {
      expect(variables).not.toHaveProperty(secret);
    }
  });

  it('keeps state in an on-demand table with the keys, index, TTL and backups lib/state expects', () => {
    const table = resources.StateTable!;
    expect(table.Type).toBe('AWS::DynamoDB::Table');
    expect(table.DeletionPolicy).toBe('Retain');
    expect(table.Properties).toMatchObject({
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      GlobalSecondaryIndexes: [
        {
          IndexName: 'gsi1',
          KeySchema: [
            { AttributeName: 'g1pk', KeyType: 'HASH' },
            { AttributeName: 'g1sk', KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'ALL' },
        },
      ],
      TimeToLiveSpecification: { AttributeName: 'ttl', Enabled: true },
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
    });
    expect(table.Properties.AttributeDefinitions).toEqual(
      ['pk', 'sk', 'g1pk', 'g1sk'].map((name) => ({ AttributeName: name, AttributeType: 'S' })),
    );
  });

  it('grants exactly the DynamoDB actions the store uses, on the table and its indexes only', () => {
    const dynamo = statements.filter((s) => s.Action.some((a) => a.startsWith('dynamodb:')));
    expect(dynamo).toHaveLength(1);
    expect([...dynamo[0]!.Action].sort()).toEqual(
      [
        'dynamodb:BatchGetItem',
        'dynamodb:BatchWriteItem',
        'dynamodb:DeleteItem',
        'dynamodb:GetItem',
        'dynamodb:PutItem',
        'dynamodb:Query',
        'dynamodb:UpdateItem',
      ].sort(),
    );
    expect(dynamo[0]!.Resource).toEqual([
      { 'Fn::GetAtt': ['StateTable', 'Arn'] },
      { 'Fn::Join': ['', [{ 'Fn::GetAtt': ['StateTable', 'Arn'] }, '/index/*']] },
    ]);
  });

  it('grants no wildcard action or resource anywhere', () => {
    for (const statement of statements) {
      expect(statement.Effect).toBe('Allow');
      expect(statement.Action.filter((a) => a === '*' || a.endsWith(':*'))).toEqual([]);
      expect(statement.Resource).not.toContain('*');
    }
  });

  it('reads only this stage’s SSM parameters and decrypts only through SSM', () => {
    const ssm = statements.filter((s) => s.Action.some((a) => a.startsWith('ssm:')));
    expect(ssm).toHaveLength(1);
    expect(ssm[0]!.Action).toEqual(['ssm:GetParameters']);
    expect(JSON.stringify(ssm[0]!.Resource)).toContain('":ssm:"');
    expect(JSON.stringify(ssm[0]!.Resource)).toContain('":parameter/hss-restore-alerts/test/*"');
    const kms = statements.filter((s) => s.Action.some((a) => a.startsWith('kms:')));
    expect(kms).toHaveLength(1);
    expect(kms[0]!.Action).toEqual(['kms:Decrypt']);
    expect(kms[0]!.Condition).toEqual({
      StringEquals: {
        'kms:ViaService': { 'Fn::Join': ['', ['ssm.', { Ref: 'AWS::Region' }, '.amazonaws.com']] },
      },
    });
  });

  const topic = { 'Fn::If': ['HasAlarmTopicArn', { Ref: 'AlarmTopicArn' }, { Ref: 'AlarmTopic' }] };
  const stageDimensions = [
    { Name: 'service', Value: 'hss-restore-alerts' },
    { Name: 'stage', Value: 'test' },
  ];
  const alarms = () => Object.entries(resources).filter(([, r]) => r.Type === 'AWS::CloudWatch::Alarm');

  it('sends every alarm and its recovery to the alarm topic in use', () => {
    expect(
      alarms()
        .map(([name]) => name)
        .sort(),
    ).toEqual(['DestinationsFailingAlarm', 'HssThrottledAlarm', 'PollErrorsAlarm', 'PollMissedAlarm'].sort());
    for (const [, alarm] of alarms()) {
      expect(alarm.Properties).toMatchObject({ AlarmActions: [topic], OKActions: [topic] });
    }
  });

  it('alarms on function errors in 2 of 3 periods, not on a single transient one', () => {
    expect(resources.PollErrorsAlarm!.Properties).toMatchObject({
      Namespace: 'AWS/Lambda',
      MetricName: 'Errors',
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: 'PollLambdaFunction' } }],
      Statistic: 'Sum',
      Period: period(),
      EvaluationPeriods: 3,
      DatapointsToAlarm: 2,
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
    });
  });

  it('alarms when no poll succeeded in 3 of 4 periods once the stage has polled, never before', () => {
    expect(resources.PollMissedAlarm!.Properties).toMatchObject({
      Metrics: [
        {
          Id: 'succeeded',
          ReturnData: false,
          MetricStat: {
            Metric: {
              Namespace: 'HssRestoreAlerts',
              MetricName: 'PollSucceeded',
              Dimensions: stageDimensions,
            },
            Period: period(),
            Stat: 'Sum',
          },
        },
        {
          Id: 'missed',
          Expression: 'IF(RUNNING_SUM(FILL(succeeded, 0)) > 0, FILL(succeeded, 0), 1)',
          ReturnData: true,
        },
      ],
      EvaluationPeriods: 4,
      DatapointsToAlarm: 3,
      Threshold: 1,
      ComparisonOperator: 'LessThanThreshold',
      // No data at all (a stage that never ran, or silent longer than the window) keeps the state.
      TreatMissingData: 'ignore',
    });
  });

  it('alarms on a destination failing for good and on HSS throttling, within one period', () => {
    for (const [name, metric, statistic] of [
      ['DestinationsFailingAlarm', 'DestinationsFailing', 'Maximum'],
      ['HssThrottledAlarm', 'HssThrottled', 'Sum'],
    ] as const) {
      expect(resources[name]!.Properties).toMatchObject({
        Namespace: 'HssRestoreAlerts',
        MetricName: metric,
        Dimensions: stageDimensions,
        Statistic: statistic,
        Period: period(),
        EvaluationPeriods: 1,
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        TreatMissingData: 'notBreaching',
      });
    }
  });

  it('subscribes the e-mail given and creates the topic, as stack parameters defaulting to the params', () => {
    expect(template.Parameters).toMatchObject({
      AlarmEmail: { Type: 'String', Default: 'ops@example.com' },
      AlarmHttpsUrl: { Type: 'String', Default: '' },
      AlarmTopicArn: { Type: 'String', Default: '' },
    });
    expect(template.Conditions).toEqual({
      HasAlarmEmail: { 'Fn::Not': [{ 'Fn::Equals': [{ Ref: 'AlarmEmail' }, ''] }] },
      HasAlarmHttpsUrl: { 'Fn::Not': [{ 'Fn::Equals': [{ Ref: 'AlarmHttpsUrl' }, ''] }] },
      HasAlarmTopicArn: { 'Fn::Not': [{ 'Fn::Equals': [{ Ref: 'AlarmTopicArn' }, ''] }] },
      CreatesAlarmTopic: { 'Fn::Equals': [{ Ref: 'AlarmTopicArn' }, ''] },
    });
    expect(resources.AlarmTopic!.Condition).toBe('CreatesAlarmTopic');
    expect(resources.AlarmEmailSubscription).toMatchObject({
      Condition: 'HasAlarmEmail',
      Properties: { TopicArn: topic, Protocol: 'email', Endpoint: { Ref: 'AlarmEmail' } },
    });
    expect(resources.AlarmHttpsSubscription).toMatchObject({
      Condition: 'HasAlarmHttpsUrl',
      Properties: { TopicArn: topic, Protocol: 'https', Endpoint: { Ref: 'AlarmHttpsUrl' } },
    });
    expect(template.Outputs!.AlarmTopicArn).toEqual({ Value: topic });
  });

  it('ships one bundled handler within 400 KB and its source map, without the AWS SDK the runtime provides', () => {
    // Act
    const zipPath = join(out, 'hss-restore-alerts.zip');
    const entries = zipEntries(readFileSync(zipPath));
    const size = (name: string) => entries.find((e) => e.name === name)?.size;
    console.log(
      `hss-restore-alerts.zip: ${statSync(zipPath).size} bytes zipped; poll.js ${size('handlers/poll.js')} bytes, poll.js.map ${size('handlers/poll.js.map')} bytes`,
    );
    // Assess
    expect(entries.map((e) => e.name).sort()).toEqual(['handlers/poll.js', 'handlers/poll.js.map']);
    expect(size('handlers/poll.js')).toBeLessThanOrEqual(BUNDLE_LIMIT_BYTES);
    // The SDK stays a runtime require, not bundled code.
    const handler = entries.find((e) => e.name === 'handlers/poll.js')!.content.toString('utf8');
    expect(handler).toContain('require("@aws-sdk/client-dynamodb")');
    expect(handler).toContain('require("@aws-sdk/client-ssm")');
    // What bundle/esbuild-plugins.cjs cuts from axios (the DynamoDB client still loads http2 itself).
    expect(handler).not.toMatch(/require\("(node:)?http2"\)|follow-redirects|proxy-from-env/);
    expect(handler).toMatch(/\/\/# sourceMappingURL=poll\.js\.map\s*$/);
  });

  describe('the packaged bundle, loaded by node as the Lambda runtime loads it', () => {
    const unpacked = join(out, 'unpacked');
    /** Runs `code` in a fresh node with the bundle as `handler`; the SDK resolves from node_modules (NODE_PATH, as on Lambda). */
    const node = (code: string, env: NodeJS.ProcessEnv = {}) => {
      const child = spawnSync(
        process.execPath,
        [
          '-e',
          `const { handler } = require(${JSON.stringify(join(unpacked, 'handlers/poll.js'))});\n${code}`,
        ],
        {
          cwd: unpacked,
          encoding: 'utf8',
          env: {
            PATH: process.env.PATH,
            NODE_PATH: join(ROOT, 'node_modules'),
            AWS_REGION: 'us-east-1',
            AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
            POWERTOOLS_LOG_LEVEL: 'SILENT',
            POWERTOOLS_METRICS_DISABLED: 'true',
            ...env,
          },
        },
      );
      return { stdout: child.stdout.trim(), stderr: child.stderr, status: child.status };
    };

    beforeAll(() => {
      for (const entry of zipEntries(readFileSync(join(out, 'hss-restore-alerts.zip')))) {
        mkdirSync(dirname(join(unpacked, entry.name)), { recursive: true });
        writeFileSync(join(unpacked, entry.name), entry.content);
      }
    });

    it('loads neither the SSM client nor Node’s undici (which axios’ fetch and FormData probes load)', () => {
      const loaded = node(
        [
          'const modules = Object.keys(require.cache).filter((m) => /client-ssm/.test(m));',
          'const internals = process.moduleLoadList.filter((m) => /undici/.test(m));',
          'console.log(JSON.stringify({ handler: typeof handler, modules, internals }));',
        ].join('\n'),
      );
      expect(loaded.status).toBe(0);
      expect(JSON.parse(loaded.stdout)).toEqual({ handler: 'function', modules: [], internals: [] });
    });

    it('names lib/...:line in the stack trace of a failed poll, through the source map', () => {
      const failed = node(
        "handler({}, { functionName: 'poll', awsRequestId: 'r', getRemainingTimeInMillis: () => 1000 }).catch((e) => console.log(e.stack));",
        { NODE_OPTIONS: '--enable-source-maps' },
      );
      expect(failed.stdout).toMatch(/^ConfigError: Invalid configuration: /);
      expect(failed.stdout).toMatch(/at parseConfig \(.*lib\/config\/index\.ts:\d+:\d+\)/);
    });
  });

  it('passes cfn-lint with no error or warning (cfn-lint must be installed: pip install cfn-lint)', async () => {
    const lint = await run('cfn-lint', [join(out, 'cloudformation-template-update-stack.json')], {
      timeout: 60_000,
    }).then(
      () => ({ code: 0, output: '' }),
      (err: { code?: number | string; stdout?: string; message: string }) => ({
        code: err.code,
        output:
          err.code === 'ENOENT'
            ? 'cfn-lint is not installed (pip install cfn-lint)'
            : (err.stdout ?? err.message),
      }),
    );
    expect(lint).toEqual({ code: 0, output: '' });
  });
});

describe('serverless.yml without an alarm destination', () => {
  it('refuses to package, saying in one line which params reach someone', async () => {
    // Prepare
    const out = mkdtempSync(join(tmpdir(), 'hss-sls-'));
    // Act
    const failure = await packageService(out, []).then(
      () => undefined,
      (err: { stdout?: string; stderr?: string }) => `${err.stdout ?? ''}${err.stderr ?? ''}`,
    );
    rmSync(out, { recursive: true, force: true });
    // Assess
    expect(failure).toContain(
      'Alarm destination: none given, so the alarms would reach nobody: pass at least one of --param="alarmEmail=you@example.com", --param="alarmHttpsUrl=https://..." or --param="alarmTopicArn=arn:aws:sns:..." (see README, Deploying).',
    );
  }, 120_000);

  it.each([
    [{ email: 'ops@example.com' }, []],
    [{ httpsUrl: 'https://alerts.example.com/sns?token=abc' }, []],
    [{ topicArn: 'arn:aws-cn:sns:cn-north-4:123456789012:ops-alarms' }, []],
    [{ email: 'ops' }, ['alarmEmail is not an e-mail address: ops']],
    // The URL may hold a token: it is never echoed.
    [{ httpsUrl: 'http://alerts.example.com/?token=abc' }, ['alarmHttpsUrl must be an https:// URL']],
    [
      { topicArn: 'arn:aws:sqs:us-east-1:123456789012:q' },
      [expect.stringMatching(/^alarmTopicArn is not an SNS topic ARN/)],
    ],
  ])('judges the destination params %j', (given, problems) => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { alarmDestinationProblems } = require('../deploy/alarm-destination.cjs') as {
      alarmDestinationProblems: (d: Record<string, string>) => string[];
    };
    expect(alarmDestinationProblems(given)).toEqual(problems);
  });
});
