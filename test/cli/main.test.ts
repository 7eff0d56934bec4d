import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { main } from '../../cli/main';
import { createStateTable, startLocalDynamo, type LocalDynamo } from '../../local/dynamo';
import { startHssEmulator, type HssEmulator } from '../../local/hss-emulator';
import { startSlackSink, startWebhookSink, type Sink } from '../../local/sinks';

const run = promisify(execFile);
const SK = 'EMULATORSK';

let dynamo: LocalDynamo;
let hss: HssEmulator;
let slack: Sink;
let webhook: Sink;
let table = 0;

beforeAll(async () => {
  [dynamo, hss, slack, webhook] = await Promise.all([
    startLocalDynamo(),
    startHssEmulator({ ratePerMinute: 0 }),
    startSlackSink(),
    startWebhookSink({ secret: 'whsec_c2VjcmV0LWZvci10ZXN0cy1vbmx5LTEyMzQ1Njc4' }),
  ]);
});
afterAll(async () => {
  await Promise.all([dynamo.close(), hss.close(), slack.close(), webhook.close()]);
});

function env(overrides: Record<string, string | undefined> = {}): Record<string, string | undefined> {
  return {
    HSS_PROJECT_ID: 'demo-project',
    HSS_ENDPOINT: hss.url,
    CLOUD_SDK_AK: 'EMULATORAK',
    CLOUD_SDK_SK: SK,
    // Commands here run back to back on the real clock: at HSS's 5 a minute the shared call budget
    // (rightly) leaves a second poll in the same minute almost nothing.
    HSS_RATE_LIMIT_PER_MINUTE: '600',
    STATE_TABLE: `cli-${table}`,
    DYNAMODB_ENDPOINT: dynamo.endpoint,
    SLACK_WEBHOOK_URL: slack.url,
    WEBHOOK_URL: webhook.url,
    WEBHOOK_SECRET: 'whsec_c2VjcmV0LWZvci10ZXN0cy1vbmx5LTEyMzQ1Njc4',
    ...overrides,
  };
}

async function cli(argv: string[], e = env()) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { env: e, out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out, err };
}

function failedTask(host: string) {
  return {
    host_id: `${host}-id`,
    host_name: host,
    backup_name: 'autobk_1',
    process: 40,
    status: 'failed',
    started_at: new Date(Date.now() - 3_600_000).toISOString(),
    ended_at: new Date(Date.now() - 60_000).toISOString(),
    error_info: { code: 'HSS.5021', message: 'agent offline' },
  };
}

