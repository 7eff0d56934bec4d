import {
  BatchGetItemCommand,
  type BatchGetItemCommandOutput,
  BatchWriteItemCommand,
  PutItemCommand,
  QueryCommand,
  UpdateItemCommand,
  type AttributeValue,
  type ConsumedCapacity,
  type DynamoDBClient,
  type WriteRequest,
} from '@aws-sdk/client-dynamodb';
import type { Alert } from '../diff/alert';
import { realSleep, type Sleep } from '../log';
import { scopeId, taskKey, type Scope, type TaskStatus } from '../task';
import { isConditionalCheckFailed, StateError, toStateError } from './errors';
import { GSI_NAME } from './table';

/** What the table remembers of a task: its identity, last status and the statuses already alerted. */
export interface StoredTask {
  key: string;
  hostId: string;
  hostName: string;
  backupName: string;
  startedAt: string;
  status: TaskStatus;
  rawStatus: string;
  /** Statuses this task has already alerted on (never alert twice for the same one). */
  alerted: TaskStatus[];
  /** True while the task is in flight or in an alert status: it sits in the working-set index. */
  tracked: boolean;
  /** When the status was last written, epoch ms. */
  changedAt: number;
  /** TTL, epoch seconds. */
  expiresAt: number;
}

export const DELIVERY_STATES = ['pending', 'done', 'failed', 'expired'] as const;
export type DeliveryStateName = (typeof DELIVERY_STATES)[number];

/** Delivery of one alert to one destination. */
export interface DeliveryState {
  state: DeliveryStateName;
  attempts: number;
  /** Earliest time of the next attempt, epoch ms (0 = now). */
  nextAt: number;
  lastError?: string;
}

/** An alert as recorded before it is sent, with one delivery per destination. */
export interface StoredAlert {
  alert: Alert;
  deliveries: Record<string, DeliveryState>;
  expiresAt: number;
}

/** The reference of an alert item: its task key and status. */
export interface AlertRef {
  key: string;
  status: TaskStatus;
}

/** DynamoDB usage of one store since it was created. */
export interface StateStats {
  requests: number;
  readCapacity: number;
  writeCapacity: number;
}

/** Consecutive failed polls of a scope, kept only while polls are failing. */
export interface Health {
  failures: number;
  /** When the first of these failures happened, epoch ms. */
  since: number;
  lastError: string;
  /** True once the "monitoring is not working" notice went out. */
  noticed: boolean;
}

/** What a poll reads first: tracked tasks, alerts with deliveries pending, and failing health. */
export interface WorkingSet {
  tasks: Map<string, StoredTask>;
  pending: AlertRef[];
  health?: Health;
}

/** Last-seen state of one table; every method makes the fewest requests the design allows. */
export interface StateStore {
  readonly stats: StateStats;
  /** One Query of the sparse index: tasks in flight or in alert statuses, and pending alerts. */
  readWorkingSet(scope: Scope): Promise<WorkingSet>;
  /** BatchGetItem of task items by key (100 a request); missing keys are absent from the map. */
  getTasks(scope: Scope, keys: readonly string[]): Promise<Map<string, StoredTask>>;
  /** Records an alert unless one exists for the same task and status (conditional put). */
  putAlert(record: StoredAlert): Promise<'created' | 'exists'>;
  /** Writes task items (BatchWriteItem, 25 a request; unprocessed items retried). */
  putTasks(scope: Scope, tasks: readonly StoredTask[]): Promise<void>;
  /** Takes the scope's delivery lease for `leaseMs` unless another owner holds an unexpired one. */
  acquireLease(scope: Scope, owner: string, now: number, leaseMs: number): Promise<boolean>;
  releaseLease(scope: Scope, owner: string): Promise<void>;
  /** Reads alert items (strongly consistent when asked: the index lags the table). */
  getAlerts(scope: Scope, refs: readonly AlertRef[], consistent: boolean): Promise<StoredAlert[]>;
  /**
   * Saves one destination's delivery state of an alert (its own attribute, so destinations never
   * overwrite each other); drops the alert from the index once no destination is pending, as the
   * table has them (a caller's copy may be ahead of a write that failed).
   */
  saveDelivery(scope: Scope, alert: StoredAlert, destination: string): Promise<void>;
  /** Counts one more failed poll (the item joins the working set) and returns the new health. */
  recordFailure(scope: Scope, now: number, error: string): Promise<Health>;
  /** Marks the down notice as sent; true for exactly one caller per outage. */
  claimDownNotice(scope: Scope): Promise<boolean>;
  /** Ends an outage; returns the health it ended for exactly one caller, undefined for the others. */
  clearHealth(scope: Scope): Promise<Health | undefined>;
}

