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
import type { Item, TableClient } from '../state/table-client';
import { PK, GSI_NAME } from '../state/layout';
import {
  DELIVERY_PREFIX,
  dueSortKey,
  dueUpperBound,
  fromHealthItem,
  fromMessageItem,
  fromStreakItem,
  fromUnroutedItem,
  healthDueSortKey,
  healthKey,
  HEALTH_PREFIX,
  isHealthItem,
  isStreakItem,
  LEASE_SK,
  messageIdOf,
  messageKey,
  streakDueSortKey,
  streakKey,
  STREAK_PREFIX,
  toMessageItem,
  unroutedKey,
  UNROUTED_PREFIX,
  type HealthRow,
  type StoredRecord,
  type StreakRow,
} from './items';
import { earliestDue } from './plan';
import type { DeliveryState } from '../model';
import type { UnroutedDay } from './types';

/** What a delivery write did to the message's place in the due index. */
type SaveResult =
  /** The index entry now matches the table exactly. */
  | 'indexed'
  /** The delivery is recorded; the index entry was left as it was (due no later than it should be). */
  | 'index-stale'
  /** The message is gone (TTL): nothing written. */
  | 'gone';

export interface OutboxStore {
  /** Records a message unless one with its id exists; true when this call created it. */
  putMessage(record: StoredRecord, ttl: number): Promise<boolean>;
  /** Ids of messages due at `now` (by the index, which may lag), every failing destination and every retry streak. */
  queryDue(now: number): Promise<{ ids: string[]; health: HealthRow[]; streaks: StreakRow[] }>;
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
  /**
   * Records a retryable failure of `destination`: a streak starts at `now` unless one runs, and its
   * last error is `error`; returns the streak.
   */
  markRetrying(destination: string, now: number, error: string, ttl: number): Promise<StreakRow>;
  /** Notes that the destination-degraded notice of the current streak is enqueued. */
  markStreakNoticed(destination: string): Promise<void>;
  /** Ends the streak that began at `since`; false if it was already ended (or another began). */
  clearStreak(destination: string, since: number): Promise<boolean>;
  /** Retry streaks, strongly consistent (one Query). */
  readStreaks(): Promise<StreakRow[]>;
  /** Adds `alerts` to the unrouted count of UTC `day`, `last` describing the latest (at `at`). */
  countUnrouted(day: string, alerts: number, at: number, last: string, ttl: number): Promise<void>;
  /** The unrouted counts of every day still kept, strongly consistent (one Query). */
  readUnrouted(): Promise<UnroutedDay[]>;
}

/** The outbox's requests for one namespace of the table. */
export function createOutboxStore(table: TableClient, namespace: string): OutboxStore {
  const pk = PK.outbox(namespace);
  const duePk = PK.outboxDue(namespace);
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
      const streaks: StreakRow[] = [];
      for (const item of items) {
        const id = messageIdOf(item);
        if (id !== undefined) ids.push(id);
        else if (isHealthItem(item)) health.push(fromHealthItem(item));
        else if (isStreakItem(item)) streaks.push(fromStreakItem(item));
      }
      return { ids, health, streaks };
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
      const key = healthKey(pk, destination);
      const attributes = await continueStreak(key, 'failingSince', healthDueSortKey(destination), {
        now,
        error,
        ttl,
        undelivered,
      });
      return fromHealthItem(attributes ?? key);
    },

    async markNoticed(destination) {
      await noteNoticed(healthKey(pk, destination), 'failingSince');
    },

    async clearHealth(destination, failingSince) {
      return endStreak(healthKey(pk, destination), 'failingSince', failingSince);
    },

    async readHealth() {
      return (await prefixed(HEALTH_PREFIX)).map(fromHealthItem);
    },

    async markRetrying(destination, now, error, ttl) {
      const key = streakKey(pk, destination);
      const attributes = await continueStreak(key, 'since', streakDueSortKey(destination), {
        now,
        error,
        ttl,
      });
      return fromStreakItem(attributes ?? key);
    },

    async markStreakNoticed(destination) {
      await noteNoticed(streakKey(pk, destination), 'since');
    },

    async clearStreak(destination, since) {
      return endStreak(streakKey(pk, destination), 'since', since);
    },

    async readStreaks() {
      return (await prefixed(STREAK_PREFIX)).map(fromStreakItem);
    },

    async countUnrouted(day, alerts, at, last, ttl) {
      await update(unroutedKey(pk, day), 'ADD alerts :n SET lastAt = :at, #last = :last, #ttl = :ttl', {
        names: { '#last': 'last', '#ttl': 'ttl' },
        values: {
          ':n': { N: String(alerts) },
          ':at': { N: String(at) },
          ':last': { S: last.slice(0, 500) },
          ':ttl': { N: String(ttl) },
        },
      });
    },

    async readUnrouted() {
      return (await prefixed(UNROUTED_PREFIX)).map(fromUnroutedItem);
    },
  };

  /**
   * Starts the streak of a health or streak item at `now` unless one runs, notes the last error (and
   * adds to `undelivered` when given), keeps it in the due index; returns the item as written.
   */
  function continueStreak(
    key: Item,
    sinceAttribute: 'failingSince' | 'since',
    dueKey: string,
    fields: { now: number; error: string; ttl: number; undelivered?: number },
  ): Promise<Item | undefined> {
    const counted = fields.undelivered !== undefined;
    return update(
      key,
      `SET ${sinceAttribute} = if_not_exists(${sinceAttribute}, :now), lastError = :error, g1pk = :gpk, g1sk = :gsk, #ttl = :ttl${counted ? ' ADD undelivered :n' : ''}`,
      {
        names: { '#ttl': 'ttl' },
        values: {
          ':now': { N: String(fields.now) },
          ':error': { S: fields.error.slice(0, 1000) },
          ':gpk': { S: duePk },
          ':gsk': { S: dueKey },
          ':ttl': { N: String(fields.ttl) },
          ...(counted ? { ':n': { N: String(fields.undelivered) } } : {}),
        },
        returnNew: true,
      },
    );
  }

  /** Notes on a health or streak item that its notice is enqueued (unless the streak ended meanwhile). */
  async function noteNoticed(key: Item, sinceAttribute: 'failingSince' | 'since'): Promise<void> {
    await table.conditionally(() =>
      update(key, 'SET noticed = :yes', {
        condition: `attribute_exists(${sinceAttribute})`,
        values: { ':yes': { BOOL: true } },
      }),
    );
  }

  /** Deletes a health or streak item if it is still the streak that began at `since`. */
  function endStreak(key: Item, sinceAttribute: 'failingSince' | 'since', since: number): Promise<boolean> {
    return table.conditionally(() =>
      table.send('DeleteItem', 'write', (c) =>
        c.send(
          new DeleteItemCommand({
            TableName: tableName,
            Key: key,
            ConditionExpression: `${sinceAttribute} = :since`,
            ExpressionAttributeValues: { ':since': { N: String(since) } },
            ReturnConsumedCapacity: 'TOTAL',
          }),
        ),
      ),
    );
  }

  /** Every item of the partition whose sort key starts with `prefix`, strongly consistent. */
  function prefixed(prefix: string): Promise<Item[]> {
    return query({
      index: false,
      consistent: true,
      condition: 'pk = :pk AND begins_with(sk, :prefix)',
      values: { ':pk': { S: pk }, ':prefix': { S: prefix } },
    });
  }
}

/** The lease item outlives its last `until` by a day, then TTL removes it. */
function leaseTtl(until: number): number {
  return Math.ceil(until / 1000) + 86_400;
}
