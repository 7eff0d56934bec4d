// How the outbox lies in the table (its keys and prefixes are lib/state/layout.ts's). One partition
// per namespace (`PK.outbox`):
// - `M#{id}`: a message (`message` JSON, `kind`, `recordedAt`, `ttl`) with one attribute per
//   destination, `delivery#{destination}` = DeliveryState JSON, so destinations never overwrite
//   each other. While any delivery is pending or held it sits in the sparse due index
//   (`g1pk` = `keys.outboxDue`, `g1sk` = `{earliest nextAt, 16 digits}#{id}`): a run reads only
//   what is due (`g1sk` < the bound of now), never the whole outbox.
// - `H#{destination}`: a destination failing permanently (kept until a 2xx); also in the due index,
//   sorted before every message, so the one Query of a run also says which destinations are failing.
// - `R#{destination}`: a destination answering only retryable failures (`since` its first one with no
//   2xx after it; kept until a 2xx); in the due index like `D#`, so the same Query says which are
//   degraded.
// - `U#{YYYY-MM-DD}`: alerts of that UTC day that matched no destination's routing (count, the last).
// - `L#deliver`: the lease of the one deliverer (`owner`, `until`).
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { DeliveryState, Message } from '../model';
import { ATTRIBUTE, SK } from '../state/layout';
import type { Item } from '../state/table-client';
import { earliestDue, type PlannedRecord } from './plan';
import type { DestinationDelay, DestinationHealth, UnroutedDay } from './types';

const MESSAGE_PREFIX = SK.outboxMessagePrefix;
export const HEALTH_PREFIX = SK.destinationHealthPrefix;
export const STREAK_PREFIX = SK.destinationStreakPrefix;
export const UNROUTED_PREFIX = SK.unroutedDayPrefix;
export const LEASE_SK = SK.lease;
export const DELIVERY_PREFIX = ATTRIBUTE.delivery;

const DUE_DIGITS = 16;
/** Health and streak items sort before any message in the due index (and are always "due"). */
const HEALTH_DUE_PREFIX = `${'0'.repeat(DUE_DIGITS)}#${HEALTH_PREFIX}`;
const STREAK_DUE_PREFIX = `${'0'.repeat(DUE_DIGITS)}#${STREAK_PREFIX}`;

/** A message as a run holds it: the record, and the delivery JSON the table is known to hold. */
export interface StoredRecord extends PlannedRecord {
  /**
   * Per destination, the DeliveryState JSON last read from or written to the table. `deliveries`
   * may be ahead of it (an outcome not yet written, or a write that failed); index changes are
   * conditioned on it, so the index never drops a message the table still has pending.
   */
  tableView: Record<string, string>;
}

/** A destination's health item. */
export interface HealthRow extends DestinationHealth {
  /** The destination-failing notice of this streak was enqueued. */
  noticed: boolean;
}

/** A destination's retry streak item. */
export interface StreakRow extends Omit<DestinationDelay, 'degraded'> {
  /** The destination-degraded notice of this streak was enqueued. */
  noticed: boolean;
}

/** Sort key in the due index of a message next due at `at`. */
export function dueSortKey(at: number, id: string): string {
  return `${String(Math.max(0, Math.trunc(at))).padStart(DUE_DIGITS, '0')}#${id}`;
}

/** Every due-index sort key of something due at or before `now` is below this bound. */
export function dueUpperBound(now: number): string {
  return String(Math.max(0, Math.trunc(now)) + 1).padStart(DUE_DIGITS, '0');
}

export function messageKey(pk: string, id: string): Item {
  return { pk: { S: pk }, sk: { S: MESSAGE_PREFIX + id } };
}

export function toMessageItem(pk: string, duePk: string, record: StoredRecord, ttl: number): Item {
  const item: Item = {
    ...messageKey(pk, record.message.id),
    kind: { S: record.message.kind },
    message: { S: JSON.stringify(record.message) },
    recordedAt: { N: String(record.recordedAt) },
    ttl: { N: String(ttl) },
  };
  for (const [destination, json] of Object.entries(record.tableView)) {
    item[DELIVERY_PREFIX + destination] = { S: json };
  }
  const earliest = earliestDue(record.deliveries);
  if (earliest !== undefined) {
    item.g1pk = { S: duePk };
    item.g1sk = { S: dueSortKey(earliest, record.message.id) };
  }
  return item;
}

export function fromMessageItem(item: Item): StoredRecord {
  const deliveries: Record<string, DeliveryState> = {};
  const tableView: Record<string, string> = {};
  for (const [name, value] of Object.entries(item)) {
    if (!name.startsWith(DELIVERY_PREFIX) || value.S === undefined) continue;
    const destination = name.slice(DELIVERY_PREFIX.length);
    tableView[destination] = value.S;
    deliveries[destination] = JSON.parse(value.S) as DeliveryState;
  }
  return {
    message: JSON.parse(str(item.message)) as Message,
    deliveries,
    expiresAt: num(item.ttl),
    recordedAt: num(item.recordedAt),
    tableView,
  };
}

/** The message id of an item of the outbox partition, or undefined for lease and health items. */
export function messageIdOf(item: Item): string | undefined {
  const sk = str(item.sk);
  return sk.startsWith(MESSAGE_PREFIX) ? sk.slice(MESSAGE_PREFIX.length) : undefined;
}

export function isHealthItem(item: Item): boolean {
  return str(item.sk).startsWith(HEALTH_PREFIX);
}

export function isStreakItem(item: Item): boolean {
  return str(item.sk).startsWith(STREAK_PREFIX);
}

export function streakKey(pk: string, destination: string): Item {
  return { pk: { S: pk }, sk: { S: STREAK_PREFIX + destination } };
}

export function streakDueSortKey(destination: string): string {
  return STREAK_DUE_PREFIX + destination;
}

export function fromStreakItem(item: Item): StreakRow {
  return {
    destination: str(item.sk).slice(STREAK_PREFIX.length),
    since: num(item.since),
    lastError: str(item.lastError),
    noticed: item.noticed?.BOOL === true,
  };
}

export function unroutedKey(pk: string, day: string): Item {
  return { pk: { S: pk }, sk: { S: UNROUTED_PREFIX + day } };
}

export function fromUnroutedItem(item: Item): UnroutedDay {
  return {
    day: str(item.sk).slice(UNROUTED_PREFIX.length),
    alerts: num(item.alerts),
    lastAt: num(item.lastAt),
    last: str(item.last),
  };
}

export function healthKey(pk: string, destination: string): Item {
  return { pk: { S: pk }, sk: { S: HEALTH_PREFIX + destination } };
}

export function healthDueSortKey(destination: string): string {
  return HEALTH_DUE_PREFIX + destination;
}

export function fromHealthItem(item: Item): HealthRow {
  return {
    destination: str(item.sk).slice(HEALTH_PREFIX.length),
    failingSince: num(item.failingSince),
    lastError: str(item.lastError),
    undelivered: num(item.undelivered),
    noticed: item.noticed?.BOOL === true,
  };
}

function str(v: AttributeValue | undefined): string {
  return v?.S ?? '';
}

function num(v: AttributeValue | undefined): number {
  return v?.N === undefined ? 0 : Number(v.N);
}
