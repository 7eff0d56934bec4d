import { parseConfig } from '../../lib/config';
import { functionRegion } from '../../cli/aws';
import { main } from '../../cli/main';
import {
  LOCAL_PROJECTS,
  LOCAL_SECRETS,
  startLocalStack,
  type LocalStack,
  type LocalStackOptions,
} from '../../local/stack';
import { SMN_TOPIC_URN, startSmnSink } from '../../local/sinks';
import { sharedEndpoint } from '../support/dynamodb-local';

// The doctor against the local stack (HSS emulator, SSM emulator, DynamoDB Local or dynalite, sinks),
// healthy and with one fault at a time next to healthy neighbours.

let endpoint: string;
let tables = 0;
const stacks: LocalStack[] = [];

beforeAll(async () => {
  endpoint = await sharedEndpoint();
}, 150_000);
afterEach(async () => {
  await Promise.all(stacks.splice(0).map((s) => s.close()));
});

/** A fresh local stack on the run's DynamoDB Local, with a table of its own. */
async function stack(options: LocalStackOptions = {}): Promise<LocalStack> {
  const s = await startLocalStack({
    dynamo: { endpoint },
    table: `doctor-${process.pid}-${++tables}`,
    ...options,
  });
  stacks.push(s);
  return s;
}

async function doctor(env: Record<string, string | undefined>, ...args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(['doctor', ...args], { env, out: (l) => out.push(l), err: (l) => err.push(l) });
  const text = [...out, ...err].join('\n');
  return { code, out, err, text, problems: out.filter((l) => l.startsWith('problem')) };
}

/** Every secret value of the stack: none may be printed. */
function secretsOf(s: LocalStack): string[] {
  return [LOCAL_SECRETS.ak, LOCAL_SECRETS.sk, LOCAL_SECRETS.webhookSecret, new URL(s.slack.url).pathname];
}

