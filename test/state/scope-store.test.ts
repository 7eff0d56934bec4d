// The contract of the poll's state (lib/state/scope-store.ts and lifecycle-store.ts), on both
// engines: DynamoDB Local (the reference) and dynalite (the demo's), so a difference shows.
import { observe } from '../../lib/diff/decide';
import { entryKey, type Entry } from '../../lib/diff/entry';
import type { OpenAlert, Silence } from '../../lib/diff/lifecycle';
import type { AlertMessage, Task } from '../../lib/model';
import { createLifecycleStore } from '../../lib/state/lifecycle-store';
import {
  createScopeStore,
  DIGEST_SHARDS,
  dropEntry,
  emptyScopeState,
  putEntry,
  type ScopeState,
} from '../../lib/state/scope-store';
import { createTableClient } from '../../lib/state/table-client';
import { describeEachEngine } from '../support/engines';

const T0 = Date.UTC(2026, 10, 27, 12, 0, 0);
const SCOPE_ID = 'cn-north-4/proj/0';

function task(i: number, status: Task['status'] = 'running'): Task {
  return {
    hostId: `h${i}`,
    hostName: `web-${i}`,
    backupName: 'nightly',
    status,
    rawStatus: status,
    process: 40,
    startedAt: new Date(T0 - i * 1000).toISOString(),
    startedMs: T0 - i * 1000,
  };
}

function entry(i: number, status: Task['status'] = 'running'): Entry {
  const t = task(i, status);
  return observe(undefined, t, entryKey('proj', `h${i}#nightly#${t.startedAt}`), {
    now: T0,
    alertStatuses: ['failed', 'timeout'],
    baseline: false,
  }).entry;
}

describeEachEngine('The scope store', (engine) => {
  async function stores() {
    const table = createTableClient({ client: engine.client(), tableName: await engine.freshTable('scope') });
    return {
      table,
      scopes: createScopeStore({ table, namespace: 'ns' }),
      life: createLifecycleStore({ table, namespace: 'ns' }),
    };
  }

  it('gives an empty state for a scope never polled, and reads back what was written', async () => {
    const { scopes } = await stores();
    const empty = (await scopes.readStates([SCOPE_ID])).get(SCOPE_ID)!;
    const state: ScopeState = {
      ...empty,
      watermark: T0,
      cursors: {
        failed: {
          offset: 400,
          cycleStart: T0 - 1000,
          lastDays: 1,
          pages: [1, 2],
          pageSize: 200,
          completedAt: 0,
          completedStart: 0,
          cycleMs: 0,
          readAt: T0,
        },
      },
      seen: { failed: ['00112233445566ff', 'aabbccddeeff0011'] },
      followUps: [{ key: 'ffeeddccbbaa9988', dueAt: T0, offset: 0 }],
    };

    await scopes.writeState(state, empty, T0);

    expect(empty).toEqual(emptyScopeState(SCOPE_ID));
    expect((await scopes.readStates([SCOPE_ID])).get(SCOPE_ID)).toEqual(state);
  });

  it('writes nothing when the state did not change', async () => {
    const { scopes, table } = await stores();
    const state = (await scopes.readStates([SCOPE_ID])).get(SCOPE_ID)!;
    const before = table.stats.requests;
    await scopes.writeState(state, structuredClone(state), T0);
    expect(table.stats.requests).toBe(before);
  });

  it('keeps 20,000 digest entries across its shards and reads them back in one Query', async () => {
    const { scopes, table } = await stores();
    const digest = await scopes.readDigest(SCOPE_ID);
    for (let i = 0; i < 20_000; i++) putEntry(digest, entry(i));
    await scopes.writeDigest(digest, T0);

    const before = table.stats.requests;
    const again = await scopes.readDigest(SCOPE_ID);

    expect(again.entries.size).toBe(20_000);
    expect(again.entries.get(entry(7).key)).toEqual(entry(7));
    expect(table.stats.requests - before).toBe(1);
    expect(again.versions.filter((v) => v > 0)).toHaveLength(DIGEST_SHARDS);
  });

  it('merges a shard another run wrote meanwhile: the newer entry of each key wins, a removal holds', async () => {
    const { scopes } = await stores();
    const first = await scopes.readDigest(SCOPE_ID);
    for (let i = 0; i < 50; i++) putEntry(first, entry(i));
    await scopes.writeDigest(first, T0);
    // Two runs read the same digest...
    const a = await scopes.readDigest(SCOPE_ID);
    const b = await scopes.readDigest(SCOPE_ID);
    // ...a changes entry 1 later than b, b drops entry 2 and adds 100; a writes first.
    putEntry(a, { ...entry(1), process: 77, changedSec: T0 / 1000 + 60 });
    putEntry(b, { ...entry(1), process: 50, changedSec: T0 / 1000 + 30 });
    dropEntry(b, entry(2).key, T0 / 1000 + 30);
    putEntry(b, entry(100));
    await scopes.writeDigest(a, T0);
    await scopes.writeDigest(b, T0);

    const merged = await scopes.readDigest(SCOPE_ID);
    expect(merged.entries.get(entry(1).key)?.process).toBe(77);
    expect(merged.entries.has(entry(2).key)).toBe(false);
    expect(merged.entries.has(entry(100).key)).toBe(true);
    expect(merged.entries.size).toBe(50);
  });

  it('stores task details by digest key in the project partition', async () => {
    const { scopes } = await stores();
    await scopes.putTasks(
      'proj',
      [30, 31].map((i) => ({ key: entry(i).key, task: task(i) })),
      T0,
    );
    const got = await scopes.getTasks('proj', [entry(30).key, entry(31).key, entry(99).key]);
    expect([...got.keys()].sort()).toEqual([entry(30).key, entry(31).key].sort());
    expect(got.get(entry(30).key)).toEqual(task(30));
  });
});

