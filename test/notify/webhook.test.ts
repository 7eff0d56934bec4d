import { createHmac } from 'node:crypto';
import type { Alert } from '../../lib/diff/alert';
import { ConfigError } from '../../lib/errors';
import type { Log } from '../../lib/log';
import { createWebhookNotifier, webhookEvent, webhookNoticeEvent } from '../../lib/notify/webhook';
import { startWebhookSink, WEBHOOK_SINK_PATH, type Sink } from '../../local/sinks';

const NOW = Date.UTC(2025, 2, 6, 5, 30, 0);
const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

function alertFor(i: number, extra: Partial<Alert> = {}): Alert {
  return {
    id: `0123456789abcdef0123456789abcd${String(i).padStart(2, '0')}`,
    scope: { projectId: 'proj-1', enterpriseProjectId: '0', region: 'ap-southeast-1' },
    task: {
      hostId: `host-id-${i}`,
      hostName: `ecs-prod-${i}`,
      backupName: `backup-${i}`,
      status: 'failed',
      rawStatus: 'failed',
      process: 40,
      startedAt: '2025-03-06T05:26:18Z',
      errorCode: 'HSS.1234',
      errorMessage: 'restore agent lost connection',
    },
    status: 'failed',
    previousStatus: 'running',
    reason: 'moved',
    detectedAt: NOW,
    ...extra,
  };
}

function recordingLog(): Log & { lines: string[] } {
  const lines: string[] = [];
  const put = (message: string, extra?: Record<string, unknown>) =>
    lines.push(`${message} ${JSON.stringify(extra)}`);
  return { lines, debug: put, info: put, warn: put, error: put };
}

describe('webhook events', () => {
  it('follow schema version 1 for an alert', () => {
    expect(webhookEvent(alertFor(1))).toEqual({
      version: '1',
      type: 'hss.task.status_alert',
      id: '0123456789abcdef0123456789abcd01',
      detected_at: '2025-03-06T05:30:00.000Z',
      scope: { project_id: 'proj-1', enterprise_project_id: '0', region: 'ap-southeast-1' },
      task: {
        host_id: 'host-id-1',
        host_name: 'ecs-prod-1',
        backup_name: 'backup-1',
        status: 'failed',
        raw_status: 'failed',
        process: 40,
        started_at: '2025-03-06T05:26:18Z',
        ended_at: null,
        error_code: 'HSS.1234',
        error_message: 'restore agent lost connection',
      },
      previous_status: 'running',
      status: 'failed',
      reason: 'moved',
    });
  });

  it('use null, not absent fields, for what the API left out', () => {
    const alert = alertFor(2, {
      previousStatus: undefined,
      reason: 'first-seen',
      scope: { projectId: 'p', enterpriseProjectId: '0' },
    });
    alert.task = { ...alert.task, process: undefined, errorCode: '', errorMessage: undefined };
    const event = webhookEvent(alert);
    expect(event).toMatchObject({
      previous_status: null,
      scope: { region: null },
      task: { process: null, error_code: null, error_message: null },
    });
  });

  it('name notices hss.monitoring.<kind>', () => {
    const event = webhookNoticeEvent({
      kind: 'monitoring-down',
      id: 'n1',
      scope: { projectId: 'p', enterpriseProjectId: '0' },
      summary: 'HSS polling failed',
      at: NOW,
    });
    expect(event).toEqual({
      version: '1',
      type: 'hss.monitoring.monitoring-down',
      id: 'n1',
      at: '2025-03-06T05:30:00.000Z',
      scope: { project_id: 'p', enterprise_project_id: '0', region: null },
      summary: 'HSS polling failed',
      detail: null,
    });
  });
});

