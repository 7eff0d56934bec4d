// The due index must never drop a message while any of its deliveries is pending in the TABLE, even
// when this run's copy is ahead of a write that failed; and a message every destination has settled
// must leave it even when two destinations' writes raced (or every later run would read it again).
import { StateError } from '../../lib/state/errors';
import { useLocalDynamo } from '../support/dynamo';
import {
  alert,
  chatDestination,
  failOn,
  FAR,
  freshTable,
  holdOn,
  outboxFor,
  startSink,
  throttled,
  virtualTime,
  webhookDestination,
  type Sink,
} from './support';

const local = useLocalDynamo('outbox-index');
const sinks: Sink[] = [];
afterEach(async () => {
  await Promise.all(sinks.splice(0).map((s) => s.close()));
});

const writesDelivery = (input: Record<string, unknown>, destination: string): boolean =>
  (input.ExpressionAttributeNames as Record<string, string> | undefined)?.['#mine'] ===
  `delivery#${destination}`;

describe('the due index', () => {
  it('keeps a message whose delivery write failed, so the next run sends it to that destination', async () => {
    // Prepare: chat answers first and its outcome write fails; only then does the webhook answer,
    // when this run's copy already says chat is done.
    const time = virtualTime();
    let chatWriteFailed: () => void = () => undefined;
    const chatFailed = new Promise<void>((resolve) => (chatWriteFailed = resolve));
    let failures = 0;
    const client = failOn(local.dynamo().newClient(), (command, input) => {
      if (command === 'UpdateItemCommand' && writesDelivery(input, 'slack') && failures++ === 0) {
        chatWriteFailed();
        throw throttled();
      }
    });
    const table = await freshTable(local.freshTable, client, time.sleep);
    const [webhookSink, chatSink] = await Promise.all([startSink(time.now), startSink(time.now)]);
    sinks.push(webhookSink, chatSink);
    webhookSink.beforeAnswer = () => chatFailed;
    const destinations = [
      webhookDestination({ url: webhookSink.url }),
      chatDestination({ url: chatSink.url }),
    ];
    const { outbox } = outboxFor(table, destinations, time);
    await outbox.enqueue([alert(1)]);

    // Act
    const failure = await outbox.deliver(FAR).catch((err: unknown) => err);
    const waiting = await outbox.pendingByDestination();
    const next = await outbox.deliver(FAR);

    // Assess
    expect(failure).toBeInstanceOf(StateError);
    expect(waiting).toEqual({ slack: 1 });
    expect(next).toMatchObject({ leaseBusy: false, sent: 1, requests: 1, pending: 0 });
    expect([webhookSink.received.length, chatSink.received.length]).toEqual([1, 2]);
    expect(await outbox.pendingByDestination()).toEqual({});
  });

  it('drops a message every destination settled even when their writes raced, so the next run reads nothing', async () => {
    // Prepare: the first delivery write waits until the second is on its way, so both are decided
    // against the same view of the table and the second finds the first's change.
    const time = virtualTime();
    let releaseFirst: () => void = () => undefined;
    const secondSent = new Promise<void>((resolve) => (releaseFirst = resolve));
    let deliveryWrites = 0;
    const client = holdOn(local.dynamo().newClient(), (command, input) => {
      if (command !== 'UpdateItemCommand' || !('#mine' in ((input.ExpressionAttributeNames as object) ?? {})))
        return undefined;
      deliveryWrites += 1;
      if (deliveryWrites === 1) return secondSent;
      if (deliveryWrites === 2) releaseFirst();
      return undefined;
    });
    const table = await freshTable(local.freshTable, client, time.sleep);
    const [webhookSink, chatSink] = await Promise.all([startSink(time.now), startSink(time.now)]);
    sinks.push(webhookSink, chatSink);
    const destinations = [
      webhookDestination({ url: webhookSink.url }),
      chatDestination({ url: chatSink.url }),
    ];
    const { outbox } = outboxFor(table, destinations, time);
    await outbox.enqueue([alert(1)]);

    // Act
    const summary = await outbox.deliver(FAR);
    const before = table.stats.requests;
    const steady = await outbox.deliver(FAR);

    // Assess
    expect(deliveryWrites).toBeGreaterThanOrEqual(3); // two decided together, one of them written again
    expect(summary).toMatchObject({ sent: 2, pending: 0 });
    expect(steady).toMatchObject({ sent: 0, requests: 0 });
    expect(table.stats.requests - before).toBe(1);
  });
});
