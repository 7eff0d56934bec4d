import fc from 'fast-check';
import type { Alert } from '../../lib/diff/alert';
import { ConfigError } from '../../lib/errors';
import type { Log } from '../../lib/log';
import {
  clipSlack,
  createSlackNotifier,
  escapeSlack,
  SLACK_LIMITS,
  slackDigest,
  slackMessage,
  slackNotice,
  type SlackPayload,
} from '../../lib/notify/slack';
import type { Notice } from '../../lib/notify/types';
import type { Task } from '../../lib/task';
import { blockProblem, SLACK_SINK_PATH, startSlackSink, type Sink } from '../../local/sinks';

const NOW = Date.UTC(2025, 2, 6, 5, 30, 0);

function alertFor(i: number, task: Partial<Task> = {}, extra: Partial<Alert> = {}): Alert {
  return {
    id: `id${String(i).padStart(30, '0')}`,
    scope: { projectId: 'proj-1', enterpriseProjectId: '0', region: 'ap-southeast-1' },
    task: {
      hostId: `host-id-${i}`,
      hostName: `ecs-prod-${String(i).padStart(2, '0')}`,
      backupName: `backup-${i}`,
      status: 'failed',
      rawStatus: 'failed',
      process: 40,
      startedAt: '2025-03-06T05:26:18Z',
      endedAt: '2025-03-06T05:29:00Z',
      errorCode: 'HSS.1234',
      errorMessage: 'restore agent lost connection',
      ...task,
    },
    status: 'failed',
    previousStatus: 'running',
    reason: 'moved',
    detectedAt: NOW,
    ...extra,
  };
}

/** A clock that only moves when the code under test sleeps, and the sleeps it was asked for. */
function fakeTime() {
  let now = NOW;
  const sleeps: number[] = [];
  return {
    sleeps,
    clock: () => now,
    sleep: async (ms: number) => {
      sleeps.push(ms);
      now += ms;
    },
  };
}

function recordingLog(): Log & { lines: string[] } {
  const lines: string[] = [];
  const put = (message: string, extra?: Record<string, unknown>) =>
    lines.push(`${message} ${JSON.stringify(extra)}`);
  return { lines, debug: put, info: put, warn: put, error: put };
}

function allStrings(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(allStrings);
  if (value && typeof value === 'object') return Object.values(value).flatMap(allStrings);
  return [];
}

/** Every string of a payload: no `<`/`>` except our own console link, and `&` only as an entity. */
function expectNoControlSequences(payload: unknown): void {
  for (const s of allStrings(payload)) {
    const withoutOurLinks = s.replace(/<https:\/\/console\.(eu\.)?huaweicloud\.com\/[^|<>\s]+\|[^<>]+>/g, '');
    expect(withoutOurLinks).not.toMatch(/[<>]/);
    expect(withoutOurLinks).not.toMatch(/&(?!amp;|lt;|gt;)/);
  }
}

const HOSTILE: Partial<Task> = {
  hostName: '<!channel>',
  hostId: '<@U123>',
  backupName: '<https://evil|restore>',
  errorCode: '<!here>',
  errorMessage: 'see <https://evil.example|docs> & <#C123> > now',
  rawStatus: 'failed',
};

