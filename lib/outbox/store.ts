// The outbox's DynamoDB requests, all through the shared TableClient (counted, errors translated):
// conditional message puts, the due-index Query, consistent reads, per-destination delivery writes
// that keep the due index truthful, the deliverer's lease and destination health.
import {
  DeleteItemCommand,
  PutItemCommand,
  QueryCommand,
  UpdateItemCommand,
  type AttributeValue,
} from '@aws-sdk/client-dynamodb';
import { GSI_NAME } from '../state/table';
import { keys, type Item, type TableClient } from '../state/table-client';
import {
  DELIVERY_PREFIX,
  dueSortKey,
  dueUpperBound,
  fromHealthItem,
  fromMessageItem,
  healthDueSortKey,
  healthKey,
  HEALTH_PREFIX,
  isHealthItem,
  LEASE_SK,
  messageIdOf,
  messageKey,
  toMessageItem,
  type HealthRow,
  type StoredRecord,
} from './items';
import { earliestDue } from './plan';
import type { DeliveryState } from '../model';

/** What a delivery write did to the message's place in the due index. */
export type SaveResult =
  /** The index entry now matches the table exactly. */
  | 'indexed'
  /** The delivery is recorded; the index entry was left as it was (due no later than it should be). */
  | 'index-stale'
  /** The message is gone (TTL): nothing written. */
  | 'gone';

export interface OutboxStore {
  /** Records a message unless one with its id exists; true when this call created it. */
  putMessage(record: StoredRecord, ttl: number): Promise<boolean>;
  /** Ids of messages due at `now` (by the index, which may lag) and every failing destination. */
  queryDue(now: number): Promise<{ ids: string[]; health: HealthRow[] }>;
  /** Every message with a delivery pending or held, due or not (eventually consistent). */
  queryIndex(): Promise<StoredRecord[]>;
  /** Reads messages by id; missing ids are absent; no order. */
  getMessages(ids: readonly string[], consistent: boolean): Promise<StoredRecord[]>;
  /**
   * Writes `record.deliveries[destination]`. In the same write the due-index entry is set from the
   * table's deliveries (removed once all are settled), but only if the table holds exactly
   * `record.tableView` for the other destinations; otherwise only the delivery is written and the
   * entry stays as it was (earlier than needed, never later: states only move later or settle).
   */
  saveDelivery(record: StoredRecord, destination: string): Promise<SaveResult>;
  /** Sets the due-index entry from `record.tableView` if the table still holds exactly that; false if not. */
  reconcileIndex(record: StoredRecord): Promise<boolean>;
  /** Takes the lease unless another owner holds an unexpired one. */
  acquireLease(owner: string, now: number, leaseMs: number): Promise<boolean>;
  /** Extends the lease to `now + leaseMs` if `owner` still holds it (false if someone took it over). */
  renewLease(owner: string, now: number, leaseMs: number): Promise<boolean>;
  releaseLease(owner: string): Promise<void>;
  /** Records a permanent failure of `destination` (a streak starts at `now` unless one runs); returns the health. */
  markFailing(
    destination: string,
    now: number,
    error: string,
    undelivered: number,
    ttl: number,
  ): Promise<HealthRow>;
  /** Notes that the failing notice of the current streak is enqueued. */
  markNoticed(destination: string): Promise<void>;
  /** Ends the streak that began at `failingSince`; false if it was already ended (or another began). */
  clearHealth(destination: string, failingSince: number): Promise<boolean>;
  /** Failing destinations, strongly consistent (one Query). */
  readHealth(): Promise<HealthRow[]>;
}

