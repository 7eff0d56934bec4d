import {
  BatchGetItemCommand,
  GetItemCommand,
  PutItemCommand,
  type AttributeValue,
  type WriteRequest,
} from '@aws-sdk/client-dynamodb';
import { StateError } from '../../lib/state/errors';
import { createTableClient, mapBounded, type Item } from '../../lib/state/table-client';
import { processOnly, startDynamoProxy, throttled, type DynamoProxy } from '../support/dynamo-proxy';
import { describeEachEngine, type EngineName } from '../support/engines';

// The contract every state module relies on (lib/state/table-client.ts), on both engines.

const key = (i: number): Item => ({ pk: { S: 'P#contract' }, sk: { S: `K#${String(i).padStart(4, '0')}` } });
const item = (i: number, extra: Record<string, AttributeValue> = {}): Item => ({
  ...key(i),
  n: { N: String(i) },
  ...extra,
});
const put = (i: number): WriteRequest => ({ PutRequest: { Item: item(i) } });
const byKey = (items: readonly Item[]): string[] => items.map((it) => it.sk!.S!).sort();
const range = (n: number, from = 0): number[] => Array.from({ length: n }, (_, i) => from + i);

/**
 * Where the engines really differ, each engine's answer, so the difference stays visible and a
 * change in either engine fails the test. DynamoDB charges a write to every index the item lands
 * in, and ReturnConsumedCapacity TOTAL includes them: DynamoDB Local counts the gsi1 write, dynalite
 * does not. For a key that is absent, DynamoDB Local charges nothing in BatchGetItem, dynalite a read.
 */
const KNOWN_DIFFERENCES: Record<EngineName, { wcuIndexedPut: number; rcuAbsentKeysBatchGet: number }> = {
  dynalite: { wcuIndexedPut: 1, rcuAbsentKeysBatchGet: 2 },
  'DynamoDB Local': { wcuIndexedPut: 2, rcuAbsentKeysBatchGet: 0 },
};

