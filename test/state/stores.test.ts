// The contract of the poll's stores (lib/state/records.ts), on every implementation: Amazon's
// DynamoDB Local (the reference), dynalite (the demo's) and the in-memory stores of
// local/memory-stores.ts (the poll scenarios'), so a difference shows.
import { observe } from '../../lib/diff/decide';
import { entryKey, type Entry } from '../../lib/state/entry';
import type { OpenAlert, Silence } from '../../lib/state/records';
import type { AlertMessage, Task } from '../../lib/model';
import { createLifecycleStore } from '../../lib/state/lifecycle-store';
import {
  DIGEST_SHARDS,
  dropEntry,
  emptyMarkers,
  emptyScopeState,
  putEntry,
  SKETCH_MAX_ROWS,
  type LifecycleStore,
  type ScopeState,
  type ScopeStore,
} from '../../lib/state/records';
import { createScopeStore } from '../../lib/state/scope-store';
import { createTableClient } from '../../lib/state/table-client';
import { createMemoryStores } from '../../local/memory-stores';
import { ENGINE_NAMES, useEngine } from '../support/engines';

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

function open(i: number, remindAt: number, silencedBy?: string, id = `alert-${i}`): OpenAlert {
  const alert: AlertMessage = {
    kind: 'alert',
    id,
    at: T0,
    scope: { id: SCOPE_ID, projectId: 'proj', enterpriseProjectId: '0', credential: 'default' },
    task: task(i, 'failed'),
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

interface Stores {
  scopes: ScopeStore;
  life: LifecycleStore;
  /** Requests sent so far (DynamoDB requests, or calls of the in-memory stores). */
  requests(): number;
}

/** Runs `body` once per implementation, in a describe block named after it. */
function describeEachStore(title: string, body: (fresh: () => Promise<Stores>) => void): void {
  describe(`${title} in memory`, () => {
    body(async () => {
      const { store, lifecycle, stats } = createMemoryStores();
      return { scopes: store, life: lifecycle, requests: () => stats.requests };
    });
  });
  for (const name of ENGINE_NAMES) {
    describe(`${title} on ${name}`, () => {
      const engine = useEngine(name);
      body(async () => {
        const table = createTableClient({
          client: engine.client(),
          tableName: await engine.freshTable('stores'),
        });
        return {
          scopes: createScopeStore({ table, namespace: 'ns' }),
          life: createLifecycleStore({ table, namespace: 'ns' }),
          requests: () => table.stats.requests,
        };
      });
    });
  }
}

describeEachStore('The scope store', (fresh) => {
  it('gives an empty state for a scope never polled, and reads back what was written', async () => {
    const { scopes } = await fresh();
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
      followUps: [{ key: 'ffeeddccbbaa9988', dueAt: T0, offset: 0 }],
      duplicates: { '0011223344556677': { status: 'failed', hashes: [1, 2] } },
    };

    await scopes.writeState(state, empty, T0);

    expect(empty).toEqual(emptyScopeState(SCOPE_ID));
    expect((await scopes.readStates([SCOPE_ID])).get(SCOPE_ID)).toEqual(state);
  });

  it('writes nothing when the state or the markers did not change', async () => {
    const s = await fresh();
    const state = (await s.scopes.readStates([SCOPE_ID])).get(SCOPE_ID)!;
    const markers = await s.scopes.readMarkers();
    const before = s.requests();
    await s.scopes.writeState(state, structuredClone(state), T0);
    await s.scopes.writeMarkers(markers, structuredClone(markers), T0);
    expect(s.requests()).toBe(before);
  });

  it('keeps the deployment markers in an item of their own', async () => {
    const { scopes } = await fresh();
    expect(await scopes.readMarkers()).toEqual(emptyMarkers());
    const markers = { summaryDay: '2026-11-26', since: T0, starved: { default: { polls: 2, since: T0 } } };
    await scopes.writeMarkers(markers, emptyMarkers(), T0);
    expect(await scopes.readMarkers()).toEqual(markers);
    expect((await scopes.readStates([SCOPE_ID])).get(SCOPE_ID)).toEqual(emptyScopeState(SCOPE_ID));
  });

  it('keeps 20,000 digest entries across its shards and reads them back in one request', async () => {
    const s = await fresh();
    const digest = await s.scopes.readDigest(SCOPE_ID);
    for (let i = 0; i < 20_000; i++) putEntry(digest, entry(i));
    await s.scopes.writeDigest(digest, T0);

    const before = s.requests();
    const again = await s.scopes.readDigest(SCOPE_ID);

    expect(again.entries.size).toBe(20_000);
    expect(again.entries.get(entry(7).key)).toEqual(entry(7));
    expect(s.requests() - before).toBe(1);
    expect(again.versions.filter((v) => v > 0)).toHaveLength(DIGEST_SHARDS);
  });

  it('merges a shard another run wrote meanwhile: the newer entry of each key wins, a removal holds', async () => {
    const { scopes } = await fresh();
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

  it('keeps the rows a cycle saw poll after poll, apart from every other cycle, 70,000 of them', async () => {
    const { scopes } = await fresh();
    const rows = (from: number, to: number) =>
      new Map(
        Array.from({ length: to - from }, (_, i) => [
          entry(from + i).key,
          (from + i).toString(16).padStart(16, '0'),
        ]),
      );
    await scopes.addSeen(SCOPE_ID, 'failed', T0, 'poll-1', rows(0, 65_000), T0);
    await scopes.addSeen(SCOPE_ID, 'failed', T0, 'poll-2', rows(65_000, 70_000), T0);
    // The same poll's chunk written twice (a repeat after a crash), and another cycle and list.
    await scopes.addSeen(SCOPE_ID, 'failed', T0, 'poll-2', rows(65_000, 70_000), T0);
    await scopes.addSeen(SCOPE_ID, 'failed', T0 - 60_000, 'poll-0', rows(99_999, 100_000), T0);
    await scopes.addSeen(SCOPE_ID, 'running', T0, 'poll-1', rows(99_998, 99_999), T0);

    const seen = await scopes.readSeen(SCOPE_ID, 'failed', T0);

    expect(seen.size).toBe(70_000);
    expect(seen.get(entry(69_999).key)).toBe((69_999).toString(16).padStart(16, '0'));
    expect(seen.has(entry(99_999).key)).toBe(false);
    expect(seen.has(entry(99_998).key)).toBe(false);
    expect(await scopes.readSeen(SCOPE_ID, 'failed', T0 + 1)).toEqual(new Map());
  });

  it('keeps one sketch per list, 40,000 rows at most, the last written winning', async () => {
    const { scopes } = await fresh();
    const hashes = (n: number, salt: string) =>
      new Set(Array.from({ length: n }, (_, i) => `${salt}${i.toString(16)}`.padStart(16, '0')));
    expect(await scopes.readSketch(SCOPE_ID, 'failed')).toBeUndefined();
    await scopes.writeSketch(SCOPE_ID, 'failed', { rows: hashes(10, 'a'), keys: 10 }, T0);
    await scopes.writeSketch(
      SCOPE_ID,
      'failed',
      { rows: hashes(SKETCH_MAX_ROWS, 'b'), keys: SKETCH_MAX_ROWS },
      T0,
    );
    await scopes.writeSketch(SCOPE_ID, 'timeout', { rows: hashes(3, 'c'), keys: 2 }, T0);

    expect(await scopes.readSketch(SCOPE_ID, 'failed')).toEqual({
      rows: hashes(SKETCH_MAX_ROWS, 'b'),
      keys: SKETCH_MAX_ROWS,
    });
    expect(await scopes.readSketch(SCOPE_ID, 'timeout')).toEqual({ rows: hashes(3, 'c'), keys: 2 });
  });

  it('stores task details by digest key in the project partition, the last of a key given twice winning', async () => {
    const { scopes } = await fresh();
    await scopes.putTasks(
      'proj',
      [
        { key: entry(30).key, task: task(30) },
        { key: entry(31).key, task: task(31) },
        { key: entry(30).key, task: task(30, 'failed') },
      ],
      T0,
    );
    const got = await scopes.getTasks('proj', [entry(30).key, entry(31).key, entry(99).key, entry(31).key]);
    expect([...got.keys()].sort()).toEqual([entry(30).key, entry(31).key].sort());
    expect(got.get(entry(30).key)).toEqual(task(30, 'failed'));
  });
});

describeEachStore('The lifecycle store', (fresh) => {
  it('finds open alerts by host and backup, and only due reminders from the index', async () => {
    const { life } = await fresh();
    await life.putOpen([open(1, T0 + 1000), open(2, T0 + 5000), open(3, 0), open(4, T0, 'silence-1')], T0);

    const forHost = await life.openFor(SCOPE_ID, 'h1', 'nightly');
    const due = await life.dueReminders(T0 + 2000);

    expect(forHost.map((o) => o.alert.id)).toEqual(['alert-1']);
    // The index is eventually consistent on the service; every implementation here answers at once.
    expect(due.map((o) => o.alert.id)).toEqual(['alert-1']);
    expect(await life.anyOpen(SCOPE_ID)).toBe(true);
    expect((await life.allOpen(SCOPE_ID)).length).toBe(4);
  });

  it('opens a raised alert once: a repeat keeps its reminders, a new alert of the task replaces it', async () => {
    const { life } = await fresh();
    await life.openRaised([open(1, T0 + 1000)], T0);
    await life.putOpen([{ ...open(1, T0 + 1000), reminders: 2, remindAt: T0 + 9000 }], T0);

    await life.openRaised([open(1, T0 + 1000)], T0);
    const repeated = await life.openFor(SCOPE_ID, 'h1', 'nightly');
    await life.openRaised([open(1, T0 + 1000, undefined, 'alert-1-episode-2')], T0);
    const replaced = await life.openFor(SCOPE_ID, 'h1', 'nightly');

    expect(repeated.map((o) => [o.alert.id, o.reminders])).toEqual([['alert-1', 2]]);
    expect(replaced.map((o) => [o.alert.id, o.reminders])).toEqual([['alert-1-episode-2', 0]]);
  });

  it('goes round a scope’s open alerts a few at a time, in one order, from just after a place', async () => {
    const { life } = await fresh();
    await life.putOpen(
      [1, 2, 3, 4, 5].map((i) => open(i, 0)),
      T0,
    );
    const other = { ...open(6, 0), scopeId: 'cn-north-4/other/0' };
    await life.putOpen([other], T0);

    const first = await life.openAfter(SCOPE_ID, undefined, 2);
    const second = await life.openAfter(SCOPE_ID, first[1]!.place, 2);
    const third = await life.openAfter(SCOPE_ID, second[1]!.place, 2);
    const end = await life.openAfter(SCOPE_ID, third[0]!.place, 2);
    // A place whose alert is gone still says where to go on from.
    await life.deleteOpen([second[0]!.open]);
    const afterGone = await life.openAfter(SCOPE_ID, second[0]!.place, 1);

    const all = [...first, ...second, ...third];
    expect(all.map((p) => p.open.alert.id).sort()).toEqual([
      'alert-1',
      'alert-2',
      'alert-3',
      'alert-4',
      'alert-5',
    ]);
    expect(all.map((p) => p.place)).toEqual([...all.map((p) => p.place)].sort());
    expect(third).toHaveLength(1);
    expect(end).toEqual([]);
    expect(afterGone).toEqual([second[1]]);
    expect(await life.openAfter('cn-north-4/other/0', undefined, 5)).toEqual([
      { place: expect.any(String), open: other },
    ]);
  });

  it('forgets a deleted open alert, and a scope without any says so', async () => {
    const { life } = await fresh();
    await life.putOpen([open(1, T0)], T0);
    await life.deleteOpen([open(1, T0)]);
    expect(await life.anyOpen(SCOPE_ID)).toBe(false);
    expect(await life.dueReminders(T0 + 1)).toEqual([]);
  });

  it('records what a silence swallowed once per alert', async () => {
    const { life } = await fresh();
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
    await life.putSilence(silence, T0);
    const first = await life.swallow('s1', open(1, 0).alert, T0);
    const again = await life.swallow('s1', open(1, 0).alert, T0);

    expect([first, again]).toEqual([true, false]);
    expect((await life.swallowed('s1')).map((a) => a.id)).toEqual(['alert-1']);
    expect(await life.listSilences()).toEqual([silence]);
  });

  it('counts each alert of a day once however often it is added, and keeps the 5 slowest tasks once each', async () => {
    const { life } = await fresh();
    for (let i = 0; i < 3; i++) {
      await life.addDay(
        SCOPE_ID,
        '2026-11-27',
        { failed: [`a${i}`, 'a0'], timedOut: [], stuck: [], resolved: i === 2 ? ['a0'] : [], succeeded: 2 },
        [0, 1, 2, 3].map((j) => ({ task: task(i + j), durationMs: (i + j) * 1000 })),
        T0,
      );
    }
    const day = await life.readDay(SCOPE_ID, '2026-11-27');
    expect(day.counts).toEqual({ succeeded: 6, failed: 3, timedOut: 0, stuck: 0, resolved: 1 });
    expect(day.slowest.map((s) => s.durationMs)).toEqual([5000, 4000, 3000, 2000, 1000]);
  });
});
