import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { inflateRawSync } from 'node:zlib';

// Packages the real serverless.yml offline (no AWS call) and checks the CloudFormation it produces.

const ROOT = join(__dirname, '..');
const BUNDLE_LIMIT_BYTES = 400 * 1024;

type Json = Record<string, unknown>;
interface Template {
  Resources: Record<string, { Type: string; Properties: Json; Condition?: string; DeletionPolicy?: string }>;
  Conditions?: Json;
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
    // Prepare: fake credentials and no profile, so nothing here could reach a real account.
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      CI: 'true',
      SLS_TELEMETRY_DISABLED: '1',
      SLS_NOTIFICATIONS_MODE: 'off',
      AWS_ACCESS_KEY_ID: 'AKIAIOSFODNN7EXAMPLE',
      AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
    };
    delete env.AWS_PROFILE;
    // Act
    await promisify(execFile)(
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
      ],
      { cwd: ROOT, env, timeout: 110_000 },
    );
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

  it('runs the poll handler on Node 22 on arm64, one at a time', () => {
    expect(fn()).toMatchObject({
      Handler: 'handlers/poll.handler',
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      MemorySize: 256,
      ReservedConcurrentExecutions: 1,
    });
  });

  it('fires every 5 minutes and times out well before the next tick', () => {
    expect(schedule()).toMatchObject({ ScheduleExpression: 'rate(5 minutes)', State: 'ENABLED' });
    expect(fn().Timeout).toBe(240);
    expect(fn().Timeout as number).toBeLessThan(period());
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
      SCHEDULE_PERIOD_SECONDS: '300',
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

  it('alarms on any function error within one period', () => {
    expect(resources.PollErrorsAlarm!.Properties).toMatchObject({
      Namespace: 'AWS/Lambda',
      MetricName: 'Errors',
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: 'PollLambdaFunction' } }],
      Statistic: 'Sum',
      Period: period(),
      EvaluationPeriods: 1,
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      AlarmActions: [{ Ref: 'AlarmTopic' }],
    });
  });

  it('alarms when no poll succeeded for 3 periods, counting silence as failure', () => {
    expect(resources.PollMissedAlarm!.Properties).toMatchObject({
      Namespace: 'HssRestoreAlerts',
      MetricName: 'PollSucceeded',
      Dimensions: [
        { Name: 'service', Value: 'hss-restore-alerts' },
        { Name: 'stage', Value: 'test' },
      ],
      Statistic: 'Sum',
      Period: period(),
      EvaluationPeriods: 3,
      DatapointsToAlarm: 3,
      Threshold: 1,
      ComparisonOperator: 'LessThanThreshold',
      TreatMissingData: 'breaching',
    });
  });

  it('subscribes no e-mail address unless one is given', () => {
    expect(resources.AlarmEmailSubscription!.Condition).toBe('HasAlarmEmail');
    expect(template.Conditions).toEqual({ HasAlarmEmail: { 'Fn::Not': [{ 'Fn::Equals': ['', ''] }] } });
  });

  it('ships one bundled handler within 400 KB, without the AWS SDK the runtime provides', () => {
    // Act
    const zipPath = join(out, 'hss-restore-alerts.zip');
    const entries = zipEntries(readFileSync(zipPath));
    const bundled = entries.reduce((sum, e) => sum + e.size, 0);
    console.log(`hss-restore-alerts.zip: ${statSync(zipPath).size} bytes zipped, ${bundled} bytes unzipped`);
    // Assess
    expect(existsSync(zipPath)).toBe(true);
    expect(entries.map((e) => e.name)).toContain('handlers/poll.js');
    expect(entries.filter((e) => e.name.includes('node_modules'))).toEqual([]);
    expect(bundled).toBeLessThanOrEqual(BUNDLE_LIMIT_BYTES);
    // The SDK stays a runtime require, not bundled code.
    const handler = entries.find((e) => e.name === 'handlers/poll.js')!.content;
    expect(handler.length).toBe(entries.find((e) => e.name === 'handlers/poll.js')!.size);
    expect(handler.toString('utf8')).toContain('require("@aws-sdk/client-ssm")');
  });
});
