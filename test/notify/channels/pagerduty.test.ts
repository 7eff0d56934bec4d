import type { DestinationConfig } from '../../../lib/notify/channels';
import { createDestination } from '../../../lib/notify/channels';
import { PAGERDUTY_ROUTING_KEY, startPagerdutySink } from '../../../local/sinks';
import { alert, notice, reminder, resolved, summary, T0 } from '../support/messages';
import { createTestSender, virtualClock } from '../support/send';

describe('PagerDuty destination', () => {
  let sink: Awaited<ReturnType<typeof startPagerdutySink>>;
  const clock = virtualClock(T0);
  const send = createTestSender(clock);
  const config = (severity: Extract<DestinationConfig, { type: 'pagerduty' }>['severity'] = {}) =>
    createDestination(
      {
        type: 'pagerduty',
        name: 'pagerduty',
        routingKey: PAGERDUTY_ROUTING_KEY,
        eventsUrl: sink.url,
        severity,
        routing: {},
      },
      { credentials: {} },
    );
  beforeEach(async () => {
    sink = await startPagerdutySink({ clock: clock.now });
  });
  afterEach(async () => {
    await sink.close();
  });

  it('triggers one incident per task (dedup_key = taskRef) and resolves it with the same key', async () => {
    // Act
    await send(config(), [alert(1), alert(1, { id: 'again', status: 'timeout' })]);
    await send(config(), [resolved(1)]);
    // Assess
    expect([...sink.incidents]).toEqual([
      ['task-ref-1', { state: 'resolved', events: 3, severity: 'warning' }],
    ]);
    const first = sink.received[0]!.json as { payload: Record<string, unknown>; links: unknown[] };
    expect(first.payload).toMatchObject({ source: 'web-01', component: 'autobk_web-03', severity: 'error' });
    expect(first.links).toEqual([
      expect.objectContaining({ href: expect.stringContaining('console.huaweicloud.com') }),
    ]);
  });

  it('pages a task whose host name is nothing but control characters, with its host id as the source', async () => {
    // Act
    const report = await send(config(), [alert(1, {}, { hostName: '\u001b[31m\u0007' })]);
    // Assess
    expect(report.outcomes).toEqual([{ kind: 'ok' }]);
    expect((sink.received[0]!.json as { payload: { source: string } }).payload.source).toBe('host-id-1');
  });

  it('takes the severity per status from the config, failed=error and timeout=warning by default', async () => {
    // Act
    await send(config({ failed: 'critical' }), [
      alert(1),
      alert(2, { status: 'timeout' }),
      alert(3, { status: 'stuck', stuck: { process: 41, stalledMs: 7_800_000, runningMs: 18_000_000 } }),
    ]);
    // Assess
    expect(sink.received.map((r) => (r.json as { payload: { severity: string } }).payload.severity)).toEqual([
      'critical',
      'warning',
      'warning',
    ]);
    expect(sink.visibleText(sink.received[2]!)).toContain('41% for 2 h 10 min, running 5 h');
  });

  it('pages a monitoring outage as critical and resolves it when monitoring recovers', async () => {
    // Act
    await send(config(), [notice('monitoring-down')]);
    const open = new Map(sink.incidents);
    await send(config(), [notice('monitoring-recovered')]);
    // Assess
    expect([...open.values()]).toEqual([{ state: 'triggered', events: 1, severity: 'critical' }]);
    expect([...sink.incidents.values()]).toEqual([{ state: 'resolved', events: 2, severity: 'critical' }]);
  });

  it('marks a test notice as TEST with severity info', async () => {
    // Act
    await send(config(), [notice('test')]);
    // Assess
    const event = sink.received[0]!.json as { payload: { summary: string; severity: string } };
    expect(event.payload.summary).toMatch(/^TEST \(no action needed\): /);
    expect(event.payload.severity).toBe('info');
  });

  it('accepts no reminders and no daily summaries', () => {
    const destination = config();
    expect(
      [reminder(1), summary(), alert(1), resolved(1), notice('test')].map((m) => destination.accepts(m)),
    ).toEqual([false, false, true, true, true]);
  });

  it('keeps the summary under 1,024 characters of plain text for a 4,000-character error', async () => {
    // Act
    const report = await send(config(), [alert(1, {}, { errorMessage: 'x'.repeat(4000) })]);
    // Assess
    expect(report.outcomes).toEqual([{ kind: 'ok' }]);
    expect(
      (sink.received[0]!.json as { payload: { summary: string } }).payload.summary.length,
    ).toBeLessThanOrEqual(1024);
  });

  it('waits minutes after a 429 and never resends a 400', async () => {
    // Prepare
    sink.failNext({ kind: 'vendor', code: 429 });
    sink.failNext({ kind: 'vendor', code: 400 });
    // Act
    const throttled = await send(config(), [alert(1)]);
    const refused = await send(config(), [alert(1)]);
    // Assess
    expect(throttled.outcomes[0]).toMatchObject({ kind: 'retryable', retryAfterMs: 120_000 });
    expect(refused.outcomes[0]).toMatchObject({ kind: 'permanent' });
  });
});