describe('Slack payloads', () => {
  it('render host, backup, transition, progress, UTC times, HSS error, scope and console link', () => {
    // Act
    const payload = slackMessage(alertFor(1));
    // Assess
    const json = JSON.stringify(payload);
    expect(payload.blocks[0]).toEqual({
      type: 'header',
      text: {
        type: 'plain_text',
        text: ':rotating_light: Backup/restore failed on ecs-prod-01',
        emoji: true,
      },
    });
    for (const expected of [
      'host-id-1',
      'backup-1',
      'running → failed',
      '40%',
      '2025-03-06 05:26:18 UTC',
      '2025-03-06 05:29:00 UTC',
      'HSS.1234',
      'restore agent lost connection',
      'proj-1',
      'https://console.huaweicloud.com/hss/?region=ap-southeast-1&amp;locale=en-us#/hss/ransomware/backup',
    ]) {
      expect(json).toContain(expected);
    }
    expect(payload.text).toContain('Backup/restore failed on ecs-prod-01');
    expect(blockProblem(payload.blocks)).toBeUndefined();
  });

  it('says timed out, and first seen, for a task first seen in timeout', () => {
    const payload = slackMessage(
      alertFor(
        2,
        { status: 'timeout', rawStatus: 'timeout' },
        { status: 'timeout', previousStatus: undefined },
      ),
    );
    expect(payload.blocks[0]).toMatchObject({
      text: { text: ':hourglass_flowing_sand: Backup/restore timed out on ecs-prod-02' },
    });
    expect(JSON.stringify(payload)).toContain('first seen timeout');
  });

  it('escapes mention and link injection in every text of a message, a digest and a notice', () => {
    // Prepare
    const hostile = alertFor(1, HOSTILE);
    const notice: Notice = {
      kind: 'monitoring-down',
      id: 'n1',
      scope: hostile.scope,
      summary: 'HSS polling failed 3 times in a row',
      detail: 'HSS said <!channel> & <@U1>',
      at: NOW,
    };
    // Act
    const payloads = [
      slackMessage(hostile),
      slackDigest([hostile, alertFor(2, HOSTILE)]),
      slackNotice(notice),
    ];
    // Assess
    for (const payload of payloads) expectNoControlSequences(payload);
    expect(JSON.stringify(payloads[0])).toContain('&lt;!channel&gt;');
    expect(JSON.stringify(payloads[0])).toContain('&lt;@U123&gt;');
    expect(JSON.stringify(payloads[0])).toContain('&lt;https://evil|restore&gt;');
    expect(payloads[0]!.text).toContain('&lt;!channel&gt;');
    expect(JSON.stringify(payloads[1])).toContain('&lt;!channel&gt;');
    expect(JSON.stringify(payloads[2])).toContain('&lt;!channel&gt; &amp; &lt;@U1&gt;');
  });

  it('keeps a 10 KB error message and 300-character names within Block Kit limits', () => {
    // Prepare
    const huge = alertFor(1, {
      hostName: '&'.repeat(300),
      backupName: 'b'.repeat(3000),
      errorMessage: '<x>'.repeat(3500),
    });
    // Act
    const payload = slackMessage(huge);
    // Assess
    expect(blockProblem(payload.blocks)).toBeUndefined();
    expect(payload.text.length).toBeLessThanOrEqual(SLACK_LIMITS.text);
    const header = (payload.blocks[0] as { text: { text: string } }).text.text;
    expect(header.length).toBeLessThanOrEqual(150);
    expect(header).toMatch(/(&amp;)+…$/);
    expectNoControlSequences(payload);
  });

  it('digests 10,000 alerts with varied statuses into one message within Block Kit limits', () => {
    // Prepare
    const alerts = Array.from({ length: 10_000 }, (_, i) =>
      alertFor(
        i,
        {
          hostName: `h${i}-${'<&>'.repeat(i % 50)}`,
          rawStatus: `odd-${i % 40}`,
          errorMessage: 'x'.repeat(10_000),
        },
        {
          status: i % 3 === 0 ? 'timeout' : i % 3 === 1 ? 'failed' : 'unknown',
          previousStatus: i % 2 ? 'running' : undefined,
        },
      ),
    );
    // Act
    const payload = slackDigest(alerts);
    // Assess
    expect(blockProblem(payload.blocks)).toBeUndefined();
    expect(payload.blocks.length).toBeLessThanOrEqual(50);
    expect(payload.text.length).toBeLessThanOrEqual(SLACK_LIMITS.text);
    const json = JSON.stringify(payload);
    expect(json).toContain('10000 backup/restore tasks need attention');
    expect(json).toContain('*3334* timeout');
    expect(json).toContain('…and 9985 more');
    expect(json).toContain('other transitions');
    expectNoControlSequences(payload);
  });

  it('escapes exactly &, < and >', () => {
    expect(escapeSlack('a & <b> &amp; *c* "d"')).toBe('a &amp; &lt;b&gt; &amp;amp; *c* "d"');
  });

  it('never cuts escaped text inside an entity or over the limit (property)', () => {
    fc.assert(
      fc.property(
        // Control characters and surrogate pairs are where cutting goes wrong, so they are frequent here.
        fc
          .array(fc.constantFrom('&', '<', '>', 'a', ' ', '😀', 'é'), { maxLength: 300 })
          .map((cs) => cs.join('')),
        fc.integer({ min: 2, max: 200 }),
        (raw, max) => {
          const clipped = clipSlack(escapeSlack(raw), max);
          expect(clipped.length).toBeLessThanOrEqual(max);
          expect(clipped.replace(/&(amp|lt|gt);/g, '')).not.toContain('&');
          expect(clipped).not.toMatch(/[\uD800-\uDBFF]…?$/);
        },
      ),
    );
  });
});

