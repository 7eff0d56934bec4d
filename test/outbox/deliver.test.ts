// deliver(): what goes out, in what order, how fast, and what happens on each kind of answer, against
// real loopback receivers and dynalite, on a virtual clock.
import type { Destination } from '../../lib/notify/destination';
import { useLocalDynamo } from '../support/dynamo';
import {
  alert,
  alerts,
  chatDestination,
  FAR,
  freshTable,
  HOUR,
  MIN,
  notice,
  outboxFor,
  SEC,
  startSink,
  T0,
  virtualTime,
  webhookDestination,
  type FakeDestinationOptions,
  type Sink,
  type VirtualTime,
} from './support';
import type { TableClient } from '../../lib/state/table-client';
import type { OutboxDeps } from '../../lib/outbox';

const local = useLocalDynamo('outbox-deliver');
const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()));
});

interface World {
  time: VirtualTime;
  table: TableClient;
  webhookSink: Sink;
  chatSink: Sink;
  webhook: ReturnType<typeof webhookDestination>;
  chat: ReturnType<typeof chatDestination>;
  outbox: (destinations?: Destination[], overrides?: Partial<OutboxDeps>) => ReturnType<typeof outboxFor>;
}

async function world(
  options: { webhook?: Partial<FakeDestinationOptions>; chatPerRequest?: number } = {},
): Promise<World> {
  const time = virtualTime();
  const table = await freshTable(local.freshTable, local.dynamo().newClient(), time.sleep);
  const [webhookSink, chatSink] = await Promise.all([startSink(time.now), startSink(time.now)]);
  closers.push(webhookSink.close, chatSink.close);
  const webhook = webhookDestination({ url: webhookSink.url, ...options.webhook });
  const chat = chatDestination({ url: chatSink.url, perRequest: options.chatPerRequest ?? 50 });
  return {
    time,
    table,
    webhookSink,
    chatSink,
    webhook,
    chat,
    outbox: (destinations = [webhook, chat], overrides = {}) =>
      outboxFor(table, destinations, time, overrides),
  };
}

