// State of an alert's life after it is raised: open alerts (resolution, reminders), silences and
// what they swallowed, and per-day counters for the daily summary. Items:
//   open alert   pk = keys.scope(ns, scope), sk `A#<host+backup hash>#<task key>`; in the sparse GSI
//                (g1pk = keys.openAlerts(ns), g1sk = `<remindAt>#<scope>#<key>`) while a reminder is due
//   silence      pk = keys.silences(ns), sk `X#<id>`
//   swallowed    pk = `<keys.silences(ns)>#<id>`, sk `M#<alert id>` (the alert, sent at the end if unresolved)
//   day counters pk = keys.scope(ns, scope), sk `Y#<YYYY-MM-DD>`
import {
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  UpdateItemCommand,
  type AttributeValue,
} from '@aws-sdk/client-dynamodb';
import { createHash } from 'node:crypto';
import type { OpenAlert, Silence } from '../diff/lifecycle';
import type { AlertMessage, Task } from '../model';
import { RETENTION, ttlAfter } from '../retention';
import { keys, type Item, type TableClient } from './table-client';

/** Per-day, per-scope counts for the daily summary. */
export interface DayCounts {
  succeeded: number;
  failed: number;
  timedOut: number;
  stuck: number;
  resolved: number;
}

/** One of the slowest tasks of a day. */
export interface SlowTask {
  task: Task;
  durationMs: number;
}

export const SLOWEST_KEPT = 5;

export interface LifecycleStore {
  /** Writes open alerts (replacing the task's earlier one). */
  putOpen(open: readonly OpenAlert[], now: number): Promise<void>;
  /** Open alerts of `hostId` + `backupName` in a scope. */
  openFor(scopeId: string, hostId: string, backupName: string): Promise<OpenAlert[]>;
  /** True when the scope has at least one open alert (one small Query). */
  anyOpen(scopeId: string): Promise<boolean>;
  /** Every open alert of a scope (the daily summary's "still open", `status`). */
  allOpen(scopeId: string): Promise<OpenAlert[]>;
  deleteOpen(open: readonly OpenAlert[]): Promise<void>;
  /** Open alerts whose reminder is due (one Query of the sparse index). */
  dueReminders(now: number): Promise<OpenAlert[]>;
  listSilences(): Promise<Silence[]>;
  putSilence(silence: Silence, now: number): Promise<void>;
  /** Records an alert a silence swallowed; false when it was already. */
  swallow(silenceId: string, alert: AlertMessage, now: number): Promise<boolean>;
  swallowed(silenceId: string): Promise<AlertMessage[]>;
  /** Adds to a scope's counts of `day`, keeping the slowest tasks. */
  addDay(
    scopeId: string,
    day: string,
    counts: Partial<DayCounts>,
    slow: readonly SlowTask[],
    now: number,
  ): Promise<void>;
  readDay(scopeId: string, day: string): Promise<{ counts: DayCounts; slowest: SlowTask[] }>;
}