describe('webhook notifier against a local webhook sink', () => {
  let sink: Sink;
  let log: ReturnType<typeof recordingLog>;
  const clock = () => NOW;

  beforeEach(async () => {
    sink = await startWebhookSink({ secret: SECRET, clock });
    log = recordingLog();
  });
  afterEach(async () => {
    await sink.close();
  });

  it('posts one signed event per alert, in order, that the reference algorithm verifies', async () => {
    // Prepare
    const notifier = createWebhookNotifier({ url: sink.url, secret: SECRET, clock, log });
    // Act
    const outcomes = await notifier.deliver([alertFor(1), alertFor(2), alertFor(3)]);
    // Assess
    expect(outcomes).toEqual([{ kind: 'ok' }, { kind: 'ok' }, { kind: 'ok' }]);
    expect(sink.received.map((r) => (r.json as { task: { host_id: string } }).task.host_id)).toEqual([
      'host-id-1',
      'host-id-2',
      'host-id-3',
    ]);
    const first = sink.received[0]!;
    const key = Buffer.from(SECRET.slice('whsec_'.length), 'base64');
    const expected = createHmac('sha256', key)
      .update(`${alertFor(1).id}.${Math.floor(NOW / 1000)}.${first.body}`)
      .digest('base64');
    expect(first.headers).toMatchObject({
      'content-type': 'application/json',
      'webhook-id': alertFor(1).id,
      'webhook-timestamp': String(Math.floor(NOW / 1000)),
      'webhook-signature': `v1,${expected}`,
    });
  });

  it('is refused with 401 by a receiver holding another secret, permanently, for the whole batch', async () => {
    // Prepare
    const notifier = createWebhookNotifier({ url: sink.url, secret: 'whsec_b3RoZXI=', clock, log });
    // Act
    const outcomes = await notifier.deliver([alertFor(1), alertFor(2)]);
    // Assess
    expect(sink.attempts).toHaveLength(1);
    expect(outcomes).toEqual([
      { kind: 'permanent', error: expect.stringContaining('HTTP 401 invalid_signature') },
      { kind: 'permanent', error: expect.stringContaining('not sent') },
    ]);
  });

  it('sends webhook-id without a signature when no secret is configured', async () => {
    // Prepare
    const open = await startWebhookSink();
    try {
      // Act
      const outcomes = await createWebhookNotifier({ url: open.url, clock }).deliver([alertFor(1)]);
      // Assess
      expect(outcomes).toEqual([{ kind: 'ok' }]);
      expect(open.received[0]!.headers['webhook-id']).toBe(alertFor(1).id);
      expect(open.received[0]!.headers['webhook-signature']).toBeUndefined();
    } finally {
      await open.close();
    }
  });

  it('marks 410 permanent as endpoint gone', async () => {
    sink.failNext({ kind: 'status', status: 410 });
    const outcomes = await createWebhookNotifier({ url: sink.url, secret: SECRET, clock }).deliver([
      alertFor(1),
    ]);
    expect(outcomes).toEqual([{ kind: 'permanent', error: 'HTTP 410: endpoint gone' }]);
  });

  it('marks 500 retryable and leaves the rest of the batch for the next poll', async () => {
    sink.failNext({ kind: 'status', status: 500 });
    const outcomes = await createWebhookNotifier({ url: sink.url, secret: SECRET, clock }).deliver([
      alertFor(1),
      alertFor(2),
    ]);
    expect(outcomes.map((o) => o.kind)).toEqual(['retryable', 'retryable']);
    expect(sink.attempts).toHaveLength(1);
  });

  it('passes a 429 Retry-After on without waiting', async () => {
    sink.failNext({ kind: 'status', status: 429, headers: { 'Retry-After': '120' } });
    const outcomes = await createWebhookNotifier({ url: sink.url, secret: SECRET, clock }).deliver([
      alertFor(1),
    ]);
    expect(outcomes).toEqual([
      { kind: 'retryable', error: expect.stringContaining('HTTP 429'), retryAfterMs: 120_000 },
    ]);
  });

  it('marks a receiver that never answers retryable', async () => {
    sink.failNext({ kind: 'hang' });
    const notifier = createWebhookNotifier({ url: sink.url, secret: SECRET, clock, timeoutMs: 150 });
    const outcomes = await notifier.deliver([alertFor(1)]);
    expect(outcomes).toEqual([
      { kind: 'retryable', error: expect.stringContaining('timed out after 150 ms') },
    ]);
  });

  it('sends a notice with its own id as webhook-id', async () => {
    const notifier = createWebhookNotifier({ url: sink.url, secret: SECRET, clock });
    const outcome = await notifier.notice({
      kind: 'test',
      id: 'notice-1',
      scope: { projectId: 'p', enterpriseProjectId: '0' },
      summary: 'Test message',
      at: NOW,
    });
    expect(outcome).toEqual({ kind: 'ok' });
    expect(sink.received[0]!.headers['webhook-id']).toBe('notice-1');
    expect(sink.received[0]!.json).toMatchObject({ type: 'hss.monitoring.test' });
  });

  it('never puts the URL path or the secret in logs, outcomes or its description', async () => {
    // Prepare
    sink.failNext({ kind: 'reset' });
    const notifier = createWebhookNotifier({ url: sink.url, secret: SECRET, clock, log });
    // Act
    const outcomes = await notifier.deliver([alertFor(1), alertFor(2)]);
    // Assess
    expect(outcomes[0]).toMatchObject({
      kind: 'retryable',
      error: expect.stringContaining('connection reset'),
    });
    const everything = JSON.stringify([outcomes, log.lines, notifier.description]);
    expect(everything).not.toContain(WEBHOOK_SINK_PATH);
    expect(everything).not.toContain(SECRET.slice(6));
  });
});

describe('webhook notifier configuration', () => {
  it.each([
    ['https://example.com/hook', true],
    ['http://127.0.0.1:9/hook', true],
    ['http://localhost:9/hook', true],
    ['http://[::1]:9/hook', true],
    ['http://example.com/hook/TOKEN', false],
    ['http://192.168.1.10/hook/TOKEN', false],
  ])('%s accepted: %s', (url, accepted) => {
    const create = () => createWebhookNotifier({ url });
    if (accepted) {
      expect(create).not.toThrow();
    } else {
      expect(create).toThrow(ConfigError);
      expect(create).toThrow(/must use https:\/\//);
      expect(create).not.toThrow(/TOKEN/);
    }
  });

  it('refuses a malformed whsec_ secret at start', () => {
    expect(() => createWebhookNotifier({ url: 'https://example.com/h', secret: 'whsec_???' })).toThrow(
      ConfigError,
    );
  });
});