describe('hss-restore-alerts CLI', () => {
  beforeEach(async () => {
    table += 1;
    hss.tasks.length = 0;
    hss.clearFaults();
    await createStateTable(dynamo.client, `cli-${table}`);
  });

  it('polls, prints a one-line summary and exits 0, then sends nothing on the next poll', async () => {
    // Prepare
    hss.tasks.push(failedTask('ecs-1'));
    const slackBefore = slack.received.length;
    // Act
    const first = await cli(['poll']);
    const second = await cli(['poll']);
    // Assess
    expect(first.code).toBe(0);
    expect(first.out).toHaveLength(1);
    expect(first.out[0]).toMatch(/1 new alerts, 2 sent, 0 pending/);
    expect(second.out[0]).toMatch(/0 new alerts, 0 sent/);
    expect(slack.received.length - slackBefore).toBe(1);
  });

  it('prints what it would send on a dry run and writes nothing', async () => {
    hss.tasks.push(failedTask('ecs-dry'));
    const dry = await cli(['poll', '--dry-run']);
    const real = await cli(['poll']);
    expect(dry.code).toBe(0);
    expect(dry.out[0]).toBe(
      'would send: alert ecs-dry (ecs-dry-id) autobk_1: new -> failed [HSS.5021 agent offline] in endpoint/demo-project/0',
    );
    // A dry run writes only its HSS call reservations (the shared budget), never state or the outbox.
    expect(dry.out[1]).toMatch(/^dry run: .*1 new alerts/);
    expect(real.out[0]).toMatch(/1 new alerts/);
  });

  it('exits 2 with one line naming the variable when the config is wrong, without echoing secrets', async () => {
    const result = await cli(
      ['poll'],
      env({ LAST_DAYS: '45', SLACK_WEBHOOK_URL: 'http://hooks.example.com/T/B/secretpath' }),
    );
    expect(result.code).toBe(2);
    expect(result.err).toHaveLength(1);
    expect(result.err[0]).toMatch(/LAST_DAYS/);
    expect(result.err.join('\n')).not.toContain('secretpath');
  });

  it('exits 1 naming the scope HSS refused, in one summary line, never echoing the key', async () => {
    const result = await cli(['poll'], env({ CLOUD_SDK_SK: 'wrong-secret-key-value' }));
    expect(result.code).toBe(1);
    expect(result.out).toHaveLength(1);
    expect(result.out[0]).toMatch(/; scope endpoint\/demo-project\/0 failed: HssAuthError: .*APIGW\.0301/);
    expect([...result.out, ...result.err].join('\n')).not.toContain('wrong-secret-key-value');
  });

  it('shows a stack trace only with --verbose', async () => {
    const dead = env({ DYNAMODB_ENDPOINT: 'http://127.0.0.1:9' });
    const quiet = await cli(['poll'], dead);
    const verbose = await cli(['poll', '--verbose'], dead);
    expect(quiet.code).toBe(1);
    expect(quiet.err.join('\n')).not.toMatch(/\n\s+at /);
    expect(verbose.err.join('\n')).toMatch(/\n\s+at /);
  });

  it('sends a clearly marked test notice to every destination and reports each result', async () => {
    webhook.failNext({ kind: 'status', status: 410, body: 'gone' });
    const result = await cli(['test-notify']);
    expect(result.code).toBe(1);
    expect(result.out[0]).toMatch(/^slack http:\/\/127\.0\.0\.1:\d+\/…: ok$/);
    expect(result.out[1]).toMatch(/^webhook http:\/\/127\.0\.0\.1:\d+\/… \(signed\): failed: HTTP 410/);
    const slackTexts = slack.received.slice(-2).map((r) => JSON.stringify(r.json));
    expect(slackTexts[0]).toMatch(/TEST/);
    // The webhook's 410 is permanent: the other destinations hear that it is failing.
    expect(slackTexts[1]).toMatch(/Webhook is failing permanently/);
  });

  it('reports healthy monitoring with status (exit 0), and a destination failing for good as unhealthy (exit 1)', async () => {
    hss.tasks.push(failedTask('ecs-status'));
    await cli(['poll']);
    const healthy = await cli(['status']);
    webhook.failNext({ kind: 'status', status: 410, body: 'gone' });
    hss.tasks.push(failedTask('ecs-status-2'));
    await cli(['poll']);
    const failing = await cli(['status']);

    expect(healthy.code).toBe(0);
    expect(healthy.out[0]).toMatch(/^ok {2}endpoint\/demo-project\/0: read whole \d+ s ago$/);
    expect(healthy.out).toContain('monitoring is healthy');
    expect(healthy.out.some((l) => l.startsWith('budget  default: '))).toBe(true);
    expect(failing.code).toBe(1);
    expect(
      failing.out.some((l) =>
        /^FAILING {2}webhook http:\/\/127\.0\.0\.1:\d+\/… \(signed\): .*HTTP 410/.test(l),
      ),
    ).toBe(true);
    expect(failing.out).toContain('monitoring is UNHEALTHY');
  });

  it('creates the state table on DYNAMODB_ENDPOINT, and says so when it exists', async () => {
    const e = env({ STATE_TABLE: `created-${table}` });
    expect((await cli(['create-table'], e)).out[0]).toMatch(/^created: table created-/);
    expect((await cli(['create-table'], e)).out[0]).toMatch(/^already exists/);
  });

  it('rejects an unknown command with usage and exit 2', async () => {
    const result = await cli(['pol']);
    expect(result.code).toBe(2);
    expect(result.err[0]).toMatch(/Unknown command "pol"/);
  });

  it('runs the embedded demo: a scripted day people can read, every self-check ok, exit 0', async () => {
    const result = await cli(['demo']);
    expect(result.code).toBe(0);
    const text = result.out.join('\n');
    // What people read: a failure, a timeout, one digest for a burst, a stuck task, a resolution, a reminder.
    const seen = [
      /RESTORE\/BACKUP FAILED ON ECS-WEB-01/,
      /RESTORE\/BACKUP TIMED OUT ON ECS-DB-01/,
      /12 RESTORE\/BACKUP TASKS NEED ATTENTION/,
      /RESTORE\/BACKUP IS STUCK ON ECS-FILES-02/,
      /RESOLVED: RESTORE\/BACKUP ON ECS-WEB-01/,
      /16 RESTORE\/BACKUP TASKS STILL NEED ATTENTION/,
      /Teams {6}12 restore\/backup tasks need attention/,
      /Feishu {5}Resolved: restore\/backup on ecs-web-01/,
      /PagerDuty {2}resolve dedup_key/,
      /Scope: ap-southeast-1 · project proj-sg-19c4 · enterprise project all_granted_eps/,
      /Webhook {4}3 signed event\(s\) delivered, 2 of them alerts that waited while it was down/,
    ];
    expect(seen.filter((re) => !re.test(text))).toEqual([]);
    // The self-checks.
    expect(text).toMatch(/ok {3}throttled by HSS: 0/);
    expect(text).toMatch(/ok {3}unescaped mentions: 0 /);
    expect(text).toMatch(/ok {3}signatures verified (\d+) of \1 /);
    expect(text).toMatch(/ok {3}duplicates: 0/);
    expect(text).not.toMatch(/^ +FAIL /m);
  });

  it('works as the installed bin (npx hss-restore-alerts) in the clone', async () => {
    const { stdout } = await run('node', ['bin/hss-restore-alerts.js', 'help'], {
      cwd: `${__dirname}/../..`,
    });
    expect(stdout).toMatch(/^Usage: hss-restore-alerts <command>/);
  });
});