const OPEN_PREFIX = 'A#';
const SILENCE_PREFIX = 'X#';
const DAY_PREFIX = 'Y#';

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
  const scopePk = (scopeId: string) => keys.scope(namespace, scopeId);
  const openSk = (o: Pick<OpenAlert, 'key' | 'alert'>) =>
    `${OPEN_PREFIX}${hostBackupHash(o.alert.task.hostId, o.alert.task.backupName)}#${o.key}`;

  function toOpenItem(o: OpenAlert, now: number): Item {
    const item: Item = {
      pk: { S: scopePk(o.scopeId) },
      sk: { S: openSk(o) },
      o: { S: JSON.stringify(o) },
      ttl: { N: String(ttlAfter(now, RETENTION.alertDays)) },
    };
    if (o.remindAt > 0 && !o.silencedBy) {
      item.g1pk = { S: keys.openAlerts(namespace) };
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
  }): Promise<Item[]> {
    const items: Item[] = [];
    let startKey: Item | undefined;
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
    async openFor(scopeId, hostId, backupName) {
      const items = await queryAll({
        pk: scopePk(scopeId),
        prefix: `${OPEN_PREFIX}${hostBackupHash(hostId, backupName)}#`,
      });
      return items.map(fromOpenItem);
    },
    async anyOpen(scopeId) {
      return (await queryAll({ pk: scopePk(scopeId), prefix: OPEN_PREFIX, limit: 1 })).length > 0;
    },
    async allOpen(scopeId) {
      return (await queryAll({ pk: scopePk(scopeId), prefix: OPEN_PREFIX })).map(fromOpenItem);
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
        pk: keys.openAlerts(namespace),
        index: true,
        upTo: `${String(now).padStart(15, '0')}#~`,
      });
      return items.map(fromOpenItem);
    },
    async listSilences() {
      const items = await queryAll({ pk: keys.silences(namespace), prefix: SILENCE_PREFIX });
      return items.map((item) => JSON.parse(item.s?.S ?? '{}') as Silence);
    },
    async putSilence(silence, now) {
      await table.send('PutItem', 'write', (c) =>
        c.send(
          new PutItemCommand({
            TableName: table.tableName,
            Item: {
              pk: { S: keys.silences(namespace) },
              sk: { S: `${SILENCE_PREFIX}${silence.id}` },
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
                pk: { S: `${keys.silences(namespace)}#${silenceId}` },
                sk: { S: `M#${alert.id}` },
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
      const items = await queryAll({ pk: `${keys.silences(namespace)}#${silenceId}`, prefix: 'M#' });
      return items.map((item) => JSON.parse(item.m?.S ?? '{}') as AlertMessage);
    },
    async addDay(scopeId, day, counts, slow, now) {
      const key = { pk: { S: scopePk(scopeId) }, sk: { S: `${DAY_PREFIX}${day}` } };
      const names = Object.entries(counts).filter(([, n]) => (n ?? 0) > 0);
      if (names.length > 0) {
        await table.send('UpdateItem', 'write', (c) =>
          c.send(
            new UpdateItemCommand({
              TableName: table.tableName,
              Key: key,
              UpdateExpression: `ADD ${names.map(([name]) => `${name} :${name}`).join(', ')} SET #ttl = :ttl`,
              ExpressionAttributeNames: { '#ttl': 'ttl' },
              ExpressionAttributeValues: {
                ...Object.fromEntries(names.map(([name, n]) => [`:${name}`, { N: String(n) }])),
                ':ttl': { N: String(ttlAfter(now, RETENTION.messageDays)) },
              },
              ReturnConsumedCapacity: 'TOTAL',
            }),
          ),
        );
      }
      if (slow.length === 0) return;
      const current = await this.readDay(scopeId, day);
      const merged = [...current.slowest, ...slow]
        .sort((a, b) => b.durationMs - a.durationMs)
        .slice(0, SLOWEST_KEPT);
      await table.send('UpdateItem', 'write', (c) =>
        c.send(
          new UpdateItemCommand({
            TableName: table.tableName,
            Key: key,
            UpdateExpression: 'SET slow = :slow, #ttl = :ttl',
            ExpressionAttributeNames: { '#ttl': 'ttl' },
            ExpressionAttributeValues: {
              ':slow': { S: JSON.stringify(merged) },
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
            Key: { pk: { S: scopePk(scopeId) }, sk: { S: `${DAY_PREFIX}${day}` } },
            ConsistentRead: true,
            ReturnConsumedCapacity: 'TOTAL',
          }),
        ),
      );
      const item = out.Item ?? {};
      const n = (name: string) => Number(item[name]?.N ?? 0);
      return {
        counts: {
          succeeded: n('succeeded'),
          failed: n('failed'),
          timedOut: n('timedOut'),
          stuck: n('stuck'),
          resolved: n('resolved'),
        },
        slowest: item.slow?.S ? (JSON.parse(item.slow.S) as SlowTask[]) : [],
      };
    },
  };
}
