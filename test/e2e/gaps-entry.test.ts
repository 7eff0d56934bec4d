// Issue 10, cases 6 and 12-14, end to end through the entry points a person or the scheduler uses:
// the CLI's main() and the Lambda handler on the real clock, and createApp/runPoll on a virtual one
// (test/e2e/world.ts), against the HSS emulator, dynalite and local sinks.
import type { Context, ScheduledEvent } from 'aws-lambda';
import { Webhook } from 'standardwebhooks';
import { main, pollExitCode } from '../../cli/main';
import type { PollSummary } from '../../lib/poll';
import { startHssEmulator, type EmulatedTask, type HssEmulator } from '../../local/hss-emulator';
import { startSlackSink, startWebhookSink, type Sink } from '../../local/sinks';
import event from '../../events/schedule.json';
import { useEngine } from '../support/engines';
import { matching, webhookAlerts, webhookEvents } from './gaps-support';
import { AK, HOUR, MIN, openWorld, PROJECT, record, SK, WEBHOOK_SECRET, type World } from './world';

const engine = useEngine('dynalite');
let hss: HssEmulator;
let slack: Sink;
let webhook: Sink;
let world: World | undefined;

beforeAll(async () => {
  [hss, slack, webhook] = await Promise.all([
    startHssEmulator({ ratePerMinute: 0, projects: [PROJECT] }),
    startSlackSink({ unlimited: true }),
    startWebhookSink({ secret: WEBHOOK_SECRET }),
  ]);
});
afterAll(async () => {
  await Promise.all([hss.close(), slack.close(), webhook.close()]);
});
beforeEach(() => {
  hss.tasks.length = 0;
  hss.clearFaults();
  for (const sink of [slack, webhook]) {
    sink.clearFaults();
    sink.received.length = 0;
    sink.attempts.length = 0;
  }
});
afterEach(async () => {
  await world?.close();
  world = undefined;
});

/** The CLI's environment on the real clock: the emulator, a fresh table, Slack and the signed webhook. */
async function cliEnv(overrides: Record<string, string | undefined> = {}) {
  return {
    HSS_PROJECT_ID: PROJECT,
    HSS_ENDPOINT: hss.url,
    CLOUD_SDK_AK: AK,
    CLOUD_SDK_SK: SK,
    // Polls here come back to back, not a minute apart.
    HSS_RATE_LIMIT_PER_MINUTE: '600',
    STATE_TABLE: await engine.freshTable('gaps'),
    DYNAMODB_ENDPOINT: engine.endpoint,
    AWS_REGION: 'us-east-1',
    SLACK_WEBHOOK_URL: slack.url,
    WEBHOOK_URL: webhook.url,
    WEBHOOK_SECRET,
    ...overrides,
  };
}

async function cli(argv: string[], env: Record<string, string | undefined>) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { env, out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out, err };
}

/** A failed task started an hour ago on the real clock. */
function failedNow(host: string, extra: Partial<EmulatedTask> = {}): EmulatedTask {
  return record(host, 'failed', Date.now() - HOUR, {
    ended_at: new Date(Date.now() - MIN).toISOString(),
    ...extra,
  });
}

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

