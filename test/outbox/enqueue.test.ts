// enqueue: one conditional put per message, in parallel; deliveries per routing and quiet hours;
// TTL from lib/state/layout.ts; only messages with something pending sit in the due index.
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { StateError } from '../../lib/state/errors';
import { RETENTION, ttlAfter, PK } from '../../lib/state/layout';
import { useLocalDynamo } from '../support/dynamo';
import {
  alert,
  alerts,
  chatDestination,
  countCommands,
  failOn,
  FAR,
  freshTable,
  HOUR,
  notice,
  outboxFor,
  T0,
  throttled,
  virtualTime,
  webhookDestination,
} from './support';

const local = useLocalDynamo('outbox-enqueue');
const URL = 'http://127.0.0.1:9/hooks/never-called';

async function setup(client = local.dynamo().newClient()) {
  const time = virtualTime();
  const table = await freshTable(local.freshTable, client, time.sleep);
  return { time, table, client };
}

describe('enqueue', () => {
  it('records each message once: a second enqueue of the same ids reports them as existing', async () => {
    // Prepare
    const { time, table } = await setup();
    const { outbox } = outboxFor(table, [webhookDestination({ url: URL })], time);
    await outbox.enqueue(alerts(3));

    // Act
    const again = await outbox.enqueue([...alerts(3), alert(3)]);

    // Assess
    expect(again).toEqual({ created: ['alert-0003'], existing: ['alert-0000', 'alert-0001', 'alert-0002'] });
  });

  it('records 500 alerts with 500 conditional puts in parallel, never one round trip after another', async () => {
    // Prepare
    const client = local.dynamo().newClient();
    const counter = countCommands(client);
    const { time, table } = await setup(client);
    const { outbox } = outboxFor(table, [webhookDestination({ url: URL })], time, { parallelism: 16 });
    counter.counts.clear();

    // Act
    const result = await outbox.enqueue(alerts(500));

    // Assess
    expect(result.created).toHaveLength(500);
    expect(Object.fromEntries(counter.counts)).toEqual({ PutItemCommand: 500 });
    expect(counter.maxInFlight()).toBeGreaterThan(1);
    expect(counter.maxInFlight()).toBeLessThanOrEqual(16);
  });

  it('gives deliveries only to destinations that accept the message and are not skipped', async () => {
    // Prepare
    const { time, table } = await setup();
    const destinations = [
      webhookDestination({ url: URL }),
      chatDestination({ url: URL, accepts: (m) => m.kind !== 'alert' || m.status !== 'timeout' }),
    ];
    const { outbox } = outboxFor(table, destinations, time);

    // Act
    await outbox.enqueue([
      alert(1),
      alert(2, { status: 'timeout' }),
      notice('destination-failing', 'n1', { skipDestinations: ['webhook'] }),
    ]);
    const records = await outbox.get(['alert-0001', 'alert-0002', 'n1']);

    // Assess
    const routed = Object.fromEntries(records.map((r) => [r.message.id, Object.keys(r.deliveries).sort()]));
    expect(routed).toEqual({ 'alert-0001': ['slack', 'webhook'], 'alert-0002': ['webhook'], n1: ['slack'] });
  });

  it('keeps alerts 32 days (past the API window) and every other message 7 days', async () => {
    // Prepare
    const { time, table } = await setup();
    const { outbox } = outboxFor(table, [webhookDestination({ url: URL })], time);

    // Act
    await outbox.enqueue([alert(1), notice('test', 'n1')]);
    const records = await outbox.get(['alert-0001', 'n1']);

    // Assess
    const ttl = Object.fromEntries(records.map((r) => [r.message.id, r.expiresAt]));
    expect(ttl).toEqual({
      'alert-0001': ttlAfter(T0, RETENTION.alertDays),
      n1: ttlAfter(T0, RETENTION.messageDays),
    });
  });

  it('records a message no destination accepts (it is the dedup record) without putting it in the due index', async () => {
    // Prepare
    const { time, table, client } = await setup();
    const { outbox } = outboxFor(table, [webhookDestination({ url: URL, accepts: () => false })], time);

    // Act
    const result = await outbox.enqueue([alert(1)]);
    const item = await client.send(
      new GetItemCommand({
        TableName: table.tableName,
        Key: { pk: { S: PK.outbox('test') }, sk: { S: 'M#alert-0001' } },
      }),
    );

    // Assess
    expect(result.created).toEqual(['alert-0001']);
    expect(item.Item?.g1pk).toBeUndefined();
    expect(await outbox.pendingByDestination()).toEqual({});
  });

  it('holds a message for quiet hours: counted as waiting, not sent before the hold ends', async () => {
    // Prepare
    const { time, table } = await setup();
    const { outbox } = outboxFor(table, [webhookDestination({ url: URL })], time, {
      holdUntil: () => T0 + 8 * HOUR,
    });

    // Act
    await outbox.enqueue([alert(1)]);
    const [record] = await outbox.get(['alert-0001']);
    const summary = await outbox.deliver(FAR);

    // Assess
    expect(record?.deliveries.webhook).toEqual({
      state: 'held',
      attempts: 0,
      nextAt: T0 + 8 * HOUR,
      dueSince: T0 + 8 * HOUR,
    });
    expect(await outbox.pendingByDestination()).toEqual({ webhook: 1 });
    expect(summary).toMatchObject({ sent: 0, requests: 0 });
  });

  it('throws a StateError when DynamoDB refuses a put; each message is recorded whole or not at all, and a retry records the rest', async () => {
    // Prepare: the 3rd put is throttled beyond the SDK's own retries.
    const client = failOn(local.dynamo().newClient(), (command, _input, n) => {
      if (command === 'PutItemCommand' && n === 3) throw throttled();
    });
    const { time, table } = await setup(client);
    const { outbox } = outboxFor(table, [webhookDestination({ url: URL })], time, { parallelism: 1 });

    // Act
    const failure = await outbox.enqueue(alerts(5)).catch((err: unknown) => err);
    const retry = await outbox.enqueue(alerts(5));

    // Assess
    expect(failure).toBeInstanceOf(StateError);
    expect((failure as StateError).message).toMatch(/PutItem on table outbox-enqueue-\d+ failed/);
    expect(retry).toEqual({
      created: ['alert-0002'],
      existing: ['alert-0000', 'alert-0001', 'alert-0003', 'alert-0004'],
    });
  });
});