describeEachEngine('The lifecycle store', (engine) => {
  async function life() {
    const table = createTableClient({ client: engine.client(), tableName: await engine.freshTable('life') });
    return createLifecycleStore({ table, namespace: 'ns' });
  }
  function open(i: number, remindAt: number, silencedBy?: string): OpenAlert {
    const t = task(i, 'failed');
    const alert: AlertMessage = {
      kind: 'alert',
      id: `alert-${i}`,
      at: T0,
      scope: { id: SCOPE_ID, projectId: 'proj', enterpriseProjectId: '0', credential: 'default' },
      task: t,
      status: 'failed',
      reason: 'first-seen',
      episode: 1,
      taskRef: `ref-${i}`,
    };
    return {
      key: entry(i).key,
      scopeId: SCOPE_ID,
      alert,
      remindAt,
      reminders: 0,
      ...(silencedBy ? { silencedBy } : {}),
    };
  }

  it('finds open alerts by host and backup, and only due reminders from the index', async () => {
    const store = await life();
    await store.putOpen([open(1, T0 + 1000), open(2, T0 + 5000), open(3, 0), open(4, T0, 'silence-1')], T0);

    const forHost = await store.openFor(SCOPE_ID, 'h1', 'nightly');
    const due = await store.dueReminders(T0 + 2000);

    expect(forHost.map((o) => o.alert.id)).toEqual(['alert-1']);
    // The index is eventually consistent on the service; both engines answer at once.
    expect(due.map((o) => o.alert.id)).toEqual(['alert-1']);
    expect(await store.anyOpen(SCOPE_ID)).toBe(true);
    expect((await store.allOpen(SCOPE_ID)).length).toBe(4);
  });

  it('forgets a deleted open alert, and a scope without any says so', async () => {
    const store = await life();
    await store.putOpen([open(1, T0)], T0);
    await store.deleteOpen([open(1, T0)]);
    expect(await store.anyOpen(SCOPE_ID)).toBe(false);
    expect(await store.dueReminders(T0 + 1)).toEqual([]);
  });

  it('records what a silence swallowed once per alert', async () => {
    const store = await life();
    const silence: Silence = {
      id: 's1',
      hosts: ['web-*'],
      backups: [],
      statuses: [],
      startsAt: T0,
      endsAt: T0 + 3_600_000,
      reason: 'maintenance',
      createdAt: T0,
    };
    await store.putSilence(silence, T0);
    const first = await store.swallow('s1', open(1, 0).alert, T0);
    const again = await store.swallow('s1', open(1, 0).alert, T0);

    expect([first, again]).toEqual([true, false]);
    expect((await store.swallowed('s1')).map((a) => a.id)).toEqual(['alert-1']);
    expect(await store.listSilences()).toEqual([silence]);
  });

  it('adds day counts and keeps the 5 slowest tasks', async () => {
    const store = await life();
    for (let i = 0; i < 3; i++) {
      await store.addDay(
        SCOPE_ID,
        '2026-11-27',
        { failed: 1, succeeded: 2 },
        [0, 1, 2].map((j) => ({ task: task(i * 3 + j), durationMs: (i * 3 + j) * 1000 })),
        T0,
      );
    }
    const day = await store.readDay(SCOPE_ID, '2026-11-27');
    expect(day.counts).toEqual({ succeeded: 6, failed: 3, timedOut: 0, stuck: 0, resolved: 0 });
    expect(day.slowest.map((s) => s.durationMs)).toEqual([8000, 7000, 6000, 5000, 4000]);
  });
});