describe('6. a destination that is gone', () => {
  it.each([
    [404, 'no_service'],
    [410, 'channel_is_archived'],
  ])(
    'Slack answering %i %s is reported once through the others with what it missed, and every poll from then on exits 1',
    async (status, word) => {
      world = await openWorld({ engine });
      world.sinks.slack!.failNext({ kind: 'status', status, body: word }, 1000);
      const polls: PollSummary[] = [];
      for (const host of ['db-01', 'db-02', 'db-03']) {
        world.tasks.push(record(host, 'failed', world.clock() - HOUR));
        polls.push(await world.tick(), await world.tick());
      }

      const failing = webhookEvents(world.sinks.webhook!, 'hss.monitoring.destination-failing');
      expect(failing).toHaveLength(1);
      expect(failing[0]!.event.summary).toMatch(
        new RegExp(
          `^Slack is failing permanently since \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d UTC \\(HTTP ${status} ${word}\\): 1 alert undelivered$`,
        ),
      );
      expect(world.sinks.slack!.received).toEqual([]);
      expect(['db-01', 'db-02', 'db-03'].map((h) => webhookAlerts(world!.sinks.webhook!, h).length)).toEqual([
        1, 1, 1,
      ]);
      expect(polls.map((p) => p.delivery.destinationsFailing)).toEqual(polls.map(() => ['slack']));
      expect(polls.map(pollExitCode)).toEqual(polls.map(() => 1));
      // Slack is not hammered: at most one refused request per new alert.
      expect(world.sinks.slack!.attempts.length).toBeLessThanOrEqual(3);
    },
  );

  it('makes the CLI poll exit 1 naming the destination, and the next poll too', async () => {
    const env = await cliEnv();
    slack.failNext({ kind: 'status', status: 404, body: 'no_service' }, 10);
    hss.tasks.push(failedNow('db-06'));

    const first = await cli(['poll'], env);
    const second = await cli(['poll'], env);

    expect([first.code, second.code]).toEqual([1, 1]);
    expect(first.out.at(-1)).toMatch(/destination slack is failing permanently/);
    expect(second.out.at(-1)).toMatch(/destination slack is failing permanently/);
    expect(webhookEvents(webhook, 'hss.monitoring.destination-failing')).toHaveLength(1);
  });

  it('makes the Lambda handler emit DestinationsFailing = 1 (the metric its alarm watches) in its EMF output', async () => {
    const env = await cliEnv({ POWERTOOLS_LOG_LEVEL: 'WARN', LOG_LEVEL: 'WARN', STAGE: 'gaps' });
    slack.failNext({ kind: 'status', status: 410, body: 'channel_is_archived' }, 10);
    hss.tasks.push(failedNow('db-06'));
    const saved = process.env;
    const written: string[] = [];
    const write = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: unknown) => {
      written.push(String(chunk));
      return true;
    });
    let summary: PollSummary;
    try {
      process.env = { ...saved, ...env, POWERTOOLS_METRICS_DISABLED: undefined, POWERTOOLS_DEV: undefined };
      let handler: (e: ScheduledEvent, c: Context) => Promise<PollSummary> = async () => {
        throw new Error('not loaded');
      };
      jest.isolateModules(() => {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        handler = require('../../handlers/poll').handler;
      });
      const context = {
        functionName: 'poll',
        awsRequestId: 'req-gaps',
        getRemainingTimeInMillis: () => 50_000,
      };
      summary = await handler(event as ScheduledEvent, context as unknown as Context);
    } finally {
      write.mockRestore();
      process.env = saved;
    }

    const emf = written
      .flatMap((chunk) => chunk.split('\n'))
      .filter((line) => line.includes('"_aws"'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    // The new alert, counted under its status, and the stage's metrics.
    expect(emf).toHaveLength(2);
    expect(emf[0]).toMatchObject({ AlertsNew: 1, status: 'failed', stage: 'gaps' });
    expect(emf[1]).toMatchObject({ DestinationsFailing: 1, stage: 'gaps' });
    const metrics = (emf[1]!._aws as { CloudWatchMetrics: Array<{ Metrics: Array<{ Name: string }> }> })
      .CloudWatchMetrics[0]!.Metrics;
    expect(metrics.map((m) => m.Name)).toContain('DestinationsFailing');
    // The invocation still succeeded: the handler returned its summary.
    expect(summary!.delivery.destinationsFailing).toEqual(['slack']);
    expect(webhookEvents(webhook, 'hss.monitoring.destination-failing')).toHaveLength(1);
  });
});

