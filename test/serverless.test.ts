import { execFile, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { inflateRawSync } from 'node:zlib';
import { main } from '../cli/main';
import { parseConfig, type SsmParameters } from '../lib/config';
import { pollMetrics } from '../handlers/metrics';
import { RETRY_POLICY } from '../lib/outbox/plan';
import { startLocalStack, type LocalStack } from '../local/stack';
import { PD_KEY } from './config/fixtures';
import { quietSummary, readmeMetricRows, troubledSummary } from './metrics-fixtures';
import { sharedEndpoint } from './support/dynamodb-local';
import { serverlessCliEnv } from './support/serverless';

// Packages the real serverless.yml offline (no AWS call) and checks the CloudFormation it produces.
// Every packaging is in this file, one after the other: serverless-esbuild shares one work folder.

const ROOT = join(__dirname, '..');
// The YAML parser of DESTINATIONS_FILE is a third of it, evaluated only when a file is read.
const BUNDLE_LIMIT_KB = 490;
const run = promisify(execFile);
/** The one-scope form most tests package with. */
const ONE_SCOPE = [
  '--param=hssProjectId=0123456789abcdef0123456789abcdef',
  '--param=hssRegion=ap-southeast-1',
];

/**
 * `serverless package` of the real serverless.yml into `out`, with fake credentials and no profile:
 * `scope` (default ONE_SCOPE) and `params` (any other option too; stage `test` unless one is given).
 */
function packageService(out: string, params: string[], scope: string[] = ONE_SCOPE) {
  const env: NodeJS.ProcessEnv = {
    ...serverlessCliEnv(),
    CI: 'true',
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
      ...(params.includes('--stage') ? [] : ['--stage', 'test']),
      '--package',
      out,
      ...scope,
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

/** The packaged template and the region and stack tags osls will deploy it with. */
function readPackage(out: string): {
  template: Template;
  provider: { region: string; stage: string; stackTags?: Json };
} {
  const template = JSON.parse(
    readFileSync(join(out, 'cloudformation-template-update-stack.json'), 'utf8'),
  ) as Template;
  const state = JSON.parse(readFileSync(join(out, 'serverless-state.json'), 'utf8')) as {
    service: { provider: { region: string; stage: string; stackTags?: Json } };
  };
  return { template, provider: state.service.provider };
}

/** The poll function's environment in the template. */
function functionEnv(template: Template): Record<string, string> {
  return (
    template.Resources.PollLambdaFunction!.Properties.Environment as { Variables: Record<string, string> }
  ).Variables;
}

/** A plausible secret for each variable a `_PARAM` may name (values are fake). */
const SAMPLE_SECRETS: Record<string, string> = {
  CLOUD_SDK_AK: 'AKEXAMPLE000000000',
  CLOUD_SDK_SK: 'SKEXAMPLE000000000000000000000000',
  SLACK_WEBHOOK_URL: 'https://hooks.slack.com/services/T0/B0/sampleSecretPath',
  TEAMS_WEBHOOK_URL:
    'https://prod-1.westeurope.logic.azure.com/workflows/x/triggers/manual/paths/invoke?sig=y',
  PAGERDUTY_ROUTING_KEY: PD_KEY,
};

/**
 * Runs the packaged environment through the config parser as the function would at a cold start
 * in `region`, with every SSM parameter it names present (a SecureString with a sample value).
 */
function parsePackaged(env: Record<string, string>, region: string) {
  const parameters: Record<string, { value: string; type: string }> = {};
  for (const [variable, name] of Object.entries(env)) {
    if (!variable.endsWith('_PARAM') || name === '') continue;
    const value = SAMPLE_SECRETS[variable.slice(0, -'_PARAM'.length)];
    if (value === undefined) throw new Error(`no sample secret for ${variable}`);
    parameters[name] = { value, type: 'SecureString' };
  }
  return parseConfig({ ...env, AWS_REGION: region }, { parameters: parameters as SsmParameters });
}
interface Statement {
  Effect: string;
  Action: string[];
  Resource: unknown[];
  Condition?: Json;
}

/** The entries of a zip, read through its central directory: name, sizes (uncompressed, compressed) and content. */
function zipEntries(zip: Buffer): { name: string; size: number; compressed: number; content: Buffer }[] {
  const end = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  if (end < 0) throw new Error('not a zip file');
  const count = zip.readUInt16LE(end + 10);
  let at = zip.readUInt32LE(end + 16);
  const entries: { name: string; size: number; compressed: number; content: Buffer }[] = [];
  for (let i = 0; i < count; i += 1) {
    if (zip.readUInt32LE(at) !== 0x02014b50) throw new Error('bad central directory');
    const nameLength = zip.readUInt16LE(at + 28);
    const local = zip.readUInt32LE(at + 42);
    const dataAt = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
    const data = zip.subarray(dataAt, dataAt + zip.readUInt32LE(at + 20));
    entries.push({
      name: zip.toString('utf8', at + 46, at + 46 + nameLength),
      size: zip.readUInt32LE(at + 24),
      compressed: zip.readUInt32LE(at + 20),
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
  let provider: ReturnType<typeof readPackage>['provider'];
  let resources: Template['Resources'];
  let statements: Statement[];

  beforeAll(async () => {
    // Act: fake credentials and no profile, so nothing here could reach a real account.
    await packageService(out, ['--param=alarmEmail=ops@example.com']);
    ({ template, provider } = readPackage(out));
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
      // Unset, so that hssScopes alone is one form of scopes; the function's default is 0.
      HSS_ENTERPRISE_PROJECT_ID: '',
      HSS_RATE_LIMIT_PER_MINUTE: '5',
      LAST_DAYS: '1',
      ALERT_STATUSES: 'failed,timeout',
      BASELINE: 'false',
      STATE_TABLE: 'hss-restore-alerts-test-state',
      SCHEDULE_PERIOD_SECONDS: '60',
      CHECKS_PER_MINUTE: '1',
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

  it('gives the function an environment the config parser accepts: one scope in the default enterprise project, Slack', () => {
    const config = parsePackaged(functionEnv(template), provider.region);
    expect(config.scopes).toEqual([
      {
        region: 'ap-southeast-1',
        projectId: '0123456789abcdef0123456789abcdef',
        enterpriseProjectId: '0',
        credential: 'default',
      },
    ]);
    expect(config.destinations.map((d) => d.type)).toEqual(['slack']);
    expect(config.awsRegion).toBe('us-east-1');
  });

  it('tags the stack with the service and the stage (CloudFormation passes them to every resource)', () => {
    expect(provider.stackTags).toEqual({ service: 'hss-restore-alerts', stage: 'test' });
  });

  it('keeps state in an on-demand, deletion-protected table with the keys, index, TTL and backups lib/state expects', () => {
    const table = resources.StateTable!;
    expect(table.Type).toBe('AWS::DynamoDB::Table');
    expect(table.DeletionPolicy).toBe('Retain');
    expect(table.Properties).toMatchObject({
      DeletionProtectionEnabled: true,
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
    ).toEqual(
      [
        'BudgetStarvedAlarm',
        'DeliveryBacklogAlarm',
        'DestinationsDegradedAlarm',
        'DestinationsFailingAlarm',
        'HssThrottledAlarm',
        'ListsLeftBacklogAlarm',
        'PollErrorsAlarm',
        'PollMissedAlarm',
        'ScopesBlindAlarm',
      ].sort(),
    );
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

  it('alarms when no invocation succeeded in 3 of 4 periods once the stage has been invoked, never before', () => {
    // Lambda's own metrics, which cost nothing: succeeded = invocations - errors.
    const lambda = (id: string, name: string) => ({
      Id: id,
      ReturnData: false,
      MetricStat: {
        Metric: {
          Namespace: 'AWS/Lambda',
          MetricName: name,
          Dimensions: [{ Name: 'FunctionName', Value: { Ref: 'PollLambdaFunction' } }],
        },
        Period: period(),
        Stat: 'Sum',
      },
    });
    expect(resources.PollMissedAlarm!.Properties).toMatchObject({
      Metrics: [
        lambda('invocations', 'Invocations'),
        lambda('errors', 'Errors'),
        {
          Id: 'succeeded',
          Expression: 'IF(RUNNING_SUM(FILL(invocations, 0)) > 0, FILL(invocations, 0) - FILL(errors, 0), 1)',
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

  it('alarms within one period on a destination failing or degraded, a starved call budget and HSS throttling', () => {
    for (const [name, metric, statistic] of [
      ['DestinationsFailingAlarm', 'DestinationsFailing', 'Maximum'],
      ['DestinationsDegradedAlarm', 'DestinationsDegraded', 'Maximum'],
      ['BudgetStarvedAlarm', 'BudgetStarved', 'Maximum'],
      ['HssThrottledAlarm', 'HssThrottled', 'Sum'],
    ] as const) {
      expect([name, resources[name]!.Properties]).toEqual([
        name,
        expect.objectContaining({
          Namespace: 'HssRestoreAlerts',
          MetricName: metric,
          Dimensions: stageDimensions,
          Statistic: statistic,
          Period: period(),
          EvaluationPeriods: 1,
          Threshold: 1,
          ComparisonOperator: 'GreaterThanOrEqualToThreshold',
          // Sent only when not zero: no data is none.
          TreatMissingData: 'notBreaching',
        }),
      ]);
    }
  });

  it('alarms when a scope has been blind in 3 periods in a row', () => {
    expect(resources.ScopesBlindAlarm!.Properties).toMatchObject({
      Namespace: 'HssRestoreAlerts',
      MetricName: 'ScopesBlind',
      Dimensions: stageDimensions,
      Statistic: 'Maximum',
      Period: period(),
      EvaluationPeriods: 3,
      DatapointsToAlarm: 3,
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
    });
  });

  it('alarms on deliveries still pending in 3 windows in a row, each as long as the longest retry backoff', () => {
    const alarm = resources.DeliveryBacklogAlarm!.Properties;
    expect(alarm).toMatchObject({
      Namespace: 'HssRestoreAlerts',
      MetricName: 'DeliveriesPending',
      Dimensions: stageDimensions,
      Statistic: 'Maximum',
      EvaluationPeriods: 3,
      DatapointsToAlarm: 3,
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
    });
    // A failing delivery is retried at most RETRY_POLICY.maxMs apart: every window of a lasting
    // backlog holds a poll that found it due and still pending. And no window is shorter than a period.
    expect((alarm.Period as number) * 1000).toBeGreaterThanOrEqual(RETRY_POLICY.maxMs);
    expect(alarm.Period as number).toBeGreaterThanOrEqual(period());
  });

  it('alarms when every poll of 10 periods in a row left lists for the next one', () => {
    expect(resources.ListsLeftBacklogAlarm!.Properties).toMatchObject({
      Namespace: 'HssRestoreAlerts',
      MetricName: 'ListsLeftForNextPoll',
      Dimensions: stageDimensions,
      Statistic: 'Minimum',
      Period: period(),
      EvaluationPeriods: 10,
      DatapointsToAlarm: 10,
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
    });
  });

  /** Each alarm's metrics as namespace and name (a metric-math alarm reads several). */
  const alarmMetrics = () =>
    alarms().map(([name, alarm]) => {
      const p = alarm.Properties as {
        Namespace?: string;
        MetricName?: string;
        Metrics?: { MetricStat?: { Metric: { Namespace: string; MetricName: string } } }[];
      };
      return {
        name,
        metrics: [
          ...(p.MetricName ? [{ Namespace: p.Namespace!, MetricName: p.MetricName }] : []),
          ...(p.Metrics ?? []).flatMap((m) => (m.MetricStat ? [m.MetricStat.Metric] : [])),
        ],
      };
    });
  /** Every metric the handler can send (handlers/metrics.ts, with everything in trouble). */
  const emitted = [...new Set(pollMetrics(troubledSummary()).map((m) => m.name))];

  it('builds every alarm on our namespace on a metric the handler emits', () => {
    const watched = alarmMetrics()
      .flatMap((a) => a.metrics)
      .filter((m) => m.Namespace === 'HssRestoreAlerts')
      .map((m) => m.MetricName);
    expect(watched.length).toBeGreaterThanOrEqual(7);
    expect(watched.filter((name) => !emitted.includes(name))).toEqual([]);
  });

  it('names in the deploying guide’s table of metrics exactly the alarms that read each one', () => {
    const readBy = Object.fromEntries(
      readmeMetricRows().map((r) => [r.metric, r.readBy.filter((x) => x !== 'dashboard').sort()]),
    );
    const fromTemplate = Object.fromEntries(
      emitted.map((metric) => [
        metric,
        alarmMetrics()
          .filter((a) => a.metrics.some((m) => m.Namespace === 'HssRestoreAlerts' && m.MetricName === metric))
          .map((a) => a.name)
          .sort(),
      ]),
    );
    expect(readBy).toEqual(fromTemplate);
  });

  it('states the alarms’ monthly cost as the metrics they read × $0.10', () => {
    const count = alarmMetrics().reduce((n, a) => n + a.metrics.length, 0);
    const stated = /\*\*Alarms: \$(\d+\.\d\d) a month\*\*: (\d+) alarms reading (\d+) metrics/.exec(
      readFileSync(join(ROOT, 'docs', 'deploying.md'), 'utf8'),
    );
    if (stated === null) throw new Error('docs/deploying.md no longer prices the alarms: update this test');
    expect([Number(stated[2]), Number(stated[3]), stated[1]]).toEqual([
      alarms().length,
      count,
      (count * 0.1).toFixed(2),
    ]);
  });

  describe('the dashboard', () => {
    interface Widget {
      type: string;
      x: number;
      y: number;
      width: number;
      height: number;
      properties: {
        title: string;
        region?: string;
        period?: number;
        metrics?: unknown[][];
        alarms?: string[];
      };
    }
    const dashboard = () => resources.Dashboard!;
    const body = () => (dashboard().Properties.DashboardBody as { 'Fn::Sub': string })['Fn::Sub'];
    const widgets = () => (JSON.parse(body()) as { widgets: Widget[] }).widgets;
    /** Each metric a graph reads: its namespace, name, dimensions and rendering options. */
    const metricRows = () =>
      widgets()
        .filter((w) => w.type === 'metric')
        .flatMap((w) =>
          w.properties
            .metrics!.filter((row) => typeof row[0] === 'string')
            .map((row) => ({ widget: w, row })),
        );

    it('is named after the stage and given as a stack output', () => {
      expect(dashboard().Type).toBe('AWS::CloudWatch::Dashboard');
      expect(dashboard().Properties.DashboardName).toBe('hss-restore-alerts-test');
      expect(template.Outputs!.DashboardName).toEqual({ Value: { Ref: 'Dashboard' } });
    });

    it('draws every metric the handler sends, in this stage’s series, and no other of our namespace', () => {
      const ours = metricRows().filter(({ row }) => row[0] === 'HssRestoreAlerts');
      expect([...new Set(ours.map(({ row }) => row[1] as string))].sort()).toEqual([...emitted].sort());
      for (const { row } of ours) {
        const dims = row.slice(2).filter((c) => typeof c === 'string');
        const named = Object.fromEntries(
          dims.flatMap((_, i) => (i % 2 === 0 ? [[dims[i], dims[i + 1]]] : [])),
        );
        expect(named).toEqual({
          service: 'hss-restore-alerts',
          stage: 'test',
          ...(row[1] === 'AlertsNew' ? { status: expect.any(String) } : {}),
        });
      }
      // New alerts of every status that can alert: the default ALERT_STATUSES, and stuck.
      const statuses = ours
        .filter(({ row }) => row[1] === 'AlertsNew')
        .map(({ row }) => row[row.indexOf('status') + 1]);
      expect(statuses).toEqual(['failed', 'timeout', 'stuck']);
    });

    it('draws a metric sent only when not zero as 0 when it has no data, the gauges as they are', () => {
      const gauges = pollMetrics(quietSummary()).map((m) => m.name);
      for (const { widget, row } of metricRows().filter(({ row }) => row[0] === 'HssRestoreAlerts')) {
        const options = row.at(-1) as { id: string; visible?: boolean };
        const drawn = widget.properties.metrics!.some(
          (r) => (r[0] as { expression?: string }).expression === `FILL(${options.id}, 0)`,
        );
        expect([row[1], options.visible !== false, drawn]).toEqual(
          gauges.includes(row[1] as string) ? [row[1], true, false] : [row[1], false, true],
        );
      }
    });

    it('graphs Lambda’s invocations and errors of this function, one period a point, in the stack’s region', () => {
      const lambda = metricRows().filter(({ row }) => row[0] === 'AWS/Lambda');
      expect(lambda.map(({ row }) => row.slice(0, 4))).toEqual([
        ['AWS/Lambda', 'Invocations', 'FunctionName', '${PollLambdaFunction}'],
        ['AWS/Lambda', 'Errors', 'FunctionName', '${PollLambdaFunction}'],
      ]);
      for (const w of widgets().filter((w) => w.type === 'metric')) {
        expect([w.properties.title, w.properties.region, w.properties.period]).toEqual([
          w.properties.title,
          '${AWS::Region}',
          period(),
        ]);
      }
    });

    it('shows the state of every alarm of the stack', () => {
      const shown = widgets()
        .filter((w) => w.type === 'alarm')
        .flatMap((w) => w.properties.alarms!);
      expect(shown.sort()).toEqual(
        alarms()
          .map(([name]) => `\${${name}.Arn}`)
          .sort(),
      );
    });

    it('lays its widgets out on the 24-column grid without overlap', () => {
      const cells = new Set<string>();
      for (const w of widgets()) {
        expect(w.x + w.width).toBeLessThanOrEqual(24);
        for (let x = w.x; x < w.x + w.width; x++)
          for (let y = w.y; y < w.y + w.height; y++) {
            expect(cells.has(`${x},${y}`)).toBe(false);
            cells.add(`${x},${y}`);
          }
      }
    });

    it('refers only to the region and to resources of this template', () => {
      const refs = [...body().matchAll(/\$\{([^}]+)\}/g)].map((m) => m[1]!.replace(/\.Arn$/, ''));
      expect(refs.filter((r) => r !== 'AWS::Region' && !(r in resources))).toEqual([]);
    });

    it('reads as many metrics as the deploying guide says, within the 50 of a free dashboard', () => {
      const stated = /it reads (\d+) metrics/.exec(readFileSync(join(ROOT, 'docs', 'deploying.md'), 'utf8'));
      if (stated === null)
        throw new Error('docs/deploying.md no longer counts the dashboard’s metrics: update this test');
      expect(metricRows().length).toBe(Number(stated[1]));
      expect(metricRows().length).toBeLessThanOrEqual(50);
    });
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

  it(`ships one bundled handler within ${BUNDLE_LIMIT_KB} KB and its source map, without the AWS SDK the runtime provides`, () => {
    // Act
    const zipPath = join(out, 'hss-restore-alerts.zip');
    const entries = zipEntries(readFileSync(zipPath));
    const size = (name: string) => entries.find((e) => e.name === name)?.size;
    console.log(
      `hss-restore-alerts.zip: ${statSync(zipPath).size} bytes zipped; poll.js ${size('handlers/poll.js')} bytes, poll.js.map ${size('handlers/poll.js.map')} bytes`,
    );
    // Assess
    expect(entries.map((e) => e.name).sort()).toEqual(['handlers/poll.js', 'handlers/poll.js.map']);
    expect(size('handlers/poll.js')).toBeLessThanOrEqual(BUNDLE_LIMIT_KB * 1000);
    // The SDK stays a runtime require, not bundled code.
    const handler = entries.find((e) => e.name === 'handlers/poll.js')!.content.toString('utf8');
    expect(handler).toContain('require("@aws-sdk/client-dynamodb")');
    expect(handler).toContain('require("@aws-sdk/client-ssm")');
    // What bundle/esbuild-plugins.cjs cuts from axios (the DynamoDB client still loads http2 itself).
    expect(handler).not.toMatch(/require\("(node:)?http2"\)|follow-redirects|proxy-from-env/);
    expect(handler).toMatch(/\/\/# sourceMappingURL=poll\.js\.map\s*$/);
  });

  it('states the sizes of poll.js and its map as measured, in serverless.yml and docs/deploying.md (1 KB = 1,000 bytes, within 10 %)', () => {
    // Prepare: every size the docs state, and what it measures.
    const entries = zipEntries(readFileSync(join(out, 'hss-restore-alerts.zip')));
    const entry = (name: string) => entries.find((e) => e.name === name)!;
    const yml = readFileSync(join(ROOT, 'serverless.yml'), 'utf8');
    const deploying = readFileSync(join(ROOT, 'docs', 'deploying.md'), 'utf8');
    const stated = (text: string, re: RegExp, group = 1): number => {
      const m = re.exec(text);
      if (m === null) throw new Error(`the statement ${re} is gone: update this test with the text`);
      return Number(m[group]);
    };
    const statements = [
      [
        'serverless.yml: poll.js',
        stated(yml, /keeps the bundle at ~(\d+) KB/),
        entry('handlers/poll.js').size,
      ],
      [
        'serverless.yml: the map',
        stated(yml, /the map is[\s#]*~(\d+) KB/),
        entry('handlers/poll.js.map').size,
      ],
      [
        'docs/deploying.md: the map',
        stated(deploying, /the zip carries ~(\d+) KB more/),
        entry('handlers/poll.js.map').size,
      ],
      [
        'docs/deploying.md: the map compressed',
        stated(deploying, /the zip carries ~\d+ KB more \(~(\d+) KB compressed\)/),
        entry('handlers/poll.js.map').compressed,
      ],
    ] as const;
    // Assess
    const wrong = statements
      .filter(([, kb, bytes]) => Math.abs(kb * 1000 - bytes) > bytes * 0.1)
      .map(([where, kb, bytes]) => `${where} says ~${kb} KB, measured ${(bytes / 1000).toFixed(0)} KB`);
    expect(wrong).toEqual([]);
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
      'Alarm destination: none given, so the alarms would reach nobody: pass at least one of --param="alarmEmail=you@example.com", --param="alarmHttpsUrl=https://..." or --param="alarmTopicArn=arn:aws:sns:..." (see docs/deploying.md).',
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

describe('deploy/dashboard.cjs', () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { dashboardResource } = require('../deploy/dashboard.cjs') as {
    dashboardResource: (env: Record<string, string>, alarms: string[]) => { Type: string };
  };
  const env = {
    POWERTOOLS_METRICS_NAMESPACE: 'HssRestoreAlerts',
    POWERTOOLS_SERVICE_NAME: 'hss-restore-alerts',
    STAGE: 'prod',
    ALERT_STATUSES: 'failed',
  };

  it.each(['60', '300', '3600'])('builds the dashboard for a period of %s seconds', (period) => {
    expect(dashboardResource({ ...env, SCHEDULE_PERIOD_SECONDS: period }, []).Type).toBe(
      'AWS::CloudWatch::Dashboard',
    );
  });

  it.each(['', '30', '90', '1.5', 'rate(1 minute)'])(
    'refuses the period %j in one line naming periodSeconds',
    (period) => {
      expect(() => dashboardResource({ ...env, SCHEDULE_PERIOD_SECONDS: period }, [])).toThrow(
        `periodSeconds must be a whole number of minutes in seconds (60, 300, ...), as the schedule's rate: got ${period}`,
      );
    },
  );
});

describe('serverless.yml without scopes, or with both forms', () => {
  const refusal = async (scope: string[]) => {
    const out = mkdtempSync(join(tmpdir(), 'hss-sls-'));
    const failure = await packageService(out, ['--param=alarmEmail=ops@example.com'], scope).then(
      () => undefined,
      (err: { stdout?: string; stderr?: string }) => `${err.stdout ?? ''}${err.stderr ?? ''}`,
    );
    rmSync(out, { recursive: true, force: true });
    return failure;
  };

  it('refuses to package a stage with nothing to poll, saying in one line how to give scopes', async () => {
    expect(await refusal([])).toContain(
      'Scopes: none given, so nothing would be polled: pass --param="hssProjectId=..." with --param="hssRegion=..." (one scope), or --param="hssScopes=region/project_id[/enterprise_project_id][@credential],..." (several) (see docs/deploying.md).',
    );
  }, 120_000);

  it('refuses hssScopes given with the one-scope params, which the function would refuse at every tick', async () => {
    expect(await refusal(['--param=hssScopes=cn-north-4/p1', '--param=hssRegion=cn-north-4'])).toContain(
      'Scopes: hssScopes is given with hssRegion: give the scopes one way',
    );
  }, 120_000);

  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const params = require('../deploy/params.cjs') as {
    scopeProblems: (env: Record<string, string>) => string[];
    withoutNone: (env: Record<string, unknown>) => Record<string, unknown>;
  };

  it.each([
    [{ HSS_PROJECT_ID: 'p', HSS_REGION: 'cn-north-4' }, []],
    [{ HSS_PROJECT_ID: 'p', HSS_ENDPOINT: 'https://hss.example.com' }, []],
    [{ HSS_PROJECT_ID: 'p', HSS_REGION: 'cn-north-4', HSS_ENTERPRISE_PROJECT_ID: 'all_granted_eps' }, []],
    [{ HSS_SCOPES: 'cn-north-4/p', HSS_PROJECT_ID: '', HSS_REGION: '', HSS_ENTERPRISE_PROJECT_ID: '' }, []],
    // A destinations file may list the scopes; the function checks it.
    [{ DESTINATIONS_FILE: 'destinations.yaml' }, []],
    [{ HSS_PROJECT_ID: 'p' }, [expect.stringMatching(/^hssRegion is missing/)]],
    [{ HSS_REGION: 'cn-north-4' }, [expect.stringMatching(/^hssProjectId is missing/)]],
    [
      { HSS_SCOPES: 'cn-north-4/p', HSS_ENTERPRISE_PROJECT_ID: '0' },
      [expect.stringMatching(/^hssScopes is given with enterpriseProjectId/)],
    ],
    [{ HSS_SCOPES: ' ', HSS_PROJECT_ID: '' }, [expect.stringMatching(/^none given/)]],
  ])('judges the scopes of the environment %j', (env, problems) => {
    expect(params.scopeProblems(env)).toEqual(problems);
  });

  it('turns `none` (any case, spaces around) into an empty value and leaves every other value alone', () => {
    expect(params.withoutNone({ A: 'none', B: ' None ', C: 'nonesuch', D: '', E: '/x/none', F: 60 })).toEqual(
      { A: '', B: '', C: 'nonesuch', D: '', E: '/x/none', F: 60 },
    );
  });
});

/** A naive shell: `NAME=value` lines, `\` continuations, "…" and '…' quoting, $NAME expansion. */
function shellCommands(block: string): string[][] {
  const vars: Record<string, string> = {};
  const commands: string[][] = [];
  for (const raw of block.replace(/\\\n\s*/g, '').split('\n')) {
    const line = raw.replace(/\s+#.*$/, '').trim();
    if (line === '' || line.startsWith('#')) continue;
    const assignment = /^([A-Z_]+)=(\S+)$/.exec(line);
    if (assignment) {
      vars[assignment[1]!] = assignment[2]!;
      continue;
    }
    const words: string[] = [];
    for (const m of line.matchAll(/(?:"((?:\\.|[^"\\])*)"|'([^']*)'|([^\s"']+))+/g)) {
      words.push(
        m[0]
          .replace(/'([^']*)'/g, '$1')
          .replace(/"((?:\\.|[^"\\])*)"/g, (_q, inner: string) => inner.replace(/\\(.)/g, '$1'))
          .replace(/\$([A-Z_]+)/g, (_d, name: string) => vars[name] ?? `$${name}`),
      );
    }
    commands.push(words);
  }
  return commands;
}

describe('the deploying guide’s commands', () => {
  const section = readFileSync(join(ROOT, 'docs', 'deploying.md'), 'utf8');
  const blocks = [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!.replace(/^ {2}/gm, ''));
  // REGION and STAGE are set in the first block and used in all.
  const commands = shellCommands(blocks.join('\n'));
  const region = /^REGION=(\S+)/m.exec(blocks[0]!)![1]!;

  it('name the region once and pass it to every aws and serverless command', () => {
    const regional = commands.filter((c) => c[0] === 'aws' || (c[0] === 'npx' && c[1] === 'serverless'));
    expect(regional.length).toBeGreaterThanOrEqual(10);
    expect(
      regional.filter((c) => c[c.indexOf('--region') + 1] !== region || !c.includes('--region')),
    ).toEqual([]);
    expect(section.match(/^REGION=/gm)).toHaveLength(1);
  });

  it('package, each as written, a stage the function can run: Slack, Teams with two scopes, PagerDuty only', async () => {
    // Prepare: each distinct `serverless package`/`deploy` as `package`, the … placeholders filled in.
    let placeholder = 0;
    const distinct = new Map<string, string[]>();
    for (const c of commands.filter((c) => c[0] === 'npx' && c[1] === 'serverless')) {
      const args = c
        .slice(3)
        .map((a) =>
          a.replace(/…/g, () => `0123456789abcdef0123456789abcd${String(++placeholder).padStart(2, '0')}`),
        );
      const key = JSON.stringify(c.slice(3).sort());
      if (!distinct.has(key)) distinct.set(key, args);
    }
    // Act
    const results = [];
    for (const args of distinct.values()) {
      const out = mkdtempSync(join(tmpdir(), 'hss-sls-readme-'));
      await packageService(out, args, []);
      const { template, provider } = readPackage(out);
      const config = parsePackaged(functionEnv(template), provider.region);
      results.push({
        region: provider.region,
        scopes: config.scopes.length,
        destinations: config.destinations.map((d) => d.type),
      });
      rmSync(out, { recursive: true, force: true });
    }
    // Assess
    expect(results).toEqual([
      { region, scopes: 1, destinations: ['slack'] },
      { region, scopes: 2, destinations: ['teams'] },
      { region, scopes: 1, destinations: ['pagerduty'] },
    ]);
  }, 360_000);
});

describe('doctor --package on the packaged function', () => {
  const out = mkdtempSync(join(tmpdir(), 'hss-sls-doctor-'));
  const project = 'fedcba9876543210fedcba9876543210';
  let stack: LocalStack;
  /** The shell the doctor runs in: endpoints of the local stack, the AWS CLI's default region elsewhere. */
  let shell: Record<string, string>;

  beforeAll(async () => {
    // Prepare: the stack's secrets and table in eu-west-1, the region the package names.
    stack = await startLocalStack({
      dynamo: { endpoint: await sharedEndpoint() },
      region: 'eu-west-1',
      stage: 'test',
      moreProjects: [project],
    });
    shell = {
      AWS_ENDPOINT_URL_SSM: stack.ssm.url,
      AWS_ENDPOINT_URL_DYNAMODB: stack.dynamoEndpoint,
      AWS_DEFAULT_REGION: 'us-west-2',
    };
    await packageService(
      out,
      ['--region', 'eu-west-1', `--param=hssEndpoint=${stack.hss.url}`, '--param=alarmEmail=ops@example.com'],
      [`--param=hssProjectId=${project}`, '--param=hssRegion=ap-southeast-1'],
    );
  }, 150_000);
  afterAll(async () => {
    await stack.close();
    rmSync(out, { recursive: true, force: true });
  });

  async function doctor(dir: string, ...args: string[]) {
    const lines: string[] = [];
    const code = await main(['doctor', '--package', dir, ...args], {
      env: shell,
      out: (l) => lines.push(l),
      err: (l) => lines.push(l),
    });
    return { code, lines, problems: lines.filter((l) => l.startsWith('problem')) };
  }

  it('checks the packaged function’s config in the package’s region and stage, and exits 0 when it all holds', async () => {
    const result = await doctor(out, '--send-test');
    expect(result.lines[0]).toBe(`doctor: the function of ${out} (stage test), in region eu-west-1`);
    expect(result.problems).toEqual([]);
    expect(result.lines).toEqual(
      expect.arrayContaining([
        'ok       SSM /hss-restore-alerts/test/cloud-sdk-sk (CLOUD_SDK_SK_PARAM): SecureString, readable in eu-west-1',
        'ok       config: 1 scope, 1 credential, 1 destination',
        `ok       HSS ap-southeast-1/${project}/0 (credential default): answered: 0 tasks in the last day`,
      ]),
    );
    expect(result.code).toBe(0);
    expect(stack.slack.received.map((r) => stack.slack.visibleText(r)).join('\n')).toMatch(/TEST/);
  });

  it('names the region where a parameter was put by mistake (the AWS CLI’s default) and the one it must be in', async () => {
    // Prepare: the Slack URL went to the AWS CLI's default region only.
    const name = '/hss-restore-alerts/test/slack-webhook-url';
    stack.ssm.put('us-west-2', name, stack.slack.url);
    const saved = stack.ssm.get('eu-west-1', name)!;
    stack.ssm.remove('eu-west-1', name);
    // Act
    const result = await doctor(out);
    stack.ssm.put('eu-west-1', name, saved.value);
    // Assess
    expect(result.problems[0]).toBe(
      `problem  SSM ${name} (SLACK_WEBHOOK_URL_PARAM): not found in eu-west-1, the function's region, but found in us-west-2 | fix: aws ssm put-parameter --region eu-west-1 --type SecureString --name ${name} --value … (or deploy the stack to us-west-2: --region us-west-2)`,
    );
    expect(result.code).toBe(2);
  });

  it('reports a parameter outside the path the function’s role may read, from the role in the template', async () => {
    // Prepare: the same package, its Slack parameter renamed outside /hss-restore-alerts/test/.
    const dir = mkdtempSync(join(tmpdir(), 'hss-sls-doctor-path-'));
    const text = readFileSync(join(out, 'cloudformation-template-update-stack.json'), 'utf8');
    writeFileSync(
      join(dir, 'cloudformation-template-update-stack.json'),
      text.replace('"/hss-restore-alerts/test/slack-webhook-url"', '"/shared/slack-webhook-url"'),
    );
    writeFileSync(join(dir, 'serverless-state.json'), readFileSync(join(out, 'serverless-state.json')));
    stack.ssm.put('eu-west-1', '/shared/slack-webhook-url', stack.slack.url);
    // Act
    const result = await doctor(dir);
    rmSync(dir, { recursive: true, force: true });
    // Assess
    expect(result.problems).toEqual([
      "problem  SSM /shared/slack-webhook-url (SLACK_WEBHOOK_URL_PARAM): outside /hss-restore-alerts/test/, the only path the function's role may read | fix: store it under /hss-restore-alerts/test/ and pass that name",
    ]);
    expect(result.code).toBe(1);
  });
});