describeEachEngine('The table client', (engine) => {
  async function fresh(options: { maxBatchAttempts?: number; endpoint?: string; maxAttempts?: number } = {}) {
    const tableName = await engine.freshTable('client');
    const sleeps: number[] = [];
    const client = options.endpoint
      ? engine.newClient({ endpoint: options.endpoint, maxAttempts: options.maxAttempts })
      : engine.client();
    const table = createTableClient({
      client,
      tableName,
      maxBatchAttempts: options.maxBatchAttempts,
      sleep: async (ms) => void sleeps.push(ms),
    });
    return { table, tableName, sleeps };
  }

  /** Reads items straight from the engine, past the client under test. */
  async function stored(tableName: string, keys: readonly Item[]): Promise<Item[]> {
    const out: Item[] = [];
    for (let i = 0; i < keys.length; i += 100) {
      const answer = await engine
        .client()
        .send(new BatchGetItemCommand({ RequestItems: { [tableName]: { Keys: keys.slice(i, i + 100) } } }));
      out.push(...(answer.Responses?.[tableName] ?? []));
    }
    return out;
  }

  describe('with the engine answering directly', () => {
    it('counts each request and the read and write capacity DynamoDB reports for it', async () => {
      // Prepare
      const { table, tableName } = await fresh();
      // Act
      await table.send('PutItem', 'write', (c) =>
        c.send(new PutItemCommand({ TableName: tableName, Item: item(1), ReturnConsumedCapacity: 'TOTAL' })),
      );
      for (const consistent of [true, false]) {
        await table.send('GetItem', 'read', (c) =>
          c.send(
            new GetItemCommand({
              TableName: tableName,
              Key: key(1),
              ConsistentRead: consistent,
              ReturnConsumedCapacity: 'TOTAL',
            }),
          ),
        );
      }
      // Assess: 1 WCU for a small item; 1 RCU strongly consistent, 0.5 eventually consistent.
      expect(table.stats).toEqual({ requests: 3, readCapacity: 1.5, writeCapacity: 1 });
    });

    it('counts the write to the index of an item the index holds as the engine reports it', async () => {
      const { table, tableName } = await fresh();
      await table.send('PutItem', 'write', (c) =>
        c.send(
          new PutItemCommand({
            TableName: tableName,
            Item: item(1, { g1pk: { S: 'G#due' }, g1sk: { S: '0001' } }),
            ReturnConsumedCapacity: 'TOTAL',
          }),
        ),
      );
      expect(table.stats.writeCapacity).toBe(KNOWN_DIFFERENCES[engine.name].wcuIndexedPut);
    });

    it('returns true when a conditional write’s condition holds and false when it does not, counting both', async () => {
      // Prepare
      const { table, tableName } = await fresh();
      const createOnce = () =>
        table.conditionally(() =>
          table.send('PutItem', 'write', (c) =>
            c.send(
              new PutItemCommand({
                TableName: tableName,
                Item: item(1),
                ConditionExpression: 'attribute_not_exists(pk)',
                ReturnConsumedCapacity: 'TOTAL',
              }),
            ),
          ),
        );
      // Act
      const results = [await createOnce(), await createOnce()];
      // Assess
      expect(results).toEqual([true, false]);
      expect(table.stats.requests).toBe(2);
    });

    it('lets a failed condition out of send untouched, for conditionally to judge', async () => {
      const { table, tableName } = await fresh();
      await table.send('PutItem', 'write', (c) =>
        c.send(new PutItemCommand({ TableName: tableName, Item: item(1) })),
      );
      const err = await table
        .send('PutItem', 'write', (c) =>
          c.send(
            new PutItemCommand({
              TableName: tableName,
              Item: item(1),
              ConditionExpression: 'attribute_not_exists(pk)',
            }),
          ),
        )
        .catch((e: unknown) => e);
      expect(err).not.toBeInstanceOf(StateError);
      expect((err as Error).name).toBe('ConditionalCheckFailedException');
    });

    it('reports any other failure, even inside conditionally, as a StateError naming the operation and table', async () => {
      const missing = createTableClient({ client: engine.client(), tableName: 'no-such-table' });
      const err = await missing
        .conditionally(() =>
          missing.send('PutItem', 'write', (c) =>
            c.send(
              new PutItemCommand({
                TableName: 'no-such-table',
                Item: item(1),
                ConditionExpression: 'attribute_not_exists(pk)',
              }),
            ),
          ),
        )
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StateError);
      expect(err).toMatchObject({
        operation: 'PutItem',
        errorCode: 'ResourceNotFoundException',
        retryable: false,
      });
      expect((err as StateError).message).toMatch(
        /^DynamoDB PutItem on table no-such-table failed: ResourceNotFoundException/,
      );
      expect(missing.stats.requests).toBe(1);
    });

    it('refuses a table name under 3 characters as a non-retryable StateError (dynalite 4 refuses it too)', async () => {
      // Prepare: the name check happens before the table is looked up, on both engines.
      const short = createTableClient({ client: engine.client(), tableName: 'ab' });
      // Act
      const err = await short.batchWrite([put(1)]).catch((e: unknown) => e);
      // Assess
      expect(err).toBeInstanceOf(StateError);
      expect(err).toMatchObject({
        operation: 'BatchWriteItem',
        errorCode: 'ValidationException',
        retryable: false,
      });
      expect((err as StateError).message).toMatch(
        /^DynamoDB BatchWriteItem on table ab failed: ValidationException/,
      );
    });

    it('writes 60 items in 3 BatchWriteItem requests and reads 150 keys in 2 BatchGetItem requests', async () => {
      // Prepare
      const { table, tableName } = await fresh();
      // Act
      await table.batchWrite(range(60).map(put));
      const afterWrite = { ...table.stats };
      await table.batchWrite(range(90, 60).map(put));
      const beforeRead = table.stats.requests;
      const read = await table.batchGet(range(150).map(key), true);
      // Assess
      expect(afterWrite.requests).toBe(3);
      expect(afterWrite.writeCapacity).toBe(60);
      expect(table.stats.requests - beforeRead).toBe(2);
      expect(table.stats.readCapacity).toBe(150);
      expect(byKey(read)).toEqual(byKey(range(150).map((i) => item(i))));
      expect(read.find((it) => it.sk!.S === 'K#0007')).toEqual(item(7));
      expect(await stored(tableName, [key(149)])).toEqual([item(149)]);
    });

    it('deletes through batchWrite as it puts, and reads nothing back for absent keys', async () => {
      const { table } = await fresh();
      await table.batchWrite(range(30).map(put));
      await table.batchWrite(range(30).map((i) => ({ DeleteRequest: { Key: key(i) } })));
      const before = table.stats.readCapacity;
      const read = await table.batchGet([key(1), key(2)], true);
      expect(read).toEqual([]);
      expect(table.stats.readCapacity - before).toBe(KNOWN_DIFFERENCES[engine.name].rcuAbsentKeysBatchGet);
    });

    it('refuses the same key twice in one batch, as DynamoDB does: callers must deduplicate', async () => {
      const { table } = await fresh();
      const err = await table.batchGet([key(1), key(1)], false).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StateError);
      expect(err).toMatchObject({
        operation: 'BatchGetItem',
        errorCode: 'ValidationException',
        retryable: false,
      });
    });
  });

  describe('behind a proxy that injects what DynamoDB does under load', () => {
    let proxy: DynamoProxy;
    beforeEach(async () => {
      proxy = await startDynamoProxy(engine.endpoint);
    });
    afterEach(async () => {
      await proxy.close();
    });

    it('sends the items left unprocessed again, backing off, until every item is written', async () => {
      // Prepare: the engine takes 10 items per request.
      const { table, tableName, sleeps } = await fresh({ endpoint: proxy.endpoint });
      proxy.rule = (operation, input) => processOnly(operation, input, tableName, 10);
      // Act
      await table.batchWrite(range(25).map(put));
      // Assess
      expect(proxy.operations).toEqual(['BatchWriteItem', 'BatchWriteItem', 'BatchWriteItem']);
      expect(sleeps).toEqual([200, 400]);
      expect(byKey(await stored(tableName, range(25).map(key)))).toEqual(
        byKey(range(25).map((i) => item(i))),
      );
    });

    it('asks again for the keys left unprocessed until every item is read', async () => {
      const { table, tableName, sleeps } = await fresh({ endpoint: proxy.endpoint });
      await table.batchWrite(range(30).map(put));
      proxy.operations.length = 0;
      proxy.rule = (operation, input) => processOnly(operation, input, tableName, 12);
      const read = await table.batchGet(range(30).map(key), false);
      expect(byKey(read)).toEqual(byKey(range(30).map((i) => item(i))));
      expect(proxy.operations).toEqual(['BatchGetItem', 'BatchGetItem', 'BatchGetItem']);
      expect(sleeps).toEqual([200, 400]);
    });

    it('gives up after maxBatchAttempts with a retryable StateError saying how much is left', async () => {
      // Prepare: nothing is ever processed.
      const { table, tableName, sleeps } = await fresh({ endpoint: proxy.endpoint, maxBatchAttempts: 3 });
      proxy.rule = (operation, input) =>
        operation === 'BatchWriteItem'
          ? { answer: { status: 200, body: { UnprocessedItems: input.RequestItems as object } } }
          : undefined;
      // Act
      const err = await table.batchWrite(range(7).map(put)).catch((e: unknown) => e);
      // Assess
      expect(err).toBeInstanceOf(StateError);
      expect(err).toMatchObject({
        operation: 'BatchWriteItem',
        errorCode: 'UnprocessedItems',
        retryable: true,
      });
      expect((err as StateError).message).toBe(
        `DynamoDB BatchWriteItem on table ${tableName} left 7 items unprocessed after 3 attempts`,
      );
      expect(proxy.operations).toHaveLength(3);
      expect(sleeps).toHaveLength(2);
      expect(await stored(tableName, range(7).map(key))).toEqual([]);
    });

    it('translates DynamoDB throttling into a retryable StateError', async () => {
      const { table, tableName } = await fresh({ endpoint: proxy.endpoint, maxAttempts: 1 });
      proxy.rule = () => throttled();
      const err = await table
        .send('GetItem', 'read', (c) => c.send(new GetItemCommand({ TableName: tableName, Key: key(1) })))
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StateError);
      expect(err).toMatchObject({ operation: 'GetItem', errorCode: 'ThrottlingException', retryable: true });
      expect(table.stats.requests).toBe(1);
    });
  });
});

describe('mapBounded', () => {
  it('keeps at most `limit` calls in flight and resolves in input order', async () => {
    // Prepare
    let inFlight = 0;
    let most = 0;
    const work = async (n: number) => {
      inFlight += 1;
      most = Math.max(most, inFlight);
      await new Promise((resolve) => setImmediate(resolve));
      inFlight -= 1;
      return n * 2;
    };
    // Act
    const out = await mapBounded(range(10), 3, work);
    // Assess
    expect(out).toEqual(range(10).map((n) => n * 2));
    expect(most).toBe(3);
  });

  it('rejects with the first failure only after every item has settled', async () => {
    const done: number[] = [];
    const err = await mapBounded(range(6), 2, async (n) => {
      await new Promise((resolve) => setImmediate(resolve));
      if (n === 1 || n === 4) throw new Error(`item ${n}`);
      done.push(n);
    }).catch((e: unknown) => e);
    expect((err as Error).message).toBe('item 1');
    expect(done.sort()).toEqual([0, 2, 3, 5]);
  });
});
