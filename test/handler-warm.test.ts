import { mockClient, type AwsStub } from 'aws-sdk-client-mock';
import type { Context, ScheduledEvent } from 'aws-lambda';
import { createStateTable, startLocalDynamo, type LocalDynamo } from '../local/dynamo';
import { startHssEmulator, type HssEmulator } from '../local/hss-emulator';
import { startSlackSink, type Sink } from '../local/sinks';
import event from '../events/schedule.json';

let dynamo: LocalDynamo;
let hss: HssEmulator;
let slack: Sink;
const savedEnv = { ...process.env };

beforeAll(async () => {
  [dynamo, hss, slack] = await Promise.all([
    startLocalDynamo(),
    startHssEmulator({ ratePerMinute: 0 }),
    startSlackSink(),
  ]);
  await createStateTable(dynamo.client, 'warm');
});
afterAll(async () => {
  process.env = savedEnv;
  await Promise.all([dynamo.close(), hss.close(), slack.close()]);
});

const context = {
  functionName: 'poll',
  awsRequestId: 'req-1',
  getRemainingTimeInMillis: () => 60_000,
} as unknown as Context;

type Ssm = typeof import('@aws-sdk/client-ssm');
type SsmStub = AwsStub<
  import('@aws-sdk/client-ssm').ServiceInputTypes,
  import('@aws-sdk/client-ssm').ServiceOutputTypes,
  import('@aws-sdk/client-ssm').SSMClientResolvedConfig
>;
type Handler = (e: ScheduledEvent, c: Context) => Promise<unknown>;

// The handler requires the SSM client lazily, at its first tick, so from jest's main module
// registry (not the isolated one of its cold start): the stub is made there, once.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const ssmSdk = require('@aws-sdk/client-ssm') as Ssm;
const ssmStub: SsmStub = mockClient(ssmSdk.SSMClient);

/**
 * A cold start: a fresh copy of the handler module (the SDK's SSM client it loads is stubbed) with
 * the Lambda's environment, secrets named as SSM parameters.
 */
function coldStart(): { handler: Handler; ssm: SsmStub; sdk: Ssm } {
  process.env = {
    ...savedEnv,
    HSS_PROJECT_ID: 'demo-project',
    HSS_ENDPOINT: hss.url,
    STATE_TABLE: 'warm',
    DYNAMODB_ENDPOINT: dynamo.endpoint,
    AWS_REGION: 'us-east-1',
    // Ticks here come back to back, not 5 minutes apart: the container's limiter would space them.
    HSS_RATE_LIMIT_PER_MINUTE: '600',
    CLOUD_SDK_AK_PARAM: '/hss-restore-alerts/test/cloud-sdk-ak',
    CLOUD_SDK_SK_PARAM: '/hss-restore-alerts/test/cloud-sdk-sk',
    SLACK_WEBHOOK_URL_PARAM: '/hss-restore-alerts/test/slack-webhook-url',
    POWERTOOLS_LOG_LEVEL: 'SILENT',
    LOG_LEVEL: 'SILENT',
    POWERTOOLS_METRICS_DISABLED: 'true',
  };
  ssmStub.reset();
  let loaded: { handler: Handler; ssm: SsmStub; sdk: Ssm } | undefined;
  jest.isolateModules(() => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    loaded = { handler: require('../handlers/poll').handler as Handler, ssm: ssmStub, sdk: ssmSdk };
  });
  return loaded!;
}

function ssmAnswers({ ssm, sdk }: ReturnType<typeof coldStart>, sk: string): void {
  ssm.reset();
  const value = (Name: string, Value: string) => ({ Name, Value, Type: 'SecureString' as const });
  ssm.on(sdk.GetParametersCommand).resolves({
    Parameters: [
      value('/hss-restore-alerts/test/cloud-sdk-ak', 'EMULATORAK'),
      value('/hss-restore-alerts/test/cloud-sdk-sk', sk),
      value('/hss-restore-alerts/test/slack-webhook-url', slack.url),
    ],
    InvalidParameters: [],
  });
}

describe('handlers/poll in a warm container', () => {
  it('reads the SSM secrets once per cold start, not once per tick', async () => {
    const container = coldStart();
    ssmAnswers(container, 'EMULATORSK');
    for (let tick = 0; tick < 3; tick++) await container.handler(event as ScheduledEvent, context);
    expect(container.ssm.calls()).toHaveLength(1);
  });

  it('reads the secrets again after HSS rejects them, so a key rotated in SSM is picked up', async () => {
    // Prepare: SSM still holds a revoked SK at the first tick.
    const container = coldStart();
    ssmAnswers(container, 'revoked-secret-key');
    // Act
    const first = await container.handler(event as ScheduledEvent, context).catch((e: unknown) => e);
    ssmAnswers(container, 'EMULATORSK');
    const second = await container.handler(event as ScheduledEvent, context);
    // Assess
    expect((first as Error).name).toBe('ScopesFailedError');
    // The second tick read the scope's window: one unfiltered page.
    expect(second).toMatchObject({ scopesFailed: [], hssCalls: 1 });
    expect(container.ssm.calls()).toHaveLength(1);
  });
});
