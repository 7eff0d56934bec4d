// The one DynamoDB plumbing layer every state module (tasks, scope state, outbox, budget, silences)
// sends through: it counts requests and capacity, translates SDK errors into StateError naming the
// operation and table, and retries unprocessed batch items. No module-level client: the caller's.
import {
  BatchGetItemCommand,
  BatchWriteItemCommand,
  type AttributeValue,
  type ConsumedCapacity,
  type DynamoDBClient,
  type WriteRequest,
} from '@aws-sdk/client-dynamodb';
import { realSleep, type Sleep } from '../log';
import { isConditionalCheckFailed, StateError, toStateError } from './errors';

export type Item = Record<string, AttributeValue>;

/** DynamoDB usage since the table client was created. */
export interface StateStats {
  requests: number;
  readCapacity: number;
  writeCapacity: number;
}

export interface TableClient {
  readonly tableName: string;
  readonly stats: StateStats;
  /**
   * Sends one command (built with `ReturnConsumedCapacity: 'TOTAL'`), counting it; a failed
   * condition is rethrown as is (see `conditionally`), anything else as a StateError.
   */
  send<T extends { ConsumedCapacity?: ConsumedCapacity | ConsumedCapacity[] }>(
    operation: string,
    kind: 'read' | 'write',
    run: (client: DynamoDBClient) => Promise<T>,
  ): Promise<T>;
  /** Runs a conditional write; false when its condition did not hold (someone else got there first). */
  conditionally(write: () => Promise<unknown>): Promise<boolean>;
  /** BatchGetItem in requests of 100, unprocessed keys retried; items come back in no order. */
  batchGet(keys: readonly Item[], consistent: boolean): Promise<Item[]>;
  /** BatchWriteItem in requests of 25, unprocessed items retried. */
  batchWrite(requests: readonly WriteRequest[]): Promise<void>;
}

export interface TableClientOptions {
  client: DynamoDBClient;
  tableName: string;
  /** AWS region of the table, named in errors (a missing table). */
  region?: string;
  sleep?: Sleep;
  /** Attempts for unprocessed batch items before giving up (default 5). */
  maxBatchAttempts?: number;
}

export function createTableClient(options: TableClientOptions): TableClient {
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
    run: (c: DynamoDBClient) => Promise<T>,
  ): Promise<T> {
    try {
      const out = await run(client);
      count(kind, out.ConsumedCapacity);
      return out;
    } catch (err) {
      stats.requests += 1;
      if (isConditionalCheckFailed(err)) throw err;
      throw toStateError(operation, tableName, err, options.region);
    }
  }

  async function conditionally(write: () => Promise<unknown>): Promise<boolean> {
    try {
      await write();
      return true;
    } catch (err) {
      if (isConditionalCheckFailed(err)) return false;
      throw err;
    }
  }

  /** Sends `batch` until nothing comes back unprocessed, backing off; a retryable StateError after `maxBatchAttempts`. */
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

  async function batchGet(keys: readonly Item[], consistent: boolean): Promise<Item[]> {
    const items: Item[] = [];
    for (let i = 0; i < keys.length; i += 100) {
      await untilProcessed('BatchGetItem', keys.slice(i, i + 100), async (batch) => {
        const out = await send('BatchGetItem', 'read', (c) =>
          c.send(
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

  async function batchWrite(requests: readonly WriteRequest[]): Promise<void> {
    for (let i = 0; i < requests.length; i += 25) {
      await untilProcessed('BatchWriteItem', requests.slice(i, i + 25), async (batch) => {
        const out = await send('BatchWriteItem', 'write', (c) =>
          c.send(
            new BatchWriteItemCommand({
              RequestItems: { [tableName]: batch },
              ReturnConsumedCapacity: 'TOTAL',
            }),
          ),
        );
        return out.UnprocessedItems?.[tableName];
      });
    }
  }

  return { tableName, stats, send, conditionally, batchGet, batchWrite };
}

/** Runs `work` over `items` with at most `limit` in flight; resolves in input order, rejects with the first failure after all settle. */
export async function mapBounded<T, R>(
  items: readonly T[],
  limit: number,
  work: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  const errors: unknown[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      try {
        results[i] = await work(items[i]!, i);
      } catch (err) {
        errors.push(err);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (errors.length > 0) throw errors[0];
  return results;
}