describe('12. the webhook secret', () => {
  it.each([
    ['a plain secret', 'my-shared-webhook-secret-123'],
    ['a whsec_ secret of 8 bytes', 'whsec_c2hvcnRrZXk='],
  ])(
    'refuses %s with one line that says how to build a whsec_ one, never echoing it',
    async (_what, secret) => {
      const result = await cli(['poll'], await cliEnv({ WEBHOOK_SECRET: secret }));

      expect(result.code).toBe(2);
      expect(result.err).toHaveLength(1);
      expect(result.err[0]).toMatch(/WEBHOOK_SECRET/);
      expect(result.err[0]).toMatch(/whsec_/);
      expect(result.err[0]).toMatch(/randomBytes|openssl rand/);
      expect(result.err[0]).not.toContain(secret);
    },
  );

  it('signs alerts and notices so that the official standardwebhooks library verifies them at the receiver', async () => {
    const env = await cliEnv();
    hss.tasks.push(failedNow('db-12'));

    const polled = await cli(['poll'], env);
    const tested = await cli(['test-notify'], env);

    expect([polled.code, tested.code]).toEqual([0, 0]);
    const receiver = new Webhook(WEBHOOK_SECRET);
    const verified = webhook.received.map(
      (r) => receiver.verify(r.body, r.headers) as { type: string; id: string },
    );
    expect(verified.map((v) => v.type)).toEqual(['hss.task.status_alert', 'hss.monitoring.test']);
    expect(verified.map((v) => v.id)).toEqual(webhook.received.map((r) => r.headers['webhook-id']));
    // A tampered body does not verify.
    const [first] = webhook.received;
    expect(() => receiver.verify(first!.body.replace('db-12', 'db-13'), first!.headers)).toThrow();
  });
});

describe('13. secrets in output', () => {
  it('never prints, logs or sends the AK or SK when HSS echoes them in its error message', async () => {
    const env = await cliEnv();
    hss.injectFault(
      {
        kind: 'status',
        status: 401,
        body: {
          error_code: 'APIGW.0301',
          error_msg: `Incorrect IAM authentication information: access key ${AK} (secret ${SK}) is not allowed`,
        },
      },
      Infinity,
    );

    const polls = [];
    for (let i = 0; i < 3; i++) polls.push(await cli(['poll', '--verbose'], env));
    const status = await cli(['status'], env);

    expect(polls.map((p) => p.code)).toEqual([1, 1, 1]);
    const printed = [...polls, status].flatMap((r) => [...r.out, ...r.err]).join('\n');
    expect(printed).toMatch(/APIGW\.0301/);
    expect(printed).toMatch(/\[redacted\]/);
    const sent = [...slack.received, ...webhook.received].map((r) => r.body).join('\n');
    expect(webhookEvents(webhook, 'hss.monitoring.monitoring-down')).toHaveLength(1);
    expect(sent).toMatch(/APIGW\.0301/);
    for (const secret of [AK, SK]) {
      expect(printed).not.toContain(secret);
      expect(sent).not.toContain(secret);
    }
  });

  it('does not print credentials embedded in DYNAMODB_ENDPOINT from create-table, whether it succeeds or fails', async () => {
    const port = new URL(engine.endpoint).port;
    const withCredentials = `http://admin:s3cr3t-pass@127.0.0.1:${port}`;
    const created = await cli(
      ['create-table'],
      await cliEnv({ DYNAMODB_ENDPOINT: withCredentials, STATE_TABLE: `gaps-created-${process.pid}` }),
    );
    const unreachable = await cli(
      ['create-table', '--verbose'],
      await cliEnv({ DYNAMODB_ENDPOINT: 'http://admin:s3cr3t-pass@127.0.0.1:9' }),
    );

    expect(created.code).toBe(0);
    expect(created.out).toEqual([
      expect.stringMatching(/^created: table gaps-created-\d+ on http:\/\/127\.0\.0\.1:\d+\/…$/),
    ]);
    expect(unreachable.code).toBe(1);
    for (const result of [created, unreachable]) {
      const printed = [...result.out, ...result.err].join('\n');
      expect(printed).not.toContain('s3cr3t-pass');
      expect(printed).not.toContain('admin:');
    }
  });
});