export interface StateStoreOptions {
  client: DynamoDBClient;
  tableName: string;
  sleep?: Sleep;
  /** Attempts for BatchGet/BatchWrite unprocessed items before giving up. */
  maxBatchAttempts?: number;
}

const TASK_PREFIX = 'T#';
const ALERT_PREFIX = 'A#';
const PENDING_PREFIX = 'P#';
const LEASE_SK = 'L#deliver';
const HEALTH_SK = 'H#health';
const DELIVERY_PREFIX = 'dl_';

const pkOf = (scope: Scope): string => `S#${scopeId(scope)}`;
const alertSk = (ref: AlertRef): string => `${ALERT_PREFIX}${ref.key}#${ref.status}`;

/** Creates the DynamoDB-backed store; the client is the caller's (no module-level client). */
export function createStateStore(options: StateStoreOptions): StateStore {
  const { client, tableName } = options;
  const sleep = options.sleep ?? realSleep;
  const maxBatchAttempts = options.maxBatchAttempts ?? 5;
  const stats: StateStats = { requests: 0, readCapacity: 0, writeCapacity: 0 };

  function count(kind: 'read' | 'write', consumed: ConsumedCapacity | ConsumedCapacity[] | undefined): void {
    stats.requests += 1;
    const units = (Array.isArray(consumed) ? consumed : consumed ? [consumed] : []).reduce(
      (sum, c) => sum + (c.CapacityUnits ?? 0),
      0,
    );
    if (kind === 'read') stats.readCapacity += units;
    else stats.writeCapacity += units;
  }

  async function send<T extends { ConsumedCapacity?: ConsumedCapacity | ConsumedCapacity[] }>(
    operation: string,
    kind: 'read' | 'write',
    run: () => Promise<T>,
  ): Promise<T> {
    try {
      const out = await run();
      count(kind, out.ConsumedCapacity);
      return out;
    } catch (err) {
      stats.requests += 1;
      if (isConditionalCheckFailed(err)) throw err;
      throw toStateError(operation, tableName, err);
    }
  }

  /** Runs a conditional write; false when its condition did not hold (someone else got there first). */
  async function conditionally(write: () => Promise<unknown>): Promise<boolean> {
    try {
      await write();
      return true;
    } catch (err) {
      if (isConditionalCheckFailed(err)) return false;
      throw err;
    }
  }

  async function readWorkingSet(scope: Scope): Promise<WorkingSet> {
    const tasks = new Map<string, StoredTask>();
    const pending: AlertRef[] = [];
    let health: Health | undefined;
    let startKey: Record<string, AttributeValue> | undefined;
    do {
      const out = await send('Query', 'read', () =>
        client.send(
          new QueryCommand({
            TableName: tableName,
            IndexName: GSI_NAME,
            KeyConditionExpression: 'g1pk = :pk',
            ExpressionAttributeValues: { ':pk': { S: pkOf(scope) } },
            ExclusiveStartKey: startKey,
            ReturnConsumedCapacity: 'TOTAL',
          }),
        ),
      );
      for (const item of out.Items ?? []) {
        const sk = str(item.sk);
        if (sk.startsWith(TASK_PREFIX)) {
          const task = fromTaskItem(item);
          tasks.set(task.key, task);
        } else if (sk.startsWith(ALERT_PREFIX)) {
          pending.push(alertRefOf(item));
        } else if (sk === HEALTH_SK) {
          health = fromHealthItem(item);
        }
      }
      startKey = out.LastEvaluatedKey;
    } while (startKey);
    return { tasks, pending, ...(health ? { health } : {}) };
  }

  /**
   * Sends `batch` with `sendOnce` until nothing comes back unprocessed, backing off between
   * attempts; throws a retryable StateError after `maxBatchAttempts`.
   */
  async function untilProcessed<T>(
    operation: 'BatchGetItem' | 'BatchWriteItem',
    batch: T[],
    sendOnce: (items: T[]) => Promise<T[] | undefined>,
  ): Promise<void> {
    let left: T[] | undefined = batch;
    for (let attempt = 1; left && left.length > 0; attempt++) {
      if (attempt > maxBatchAttempts) {
        throw new StateError(
          `DynamoDB ${operation} on table ${tableName} left ${left.length} ${operation === 'BatchGetItem' ? 'keys' : 'items'} unprocessed after ${maxBatchAttempts} attempts`,
          operation,
          operation === 'BatchGetItem' ? 'UnprocessedKeys' : 'UnprocessedItems',
          true,
        );
      }
      if (attempt > 1) await sleep(50 * 2 ** attempt);
      left = await sendOnce(left);
    }
  }

  async function batchGet(
    keys: ReadonlyArray<Record<string, AttributeValue>>,
    consistent: boolean,
  ): Promise<Record<string, AttributeValue>[]> {
    const items: Record<string, AttributeValue>[] = [];
    for (let i = 0; i < keys.length; i += 100) {
      await untilProcessed('BatchGetItem', keys.slice(i, i + 100), async (batch) => {
        const out: BatchGetItemCommandOutput = await send('BatchGetItem', 'read', () =>
          client.send(
            new BatchGetItemCommand({
              RequestItems: { [tableName]: { Keys: batch, ConsistentRead: consistent } },
              ReturnConsumedCapacity: 'TOTAL',
            }),
          ),
        );
        items.push(...(out.Responses?.[tableName] ?? []));
        return out.UnprocessedKeys?.[tableName]?.Keys;
      });
    }
    return items;
  }

  async function getTasks(scope: Scope, keys: readonly string[]): Promise<Map<string, StoredTask>> {
    const pk = pkOf(scope);
    const items = await batchGet(
      keys.map((key) => ({ pk: { S: pk }, sk: { S: TASK_PREFIX + key } })),
      false,
    );
    return new Map(items.map((item) => fromTaskItem(item)).map((t) => [t.key, t]));
  }

  async function putAlert(record: StoredAlert): Promise<'created' | 'exists'> {
    const created = await conditionally(() =>
      send('PutItem', 'write', () =>
        client.send(
          new PutItemCommand({
            TableName: tableName,
            Item: toAlertItem(record),
            ConditionExpression: 'attribute_not_exists(sk)',
            ReturnConsumedCapacity: 'TOTAL',
          }),
        ),
      ),
    );
    return created ? 'created' : 'exists';
  }

  async function putTasks(scope: Scope, tasks: readonly StoredTask[]): Promise<void> {
    const pk = pkOf(scope);
    for (let i = 0; i < tasks.length; i += 25) {
      const batch = tasks
        .slice(i, i + 25)
        .map((t): WriteRequest => ({ PutRequest: { Item: toTaskItem(pk, t) } }));
      await untilProcessed('BatchWriteItem', batch, async (requests) => {
        const out = await send('BatchWriteItem', 'write', () =>
          client.send(
            new BatchWriteItemCommand({
              RequestItems: { [tableName]: requests },
              ReturnConsumedCapacity: 'TOTAL',
            }),
          ),
        );
        return out.UnprocessedItems?.[tableName];
      });
    }
  }

  async function acquireLease(scope: Scope, owner: string, now: number, leaseMs: number): Promise<boolean> {
    return conditionally(() =>
      send('UpdateItem', 'write', () =>
        client.send(
          new UpdateItemCommand({
            TableName: tableName,
            Key: { pk: { S: pkOf(scope) }, sk: { S: LEASE_SK } },
            UpdateExpression: 'SET #owner = :owner, #until = :until, #ttl = :ttl',
            ConditionExpression: 'attribute_not_exists(#until) OR #until < :now OR #owner = :owner',
            ExpressionAttributeNames: { '#owner': 'owner', '#until': 'until', '#ttl': 'ttl' },
            ExpressionAttributeValues: {
              ':owner': { S: owner },
              ':until': { N: String(now + leaseMs) },
              ':now': { N: String(now) },
              ':ttl': { N: String(Math.ceil((now + leaseMs) / 1000) + 86_400) },
            },
            ReturnConsumedCapacity: 'TOTAL',
          }),
        ),
      ),
    );
  }

  async function releaseLease(scope: Scope, owner: string): Promise<void> {
    // Someone took over an expired lease: nothing of ours to release.
    await conditionally(() =>
      send('UpdateItem', 'write', () =>
        client.send(
          new UpdateItemCommand({
            TableName: tableName,
            Key: { pk: { S: pkOf(scope) }, sk: { S: LEASE_SK } },
            UpdateExpression: 'SET #until = :zero',
            ConditionExpression: '#owner = :owner',
            ExpressionAttributeNames: { '#owner': 'owner', '#until': 'until' },
            ExpressionAttributeValues: { ':owner': { S: owner }, ':zero': { N: '0' } },
            ReturnConsumedCapacity: 'TOTAL',
          }),
        ),
      ),
    );
  }

  async function getAlerts(
    scope: Scope,
    refs: readonly AlertRef[],
    consistent: boolean,
  ): Promise<StoredAlert[]> {
    const pk = pkOf(scope);
    const items = await batchGet(
      refs.map((ref) => ({ pk: { S: pk }, sk: { S: alertSk(ref) } })),
      consistent,
    );
    return items.map(fromAlertItem);
  }

  async function saveDelivery(scope: Scope, record: StoredAlert, destination: string): Promise<void> {
    const state = record.deliveries[destination];
    if (!state) throw new Error(`alert ${record.alert.id} has no delivery to ${destination}`);
    const ref = { key: taskKey(record.alert.task), status: record.alert.status };
    const others = Object.keys(record.deliveries).filter((d) => d !== destination);
    const settled = Object.values(record.deliveries).every((d) => d.state !== 'pending');

    const update = (dropFromIndex: boolean) => {
      const names: Record<string, string> = { '#dl': DELIVERY_PREFIX + destination };
      const values: Record<string, AttributeValue> = { ':dl': { S: JSON.stringify(state) } };
      // Never resurrect an alert item that TTL already removed.
      let condition = 'attribute_exists(sk)';
      if (dropFromIndex && others.length > 0) {
        // The caller's copy of the other destinations may be ahead of the table (their write failed
        // or is still in flight): the alert leaves the index only if the table agrees they are settled.
        values[':pending'] = { S: '"state":"pending"' };
        others.forEach((other, i) => {
          names[`#o${i}`] = DELIVERY_PREFIX + other;
          condition += ` AND NOT contains(#o${i}, :pending)`;
        });
      }
      return send('UpdateItem', 'write', () =>
        client.send(
          new UpdateItemCommand({
            TableName: tableName,
            Key: { pk: { S: pkOf(scope) }, sk: { S: alertSk(ref) } },
            UpdateExpression: dropFromIndex ? 'SET #dl = :dl REMOVE g1pk, g1sk' : 'SET #dl = :dl',
            ConditionExpression: condition,
            ExpressionAttributeNames: names,
            ExpressionAttributeValues: values,
            ReturnConsumedCapacity: 'TOTAL',
          }),
        ),
      );
    };

    if ((await conditionally(() => update(settled))) || !settled) return;
    // Another destination is still pending in the table: record this one and stay in the index.
    await conditionally(() => update(false));
  }

  async function recordFailure(scope: Scope, now: number, error: string): Promise<Health> {
    const pk = pkOf(scope);
    const out = await send('UpdateItem', 'write', () =>
      client.send(
        new UpdateItemCommand({
          TableName: tableName,
          Key: { pk: { S: pk }, sk: { S: HEALTH_SK } },
          UpdateExpression:
            'SET since = if_not_exists(since, :now), err = :err, g1pk = :pk, g1sk = :sk, #ttl = :ttl ADD fails :one',
          ExpressionAttributeNames: { '#ttl': 'ttl' },
          ExpressionAttributeValues: {
            ':now': { N: String(now) },
            ':err': { S: error.slice(0, 1000) },
            ':pk': { S: pk },
            ':sk': { S: HEALTH_SK },
            ':ttl': { N: String(Math.ceil(now / 1000) + 30 * 86_400) },
            ':one': { N: '1' },
          },
          ReturnValues: 'ALL_NEW',
          ReturnConsumedCapacity: 'TOTAL',
        }),
      ),
    );
    return fromHealthItem(out.Attributes ?? {});
  }

  async function claimDownNotice(scope: Scope): Promise<boolean> {
    return conditionally(() =>
      send('UpdateItem', 'write', () =>
        client.send(
          new UpdateItemCommand({
            TableName: tableName,
            Key: { pk: { S: pkOf(scope) }, sk: { S: HEALTH_SK } },
            UpdateExpression: 'SET noticed = :yes',
            ConditionExpression: 'attribute_exists(fails) AND attribute_not_exists(noticed)',
            ExpressionAttributeValues: { ':yes': { BOOL: true } },
            ReturnConsumedCapacity: 'TOTAL',
          }),
        ),
      ),
    );
  }

  async function clearHealth(scope: Scope): Promise<Health | undefined> {
    let old: Record<string, AttributeValue> | undefined;
    const cleared = await conditionally(async () => {
      const out = await send('UpdateItem', 'write', () =>
        client.send(
          new UpdateItemCommand({
            TableName: tableName,
            Key: { pk: { S: pkOf(scope) }, sk: { S: HEALTH_SK } },
            UpdateExpression: 'REMOVE fails, since, err, noticed, g1pk, g1sk',
            ConditionExpression: 'attribute_exists(fails)',
            ReturnValues: 'ALL_OLD',
            ReturnConsumedCapacity: 'TOTAL',
          }),
        ),
      );
      old = out.Attributes;
    });
    return cleared ? fromHealthItem(old ?? {}) : undefined;
  }

  return {
    stats,
    readWorkingSet,
    getTasks,
    putAlert,
    putTasks,
    acquireLease,
    releaseLease,
    getAlerts,
    saveDelivery,
    recordFailure,
    claimDownNotice,
    clearHealth,
  };
}

