// `test-notify` says, per destination, what happened to the TEST notice and why (issue 18 #8):
// delivered, refused for good (permanent) or to be retried (retryable), with the vendor's answer
// (Slack 404 `no_service`), also when an earlier message of the same run met the refusal first.
import { main } from '../../cli/main';
import { testOutcome } from '../../cli/test-notice';
import type { DeliveryState } from '../../lib/model';
import { createStateTable, startLocalDynamo, type LocalDynamo } from '../../local/dynamo';
import { startHssEmulator, type HssEmulator } from '../../local/hss-emulator';
import { startSlackSink, startWebhookSink, type Sink } from '../../local/sinks';

const T0 = Date.UTC(2026, 10, 27, 12, 0, 0);
const idle = { leaseBusy: false, stoppedEarly: false };
const pending = (extra: Partial<DeliveryState> = {}): DeliveryState => ({
  state: 'pending',
  attempts: 0,
  nextAt: 0,
  ...extra,
});
const NO_SERVICE = 'HTTP 404 no_service: the webhook was removed or disabled';

describe('testOutcome', () => {
  it.each<[string, Parameters<typeof testOutcome>, string]>([
    ['delivered', [{ state: 'done', attempts: 1, nextAt: 0 }, idle, undefined, undefined], 'ok'],
    [
      'refused for good: permanent, with the vendor word',
      [{ state: 'failed', attempts: 1, nextAt: 0, lastError: NO_SERVICE }, idle, undefined, undefined],
      `failed: ${NO_SERVICE} (permanent: not retried; fix the destination (URL, permissions) or remove it)`,
    ],
    [
      'answered 503: retryable, with the answer',
      [pending({ attempts: 1, lastError: 'HTTP 503: service unavailable' }), idle, undefined, undefined],
      'not delivered yet: HTTP 503: service unavailable (retryable: the next polls retry it)',
    ],
    [
      'never tried because an earlier message of the run was refused: that refusal is the reason',
      [
        pending(),
        idle,
        { destination: 'slack', failingSince: T0, lastError: NO_SERVICE, undelivered: 1 },
        undefined,
      ],
      `not delivered: ${NO_SERVICE} (permanent: not retried; fix the destination (URL, permissions) or remove it; failing since 2026-11-27 12:00 UTC, it refused an earlier message of this run)`,
    ],
    [
      'never tried because an earlier message of the run got a retryable answer',
      [
        pending(),
        idle,
        undefined,
        { destination: 'slack', since: T0, lastError: 'HTTP 429: rate limited', degraded: false },
      ],
      'not delivered yet: HTTP 429: rate limited (retryable: the next polls retry it; nothing delivered since 2026-11-27 12:00 UTC)',
    ],
    [
      'a running poll holds the lease',
      [pending(), { leaseBusy: true, stoppedEarly: false }, undefined, undefined],
      'not delivered yet: a running poll holds the delivery lease and sends it before it ends',
    ],
    [
      'held by quiet hours',
      [{ state: 'held', attempts: 0, nextAt: T0 }, idle, undefined, undefined],
      'held by quiet hours until 2026-11-27 12:00 UTC',
    ],
  ])('%s', (_why, args, text) => {
    expect(testOutcome(...args).text).toBe(text);
  });
});

describe('test-notify', () => {
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
      startWebhookSink(),
    ]);
  });
  afterAll(async () => {
    await Promise.all([dynamo.close(), hss.close(), slack.close(), webhook.close()]);
  });

  /** Runs the CLI at `clock` on a table of its own. */
  async function cli(argv: string[], clock: () => number) {
    const out: string[] = [];
    const env = {
      HSS_PROJECT_ID: 'demo-project',
      HSS_ENDPOINT: hss.url,
      CLOUD_SDK_AK: 'EMULATORAK',
      CLOUD_SDK_SK: 'EMULATORSK',
      HSS_RATE_LIMIT_PER_MINUTE: '600',
      STATE_TABLE: `test-notify-${table}`,
      DYNAMODB_ENDPOINT: dynamo.endpoint,
      SLACK_WEBHOOK_URL: slack.url,
      WEBHOOK_URL: webhook.url,
    };
    const code = await main(argv, { env, out: (l) => out.push(l), err: () => undefined, clock });
    return { code, out };
  }

  beforeEach(async () => {
    table += 1;
    hss.tasks.length = 0;
    slack.clearFaults();
    await createStateTable(dynamo.client, `test-notify-${table}`);
  });

  it("names Slack's 404 no_service as permanent when an alert waiting before the test met it first", async () => {
    // Prepare: an alert waits for Slack (it answered 503); five minutes later the hook is gone.
    let now = Date.now();
    hss.tasks.push({
      host_id: 'ecs-1-id',
      host_name: 'ecs-1',
      backup_name: 'autobk_1',
      process: 40,
      status: 'failed',
      started_at: new Date(now - 3_600_000).toISOString(),
      ended_at: new Date(now - 60_000).toISOString(),
    });
    slack.failNext({ kind: 'status', status: 503, body: 'service unavailable' });
    await cli(['poll'], () => now);
    now += 5 * 60_000;
    slack.failNext({ kind: 'status', status: 404, body: 'no_service' }, 2);

    // Act
    const result = await cli(['test-notify'], () => now);

    // Assess
    expect(result.code).toBe(1);
    expect(result.out).toEqual([
      expect.stringMatching(
        /^slack http:\/\/127\.0\.0\.1:\d+\/…: not delivered: HTTP 404 no_service: the webhook was removed or disabled \(permanent: .*it refused an earlier message of this run\)$/,
      ),
      expect.stringMatching(/^webhook http:\/\/127\.0\.0\.1:\d+\/…: ok$/),
    ]);
  });

  it('names a 503 as retryable', async () => {
    slack.failNext({ kind: 'status', status: 503, body: 'service unavailable' });
    const result = await cli(['test-notify'], () => Date.now());
    expect(result.code).toBe(1);
    expect(result.out[0]).toMatch(
      /^slack http:\/\/127\.0\.0\.1:\d+\/…: not delivered yet: HTTP 503 service unavailable \(retryable: the next polls retry it\)$/,
    );
  });
});
