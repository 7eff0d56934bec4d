// The contract of the outbox's store (lib/outbox/store.ts), on every implementation: Amazon's
// DynamoDB Local (the reference), dynalite (the demo's) and the in-memory store of
// local/memory-outbox-store.ts (the scale scenarios'), so a difference shows.
import type { DeliveryState } from '../../lib/model';
import type { StoredRecord } from '../../lib/outbox/items';
import { createOutboxStore, type OutboxStore } from '../../lib/outbox/store';
import { createTableClient } from '../../lib/state/table-client';
import { createMemoryOutboxStore } from '../../local/memory-outbox-store';
import { ENGINE_NAMES, useEngine } from '../support/engines';
import { alert, MIN, T0 } from './support';

const TTL = Math.ceil(T0 / 1000) + 86_400;

const pending = (nextAt: number): DeliveryState => ({ state: 'pending', attempts: 0, nextAt });
const done = (attempts = 1): DeliveryState => ({ state: 'done', attempts, nextAt: 0 });

/** A message as a run recorded it: `deliveries` per destination, the table holding exactly them. */
function recordOf(n: number, deliveries: Record<string, DeliveryState>): StoredRecord {
  return {
    message: alert(n),
    deliveries: structuredClone(deliveries),
    expiresAt: TTL,
    recordedAt: T0,
    tableView: Object.fromEntries(Object.entries(deliveries).map(([d, s]) => [d, JSON.stringify(s)])),
  };
}

/** Runs `body` once per implementation, in a describe block named after it. */
function describeEachStore(title: string, body: (fresh: () => Promise<OutboxStore>) => void): void {
  describe(`${title} in memory`, () => {
    body(async () => createMemoryOutboxStore('ns', { requests: 0, readCapacity: 0, writeCapacity: 0 }));
  });
  for (const name of ENGINE_NAMES) {
    describe(`${title} on ${name}`, () => {
      const engine = useEngine(name);
      body(async () =>
        createOutboxStore(
          createTableClient({ client: engine.client(), tableName: await engine.freshTable('outbox') }),
          'ns',
        ),
      );
    });
  }
}

