// What the outbox costs in DynamoDB requests (issue 9 "Cost"): a run with nothing due reads one
// Query and writes nothing; a large delivery reads what is due once (plus one look for late
// arrivals) and writes each outcome once, never re-reading the whole outbox.
import { useLocalDynamo } from '../support/dynamo';
import {
  alerts,
  chatDestination,
  countCommands,
  FAR,
  freshTable,
  MIN,
  outboxFor,
  startSink,
  virtualTime,
  webhookDestination,
  type Sink,
} from './support';

const local = useLocalDynamo('outbox-cost');
const sinks: Sink[] = [];
afterEach(async () => {
  await Promise.all(sinks.splice(0).map((s) => s.close()));
});

async function world() {
  const time = virtualTime();
  const client = local.dynamo().newClient();
  const counter = countCommands(client);
  const table = await freshTable(local.freshTable, client, time.sleep);
  const [webhookSink, chatSink] = await Promise.all([startSink(time.now), startSink(time.now)]);
  sinks.push(webhookSink, chatSink);
  const destinations = [
    webhookDestination({ url: webhookSink.url }),
    chatDestination({ url: chatSink.url, perRequest: Number.MAX_SAFE_INTEGER }),
  ];
  return { time, counter, table, webhookSink, chatSink, ...outboxFor(table, destinations, time) };
}

describe('outbox cost', () => {
  it('reads one Query and writes nothing in a run with nothing due, before and after delivering', async () => {
    // Prepare
    const w = await world();
    w.counter.counts.clear();

    // Act
    const empty = await w.outbox.deliver(FAR);
    const emptyCounts = Object.fromEntries(w.counter.counts);
    await w.outbox.enqueue(alerts(20));
    await w.outbox.deliver(FAR);
    w.time.advance(MIN);
    w.counter.counts.clear();
    const steady = await w.outbox.deliver(FAR);

    // Assess
    expect([empty.sent, steady.sent]).toEqual([0, 0]);
    expect(emptyCounts).toEqual({ QueryCommand: 1 });
    expect(Object.fromEntries(w.counter.counts)).toEqual({ QueryCommand: 1 });
  });

  it('delivers 300 alerts to a webhook and a digesting chat with one write per delivery and no re-read of the outbox', async () => {
    // Prepare
    const w = await world();
    await w.outbox.enqueue(alerts(300));
    w.counter.counts.clear();

    // Act
    const summary = await w.outbox.deliver(FAR);

    // Assess
    expect(summary).toMatchObject({ sent: 600, requests: 301, pending: 0 });
    expect(w.chatSink.received).toHaveLength(1);
    const counts = Object.fromEntries(w.counter.counts);
    // Query: what is due, then one more look; BatchGetItem: 100 keys a request.
    expect({ query: counts.QueryCommand, batchGet: counts.BatchGetItemCommand }).toEqual({
      query: 2,
      batchGet: 3,
    });
    // UpdateItem: lease, 600 outcomes, release, and a few re-writes where two destinations raced.
    expect(counts.UpdateItemCommand).toBeGreaterThanOrEqual(602);
    expect(counts.UpdateItemCommand).toBeLessThanOrEqual(602 + 30);
  });
});
