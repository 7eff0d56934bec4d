// DynamoDB cost of the outbox, measured on dynalite (requests, RCU, WCU as ReturnConsumedCapacity
// reports them). dynalite leaves out what DynamoDB adds for the due index (gsi1, ALL projection):
// about one index write per write to a message that is in it, and at least 0.5 RCU per Query.
// Run: npx tsx test/outbox/measure-cost.ts
import { createPostJson } from '../../lib/notify/http';
import { createOutbox } from '../../lib/outbox';
import { silentLog } from '../../lib/log';
import { createTableClient, type StateStats, type TableClient } from '../../lib/state/table-client';
import { createStateTable, startLocalDynamo } from '../../local/dynamo';
import {
  alerts,
  chatDestination,
  countCommands,
  FAR,
  startSink,
  virtualTime,
  webhookDestination,
} from './support';

function delta(before: StateStats, after: StateStats) {
  return {
    requests: after.requests - before.requests,
    rcu: Math.round((after.readCapacity - before.readCapacity) * 10) / 10,
    wcu: Math.round((after.writeCapacity - before.writeCapacity) * 10) / 10,
  };
}

async function main(): Promise<void> {
  const dynamo = await startLocalDynamo();
  let n = 0;
  let counter = new Map<string, number>();
  const byCommand = () => [...counter].map(([c, k]) => `${c.replace('Command', '')} ${k}`).join(', ');
  const table = async (): Promise<TableClient> => {
    const name = `cost-${++n}`;
    await createStateTable(dynamo.client, name);
    const client = dynamo.newClient();
    counter = countCommands(client).counts;
    return createTableClient({ client, tableName: name });
  };
  const rows: Array<Record<string, unknown>> = [];
  const time = virtualTime();
  const [webhookSink, chatSink] = await Promise.all([startSink(time.now), startSink(time.now)]);
  const destinations = [
    webhookDestination({ url: webhookSink.url }),
    chatDestination({ url: chatSink.url, perRequest: Number.MAX_SAFE_INTEGER }),
  ];
  const outboxOn = (t: TableClient) =>
    createOutbox({
      table: t,
      namespace: 'cost',
      destinations,
      post: createPostJson(),
      clock: time.now,
      sleep: time.sleep,
      log: silentLog,
      random: Math.random,
      leaseMs: 60_000,
    });

  for (const count of [1, 500, 3000]) {
    const t = await table();
    const outbox = outboxOn(t);
    const before = { ...t.stats };
    counter.clear();
    const started = Date.now();
    await outbox.enqueue(alerts(count));
    rows.push({
      what: `enqueue ${count} alerts`,
      ...delta(before, t.stats),
      ms: Date.now() - started,
      commands: byCommand(),
    });

    if (count === 3000) {
      const b = { ...t.stats };
      counter.clear();
      const s = Date.now();
      const summary = await outbox.deliver(FAR);
      rows.push({
        what: `deliver ${count} alerts (webhook: ${summary.requests - 1} requests, chat: 1 digest)`,
        ...delta(b, t.stats),
        ms: Date.now() - s,
        commands: byCommand(),
      });
      const c = { ...t.stats };
      counter.clear();
      await outbox.deliver(FAR);
      rows.push({ what: 'steady run, nothing due', ...delta(c, t.stats), commands: byCommand() });
    }
  }
  console.table(rows);
  await Promise.all([webhookSink.close(), chatSink.close()]);
  await dynamo.close();
}

void main();
