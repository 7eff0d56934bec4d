// The outbox's store held in this process, for poll scenarios that deliver without a database: the
// same interface and contract as lib/outbox/store.ts (test/outbox/store-contract.test.ts runs one
// suite on it, dynalite and DynamoDB Local). It keeps the table's items themselves, written and read
// with lib/outbox/items.ts, so the encoding is the DynamoDB store's; each method applies its
// conditional write as DynamoDB would, at once. The due index is exact here (DynamoDB's may lag),
// which the contract allows: the outbox reconciles a lagging index and never relies on one.
import type { Item } from '../lib/state/table-client';
import { PK } from '../lib/state/layout';
import { earliestDue } from '../lib/outbox/plan';
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
} from '../lib/outbox/items';
import type { OutboxStore } from '../lib/outbox/store';
import type { DeliveryState } from '../lib/model';
import { counted, type MemoryStats } from './memory-stores';

const WRITES = new Set([
  'putMessage',
  'saveDelivery',
  'reconcileIndex',
  'acquireLease',
  'renewLease',
  'releaseLease',
  'markFailing',
  'markNoticed',
  'clearHealth',
  'markRetrying',
  'markStreakNoticed',
  'clearStreak',
  'countUnrouted',
]);

const copy = (item: Item): Item => structuredClone(item);
const num = (n: number) => ({ N: String(n) });