describe('deliver', () => {
  it('delivers every message once to each destination: a request per alert to the webhook, one digest to chat', async () => {
    // Prepare
    const w = await world();
    const { outbox } = w.outbox();
    await outbox.enqueue(alerts(5));

    // Act
    const first = await outbox.deliver(FAR);
    const second = await outbox.deliver(FAR);

    // Assess
    expect(first).toEqual({
      sent: 10,
      requests: 6,
      retrying: 0,
      failed: 0,
      expired: 0,
      pending: 0,
      leaseBusy: false,
      stoppedEarly: false,
      destinationsFailing: [],
      destinationsDegraded: [],
      allDestinationsDown: false,
      unrouted: 0,
    });
    expect([...w.webhookSink.deliveredIds().values()]).toEqual([1, 1, 1, 1, 1]);
    expect(w.chatSink.received.map((r) => r.json.ids)).toEqual([alerts(5).map((a) => a.id)]);
    expect(second).toMatchObject({ sent: 0, requests: 0, pending: 0 });
  });

  it('sends the oldest detections first, then by host name', async () => {
    // Prepare
    const w = await world();
    const { outbox } = w.outbox([w.webhook]);
    await outbox.enqueue([
      alert(3, { at: T0 }),
      alert(9, { at: T0 - MIN }),
      alert(1, { at: T0 }),
      alert(2, { at: T0 + 1 }),
    ]);

    // Act
    await outbox.deliver(FAR);

    // Assess
    expect(w.webhookSink.received.map((r) => r.json.id)).toEqual([
      'alert-0009',
      'alert-0001',
      'alert-0003',
      'alert-0002',
    ]);
  });

  it('paces a destination: a second between requests and at most 20 in any minute', async () => {
    // Prepare
    const w = await world({ webhook: { limits: { minIntervalMs: SEC, perMinute: 20 } } });
    const { outbox } = w.outbox([w.webhook]);
    await outbox.enqueue(alerts(25));

    // Act
    const summary = await outbox.deliver(FAR);

    // Assess
    const at = w.webhookSink.received.map((r) => r.at);
    const gaps = at.slice(1).map((t, i) => t - at[i]!);
    const busiestMinute = Math.max(...at.map((t) => at.filter((u) => u >= t && u < t + MIN).length));
    expect(summary.sent).toBe(25);
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(SEC);
    expect(busiestMinute).toBe(20);
  });

  it('stops a destination answering 503 for this run; the rest wait, not counted as attempts, and all go later', async () => {
    // Prepare
    const w = await world();
    const { outbox } = w.outbox();
    await outbox.enqueue(alerts(3));
    w.webhookSink.answerNext({ status: 503, body: 'busy' });

    // Act
    const first = await outbox.deliver(FAR);
    const afterFirst = await outbox.get(alerts(3).map((a) => a.id));
    w.time.advance(10 * SEC);
    await outbox.deliver(FAR);
    w.time.advance(40 * SEC);
    await outbox.deliver(FAR);

    // Assess
    expect(first).toMatchObject({ sent: 3, requests: 2, retrying: 1, pending: 3 });
    expect(
      afterFirst
        .map((r) => [r.message.id, r.deliveries.webhook?.attempts, r.deliveries.webhook?.nextAt])
        .sort(),
    ).toEqual([
      ['alert-0000', 1, T0 + 45 * SEC],
      ['alert-0001', 0, 0],
      ['alert-0002', 0, 0],
    ]);
    expect(w.webhookSink.attempts.map((r) => r.json.id)).toEqual([
      'alert-0000',
      'alert-0001',
      'alert-0002',
      'alert-0000',
    ]);
    expect(w.chatSink.attempts).toHaveLength(1);
  });

  it('waits as long as Retry-After asks before trying again', async () => {
    // Prepare
    const w = await world();
    const { outbox } = w.outbox([w.webhook]);
    await outbox.enqueue([alert(1)]);
    w.webhookSink.answerNext({ status: 429, body: 'slow down', headers: { 'retry-after': '300' } });

    // Act
    await outbox.deliver(FAR);
    w.time.advance(299 * SEC);
    const early = await outbox.deliver(FAR);
    w.time.advance(SEC);
    const due = await outbox.deliver(FAR);

    // Assess
    expect([early.requests, due.sent]).toEqual([0, 1]);
  });

  it('fails only the message a 400 refuses and sends the others in the same run', async () => {
    // Prepare
    const w = await world();
    const { outbox, log } = w.outbox([w.webhook]);
    await outbox.enqueue(alerts(3));
    w.webhookSink.answerNext({ status: 400, body: '{"error":"invalid_payload"}' });

    // Act
    const summary = await outbox.deliver(FAR);

    // Assess
    expect(summary).toMatchObject({ sent: 2, failed: 1, pending: 0, destinationsFailing: [] });
    expect([...w.webhookSink.deliveredIds().keys()]).toEqual(['alert-0001', 'alert-0002']);
    expect(log.lines.filter((l) => l.level === 'error').map((l) => [l.message, l.extra?.error])).toEqual([
      ['Delivery failed for good', 'HTTP 400 invalid_payload: the receiver rejected the JSON payload'],
    ]);
  });

  it('retries a receiver that refuses the connection, naming only its host', async () => {
    // Prepare
    const w = await world();
    const deadUrl = w.webhookSink.url;
    await w.webhookSink.close();
    const { outbox, log } = w.outbox([w.webhook]);
    await outbox.enqueue(alerts(2));

    // Act
    const summary = await outbox.deliver(FAR);

    // Assess
    expect(summary).toMatchObject({ sent: 0, requests: 1, retrying: 1, pending: 2 });
    const warning = log.lines.find((l) => l.message === 'Delivery failed, will retry');
    expect(warning?.extra?.error).toMatch(
      /^network error posting to http:\/\/127\.0\.0\.1:\d+\/…: connection refused/,
    );
    expect(JSON.stringify(log.lines)).not.toContain(new URL(deadUrl).pathname);
  });

  it('gives up a delivery still failing 24 h after it became due, says so once, and never sends it again', async () => {
    // Prepare
    const w = await world();
    const { outbox, log } = w.outbox([w.webhook]);
    await outbox.enqueue([alert(1)]);
    w.webhookSink.answerAlways({ status: 502 });
    await outbox.deliver(FAR);

    // Act
    w.time.advance(24 * HOUR);
    const expired = await outbox.deliver(FAR);
    w.webhookSink.answerAlways(undefined);
    const later = await outbox.deliver(FAR);

    // Assess
    expect(expired).toMatchObject({ expired: 1, requests: 0, pending: 0 });
    expect(later.requests).toBe(0);
    expect((await outbox.get(['alert-0001']))[0]?.deliveries.webhook?.state).toBe('expired');
    expect(log.lines.filter((l) => /expired/.test(l.message)).map((l) => l.extra?.ids)).toEqual([
      ['alert-0001'],
    ]);
  });

  it('delivers a "monitoring is NOT working" notice that first met a 503 on a later run, before "working again" (issue 10 #5)', async () => {
    // Prepare
    const w = await world();
    const { outbox } = w.outbox([w.webhook]);
    await outbox.enqueue([notice('monitoring-down', 'down-1', { summary: 'monitoring is NOT working' })]);
    w.webhookSink.answerNext({ status: 503 });
    const first = await outbox.deliver(FAR);

    // Act
    w.time.advance(MIN);
    await outbox.enqueue([
      notice('monitoring-recovered', 'up-1', { at: T0 + MIN, summary: 'working again' }),
    ]);
    await outbox.deliver(FAR);

    // Assess
    expect(first).toMatchObject({ retrying: 1, pending: 1 });
    expect(w.webhookSink.received.map((r) => r.json.summary)).toEqual([
      'monitoring is NOT working',
      'working again',
    ]);
  });

  it('starts no send that the deadline would not let finish, and leaves the rest pending', async () => {
    // Prepare: each answer takes 3 s; a send needs its 5 s timeout and 5 s to record.
    const w = await world();
    const { outbox } = w.outbox([w.webhook]);
    await outbox.enqueue(alerts(3));
    w.webhookSink.beforeAnswer = () => w.time.advance(3 * SEC);

    // Act
    const summary = await outbox.deliver(T0 + 12 * SEC);

    // Assess
    expect(summary).toMatchObject({ sent: 1, stoppedEarly: true, pending: 2 });
  });

  it('takes no lease and sends nothing when even one send would end after the deadline', async () => {
    // Prepare
    const w = await world();
    const { outbox } = w.outbox([w.webhook]);
    const { outbox: nextPoll } = w.outbox([w.webhook]);
    await outbox.enqueue(alerts(2));

    // Act
    const late = await outbox.deliver(T0 + 9 * SEC);
    const next = await nextPoll.deliver(FAR);

    // Assess
    expect(late).toMatchObject({ stoppedEarly: true, requests: 0, leaseBusy: false });
    expect(next).toMatchObject({ leaseBusy: false, sent: 2 });
  });

  it('refuses a lease too short to cover one send and its recording', () => {
    // Prepare
    const time = virtualTime();

    // Act
    const build = () =>
      outboxFor({} as TableClient, [], time, {
        leaseMs: 10 * SEC,
        requestTimeoutMs: 10 * SEC,
        recordMarginMs: SEC,
      });

    // Assess
    expect(build).toThrow('The delivery lease (10000 ms) must outlast one send and its recording (11000 ms)');
  });

  it('looks once more before letting go: a message an overlapping poll recorded meanwhile goes out in the same run', async () => {
    // Prepare
    const w = await world();
    const { outbox } = w.outbox([w.webhook]);
    const { outbox: otherPoll } = w.outbox([w.webhook]);
    await outbox.enqueue([alert(1)]);
    w.webhookSink.beforeAnswer = async () => {
      w.webhookSink.beforeAnswer = undefined;
      await otherPoll.enqueue([alert(2)]);
    };

    // Act
    const summary = await outbox.deliver(FAR);

    // Assess
    expect(summary).toMatchObject({ sent: 2, pending: 0 });
    expect(w.webhookSink.received.map((r) => r.json.id)).toEqual(['alert-0001', 'alert-0002']);
  });

  it('tells the channel when the alert lists are still being read, so a digest says more may follow', async () => {
    // Prepare
    const w = await world();
    const { outbox } = w.outbox([w.chat]);
    await outbox.enqueue(alerts(2));

    // Act
    await outbox.deliver(FAR, { listsIncomplete: true });

    // Assess
    expect(w.chatSink.received.map((r) => r.json.text)).toEqual(['2 message(s); more may follow']);
  });

  it('keeps deliveries to a destination no longer configured, looks at them hourly, and expires them at the horizon', async () => {
    // Prepare: recorded for webhook and chat; chat is then removed from the configuration.
    const w = await world();
    await w.outbox().outbox.enqueue(alerts(2));
    const { outbox, log } = w.outbox([w.webhook]);

    // Act
    const first = await outbox.deliver(FAR);
    const waiting = await outbox.pendingByDestination();
    w.time.advance(30 * MIN);
    const quiet = await outbox.deliver(FAR);
    w.time.advance(24 * HOUR);
    const last = await outbox.deliver(FAR);

    // Assess
    expect(first).toMatchObject({ sent: 2, pending: 2 });
    expect(waiting).toEqual({ slack: 2 });
    expect(log.lines.some((l) => /no longer configured/.test(l.message))).toBe(true);
    expect(quiet.requests + quiet.expired).toBe(0);
    expect(last).toMatchObject({ expired: 2, pending: 0 });
    expect(await outbox.pendingByDestination()).toEqual({});
  });
});
