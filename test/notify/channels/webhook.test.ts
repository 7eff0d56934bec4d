import { Webhook } from 'standardwebhooks';
import { createDestination } from '../../../lib/notify/channels';
import { webhookEvent } from '../../../lib/notify/channels/webhook';
import { startWebhookSink } from '../../../local/sinks';
import { alert, notice, reminder, resolved, summary } from '../support/messages';
import { createTestSender, virtualClock } from '../support/send';

const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

describe('webhook destination', () => {
  it('signs so that the official Standard Webhooks library verifies it', async () => {
    // Prepare: Webhook.verify checks the timestamp against the real clock.
    const clock = virtualClock(Date.now());
    const sink = await startWebhookSink({ secret: SECRET, clock: clock.now });
    const destination = createDestination(
      { type: 'webhook', name: 'webhook', url: sink.url, secret: SECRET, routing: {} },
      { credentials: {} },
    );
    try {
      // Act
      await createTestSender(clock)(destination, [alert(1)]);
      // Assess
      const request = sink.received[0]!;
      const verified = new Webhook(SECRET).verify(request.body, request.headers);
      expect(verified).toMatchObject({
        type: 'hss.task.status_alert',
        id: alert(1).id,
        task_ref: 'task-ref-1',
        episode: 1,
      });
      expect(request.headers['webhook-id']).toBe(alert(1).id);
    } finally {
      await sink.close();
    }
  });

  it('refuses a secret that is not whsec_<base64>, saying how to build one and without echoing it', () => {
    const build = () =>
      createDestination(
        {
          type: 'webhook',
          name: 'webhook',
          url: 'https://example.com/h',
          secret: 'plain-secret-value',
          routing: {},
        },
        { credentials: {} },
      );
    expect(build).toThrow(/whsec_<base64 key>.*openssl rand -base64 32/);
    expect(build).not.toThrow(/plain-secret-value/);
  });

  it('sends webhook-id and webhook-timestamp even unsigned', () => {
    const destination = createDestination(
      { type: 'webhook', name: 'webhook', url: 'https://example.com/h', routing: {} },
      { credentials: {} },
    );
    const [request] = destination.render([notice('test')], { now: 0 });
    expect(destination.sign!(request!, 1_700_000_000_000).headers).toEqual({
      'webhook-id': 'notice-test',
      'webhook-timestamp': '1700000000',
    });
  });

  it.each([
    [
      alert(1, { stuck: { process: 41, stalledMs: 60_000, runningMs: 120_000 } }),
      'hss.task.status_alert',
      {
        stuck: { process: 41, stalled_ms: 60_000, running_ms: 120_000 },
        was_stuck: null,
        previous_status: 'running',
      },
    ],
    [resolved(1), 'hss.task.resolved', { alert_id: alert(1).id, how: 'later-success' }],
    [reminder(1), 'hss.task.reminder', { alert_id: 'alert-1', n: 1 }],
    [summary(), 'hss.daily_summary', { day: '2026-11-29', time_zone: 'Asia/Shanghai' }],
    [
      notice('monitoring-down'),
      'hss.monitoring.monitoring-down',
      {
        summary: expect.stringContaining('NOT working'),
        facts: [{ label: 'Blind since', value: '2026-11-29 17:00 UTC' }],
      },
    ],
  ])('renders %# as %s, version 1', (message, type, fields) => {
    expect(webhookEvent(message)).toMatchObject({ version: '1', type, id: message.id, ...fields });
  });

  it('keeps the scope id and the task times both as sent and parsed', () => {
    const event = webhookEvent(alert(1, {}, { startedAt: '2026-11-29 17:00:03', zoneless: true })) as {
      scope: { id: string };
      task: { started_at: string; started_at_utc: string };
    };
    expect(event.scope.id).toBe('cn-north-4/0a1b2c3d4e5f60718293a4b5c6d7e8f9/0');
    expect(event.task).toMatchObject({
      started_at: '2026-11-29 17:00:03',
      started_at_utc: '2026-11-29T17:00:03.000Z',
    });
  });
});
