// One deliverer per namespace, even when a delivery outlasts its lease (issue 10 #10): with a 60 s
// lease, 70 alerts and a webhook that takes 1 s each, a second run starting at 61 s used to take
// over the expired lease and send what the first was still sending (16 alerts twice).
import { useLocalDynamo } from '../support/dynamo';
import {
  alerts,
  FAR,
  freshTable,
  LEASE_MS,
  outboxFor,
  SEC,
  startSink,
  T0,
  virtualTime,
  webhookDestination,
} from './support';
import type { DeliverySummary } from '../../lib/outbox';

const local = useLocalDynamo('outbox-lease');

async function slowWebhookWorld() {
  const time = virtualTime();
  const table = await freshTable(local.freshTable, local.dynamo().newClient(), time.sleep);
  const sink = await startSink(time.now);
  const webhook = webhookDestination({ url: sink.url });
  // Two processes (two Lambda instances), each with its own outbox on the same table.
  const first = outboxFor(table, [webhook], time, { requestTimeoutMs: 10 * SEC, recordMarginMs: 2 * SEC });
  const second = outboxFor(table, [webhook], time, { requestTimeoutMs: 10 * SEC, recordMarginMs: 2 * SEC });
  return { time, sink, first: first.outbox, second: second.outbox };
}

describe('the delivery lease', () => {
  it('is renewed before a send it would not outlive, so a run starting at 61 s sends nothing twice (issue 10 #10)', async () => {
    // Prepare
    const w = await slowWebhookWorld();
    await w.first.enqueue(alerts(70));
    let overlapping: Promise<DeliverySummary> | undefined;
    w.sink.beforeAnswer = async () => {
      w.time.advance(SEC);
      if (!overlapping && w.time.now() >= T0 + 61 * SEC) {
        overlapping = w.second.deliver(FAR);
        await overlapping;
      }
    };

    // Act
    const summary = await w.first.deliver(FAR);
    const other = await overlapping!;
    await w.sink.close();

    // Assess
    const counts = [...w.sink.deliveredIds().values()];
    expect(LEASE_MS).toBe(60 * SEC);
    expect(summary).toMatchObject({ sent: 70, stoppedEarly: false, pending: 0 });
    expect(other).toMatchObject({ leaseBusy: true, sent: 0 });
    expect(counts.filter((n) => n === 1)).toHaveLength(70);
  });

  it('stops a run whose lease another run took over (a frozen process), repeating at most the send in flight', async () => {
    // Prepare: the 10th answer freezes the first process for 70 s: its lease expires and the
    // second run takes it over and sends everything still pending.
    const w = await slowWebhookWorld();
    await w.first.enqueue(alerts(20));
    let overlapping: Promise<DeliverySummary> | undefined;
    let inFlight: string | undefined;
    w.sink.beforeAnswer = async (request) => {
      if (w.sink.attempts.length !== 10 || overlapping) return;
      inFlight = request.json.id;
      w.time.advance(70 * SEC);
      overlapping = w.second.deliver(FAR);
      await overlapping;
    };

    // Act
    const summary = await w.first.deliver(FAR);
    const other = await overlapping!;
    await w.sink.close();

    // Assess
    const twice = [...w.sink.deliveredIds()].filter(([, n]) => n > 1).map(([id]) => id);
    expect(summary).toMatchObject({ sent: 10, stoppedEarly: true });
    expect(other).toMatchObject({ leaseBusy: false, sent: 11 });
    expect(w.sink.deliveredIds().size).toBe(20);
    expect(twice).toEqual([inFlight]);
  });
});