/** The outbox's requests for one namespace of the table. */
export function createOutboxStore(table: TableClient, namespace: string): OutboxStore {
  const pk = keys.outbox(namespace);
  const duePk = keys.outboxDue(namespace);
  const { tableName } = table;

  async function query(input: {
    index: boolean;
    condition: string;
    values: Record<string, AttributeValue>;
    consistent?: boolean;
  }): Promise<Item[]> {
    const items: Item[] = [];
    let startKey: Item | undefined;
    do {
      const out = await table.send('Query', 'read', (c) =>
        c.send(
          new QueryCommand({
            TableName: tableName,
            ...(input.index ? { IndexName: GSI_NAME } : { ConsistentRead: input.consistent ?? false }),
            KeyConditionExpression: input.condition,
            ExpressionAttributeValues: input.values,
            ExclusiveStartKey: startKey,
            ReturnConsumedCapacity: 'TOTAL',
          }),
        ),
      );
      items.push(...(out.Items ?? []));
      startKey = out.LastEvaluatedKey;
    } while (startKey);
    return items;
  }

  async function update(
    key: Item,
    expression: string,
    options: {
      condition?: string;
      names?: Record<string, string>;
      values?: Record<string, AttributeValue>;
      returnNew?: boolean;
    },
  ): Promise<Item | undefined> {
    const out = await table.send('UpdateItem', 'write', (c) =>
      c.send(
        new UpdateItemCommand({
          TableName: tableName,
          Key: key,
          UpdateExpression: expression,
          ConditionExpression: options.condition,
          ExpressionAttributeNames: options.names,
          ExpressionAttributeValues: options.values,
          ReturnValues: options.returnNew ? 'ALL_NEW' : undefined,
          ReturnConsumedCapacity: 'TOTAL',
        }),
      ),
    );
    return out.Attributes;
  }

  /** The index part of a write that makes the entry match `deliveries`. */
  function indexUpdate(
    id: string,
    deliveries: Record<string, DeliveryState>,
    values: Record<string, AttributeValue>,
  ): { set: string[]; remove: string[] } {
    const earliest = earliestDue(deliveries);
    if (earliest === undefined) return { set: [], remove: ['g1pk', 'g1sk'] };
    values[':gpk'] = { S: duePk };
    values[':gsk'] = { S: dueSortKey(earliest, id) };
    return { set: ['g1pk = :gpk', 'g1sk = :gsk'], remove: [] };
  }

  /** `#dN = :dN` for every destination of `view`, so a write holds only if the table still has it. */
  function sameDeliveries(
    view: Readonly<Record<string, string>>,
    destinations: readonly string[],
    names: Record<string, string>,
    values: Record<string, AttributeValue>,
  ): string[] {
    return destinations.map((destination, i) => {
      names[`#v${i}`] = DELIVERY_PREFIX + destination;
      values[`:v${i}`] = { S: view[destination]! };
      return `#v${i} = :v${i}`;
    });
  }

  function expression(set: string[], remove: string[]): string {
    return [set.length ? `SET ${set.join(', ')}` : '', remove.length ? `REMOVE ${remove.join(', ')}` : '']
      .filter(Boolean)
      .join(' ');
  }

  function parsedView(record: StoredRecord): Record<string, DeliveryState> {
    return Object.fromEntries(
      Object.entries(record.tableView).map(([d, json]) => [d, JSON.parse(json) as DeliveryState]),
    );
  }

  return {
    async putMessage(record, ttl) {
      return table.conditionally(() =>
        table.send('PutItem', 'write', (c) =>
          c.send(
            new PutItemCommand({
              TableName: tableName,
              Item: toMessageItem(pk, duePk, record, ttl),
              ConditionExpression: 'attribute_not_exists(sk)',
              ReturnConsumedCapacity: 'TOTAL',
            }),
          ),
        ),
      );
    },

    async queryDue(now) {
      const items = await query({
        index: true,
        condition: 'g1pk = :pk AND g1sk < :bound',
        values: { ':pk': { S: duePk }, ':bound': { S: dueUpperBound(now) } },
      });
      const ids: string[] = [];
      const health: HealthRow[] = [];
      for (const item of items) {
        const id = messageIdOf(item);
        if (id !== undefined) ids.push(id);
        else if (isHealthItem(item)) health.push(fromHealthItem(item));
      }
      return { ids, health };
    },

    async queryIndex() {
      const items = await query({ index: true, condition: 'g1pk = :pk', values: { ':pk': { S: duePk } } });
      return items.filter((item) => messageIdOf(item) !== undefined).map(fromMessageItem);
    },

    async getMessages(ids, consistent) {
      const items = await table.batchGet(
        [...new Set(ids)].map((id) => messageKey(pk, id)),
        consistent,
      );
      return items.map(fromMessageItem);
    },

    async saveDelivery(record, destination) {
      const state = record.deliveries[destination];
      if (!state) throw new Error(`message ${record.message.id} has no delivery to ${destination}`);
      const json = JSON.stringify(state);
      const others = Object.keys(record.tableView).filter((d) => d !== destination);
      const write = (withIndex: boolean) => {
        const names: Record<string, string> = { '#mine': DELIVERY_PREFIX + destination };
        const values: Record<string, AttributeValue> = { ':mine': { S: json } };
        // Never resurrect a message that TTL already removed.
        const conditions = ['attribute_exists(sk)'];
        const set = ['#mine = :mine'];
        const remove: string[] = [];
        if (withIndex) {
          const index = indexUpdate(
            record.message.id,
            { ...parsedView(record), [destination]: state },
            values,
          );
          set.push(...index.set);
          remove.push(...index.remove);
          conditions.push(...sameDeliveries(record.tableView, others, names, values));
        }
        return table.conditionally(() =>
          update(messageKey(pk, record.message.id), expression(set, remove), {
            condition: conditions.join(' AND '),
            names,
            values,
          }),
        );
      };
      let result: SaveResult;
      if (await write(true)) result = 'indexed';
      else if (others.length > 0 && (await write(false))) result = 'index-stale';
      else return 'gone';
      record.tableView[destination] = json;
      return result;
    },

    async reconcileIndex(record) {
      const names: Record<string, string> = {};
      const values: Record<string, AttributeValue> = {};
      const index = indexUpdate(record.message.id, parsedView(record), values);
      const conditions = [
        'attribute_exists(sk)',
        ...sameDeliveries(record.tableView, Object.keys(record.tableView), names, values),
      ];
      return table.conditionally(() =>
        update(messageKey(pk, record.message.id), expression(index.set, index.remove), {
          condition: conditions.join(' AND '),
          names: Object.keys(names).length ? names : undefined,
          values: Object.keys(values).length ? values : undefined,
        }),
      );
    },

    async acquireLease(owner, now, leaseMs) {
      return table.conditionally(() =>
        update({ pk: { S: pk }, sk: { S: LEASE_SK } }, 'SET #owner = :owner, #until = :until, #ttl = :ttl', {
          condition: 'attribute_not_exists(#until) OR #until < :now OR #owner = :owner',
          names: { '#owner': 'owner', '#until': 'until', '#ttl': 'ttl' },
          values: {
            ':owner': { S: owner },
            ':until': { N: String(now + leaseMs) },
            ':now': { N: String(now) },
            ':ttl': { N: String(leaseTtl(now + leaseMs)) },
          },
        }),
      );
    },

    async renewLease(owner, now, leaseMs) {
      // Owner only: if it expired and nobody took it, nobody sent meanwhile, so extending is safe.
      return table.conditionally(() =>
        update({ pk: { S: pk }, sk: { S: LEASE_SK } }, 'SET #until = :until, #ttl = :ttl', {
          condition: '#owner = :owner',
          names: { '#owner': 'owner', '#until': 'until', '#ttl': 'ttl' },
          values: {
            ':owner': { S: owner },
            ':until': { N: String(now + leaseMs) },
            ':ttl': { N: String(leaseTtl(now + leaseMs)) },
          },
        }),
      );
    },

    async releaseLease(owner) {
      // Someone took over an expired lease: nothing of ours to release.
      await table.conditionally(() =>
        update({ pk: { S: pk }, sk: { S: LEASE_SK } }, 'SET #until = :zero', {
          condition: '#owner = :owner',
          names: { '#owner': 'owner', '#until': 'until' },
          values: { ':owner': { S: owner }, ':zero': { N: '0' } },
        }),
      );
    },

    async markFailing(destination, now, error, undelivered, ttl) {
      const attributes = await update(
        healthKey(pk, destination),
        'SET failingSince = if_not_exists(failingSince, :now), lastError = :error, g1pk = :gpk, g1sk = :gsk, #ttl = :ttl ADD undelivered :n',
        {
          names: { '#ttl': 'ttl' },
          values: {
            ':now': { N: String(now) },
            ':error': { S: error.slice(0, 1000) },
            ':gpk': { S: duePk },
            ':gsk': { S: healthDueSortKey(destination) },
            ':ttl': { N: String(ttl) },
            ':n': { N: String(undelivered) },
          },
          returnNew: true,
        },
      );
      return fromHealthItem(attributes ?? healthKey(pk, destination));
    },

    async markNoticed(destination) {
      await table.conditionally(() =>
        update(healthKey(pk, destination), 'SET noticed = :yes', {
          condition: 'attribute_exists(failingSince)',
          values: { ':yes': { BOOL: true } },
        }),
      );
    },

    async clearHealth(destination, failingSince) {
      return table.conditionally(() =>
        table.send('DeleteItem', 'write', (c) =>
          c.send(
            new DeleteItemCommand({
              TableName: tableName,
              Key: healthKey(pk, destination),
              ConditionExpression: 'failingSince = :since',
              ExpressionAttributeValues: { ':since': { N: String(failingSince) } },
              ReturnConsumedCapacity: 'TOTAL',
            }),
          ),
        ),
      );
    },

    async readHealth() {
      const items = await query({
        index: false,
        consistent: true,
        condition: 'pk = :pk AND begins_with(sk, :prefix)',
        values: { ':pk': { S: pk }, ':prefix': { S: HEALTH_PREFIX } },
      });
      return items.map(fromHealthItem);
    },
  };
}

/** The lease item outlives its last `until` by a day, then TTL removes it. */
function leaseTtl(until: number): number {
  return Math.ceil(until / 1000) + 86_400;
}