/** An in-memory OutboxStore of one namespace; every call counts as one request in `stats`. */
export function createMemoryOutboxStore(namespace: string, stats: MemoryStats): OutboxStore {
  const duePk = PK.outboxDue(namespace);
  const pk = PK.outbox(namespace);
  /** The partition's items by sort key. */
  const items = new Map<string, Item>();
  const skOf = (key: Item) => key.sk!.S!;

  /** Items in the due index whose sort key passes `keep`, in index order. */
  const indexed = (keep: (g1sk: string) => boolean): Item[] =>
    [...items.values()]
      .filter((i) => i.g1sk?.S !== undefined && keep(i.g1sk.S))
      .sort((a, b) => (a.g1sk!.S! < b.g1sk!.S! ? -1 : 1))
      .map(copy);

  const prefixed = (prefix: string): Item[] =>
    [...items.keys()]
      .filter((sk) => sk.startsWith(prefix))
      .sort()
      .map((sk) => copy(items.get(sk)!));

  /** Sets or removes the item's due-index entry so that it matches `deliveries`. */
  function index(item: Item, id: string, deliveries: Record<string, DeliveryState>): void {
    const earliest = earliestDue(deliveries);
    if (earliest === undefined) {
      delete item.g1pk;
      delete item.g1sk;
    } else {
      item.g1pk = { S: duePk };
      item.g1sk = { S: dueSortKey(earliest, id) };
    }
  }

  /** The table holds exactly `view` for each of `destinations`. */
  const holds = (item: Item, view: Readonly<Record<string, string>>, destinations: readonly string[]) =>
    destinations.every((d) => item[DELIVERY_PREFIX + d]?.S === view[d]);

  const parsed = (view: Readonly<Record<string, string>>): Record<string, DeliveryState> =>
    Object.fromEntries(Object.entries(view).map(([d, json]) => [d, JSON.parse(json) as DeliveryState]));

  function continueStreak(
    key: Item,
    sinceAttribute: 'failingSince' | 'since',
    dueKey: string,
    fields: { now: number; error: string; ttl: number; undelivered?: number },
  ): Item {
    const item = items.get(skOf(key)) ?? copy(key);
    item[sinceAttribute] ??= num(fields.now);
    item.lastError = { S: fields.error.slice(0, 1000) };
    item.g1pk = { S: duePk };
    item.g1sk = { S: dueKey };
    item.ttl = num(fields.ttl);
    if (fields.undelivered !== undefined)
      item.undelivered = num(Number(item.undelivered?.N ?? 0) + fields.undelivered);
    items.set(skOf(key), item);
    return copy(item);
  }

  function noteNoticed(key: Item, sinceAttribute: 'failingSince' | 'since'): void {
    const item = items.get(skOf(key));
    if (item?.[sinceAttribute] !== undefined) item.noticed = { BOOL: true };
  }

  function endStreak(key: Item, sinceAttribute: 'failingSince' | 'since', since: number): boolean {
    const item = items.get(skOf(key));
    if (item?.[sinceAttribute]?.N !== String(since)) return false;
    items.delete(skOf(key));
    return true;
  }

  function lease(): Item | undefined {
    return items.get(LEASE_SK);
  }

  const store: OutboxStore = {
    async putMessage(record, ttl) {
      const item = toMessageItem(pk, duePk, record, ttl);
      if (items.has(skOf(item))) return false;
      items.set(skOf(item), copy(item));
      return true;
    },

    async queryDue(now) {
      const bound = dueUpperBound(now);
      const ids: string[] = [];
      const health = [];
      const streaks = [];
      for (const item of indexed((g1sk) => g1sk < bound)) {
        const id = messageIdOf(item);
        if (id !== undefined) ids.push(id);
        else if (isHealthItem(item)) health.push(fromHealthItem(item));
        else if (isStreakItem(item)) streaks.push(fromStreakItem(item));
      }
      return { ids, health, streaks };
    },

    async queryIndex() {
      return indexed(() => true)
        .filter((item) => messageIdOf(item) !== undefined)
        .map(fromMessageItem);
    },

    async getMessages(ids) {
      return [...new Set(ids)].flatMap((id) => {
        const item = items.get(skOf(messageKey(pk, id)));
        return item ? [fromMessageItem(copy(item))] : [];
      });
    },

    async saveDelivery(record, destination) {
      const state = record.deliveries[destination];
      if (!state) throw new Error(`message ${record.message.id} has no delivery to ${destination}`);
      const json = JSON.stringify(state);
      const item = items.get(skOf(messageKey(pk, record.message.id)));
      // Never resurrect a message that TTL already removed.
      if (!item) return 'gone';
      // The index follows only if the table holds what the run last saw of the other destinations.
      const others = Object.keys(record.tableView).filter((d) => d !== destination);
      const current = holds(item, record.tableView, others);
      item[DELIVERY_PREFIX + destination] = { S: json };
      if (current) index(item, record.message.id, { ...parsed(record.tableView), [destination]: state });
      record.tableView[destination] = json;
      return current ? 'indexed' : 'index-stale';
    },

    async reconcileIndex(record) {
      const item = items.get(skOf(messageKey(pk, record.message.id)));
      if (!item || !holds(item, record.tableView, Object.keys(record.tableView))) return false;
      index(item, record.message.id, parsed(record.tableView));
      return true;
    },

    async acquireLease(owner, now, leaseMs) {
      const current = lease();
      const until = current?.until?.N === undefined ? undefined : Number(current.until.N);
      if (until !== undefined && !(until < now) && current!.owner?.S !== owner) return false;
      items.set(LEASE_SK, {
        ...(current ?? { pk: { S: pk }, sk: { S: LEASE_SK } }),
        owner: { S: owner },
        until: num(now + leaseMs),
        ttl: num(Math.ceil((now + leaseMs) / 1000) + 86_400),
      });
      return true;
    },

    async renewLease(owner, now, leaseMs) {
      const current = lease();
      if (current?.owner?.S !== owner) return false;
      current.until = num(now + leaseMs);
      return true;
    },

    async releaseLease(owner) {
      const current = lease();
      if (current?.owner?.S === owner) current.until = num(0);
    },

    async markFailing(destination, now, error, undelivered, ttl) {
      const key = healthKey(pk, destination);
      return fromHealthItem(
        continueStreak(key, 'failingSince', healthDueSortKey(destination), { now, error, ttl, undelivered }),
      );
    },

    async markNoticed(destination) {
      noteNoticed(healthKey(pk, destination), 'failingSince');
    },

    async clearHealth(destination, failingSince) {
      return endStreak(healthKey(pk, destination), 'failingSince', failingSince);
    },

    async readHealth() {
      return prefixed(HEALTH_PREFIX).map(fromHealthItem);
    },

    async markRetrying(destination, now, error, ttl) {
      const key = streakKey(pk, destination);
      return fromStreakItem(continueStreak(key, 'since', streakDueSortKey(destination), { now, error, ttl }));
    },

    async markStreakNoticed(destination) {
      noteNoticed(streakKey(pk, destination), 'since');
    },

    async clearStreak(destination, since) {
      return endStreak(streakKey(pk, destination), 'since', since);
    },

    async readStreaks() {
      return prefixed(STREAK_PREFIX).map(fromStreakItem);
    },

    async countUnrouted(day, alerts, at, last, ttl) {
      const key = unroutedKey(pk, day);
      const item = items.get(skOf(key)) ?? copy(key);
      item.alerts = num(Number(item.alerts?.N ?? 0) + alerts);
      item.lastAt = num(at);
      item.last = { S: last.slice(0, 500) };
      item.ttl = num(ttl);
      items.set(skOf(key), item);
    },

    async readUnrouted() {
      return prefixed(UNROUTED_PREFIX).map(fromUnroutedItem);
    },
  };

  return counted(store, stats, WRITES);
}
