import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { alertId } from '../../lib/diff/alert';
import { createStateStore, type StoredAlert, type StoredTask } from '../../lib/state/store';
import { StateError } from '../../lib/state/errors';
import { taskKey } from '../../lib/task';
import { startDynamoProxy, throttled, type DynamoProxy } from '../support/dynamo-proxy';
import { describeEachEngine } from '../support/engines';
import { SCOPE, storedTask, T0, task } from '../support/fakes';

function stored(i: number, overrides: Partial<StoredTask> = {}): StoredTask {
  return storedTask(task({ hostId: `h${i}`, status: 'running' }), overrides);
}

function alertRecord(i: number): StoredAlert {
  const t = task({ hostId: `h${i}`, status: 'failed', rawStatus: 'failed' });
  return {
    alert: {
      id: alertId(SCOPE, t, 'failed'),
      scope: SCOPE,
      task: t,
      status: 'failed',
      reason: 'first-seen',
      detectedAt: T0,
    },
    deliveries: {
      slack: { state: 'pending', attempts: 0, nextAt: 0 },
      webhook: { state: 'pending', attempts: 0, nextAt: 0 },
    },
    expiresAt: Math.ceil(T0 / 1000) + 3 * 86_400,
  };
}

describeEachEngine('DynamoDB state store', (engine) => {
  async function freshStore() {
    const tableName = await engine.freshTable('store');
    return { tableName, store: createStateStore({ client: engine.client(), tableName }) };
  }

  let proxy: DynamoProxy;
  beforeEach(async () => {
    proxy = await startDynamoProxy(engine.endpoint);
  });
  afterEach(async () => {
    await proxy.close();
  });

  it('writes 60 tasks in 3 BatchWriteItem requests and reads 150 back in 2 BatchGetItem requests', async () => {
    // Prepare
    const { store } = await freshStore();
    const tasks = Array.from({ length: 150 }, (_, i) => stored(i));
    // Act
    await store.putTasks(SCOPE, tasks.slice(0, 60));
    const afterWrite = store.stats.requests;
    await store.putTasks(SCOPE, tasks.slice(60));
    const before = store.stats.requests;
    const read = await store.getTasks(
      SCOPE,
      tasks.map((t) => t.key),
    );
    // Assess
    expect(afterWrite).toBe(3);
    expect(store.stats.requests - before).toBe(2);
    expect(read.size).toBe(150);
    expect(read.get(tasks[7]!.key)).toEqual(tasks[7]);
  });

  it('keeps only tracked tasks, pending alerts and failing health in the working set', async () => {
    const { store } = await freshStore();
    await store.putTasks(SCOPE, [
      stored(1),
      stored(2, { tracked: false, status: 'success', rawStatus: 'success' }),
    ]);
    await store.putAlert(alertRecord(3));
    const done = alertRecord(4);
    await store.putAlert(done);
    for (const d of ['slack', 'webhook']) {
      done.deliveries[d] = { state: 'done', attempts: 1, nextAt: 0 };
      await store.saveDelivery(SCOPE, done, d);
    }
    const set = await store.readWorkingSet(SCOPE);
    expect([...set.tasks.keys()]).toEqual([stored(1).key]);
    expect(set.pending.map((p) => p.key)).toEqual([taskKey(alertRecord(3).alert.task)]);
    expect(set.health).toBeUndefined();
  });

  it('records an alert once per task and status, whoever asks first', async () => {
    const { store } = await freshStore();
    const results = await Promise.all([store.putAlert(alertRecord(1)), store.putAlert(alertRecord(1))]);
    expect(results.sort()).toEqual(['created', 'exists']);
  });

  it('gives the delivery lease to one owner until it expires or is released', async () => {
    const { store } = await freshStore();
    expect(await store.acquireLease(SCOPE, 'a', T0, 60_000)).toBe(true);
    expect(await store.acquireLease(SCOPE, 'b', T0 + 30_000, 60_000)).toBe(false);
    expect(await store.acquireLease(SCOPE, 'b', T0 + 61_000, 60_000)).toBe(true);
    await store.releaseLease(SCOPE, 'a'); // a's lease is gone: releasing it must not free b's
    expect(await store.acquireLease(SCOPE, 'c', T0 + 62_000, 60_000)).toBe(false);
    await store.releaseLease(SCOPE, 'b');
    expect(await store.acquireLease(SCOPE, 'c', T0 + 62_000, 60_000)).toBe(true);
  });

  it('puts a TTL on every item it writes, so DynamoDB removes state after the window', async () => {
    const { store, tableName } = await freshStore();
    await store.putTasks(SCOPE, [stored(1)]);
    const item = await engine.client().send(
      new GetItemCommand({
        TableName: tableName,
        Key: { pk: { S: `S#proj-1#0` }, sk: { S: `T#${stored(1).key}` } },
      }),
    );
    expect(Number(item.Item?.ttl?.N)).toBe(stored(1).expiresAt);
  });

  it('retries unprocessed batch items, then fails with an error naming the operation', async () => {
    // Prepare: a DynamoDB that never processes anything (a proxy in front of the engine answers).
    const tableName = await engine.freshTable('store');
    proxy.rule = (operation, input) =>
      operation === 'BatchWriteItem'
        ? { answer: { status: 200, body: { UnprocessedItems: input.RequestItems as object } } }
        : undefined;
    const sleeps: number[] = [];
    const store = createStateStore({
      client: engine.newClient({ endpoint: proxy.endpoint }),
      tableName,
      maxBatchAttempts: 3,
      sleep: async (ms) => void sleeps.push(ms),
    });
    // Act
    const err = await store.putTasks(SCOPE, [stored(1)]).catch((e: unknown) => e);
    // Assess
    expect(err).toBeInstanceOf(StateError);
    expect((err as StateError).message).toBe(
      `DynamoDB BatchWriteItem on table ${tableName} left 1 items unprocessed after 3 attempts`,
    );
    expect(proxy.operations).toEqual(['BatchWriteItem', 'BatchWriteItem', 'BatchWriteItem']);
    expect(sleeps).toHaveLength(2);
  });

  it('translates throttling into a retryable StateError', async () => {
    const tableName = await engine.freshTable('store');
    proxy.rule = () => throttled();
    const store = createStateStore({
      client: engine.newClient({ endpoint: proxy.endpoint, maxAttempts: 1 }),
      tableName,
    });
    const err = (await store.readWorkingSet(SCOPE).catch((e: unknown) => e)) as StateError;
    expect(err).toBeInstanceOf(StateError);
    expect(err).toMatchObject({ operation: 'Query', errorCode: 'ThrottlingException', retryable: true });
  });
});