function str(v: AttributeValue | undefined): string {
  return v?.S ?? '';
}
function num(v: AttributeValue | undefined): number {
  return v?.N === undefined ? 0 : Number(v.N);
}

function toTaskItem(pk: string, t: StoredTask): Record<string, AttributeValue> {
  const item: Record<string, AttributeValue> = {
    pk: { S: pk },
    sk: { S: TASK_PREFIX + t.key },
    hid: { S: t.hostId },
    hn: { S: t.hostName },
    bn: { S: t.backupName },
    sa: { S: t.startedAt },
    st: { S: t.status },
    raw: { S: t.rawStatus },
    al: { S: t.alerted.join(',') },
    ch: { N: String(t.changedAt) },
    ttl: { N: String(t.expiresAt) },
  };
  if (t.tracked) {
    item.g1pk = { S: pk };
    item.g1sk = { S: TASK_PREFIX + t.key };
  }
  return item;
}

function fromTaskItem(item: Record<string, AttributeValue>): StoredTask {
  const al = str(item.al);
  return {
    key: str(item.sk).slice(TASK_PREFIX.length),
    hostId: str(item.hid),
    hostName: str(item.hn),
    backupName: str(item.bn),
    startedAt: str(item.sa),
    status: str(item.st) as TaskStatus,
    rawStatus: str(item.raw),
    alerted: al ? (al.split(',') as TaskStatus[]) : [],
    tracked: item.g1pk !== undefined,
    changedAt: num(item.ch),
    expiresAt: num(item.ttl),
  };
}