describe('14. rendering', () => {
  it('escapes newlines and ANSI escapes from HSS in --dry-run output', async () => {
    const env = await cliEnv();
    hss.tasks.push(
      failedNow('evil\n\u001b[31mhost\u001b[0m', {
        backup_name: 'nightly\r\nINFO all good',
        error_info: { code: 'E\u001b[2J', message: 'disk\u0007 full\n' },
      }),
    );

    const result = await cli(['poll', '--dry-run', '--verbose'], env);

    expect(result.code).toBe(0);
    expect(result.out[0]).toMatch(/^would send: alert evil\\u000a\\u001b\[31mhost/);
    for (const line of [...result.out, ...result.err]) expect(line).not.toMatch(CONTROL);
  });

  it('names the missing table and its region in one line and says how to create it', async () => {
    const result = await cli(
      ['poll'],
      await cliEnv({ STATE_TABLE: 'no-such-table', AWS_REGION: 'eu-west-1' }),
    );

    expect(result.code).toBe(1);
    expect(result.err).toHaveLength(1);
    expect(result.err[0]).toMatch(
      /^hss-restore-alerts poll: StateError: DynamoDB \w+ on table no-such-table failed: ResourceNotFoundException: table no-such-table does not exist in region eu-west-1; create it with `hss-restore-alerts create-table` .* deploying the stack/,
    );
  });

  it('shows a zone-less start and its end the same way, so no task seems to end before it starts', async () => {
    world = await openWorld({ engine, sinks: ['slack', 'webhook', 'teams'] });
    world.tasks.push(
      // Both without a zone: both read as UTC, and both say so.
      record('tz-a', 'failed', world.clock() - 3 * HOUR, {
        started_at: '2026-11-27 09:00:05',
        ended_at: '2026-11-27 09:40:10',
      }),
      // A zone-less start (local time, UTC+8) beside an end with its offset: read in the end's zone.
      record('tz-b', 'failed', world.clock() - 3 * HOUR, {
        started_at: '2026-11-27 17:00:05',
        ended_at: '2026-11-27T17:40:10+08:00',
      }),
    );
    await world.tick();

    const [a] = matching(world.sinks.slack!, /tz-a/);
    expect(a).toContain('*Started*\n2026-11-27 09:00:05 UTC (sent without a zone, read as UTC)');
    expect(a).toContain('*Ended*\n2026-11-27 09:40:10 UTC (sent without a zone, read as UTC)');
    const [b] = matching(world.sinks.slack!, /tz-b/);
    expect(b).toContain(
      "*Started*\n2026-11-27 09:00:05 UTC (sent without a zone, read in the other time's zone, UTC+08:00)",
    );
    expect(b).toContain('*Ended*\n2026-11-27 09:40:10 UTC\n');
    const [teams] = matching(world.sinks.teams!, /tz-b/);
    expect(teams).toMatch(/Started: 2026-11-27 09:00:05 UTC[^]*Ended: 2026-11-27 09:40:10 UTC/);
    const [event] = webhookAlerts(world.sinks.webhook!, 'tz-b');
    expect([event!.task!.started_at_utc, event!.task!.ended_at_utc]).toEqual([
      '2026-11-27T09:00:05.000Z',
      '2026-11-27T09:40:10.000Z',
    ]);
  });

  it('keeps backticks, * _ ~ and bare URLs in API text from breaking Slack formatting or becoming links on any channel', async () => {
    world = await openWorld({ engine, sinks: ['slack', 'webhook', 'teams', 'feishu'] });
    world.tasks.push(
      record('web`01*_~x', 'failed', world.clock() - HOUR, {
        host_id: 'id`with`ticks',
        backup_name: '*bold* _it_ ~strike~',
        error_info: { code: 'E`1', message: 'see https://evil.example/reset and www.evil.example now' },
      }),
    );
    await world.tick();

    for (const name of ['slack', 'teams', 'feishu'] as const) {
      const sink = world.sinks[name]!;
      expect(sink.received).toHaveLength(1);
      expect(sink.received[0]!.flags).toEqual([]);
    }
    const slackPayload = world.sinks.slack!.received[0]!.json as {
      blocks: Array<{ fields?: Array<{ text: string }>; text?: { text: string } }>;
    };
    const mrkdwn = slackPayload.blocks.flatMap((b) => [
      ...(b.fields ?? []).map((f) => f.text),
      b.text?.text ?? '',
    ]);
    // Only our own markup is left: bold labels (`*Label*`) and code spans (`` `id` ``) that open and close.
    for (const text of mrkdwn) {
      expect((text.match(/`/g) ?? []).length % 2).toBe(0);
      expect(text.replace(/\*[A-Z][A-Za-z ]*\*/g, '')).not.toMatch(/[*~]/);
    }
    const host = mrkdwn.find((t) => t.startsWith('*Host*'))!;
    expect(host).toMatch(/^\*Host\*\nweb.01.{3}x$/);
    expect(host).not.toMatch(/[`*_~]x$/);
    // The webhook (machine data) keeps the exact values.
    expect(webhookAlerts(world.sinks.webhook!, 'web`01*_~x')).toHaveLength(1);
  });
});
