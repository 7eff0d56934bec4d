// A destination that is gone is not silent (issue 10 #6): its first permanent refusal starts a streak,
// one notice goes to every other destination through the outbox, the destination stays in
// `destinationsFailing` (for the CLI's exit code and the DestinationsFailing metric) until a 2xx
// ends the streak with a "works again" notice.
import { startSlackSink, SLACK_SINK_PATH, type Sink as SlackSink } from '../../local/sinks';
import { useLocalDynamo } from '../support/dynamo';
import {
  alert,
  alerts,
  chatDestination,
  crashingProcess,
  FAR,
  freshTable,
  MIN,
  outboxFor,
  ProcessCrash,
  startSink,
  virtualTime,
  webhookDestination,
  type Sink,
} from './support';

const local = useLocalDynamo('outbox-health');
const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()));
});

async function world() {
  const time = virtualTime();
  const table = await freshTable(local.freshTable, local.dynamo().newClient(), time.sleep);
  const slackSink: SlackSink = await startSlackSink({ clock: time.now });
  const webhookSink: Sink = await startSink(time.now);
  closers.push(slackSink.close, webhookSink.close);
  // A Slack webhook that was removed: Slack answers 404 `no_service` off a live hook's path.
  const gone = slackSink.url.replace(SLACK_SINK_PATH, '/services/T000/B000/removed');
  const slack = chatDestination({ url: gone });
  const webhook = webhookDestination({ url: webhookSink.url });
  return { time, table, slackSink, webhookSink, slack, webhook, fix: () => (slack.url = slackSink.url) };
}

const noticesOf = (sink: Sink) => sink.received.filter((r) => r.json.kind === 'notice').map((r) => r.json);

describe('a destination failing permanently', () => {
  it('is reported once through the other destinations, listed until it answers 2xx, then reported working again', async () => {
    // Prepare
    const w = await world();
    const { outbox } = outboxFor(w.table, [w.slack, w.webhook], w.time);
    await outbox.enqueue(alerts(3));

    // Act
    const first = await outbox.deliver(FAR);
    const failing = await outbox.failingDestinations();
    w.time.advance(MIN);
    await outbox.enqueue([alert(4)]);
    const second = await outbox.deliver(FAR);
    w.time.advance(MIN);
    const requestsBefore = w.table.stats.requests;
    const quiet = await outbox.deliver(FAR);
    const quietRequests = w.table.stats.requests - requestsBefore;
    w.fix();
    w.time.advance(MIN);
    await outbox.enqueue([alert(5)]);
    const recovered = await outbox.deliver(FAR);

    // Assess
    expect(first).toMatchObject({ sent: 4, failed: 3, destinationsFailing: ['slack'] });
    expect(failing).toEqual([
      {
        destination: 'slack',
        failingSince: w.time.now() - 3 * MIN,
        lastError: 'HTTP 404 no_service: the webhook was removed or disabled',
        undelivered: 3,
      },
    ]);
    expect(second).toMatchObject({ failed: 1, destinationsFailing: ['slack'] });
    expect(quiet).toMatchObject({ requests: 0, destinationsFailing: ['slack'] });
    expect(quietRequests).toBe(1);
    expect(recovered).toMatchObject({ destinationsFailing: [] });
    expect(await outbox.failingDestinations()).toEqual([]);
    expect(noticesOf(w.webhookSink).map((n) => [n.notice, n.summary])).toEqual([
      [
        'destination-failing',
        'Slack is failing permanently since 2026-11-27 12:00 UTC (HTTP 404 no_service): 3 alerts undelivered',
      ],
      [
        'destination-recovered',
        'Slack works again (it was failing since 2026-11-27 12:00 UTC); 4 deliveries refused meanwhile are not repeated',
      ],
    ]);
    // Slack itself gets the alert that reached it and, in the same run, that it works again.
    expect(
      w.slackSink.received.map((r) => (r.json as { ids: string[]; notices: string[] }).notices.length),
    ).toEqual([0, 1]);
  });

  it('still sends its notice when the run that found it died before enqueueing it', async () => {
    // Prepare: this process dies just before it records the notice (its only PutItem).
    const w = await world();
    await outboxFor(w.table, [w.slack, w.webhook], w.time).outbox.enqueue(alerts(2));
    const dying = crashingProcess({ step: 'PutItem', when: 'before', nth: 1 });
    const { outbox: doomed } = outboxFor(dying.wrapTable(w.table), [w.slack, w.webhook], w.time);
    const crash = await doomed.deliver(FAR).catch((err: unknown) => err);
    await dying.settle();

    // Act: the next run, once the dead run's lease has expired.
    w.time.advance(2 * MIN);
    const { outbox } = outboxFor(w.table, [w.slack, w.webhook], w.time);
    const next = await outbox.deliver(FAR);
    const again = await outbox.deliver(FAR);

    // Assess
    expect(crash).toBeInstanceOf(ProcessCrash);
    expect(next).toMatchObject({ destinationsFailing: ['slack'], sent: 1 });
    expect(again).toMatchObject({ requests: 0 });
    expect(noticesOf(w.webhookSink).map((n) => n.summary)).toEqual([
      'Slack is failing permanently since 2026-11-27 12:00 UTC (HTTP 404 no_service): 2 alerts undelivered',
    ]);
  });
});
