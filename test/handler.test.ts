import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { createStateTable, startLocalDynamo, type LocalDynamo } from '../local/dynamo';
import { startHssEmulator, type HssEmulator } from '../local/hss-emulator';
import { startSlackSink, type Sink } from '../local/sinks';
import { invokeLocalArgs } from '../local/stack';
import { serverlessCliEnv } from './support/serverless';

const run = promisify(execFile);
const ROOT = `${__dirname}/..`;

let dynamo: LocalDynamo;
let hss: HssEmulator;
let slack: Sink;

beforeAll(async () => {
  [dynamo, hss, slack] = await Promise.all([
    startLocalDynamo(),
    startHssEmulator({ ratePerMinute: 5 }),
    startSlackSink(),
  ]);
  await createStateTable(dynamo.client, 'invoke-local');
});
afterAll(async () => {
  await Promise.all([dynamo.close(), hss.close(), slack.close()]);
});

function failed(host: string) {
  return {
    host_id: `${host}-id`,
    host_name: host,
    backup_name: 'autobk_3',
    process: 70,
    status: 'failed',
    started_at: new Date(Date.now() - 7_200_000).toISOString(),
    ended_at: new Date(Date.now() - 60_000).toISOString(),
    error_info: { code: 'HSS.5021', message: 'agent offline' },
  };
}

/** `serverless invoke local` on the `local` stage, whose secrets come from `-e` rather than SSM. */
async function invokeLocal(extraEnv: Record<string, string>) {
  const env: Record<string, string> = {
    CLOUD_SDK_AK: 'EMULATORAK',
    CLOUD_SDK_SK: 'EMULATORSK',
    HSS_ENDPOINT: hss.url,
    SLACK_WEBHOOK_URL: slack.url,
    STATE_TABLE: 'invoke-local',
    DYNAMODB_ENDPOINT: dynamo.endpoint,
    AWS_REGION: 'us-east-1',
    ...extraEnv,
  };
  const args = [
    ...invokeLocalArgs('local', env),
    '--param=hssProjectId=demo-project',
    '--param=hssRegion=ap-southeast-1',
  ];
  return run('npx', args, { cwd: ROOT, env: serverlessCliEnv(), timeout: 120_000 });
}

describe('handlers/poll via serverless invoke local', () => {
  it('polls the emulator with the scheduled event, alerts Slack and returns the summary', async () => {
    // Prepare
    hss.tasks.push(failed('ecs-invoke-1'));
    // Act
    const { stdout } = await invokeLocal({});
    // Assess
    expect(stdout).toMatch(/"alertsNew": 1/);
    expect(stdout).toMatch(/"message":"Poll complete"/);
    // EMF with the stage's dimensions the alarms watch, and the new alert under its status.
    expect(stdout).toMatch(/"Dimensions":\[\["service","stage"\]\].*"HssCalls":1/);
    expect(stdout).toMatch(
      /"Dimensions":\[\["service","stage","status"\]\].*"status":"failed","AlertsNew":1/,
    );
    expect(slack.received).toHaveLength(1);
    expect(JSON.stringify(slack.received[0]!.json)).toContain('ecs-invoke-1');
  }, 120_000);

  it('fails the invocation with one clear error line when the credentials are wrong, never printing them', async () => {
    const err = (await invokeLocal({ CLOUD_SDK_SK: 'a-wrong-secret-key' }).catch((e: unknown) => e)) as {
      code?: number;
      stdout: string;
      stderr: string;
    };
    const output = `${err.stdout}\n${err.stderr}`;
    expect(err.code).not.toBe(0);
    expect(output).toMatch(
      /"message":"Poll failed: ScopesFailedError: 1 of 1 scope\(s\) could not be read: .*HssAuthError: .*APIGW\.0301/,
    );
    expect(output).not.toContain('a-wrong-secret-key');
  }, 120_000);

  it('fails the invocation after recording and delivering when no destination works, and counts the failing ones', async () => {
    // Prepare: a table and an HSS of its own (the earlier polls spent this minute's budget); the
    // only destination's hook was removed.
    const own = await startHssEmulator({ ratePerMinute: 0, tasks: [failed('ecs-invoke-2')] });
    await createStateTable(dynamo.client, 'invoke-local-down');
    slack.failNext({ kind: 'status', status: 404, body: 'no_service' }, 5);
    // Act
    const err = (await invokeLocal({ HSS_ENDPOINT: own.url, STATE_TABLE: 'invoke-local-down' })
      .catch((e: unknown) => e)
      .finally(() => own.close())) as { code?: number; stdout: string; stderr: string };
    // Assess
    const output = `${err.stdout}\n${err.stderr}`;
    expect(err.code).not.toBe(0);
    expect(output).toMatch(
      /"message":"Poll failed: DestinationsDownError: Every destination is degraded or failing, nothing reaches anyone: slack failing"/,
    );
    expect(output).toMatch(/"alertsNew":1/);
    // Slack refused for good: failing, not degraded (a metric at 0 is not sent).
    expect(output).toMatch(/"DestinationsFailing":1/);
    expect(output).not.toMatch(/"DestinationsDegraded"/);
    expect(slack.attempts.at(-1)!.status).toBe(404);
  }, 120_000);
});
