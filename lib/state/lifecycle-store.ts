// Open alerts (resolution, reminders), silences and what they swallowed, and per-day counters for
// the daily summary, in DynamoDB; item shapes in layout.ts.
import {
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  UpdateItemCommand,
  type AttributeValue,
} from '@aws-sdk/client-dynamodb';
import { createHash } from 'node:crypto';
import type { OpenAlert, Silence } from './records';
import type { AlertMessage } from '../model';
import { PK, RETENTION, SK, ttlAfter } from './layout';
import { mergeSlowest, type DayAdd, type LifecycleStore, type SlowTask } from './records';
import type { Item, TableClient } from './table-client';

/** The day item's string-set attribute of each counted alert kind. */
const ID_SETS: ReadonlyArray<[keyof Omit<DayAdd, 'succeeded'>, string]> = [
  ['failed', 'failedIds'],
  ['timedOut', 'timedOutIds'],
  ['stuck', 'stuckIds'],
  ['resolved', 'resolvedIds'],
];

export function hostBackupHash(hostId: string, backupName: string): string {
  return createHash('sha256').update(`${hostId}\n${backupName}`).digest('hex').slice(0, 16);
}

export function createLifecycleStore({
  table,
  namespace,
}: {
  table: TableClient;
  namespace: string;
}): LifecycleStore {
  const scopePk = (scopeId: string) => PK.scope(namespace, scopeId);
  const openSk = (o: Pick<OpenAlert, 'key' | 'alert'>) =>
    SK.openAlert(hostBackupHash(o.alert.task.hostId, o.alert.task.backupName), o.key);

  function toOpenItem(o: OpenAlert, now: number): Item {
    const item: Item = {
      pk: { S: scopePk(o.scopeId) },
      sk: { S: openSk(o) },
      o: { S: JSON.stringify(o) },
      aid: { S: o.alert.id },
      ttl: { N: String(ttlAfter(now, RETENTION.alertDays)) },
    };
    if (o.remindAt > 0 && !o.silencedBy) {
      item.g1pk = { S: PK.openAlerts(namespace) };
      item.g1sk = { S: `${String(o.remindAt).padStart(15, '0')}#${o.scopeId}#${o.key}` };
    }
    return item;
  }
  const fromOpenItem = (item: Item): OpenAlert => JSON.parse(item.o?.S ?? '{}') as OpenAlert;

  async function queryAll(input: {
    pk: string;
    prefix?: string;
    index?: boolean;
    upTo?: string;
    limit?: number;
    /** Sort key to start just after (with `limit`: one page from there). */
    after?: string;
  }): Promise<Item[]> {
    const items: Item[] = [];
    let startKey: Item | undefined =
      input.after === undefined ? undefined : { pk: { S: input.pk }, sk: { S: input.after } };
    do {
      const pkName = input.index ? 'g1pk' : 'pk';
      const skName = input.index ? 'g1sk' : 'sk';
      const values: Record<string, AttributeValue> = { ':pk': { S: input.pk } };
      let condition = `${pkName} = :pk`;
      if (input.prefix !== undefined) {
        condition += ` AND begins_with(${skName}, :p)`;
        values[':p'] = { S: input.prefix };
      }
      if (input.upTo !== undefined) {
        condition += ` AND ${skName} <= :u`;
        values[':u'] = { S: input.upTo };
      }
      const out = await table.send('Query', 'read', (c) =>
        c.send(
          new QueryCommand({
            TableName: table.tableName,
            ...(input.index ? { IndexName: 'gsi1' } : { ConsistentRead: true }),
            KeyConditionExpression: condition,
            ExpressionAttributeValues: values,
            ExclusiveStartKey: startKey,
            ...(input.limit ? { Limit: input.limit } : {}),
            ReturnConsumedCapacity: 'TOTAL',
          }),
        ),
      );
      items.push(...(out.Items ?? []));
      startKey = input.limit ? undefined : out.LastEvaluatedKey;
    } while (startKey);
    return items;
  }

  return {
    async putOpen(open, now) {
      await table.batchWrite(open.map((o) => ({ PutRequest: { Item: toOpenItem(o, now) } })));
    },
    async openRaised(open, now) {
      for (const o of open) {
        await table.conditionally(() =>
          table.send('PutItem', 'write', (c) =>
            c.send(
              new PutItemCommand({
                TableName: table.tableName,
                Item: toOpenItem(o, now),
                ConditionExpression: 'attribute_not_exists(aid) OR aid <> :aid',
                ExpressionAttributeValues: { ':aid': { S: o.alert.id } },
                ReturnConsumedCapacity: 'TOTAL',
              }),
            ),
          ),
        );
      }
    },
    async openFor(scopeId, hostId, backupName) {
      const items = await queryAll({
        pk: scopePk(scopeId),
        prefix: SK.openAlertsOf(hostBackupHash(hostId, backupName)),
      });
      return items.map(fromOpenItem);
    },
    async anyOpen(scopeId) {
      return (await queryAll({ pk: scopePk(scopeId), prefix: SK.openAlertPrefix, limit: 1 })).length > 0;
    },
    async allOpen(scopeId) {
      return (await queryAll({ pk: scopePk(scopeId), prefix: SK.openAlertPrefix })).map(fromOpenItem);
    },
    async openAfter(scopeId, after, limit) {
      const prefix = SK.openAlertPrefix;
      const items = await queryAll({
        pk: scopePk(scopeId),
        prefix,
        limit,
        ...(after === undefined ? {} : { after: prefix + after }),
      });
      return items.map((item) => ({
        place: (item.sk?.S ?? '').slice(prefix.length),
        open: fromOpenItem(item),
      }));
    },
    async deleteOpen(open) {
      await table.batchWrite(
        open.map((o) => ({
          DeleteRequest: { Key: { pk: { S: scopePk(o.scopeId) }, sk: { S: openSk(o) } } },
        })),
      );
    },
    async dueReminders(now) {
      const items = await queryAll({
        pk: PK.openAlerts(namespace),
        index: true,
        upTo: `${String(now).padStart(15, '0')}#~`,
      });
      return items.map(fromOpenItem);
    },
    async listSilences() {
      const items = await queryAll({ pk: PK.silences(namespace), prefix: SK.silencePrefix });
      return items.map((item) => JSON.parse(item.s?.S ?? '{}') as Silence);
    },
    async putSilence(silence, now) {
      await table.send('PutItem', 'write', (c) =>
        c.send(
          new PutItemCommand({
            TableName: table.tableName,
            Item: {
              pk: { S: PK.silences(namespace) },
              sk: { S: SK.silence(silence.id) },
              s: { S: JSON.stringify(silence) },
              // Kept a month after it ends, so `silence list` can still say what it swallowed.
              ttl: { N: String(ttlAfter(Math.max(now, silence.endsAt), RETENTION.alertDays)) },
            },
            ReturnConsumedCapacity: 'TOTAL',
          }),
        ),
      );
    },
    async swallow(silenceId, alert, now) {
      return table.conditionally(() =>
        table.send('PutItem', 'write', (c) =>
          c.send(
            new PutItemCommand({
              TableName: table.tableName,
              Item: {
                pk: { S: PK.swallowed(namespace, silenceId) },
                sk: { S: SK.swallowedAlert(alert.id) },
                m: { S: JSON.stringify(alert) },
                ttl: { N: String(ttlAfter(now, RETENTION.alertDays)) },
              },
              ConditionExpression: 'attribute_not_exists(sk)',
              ReturnConsumedCapacity: 'TOTAL',
            }),
          ),
        ),
      );
    },
    async swallowed(silenceId) {
      const items = await queryAll({ pk: PK.swallowed(namespace, silenceId), prefix: SK.swallowedPrefix });
      return items.map((item) => JSON.parse(item.m?.S ?? '{}') as AlertMessage);
    },
    async addDay(scopeId, day, add, slow, now) {
      const key = { pk: { S: scopePk(scopeId) }, sk: { S: SK.dayCounters(day) } };
      const sets = ID_SETS.filter(([name]) => add[name].length > 0);
      const parts = sets.map(([name, attribute]) => `${attribute} :${name}`);
      if (add.succeeded > 0) parts.push('succeeded :succeeded');
      if (parts.length > 0) {
        await table.send('UpdateItem', 'write', (c) =>
          c.send(
            new UpdateItemCommand({
              TableName: table.tableName,
              Key: key,
              UpdateExpression: `ADD ${parts.join(', ')} SET #ttl = :ttl`,
              ExpressionAttributeNames: { '#ttl': 'ttl' },
              ExpressionAttributeValues: {
                ...Object.fromEntries(sets.map(([name]) => [`:${name}`, { SS: [...new Set(add[name])] }])),
                ...(add.succeeded > 0 ? { ':succeeded': { N: String(add.succeeded) } } : {}),
                ':ttl': { N: String(ttlAfter(now, RETENTION.messageDays)) },
              },
              ReturnConsumedCapacity: 'TOTAL',
            }),
          ),
        );
      }
      if (slow.length === 0) return;
      const current = await this.readDay(scopeId, day);
      await table.send('UpdateItem', 'write', (c) =>
        c.send(
          new UpdateItemCommand({
            TableName: table.tableName,
            Key: key,
            UpdateExpression: 'SET slow = :slow, #ttl = :ttl',
            ExpressionAttributeNames: { '#ttl': 'ttl' },
            ExpressionAttributeValues: {
              ':slow': { S: JSON.stringify(mergeSlowest(current.slowest, slow)) },
              ':ttl': { N: String(ttlAfter(now, RETENTION.messageDays)) },
            },
            ReturnConsumedCapacity: 'TOTAL',
          }),
        ),
      );
    },
    async readDay(scopeId, day) {
      const out = await table.send('GetItem', 'read', (c) =>
        c.send(
          new GetItemCommand({
            TableName: table.tableName,
            Key: { pk: { S: scopePk(scopeId) }, sk: { S: SK.dayCounters(day) } },
            ConsistentRead: true,
            ReturnConsumedCapacity: 'TOTAL',
          }),
        ),
      );
      const item = out.Item ?? {};
      const size = (name: string) => item[name]?.SS?.length ?? 0;
      return {
        counts: {
          succeeded: Number(item.succeeded?.N ?? 0),
          failed: size('failedIds'),
          timedOut: size('timedOutIds'),
          stuck: size('stuckIds'),
          resolved: size('resolvedIds'),
        },
        slowest: item.slow?.S ? (JSON.parse(item.slow.S) as SlowTask[]) : [],
      };
    },
  };
}