describeEachStore('The outbox store', (fresh) => {
  it('records a message once and reads it back as recorded; a missing id is absent, a repeated one read once', async () => {
    const store = await fresh();
    const record = recordOf(1, { slack: pending(T0), webhook: done() });

    const first = await store.putMessage(record, TTL);
    const again = await store.putMessage(recordOf(1, { slack: done() }), TTL);
    const read = await store.getMessages([record.message.id, 'nope', record.message.id], true);

    expect([first, again]).toEqual([true, false]);
    expect(read).toEqual([record]);
  });

  it('lists as due, in order, the messages with a delivery pending or held by then, and indexes no settled one', async () => {
    const store = await fresh();
    const later = recordOf(1, { slack: pending(T0 + 5 * MIN), webhook: pending(T0 + 2 * MIN) });
    const now = recordOf(2, { slack: { state: 'held', attempts: 0, nextAt: T0 } });
    const settled = recordOf(3, { slack: done(), webhook: { state: 'failed', attempts: 3, nextAt: 0 } });
    for (const r of [later, now, settled]) await store.putMessage(r, TTL);

    const atT0 = await store.queryDue(T0);
    const atPlus2 = await store.queryDue(T0 + 2 * MIN);
    const index = await store.queryIndex();

    expect(atT0).toEqual({ ids: [now.message.id], health: [], streaks: [] });
    expect(atPlus2.ids).toEqual([now.message.id, later.message.id]);
    expect(index.map((r) => r.message.id)).toEqual([now.message.id, later.message.id]);
  });

  it('saves a delivery and moves the index with it while the table holds what the run saw; takes it out once all are settled', async () => {
    const store = await fresh();
    const record = recordOf(1, { slack: pending(T0), webhook: pending(T0) });
    await store.putMessage(record, TTL);

    record.deliveries.slack = done();
    const first = await store.saveDelivery(record, 'slack');
    const dueAfterFirst = (await store.queryDue(T0)).ids;
    record.deliveries.webhook = { state: 'pending', attempts: 1, nextAt: T0 + 3 * MIN };
    const second = await store.saveDelivery(record, 'webhook');
    const dueAfterRetry = [(await store.queryDue(T0)).ids, (await store.queryDue(T0 + 3 * MIN)).ids];
    record.deliveries.webhook = done(2);
    const third = await store.saveDelivery(record, 'webhook');

    expect([first, second, third]).toEqual(['indexed', 'indexed', 'indexed']);
    expect(dueAfterFirst).toEqual([record.message.id]);
    expect(dueAfterRetry).toEqual([[], [record.message.id]]);
    expect(await store.queryIndex()).toEqual([]);
    expect(await store.getMessages([record.message.id], true)).toEqual([
      { ...recordOf(1, { slack: done(), webhook: done(2) }) },
    ]);
    expect(record.tableView).toEqual(recordOf(1, { slack: done(), webhook: done(2) }).tableView);
  });

  it('saves a delivery but leaves the index alone when another run changed another destination meanwhile', async () => {
    const store = await fresh();
    const mine = recordOf(1, { slack: pending(T0), webhook: pending(T0) });
    await store.putMessage(mine, TTL);
    const theirs = structuredClone(mine);
    theirs.deliveries.webhook = { state: 'pending', attempts: 1, nextAt: T0 + 10 * MIN };
    await store.saveDelivery(theirs, 'webhook');

    mine.deliveries.slack = done();
    const result = await store.saveDelivery(mine, 'slack');

    expect(result).toBe('index-stale');
    // The entry stays at its earlier due time (never later than the table needs), and the table
    // holds both runs' deliveries.
    expect((await store.queryDue(T0)).ids).toEqual([mine.message.id]);
    const [stored] = await store.getMessages([mine.message.id], true);
    expect(stored!.deliveries).toEqual({ slack: done(), webhook: theirs.deliveries.webhook });
    expect(mine.tableView.slack).toBe(JSON.stringify(done()));
  });

  it('reconciles the index from what the table holds, and refuses when the table holds something else', async () => {
    const store = await fresh();
    const mine = recordOf(1, { slack: pending(T0), webhook: pending(T0) });
    await store.putMessage(mine, TTL);
    const theirs = structuredClone(mine);
    theirs.deliveries.webhook = { state: 'pending', attempts: 1, nextAt: T0 + 10 * MIN };
    await store.saveDelivery(theirs, 'webhook');
    mine.deliveries.slack = done();
    await store.saveDelivery(mine, 'slack');
    const [current] = await store.getMessages([mine.message.id], true);

    const stale = await store.reconcileIndex(mine);
    const fresh_ = await store.reconcileIndex(current!);

    expect([stale, fresh_]).toEqual([false, true]);
    expect((await store.queryDue(T0 + 9 * MIN)).ids).toEqual([]);
    expect((await store.queryDue(T0 + 10 * MIN)).ids).toEqual([mine.message.id]);
  });

  it('writes nothing for a message that is gone (TTL)', async () => {
    const store = await fresh();
    const record = recordOf(1, { slack: pending(T0) });
    record.deliveries.slack = done();

    expect(await store.saveDelivery(record, 'slack')).toBe('gone');
    expect(await store.reconcileIndex(record)).toBe(false);
    expect(await store.getMessages([record.message.id], true)).toEqual([]);
  });

  it('gives the lease to one owner until it expires; only the owner renews or releases it', async () => {
    const store = await fresh();

    const steps = [
      await store.acquireLease('a', T0, MIN),
      await store.acquireLease('b', T0 + 30_000, MIN),
      await store.acquireLease('a', T0 + 30_000, MIN),
      await store.renewLease('b', T0 + 40_000, MIN),
      await store.renewLease('a', T0 + 40_000, MIN),
      await store.acquireLease('b', T0 + 40_000 + MIN, MIN),
      await store.acquireLease('b', T0 + 40_001 + MIN, MIN),
      await store.renewLease('a', T0 + 40_001 + MIN, MIN),
    ];
    await store.releaseLease('a');
    const afterForeignRelease = await store.acquireLease('c', T0 + 50_000 + MIN, MIN);
    await store.releaseLease('b');
    const afterRelease = await store.acquireLease('c', T0 + 50_000 + MIN, MIN);

    expect(steps).toEqual([true, false, true, false, true, false, true, false]);
    expect([afterForeignRelease, afterRelease]).toEqual([false, true]);
  });

  it('keeps a failing destination’s streak from its first failure, with the last error and the undelivered count, until that streak is cleared', async () => {
    const store = await fresh();

    const first = await store.markFailing('slack', T0, 'HTTP 404 no_service', 3, TTL);
    const second = await store.markFailing('slack', T0 + MIN, `HTTP 410 ${'x'.repeat(2000)}`, 2, TTL);
    await store.markNoticed('slack');
    const read = await store.readHealth();
    const due = await store.queryDue(T0);
    const wrong = await store.clearHealth('slack', T0 + MIN);
    const right = await store.clearHealth('slack', T0);
    await store.markNoticed('slack');

    expect(first).toEqual({
      destination: 'slack',
      failingSince: T0,
      lastError: 'HTTP 404 no_service',
      undelivered: 3,
      noticed: false,
    });
    expect(second).toMatchObject({ failingSince: T0, undelivered: 5, noticed: false });
    expect(second.lastError).toHaveLength(1000);
    expect(read).toEqual([{ ...second, noticed: true }]);
    expect(due.health).toEqual(read);
    expect([wrong, right]).toEqual([false, true]);
    expect(await store.readHealth()).toEqual([]);
  });

  it('keeps a retrying destination’s streak from its first failure with the last error, until that streak is cleared', async () => {
    const store = await fresh();

    await store.markRetrying('webhook', T0, 'HTTP 503', TTL);
    const second = await store.markRetrying('webhook', T0 + MIN, 'timeout after 2000 ms', TTL);
    await store.markStreakNoticed('webhook');
    const read = await store.readStreaks();
    const due = await store.queryDue(T0);
    const wrong = await store.clearStreak('webhook', T0 + MIN);
    const right = await store.clearStreak('webhook', T0);
    await store.markStreakNoticed('webhook');

    expect(second).toEqual({
      destination: 'webhook',
      since: T0,
      lastError: 'timeout after 2000 ms',
      noticed: false,
    });
    expect(read).toEqual([{ ...second, noticed: true }]);
    expect(due.streaks).toEqual(read);
    expect([wrong, right]).toEqual([false, true]);
    expect(await store.readStreaks()).toEqual([]);
  });

  it('adds up the alerts routed to no one per UTC day, keeping the latest (clipped to 500 characters)', async () => {
    const store = await fresh();

    await store.countUnrouted('2026-11-27', 2, T0, 'db-01 failed', TTL);
    await store.countUnrouted('2026-11-26', 1, T0 - 24 * 60 * MIN, 'web-01 failed', TTL);
    await store.countUnrouted('2026-11-27', 3, T0 + MIN, `cache-01 ${'y'.repeat(900)}`, TTL);

    const days = await store.readUnrouted();
    expect(days.map(({ day, alerts, lastAt }) => ({ day, alerts, lastAt }))).toEqual([
      { day: '2026-11-26', alerts: 1, lastAt: T0 - 24 * 60 * MIN },
      { day: '2026-11-27', alerts: 5, lastAt: T0 + MIN },
    ]);
    expect(days[1]!.last).toHaveLength(500);
    expect(days[1]!.last.startsWith('cache-01 ')).toBe(true);
  });
});