describe('hss-restore-alerts doctor', () => {
  it('passes every check on a healthy local stack with one HSS call per scope, and exits 0', async () => {
    // Prepare
    const s = await stack();
    // Act
    const result = await doctor(s.cliEnv, '--send-test');
    // Assess
    expect(result.problems).toEqual([]);
    expect(result.code).toBe(0);
    const checks = result.out.filter((l) => /^(ok|problem) /.test(l));
    expect(checks.map((l) => l.split(': ')[0])).toEqual([
      // SSM parameters, in the order the config names them.
      ...Object.values(s.cliEnv)
        .filter((v) => v.startsWith('/hss-restore-alerts/'))
        .map((name) => `ok       SSM ${name} (${Object.keys(s.cliEnv).find((k) => s.cliEnv[k] === name)})`),
      'ok       config',
      `ok       state table ${s.cliEnv.STATE_TABLE}`,
      `ok       HSS ap-southeast-1/${LOCAL_PROJECTS.singapore}/0 (credential default)`,
      `ok       HSS cn-north-4/${LOCAL_PROJECTS.beijing}/0 (credential default)`,
      expect.stringMatching(/^ok {7}destination slack http:\/\/127\.0\.0\.1:\d+\/…$/),
      expect.stringMatching(/^ok {7}destination webhook http:\/\/127\.0\.0\.1:\d+\/… \(signed\)$/),
    ]);
    expect(result.out).toContain(`ok       config: 2 scopes, 1 credential, 2 destinations`);
    expect(result.out.at(-1)).toBe(`doctor: all ${checks.length} checks ok`);
    // One call per scope, and it says so (and where the budget comes from) before making them.
    expect(s.hss.requests).toHaveLength(2);
    expect(result.text).toMatch(
      /HSS: 2 calls, one per scope, at most 5 a minute per credential from the budget in the state table/,
    );
    expect(s.slack.received.map((r) => s.slack.visibleText(r)).join('\n')).toMatch(/TEST/);
    expect(s.webhook.received).toHaveLength(1);
    for (const secret of secretsOf(s)) expect(result.text).not.toContain(secret);
  });

  it('without --send-test sends nothing and says the destinations were not tried', async () => {
    const s = await stack();
    const result = await doctor(s.cliEnv);
    expect(result.code).toBe(0);
    expect(result.out).toContain(
      'doctor: destinations not tried (--send-test sends each a TEST notice through the outbox)',
    );
    expect(s.slack.attempts).toEqual([]);
  });

  it('names a missing parameter, with the command that puts it in the function’s region, next to those found', async () => {
    // Prepare
    const s = await stack();
    s.ssm.put('us-east-1', '/elsewhere', 'x'); // a neighbour the config does not name
    s.ssm.remove('us-east-1', s.cliEnv.CLOUD_SDK_SK_PARAM!);
    // Act
    const result = await doctor(s.cliEnv);
    // Assess: the config cannot parse without it (exit 2), and the other parameters are fine.
    expect(result.code).toBe(2);
    expect(result.problems[0]).toBe(
      "problem  SSM /hss-restore-alerts/local/cloud-sdk-sk (CLOUD_SDK_SK_PARAM): not found in us-east-1, the function's region | fix: aws ssm put-parameter --region us-east-1 --type SecureString --name /hss-restore-alerts/local/cloud-sdk-sk --value …",
    );
    expect(result.out).toContain(
      'ok       SSM /hss-restore-alerts/local/cloud-sdk-ak (CLOUD_SDK_AK_PARAM): SecureString, readable in us-east-1',
    );
    expect(result.problems[1]).toMatch(
      /^problem {2}config: ConfigError: Invalid configuration: CLOUD_SDK_SK \(CLOUD_SDK_SK_PARAM=.*\): SSM parameter not found/,
    );
    expect(result.out).toContain(
      'doctor: the state table, HSS and destinations are checked once the config parses',
    );
    expect(s.hss.requests).toEqual([]);
  });

  it('reports a parameter that exists only in another region, naming that region and both fixes', async () => {
    // Prepare: the secrets went to the AWS CLI's default region; the function runs in eu-west-1.
    const s = await stack({ region: 'ap-northeast-1' });
    const env = { ...s.cliEnv, AWS_REGION: 'eu-west-1', AWS_DEFAULT_REGION: 'ap-northeast-1' };
    // Act
    const result = await doctor(env);
    // Assess
    expect(result.out[0]).toBe(
      'doctor: the config of this environment, for a function in region eu-west-1 (AWS_REGION)',
    );
    const ssmProblems = result.problems.filter((l) => l.startsWith('problem  SSM '));
    expect(ssmProblems).toHaveLength(5);
    expect(ssmProblems).toContain(
      "problem  SSM /hss-restore-alerts/local/cloud-sdk-ak (CLOUD_SDK_AK_PARAM): not found in eu-west-1, the function's region, but found in ap-northeast-1 | fix: aws ssm put-parameter --region eu-west-1 --type SecureString --name /hss-restore-alerts/local/cloud-sdk-ak --value … (or deploy the stack to ap-northeast-1: --region ap-northeast-1)",
    );
    expect(result.code).toBe(2);
  });

  it('refuses a secret stored as a String, and the config with it', async () => {
    const s = await stack();
    s.ssm.put('us-east-1', s.cliEnv.SLACK_WEBHOOK_URL_PARAM!, s.slack.url, 'String');
    const result = await doctor(s.cliEnv);
    expect(result.problems[0]).toBe(
      'problem  SSM /hss-restore-alerts/local/slack-webhook-url (SLACK_WEBHOOK_URL_PARAM): is a String, expected SecureString | fix: aws ssm put-parameter --region us-east-1 --type SecureString --name /hss-restore-alerts/local/slack-webhook-url --value … --overwrite',
    );
    expect(result.code).toBe(2);
    // The URL is a secret even when stored carelessly.
    expect(result.text).not.toContain(new URL(s.slack.url).pathname);
  });

  it('reports SSM refusing the reads, naming what needs the permission', async () => {
    const s = await stack();
    s.ssm.deny('us-east-1', s.cliEnv.WEBHOOK_SECRET_PARAM!);
    const result = await doctor(s.cliEnv);
    expect(result.problems[0]).toMatch(
      /^problem {2}SSM in us-east-1: ConfigError: Invalid configuration: cannot read .*AccessDeniedException.* \| fix: the caller \(and the function role\) needs ssm:GetParameters/,
    );
    expect(result.code).toBe(2);
  });

  it('reports a refused credential once with its variables, and does not call HSS again with it', async () => {
    // Prepare
    const s = await stack();
    s.ssm.put('us-east-1', s.cliEnv.CLOUD_SDK_SK_PARAM!, 'WRONG-SECRET-KEY-VALUE');
    // Act
    const result = await doctor(s.cliEnv);
    // Assess: SSM, config and table are fine; both scopes fail, the second without a call.
    expect(result.problems).toEqual([
      expect.stringMatching(
        /^problem {2}HSS ap-southeast-1\/proj-sg-local\/0 \(credential default\): HssAuthError: .*APIGW\.0301.* \| fix: check the credential: CLOUD_SDK_AK\/CLOUD_SDK_SK \(or HSS_AUTH_TOKEN\), or their _PARAM$/,
      ),
      expect.stringMatching(/^problem {2}HSS cn-north-4\/proj-bj-local\/0 .*not called again/),
    ]);
    expect(result.out).toContain('ok       config: 2 scopes, 1 credential, 2 destinations');
    expect(s.hss.requests).toHaveLength(1);
    expect(result.code).toBe(1);
    expect(result.text).not.toContain('WRONG-SECRET-KEY-VALUE');
  });

  it('reports a project HSS does not serve, while the neighbouring scope answers', async () => {
    const s = await stack();
    const env = {
      ...s.cliEnv,
      HSS_SCOPES: `ap-southeast-1/${LOCAL_PROJECTS.singapore},cn-north-4/no-such-project`,
    };
    const result = await doctor(env);
    expect(result.problems).toEqual([
      expect.stringMatching(
        /^problem {2}HSS cn-north-4\/no-such-project\/0 \(credential default\): HssAuthError: .*HSS\.0010.* \| fix: give the IAM user of credential default HSS read access in project no-such-project \(cn-north-4\), or correct the project id in the scope$/,
      ),
    ]);
    expect(result.out).toContain(
      `ok       HSS ap-southeast-1/${LOCAL_PROJECTS.singapore}/0 (credential default): answered: 3 tasks in the last day`,
    );
    expect(result.code).toBe(1);
  });

  it('reports a destination that refuses the TEST notice, while the other accepts it', async () => {
    const s = await stack();
    s.webhook.failNext({ kind: 'status', status: 410, body: 'gone' });
    const result = await doctor(s.cliEnv, '--send-test');
    expect(result.problems).toEqual([
      expect.stringMatching(
        /^problem {2}destination webhook http:\/\/127\.0\.0\.1:\d+\/… \(signed\): failed: HTTP 410.* \| fix: check its URL, key or secret/,
      ),
    ]);
    expect(result.out).toEqual(
      expect.arrayContaining([expect.stringMatching(/^ok {7}destination slack .*accepted the TEST notice$/)]),
    );
    expect(result.code).toBe(1);
  });

  it('reports a missing state table, still checks HSS (paced in process) and does not try the destinations', async () => {
    const s = await stack();
    const result = await doctor({ ...s.cliEnv, STATE_TABLE: 'no-such-table' }, '--send-test');
    expect(result.problems).toEqual([
      `problem  state table no-such-table: does not exist on http://127.0.0.1:${new URL(s.dynamoEndpoint).port}/… | fix: hss-restore-alerts create-table`,
      'problem  destinations: not tried: the TEST notice goes through the outbox, which lives in the state table | fix: fix the state table first',
    ]);
    expect(result.text).toMatch(/HSS: 2 calls, .*paced in this process \(no state table/);
    expect(result.out.filter((l) => /^ok {7}HSS /.test(l))).toHaveLength(2);
    expect(s.slack.attempts).toEqual([]);
    expect(result.code).toBe(1);
  });

  it('reports a table without TTL (dynalite has none) with the command that turns it on', async () => {
    const s = await startLocalStack({ dynamo: 'dynalite' });
    stacks.push(s);
    const result = await doctor(s.cliEnv);
    expect(result.problems).toEqual([
      `problem  state table ${s.cliEnv.STATE_TABLE}: TTL is DISABLED, expected ENABLED on ttl: state would never expire | fix: aws dynamodb update-time-to-live --region us-east-1 --table-name ${s.cliEnv.STATE_TABLE} --time-to-live-specification Enabled=true,AttributeName=ttl`,
    ]);
    // The table still works, so HSS calls come from its shared budget.
    expect(result.out.filter((l) => /^ok {7}HSS /.test(l))).toHaveLength(2);
    expect(result.code).toBe(1);
  });

  it('does not call HSS with a credential that only signs SMN, and tries it through SMN with --send-test', async () => {
    // Prepare: SMN publishes signed with credential `smn`, which reads no scope.
    const s = await stack();
    const smnKeys = { ak: 'SMNPUBLISHAK', sk: 'SMNPUBLISHSECRETKEY' };
    const smn = await startSmnSink({ auth: smnKeys });
    const env = {
      ...s.cliEnv,
      SMN_TOPIC_URN,
      SMN_ENDPOINT: smn.endpoint,
      SMN_CREDENTIAL: 'smn',
      CLOUD_SDK_AK__SMN: smnKeys.ak,
      CLOUD_SDK_SK__SMN: smnKeys.sk,
    };
    // Act
    const result = await doctor(env, '--send-test');
    await smn.close();
    // Assess
    expect(result.problems).toEqual([]);
    expect(result.out).toContain(
      'doctor: credential smn reads no scope (it signs SMN publishes): not called; --send-test tries it through SMN',
    );
    expect(s.hss.requests.map((r) => r.credential)).toEqual(['default', 'default']);
    expect(result.out).toEqual(
      expect.arrayContaining([expect.stringMatching(/^ok {7}destination smn .*accepted the TEST notice$/)]),
    );
    expect(smn.received).toHaveLength(1);
    expect(result.text).not.toContain(smnKeys.sk);
  });

  it('exits 2 with one line for an unknown argument or a --package directory it cannot read', async () => {
    const s = await stack();
    const unknown = await doctor(s.cliEnv, '--sendtest');
    const missing = await doctor(s.cliEnv, '--package', '/nonexistent/.serverless');
    expect(unknown).toMatchObject({
      code: 2,
      err: ['doctor: unknown argument "--sendtest" (usage: doctor [--package DIR] [--send-test])'],
    });
    expect(missing.code).toBe(2);
    expect(missing.err).toEqual([
      expect.stringMatching(
        /^hss-restore-alerts doctor: ConfigError: --package \/nonexistent\/\.serverless: cannot read cloudformation-template-update-stack\.json .*run `npx serverless package/,
      ),
    ]);
  });

  it.each([
    [{ AWS_REGION: 'eu-west-1', AWS_DEFAULT_REGION: 'ap-south-1' }, 'eu-west-1'],
    [{ AWS_DEFAULT_REGION: 'ap-south-1' }, 'ap-south-1'],
    [{}, 'us-east-1'],
  ])('checks SSM in the region the config uses for the table (%j)', (regions, expected) => {
    const env = {
      HSS_PROJECT_ID: 'p',
      HSS_REGION: 'cn-north-4',
      CLOUD_SDK_AK: 'a',
      CLOUD_SDK_SK: 'b',
      STATE_TABLE: 'state',
      SLACK_WEBHOOK_URL: 'https://hooks.slack.com/services/T/B/x',
      ...regions,
    };
    expect(functionRegion(env)).toBe(expected);
    expect(parseConfig(env).awsRegion).toBe(expected);
  });
});