describe('Slack notifier against a local Slack sink', () => {
  let sink: Sink;
  let time: ReturnType<typeof fakeTime>;
  let log: ReturnType<typeof recordingLog>;

  beforeEach(async () => {
    // The old notifier runs on a virtual clock, the sink on the real one: no rate limit between them.
    sink = await startSlackSink({ unlimited: true });
    time = fakeTime();
    log = recordingLog();
  });
  afterEach(async () => {
    await sink.close();
  });

  function notifier(extra: Partial<Parameters<typeof createSlackNotifier>[0]> = {}) {
    return createSlackNotifier({ url: sink.url, clock: time.clock, sleep: time.sleep, log, ...extra });
  }

  it('sends one message per alert up to the threshold, about one per second', async () => {
    // Act
    const outcomes = await notifier().deliver([alertFor(1), alertFor(2), alertFor(3)]);
    // Assess
    expect(outcomes).toEqual([{ kind: 'ok' }, { kind: 'ok' }, { kind: 'ok' }]);
    expect(sink.received).toHaveLength(3);
    expect(time.sleeps).toEqual([1000, 1000]);
    expect((sink.received[2]!.json as SlackPayload).text).toContain('ecs-prod-03');
  });

  it('tells the caller of each answer before it sends the next message, and of a digest once per alert', async () => {
    // Prepare: note how many messages Slack had when each outcome was reported.
    const seen: Array<[number, string, number]> = [];
    const listen = async (i: number, o: { kind: string }) =>
      void seen.push([i, o.kind, sink.received.length]);
    // Act
    await notifier().deliver([alertFor(1), alertFor(2), alertFor(3)], listen);
    await notifier().deliver(
      Array.from({ length: 6 }, (_, i) => alertFor(i)),
      listen,
    );
    // Assess
    expect(seen.slice(0, 3)).toEqual([
      [0, 'ok', 1],
      [1, 'ok', 2],
      [2, 'ok', 3],
    ]);
    expect(seen.slice(3).map(([i, kind, received]) => [i, kind, received])).toEqual(
      [0, 1, 2, 3, 4, 5].map((i) => [i, 'ok', 4]),
    );
  });

  it('delivers a hostile host name escaped, with no control sequence anywhere in what Slack got', async () => {
    await notifier().deliver([alertFor(1, HOSTILE)]);
    expect(sink.received).toHaveLength(1);
    expect(sink.received[0]!.body).toContain('&lt;!channel&gt;');
    expectNoControlSequences(sink.received[0]!.json);
  });

  it('sends exactly one digest for a burst of 60 alerts, and the same outcome for each', async () => {
    // Prepare
    const alerts = Array.from({ length: 60 }, (_, i) => alertFor(i));
    // Act
    const outcomes = await notifier().deliver(alerts);
    // Assess
    expect(sink.attempts).toHaveLength(1);
    expect(sink.received).toHaveLength(1);
    const payload = sink.received[0]!.json as SlackPayload;
    expect(blockProblem(payload.blocks)).toBeUndefined();
    expect(payload.text).toContain('60 backup/restore tasks need attention');
    expect(JSON.stringify(payload)).toContain('…and 45 more');
    expect(outcomes).toHaveLength(60);
    expect(new Set(outcomes.map((o) => o.kind))).toEqual(new Set(['ok']));
  });

  it('waits as Retry-After asks on 429, then succeeds', async () => {
    // Prepare
    sink.failNext({ kind: 'status', status: 429, body: 'rate_limited', headers: { 'Retry-After': '3' } });
    // Act
    const outcomes = await notifier().deliver([alertFor(1)]);
    // Assess
    expect(outcomes).toEqual([{ kind: 'ok' }]);
    expect(time.sleeps).toContain(3000);
    expect(sink.attempts).toHaveLength(2);
    expect(sink.received).toHaveLength(1);
  });

  it('leaves the message and the rest of the batch to the next poll when Retry-After exceeds the budget', async () => {
    // Prepare
    sink.failNext({ kind: 'status', status: 429, body: 'rate_limited', headers: { 'Retry-After': '60' } });
    // Act
    const outcomes = await notifier({ maxRetryAfterMs: 30_000 }).deliver([
      alertFor(1),
      alertFor(2),
      alertFor(3),
    ]);
    // Assess
    expect(sink.attempts).toHaveLength(1);
    expect(time.sleeps).not.toContain(60_000);
    expect(outcomes).toEqual([
      { kind: 'retryable', error: expect.stringContaining('HTTP 429'), retryAfterMs: 60_000 },
      { kind: 'retryable', error: expect.stringContaining('not sent'), retryAfterMs: 60_000 },
      { kind: 'retryable', error: expect.stringContaining('not sent'), retryAfterMs: 60_000 },
    ]);
  });

  it('retries one message at most twice after 429s', async () => {
    sink.failNext({ kind: 'status', status: 429, headers: { 'Retry-After': '1' } }, 5);
    const outcomes = await notifier().deliver([alertFor(1)]);
    expect(sink.attempts).toHaveLength(3);
    expect(outcomes[0]).toMatchObject({ kind: 'retryable', retryAfterMs: 1000 });
  });

  it('marks a 410 permanent, and the alerts after it permanent without sending them', async () => {
    // Prepare
    sink.failNext({ kind: 'status', status: 200, body: 'ok' });
    sink.failNext({ kind: 'status', status: 410, body: 'channel_is_archived' });
    // Act
    const outcomes = await notifier().deliver([alertFor(1), alertFor(2), alertFor(3)]);
    // Assess
    expect(sink.attempts).toHaveLength(2);
    expect(outcomes[0]).toEqual({ kind: 'ok' });
    expect(outcomes[1]).toEqual({ kind: 'permanent', error: expect.stringContaining('channel_is_archived') });
    expect(outcomes[2]).toEqual({ kind: 'permanent', error: expect.stringContaining('not sent') });
  });

  it('marks a 500 retryable', async () => {
    sink.failNext({ kind: 'status', status: 500, body: 'rollup_error' });
    const outcomes = await notifier().deliver([alertFor(1)]);
    expect(outcomes).toEqual([
      { kind: 'retryable', error: expect.stringContaining('HTTP 500 rollup_error') },
    ]);
  });

  it('marks a 200 whose body is not ok retryable, quoting the body', async () => {
    sink.failNext({ kind: 'status', status: 200, body: '<html>captive portal</html>' });
    const outcomes = await notifier().deliver([alertFor(1)]);
    expect(outcomes).toEqual([
      {
        kind: 'retryable',
        error: 'HTTP 200 with body "<html>captive portal</html>" instead of "ok": delivery unconfirmed',
      },
    ]);
  });

  it('resends as plain text when Slack rejects the blocks', async () => {
    sink.failNext({ kind: 'status', status: 400, body: 'invalid_blocks' });
    const outcomes = await notifier().deliver([alertFor(1)]);
    expect(outcomes).toEqual([{ kind: 'ok' }]);
    expect(sink.attempts).toHaveLength(2);
    expect(sink.received[0]!.json).toEqual({ text: expect.stringContaining('ecs-prod-01') });
  });

  it('marks a timeout retryable', async () => {
    sink.failNext({ kind: 'hang' });
    const outcomes = await notifier({ timeoutMs: 150 }).deliver([alertFor(1), alertFor(2)]);
    expect(outcomes[0]).toEqual({ kind: 'retryable', error: expect.stringContaining('timed out') });
    expect(outcomes[1]).toEqual({ kind: 'retryable', error: expect.stringContaining('not sent') });
    expect(sink.attempts).toHaveLength(1);
  });

  it('marks a refused connection retryable', async () => {
    // Prepare
    const url = sink.url;
    await sink.close();
    // The old notifier runs on a virtual clock, the sink on the real one: no rate limit between them.
    sink = await startSlackSink({ unlimited: true });
    // Act
    const outcomes = await createSlackNotifier({ url, clock: time.clock, sleep: time.sleep }).deliver([
      alertFor(1),
    ]);
    // Assess
    expect(outcomes).toEqual([{ kind: 'retryable', error: expect.stringContaining('connection refused') }]);
  });

  it('never puts the webhook path in logs, outcomes or its description', async () => {
    // Prepare
    sink.failNext({ kind: 'status', status: 404, body: 'no_service' });
    const n = notifier();
    // Act
    const outcomes = await n.deliver([alertFor(1), alertFor(2)]);
    // Assess
    expect(n.description).toMatch(/^Slack webhook http:\/\/127\.0\.0\.1:\d+\/…$/);
    expect(log.lines.length).toBeGreaterThan(0);
    expect(JSON.stringify([outcomes, log.lines, n.description])).not.toContain(SLACK_SINK_PATH.slice(1));
  });

  it('sends a notice as one message', async () => {
    const outcome = await notifier().notice({
      kind: 'test',
      id: 'test-1',
      scope: { projectId: 'proj-1', enterpriseProjectId: '0' },
      summary: 'Test message from hss-restore-alerts',
      at: NOW,
    });
    expect(outcome).toEqual({ kind: 'ok' });
    expect((sink.received[0]!.json as SlackPayload).text).toBe('Test message from hss-restore-alerts');
  });

  it('refuses a plain-http URL to a non-loopback host', () => {
    expect(() => createSlackNotifier({ url: 'http://hooks.slack.com/services/T/B/SECRET' })).toThrow(
      ConfigError,
    );
  });
});