function toAlertItem(record: StoredAlert): Record<string, AttributeValue> {
  const { alert } = record;
  const pk = pkOf(alert.scope);
  const ref = { key: taskKey(alert.task), status: alert.status };
  const item: Record<string, AttributeValue> = {
    pk: { S: pk },
    sk: { S: alertSk(ref) },
    a: { S: JSON.stringify(alert) },
    ttl: { N: String(record.expiresAt) },
  };
  for (const [destination, state] of Object.entries(record.deliveries)) {
    item[DELIVERY_PREFIX + destination] = { S: JSON.stringify(state) };
  }
  if (Object.values(record.deliveries).some((d) => d.state === 'pending')) {
    item.g1pk = { S: pk };
    item.g1sk = { S: `${PENDING_PREFIX}${alertSk(ref)}` };
  }
  return item;
}

function fromAlertItem(item: Record<string, AttributeValue>): StoredAlert {
  const deliveries: Record<string, DeliveryState> = {};
  for (const [name, value] of Object.entries(item)) {
    if (name.startsWith(DELIVERY_PREFIX))
      deliveries[name.slice(DELIVERY_PREFIX.length)] = JSON.parse(str(value));
  }
  return { alert: JSON.parse(str(item.a)) as Alert, deliveries, expiresAt: num(item.ttl) };
}

function fromHealthItem(item: Record<string, AttributeValue>): Health {
  return {
    failures: num(item.fails),
    since: num(item.since),
    lastError: str(item.err),
    noticed: item.noticed?.BOOL === true,
  };
}

function alertRefOf(item: Record<string, AttributeValue>): AlertRef {
  const rest = str(item.sk).slice(ALERT_PREFIX.length);
  const cut = rest.lastIndexOf('#');
  return { key: rest.slice(0, cut), status: rest.slice(cut + 1) as TaskStatus };
}
