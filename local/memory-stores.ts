// The poll's stores held in this process, a stand-in like the emulator and the sinks: the same
// interfaces and contract as the DynamoDB stores (test/state/stores.test.ts runs one suite on all
// three), so long poll scenarios run in seconds without a database. Values are kept as copies.
import type { Entry } from '../lib/state/entry';
import type { OpenAlert, Silence } from '../lib/state/records';
import type { AlertMessage, Task } from '../lib/model';
import { hostBackupHash } from '../lib/state/lifecycle-store';
import {
  emptyDigest,
  emptyMarkers,
  emptyScopeState,
  mergeEntry,
  mergeSlowest,
  shardOf,
  type LifecycleStore,
  type ListSketch,
  type Markers,
  type ScopeState,
  type ScopeStore,
  type SlowTask,
} from '../lib/state/records';

const copy = <T>(value: T): T => structuredClone(value);
/** An entry is flat but for one array: copied much faster than by structuredClone. */
const copyEntry = (e: Entry): Entry => ({ ...e, alerted: [...e.alerted] });

/** Calls made to an in-memory store, counted as DynamoDB requests are (a write is one unit). */
export interface MemoryStats {
  requests: number;
  readCapacity: number;
  writeCapacity: number;
}

/** Calls the DynamoDB stores answer without a request: a state equal to the one read, a digest with nothing dirty. */
function sendsNothing(name: string, args: unknown[]): boolean {
  if (name === 'writeState' || name === 'writeMarkers')
    return JSON.stringify(args[0]) === JSON.stringify(args[1]);
  if (name === 'writeDigest') return (args[0] as { dirty: Set<number> }).dirty.size === 0;
  return false;
}

/** Wraps every method of `store` so that each call counts as one request (read or write). */
export function counted<T extends object>(store: T, stats: MemoryStats, writes: ReadonlySet<string>): T {
  const out = {} as Record<string, unknown>;
  for (const [name, fn] of Object.entries(store)) {
    out[name] = (...args: unknown[]) => {
      if (sendsNothing(name, args)) return (fn as (...a: unknown[]) => unknown)(...args);
      stats.requests += 1;
      if (writes.has(name)) stats.writeCapacity += 1;
      else stats.readCapacity += 1;
      return (fn as (...a: unknown[]) => unknown)(...args);
    };
  }
  return out as T;
}

/** The poll's two stores in memory, with their calls counted. */
export function createMemoryStores(): { store: ScopeStore; lifecycle: LifecycleStore; stats: MemoryStats } {
  const stats: MemoryStats = { requests: 0, readCapacity: 0, writeCapacity: 0 };
  return {
    stats,
    store: counted(
      createMemoryScopeStore(),
      stats,
      new Set(['writeState', 'writeDigest', 'addSeen', 'writeSketch', 'putTasks', 'writeMarkers']),
    ),
    lifecycle: counted(
      createMemoryLifecycleStore(),
      stats,
      new Set(['putOpen', 'openRaised', 'deleteOpen', 'putSilence', 'swallow', 'addDay']),
    ),
  };
}

/** An in-memory ScopeStore. */
function createMemoryScopeStore(): ScopeStore {
  const states = new Map<string, ScopeState>();
  /** Per scope, per shard: version and entries. */
  const shards = new Map<string, Map<number, { version: number; entries: Entry[] }>>();
  const seen = new Map<string, Map<string, Array<[string, string]>>>();
  const sketches = new Map<string, ListSketch>();
  const tasks = new Map<string, Task>();
  let markers = emptyMarkers();

  const shardsOf = (scopeId: string) => {
    let s = shards.get(scopeId);
    if (!s) shards.set(scopeId, (s = new Map()));
    return s;
  };

  return {
    async readStates(scopeIds) {
      return new Map(
        scopeIds.map((id) => [id, copy(states.get(id) ?? emptyScopeState(id))] as [string, ScopeState]),
      );
    },
    async writeState(state, previous) {
      if (previous && JSON.stringify(previous) === JSON.stringify(state)) return;
      states.set(state.scopeId, copy(state));
    },
    async readDigest(scopeId) {
      const digest = emptyDigest(scopeId);
      for (const [shard, { version, entries }] of shardsOf(scopeId)) {
        digest.versions[shard] = version;
        for (const entry of entries) digest.entries.set(entry.key, copyEntry(entry));
      }
      return digest;
    },
    async writeDigest(digest) {
      const stored = shardsOf(digest.scopeId);
      for (const shard of [...digest.dirty].sort((a, b) => a - b)) {
        const current = stored.get(shard);
        // Another writer got there first: merge theirs as the DynamoDB store does, then write.
        if ((current?.version ?? 0) !== (digest.versions[shard] ?? 0)) {
          digest.versions[shard] = current?.version ?? 0;
          for (const theirs of current?.entries ?? []) mergeEntry(digest, copyEntry(theirs));
        }
        const entries = [...digest.entries.values()].filter((e) => shardOf(e.key) === shard);
        const version = (digest.versions[shard] ?? 0) + 1;
        stored.set(shard, { version, entries: entries.map(copyEntry) });
        digest.versions[shard] = version;
        digest.dirty.delete(shard);
      }
    },
    async addSeen(scopeId, list, cycleStart, chunk, rows) {
      const id = `${scopeId}\n${list}\n${cycleStart}`;
      if (!seen.has(id)) seen.set(id, new Map());
      seen.get(id)!.set(chunk, [...rows]);
    },
    async readSeen(scopeId, list, cycleStart) {
      return new Map([...(seen.get(`${scopeId}\n${list}\n${cycleStart}`)?.values() ?? [])].flat());
    },
    async readSketch(scopeId, list) {
      const sketch = sketches.get(`${scopeId}\n${list}`);
      return sketch ? { rows: new Set(sketch.rows), keys: sketch.keys } : undefined;
    },
    async writeSketch(scopeId, list, sketch) {
      sketches.set(`${scopeId}\n${list}`, { rows: new Set(sketch.rows), keys: sketch.keys });
    },
    async putTasks(projectId, list) {
      for (const { key, task } of list) tasks.set(`${projectId}\n${key}`, copy(task));
    },
    async getTasks(projectId, keys) {
      const found = new Map<string, Task>();
      for (const key of keys) {
        const task = tasks.get(`${projectId}\n${key}`);
        if (task) found.set(key, copy(task));
      }
      return found;
    },
    async readMarkers() {
      return copy(markers);
    },
    async writeMarkers(next: Markers) {
      markers = copy(next);
    },
  };
}

interface DayState {
  ids: Record<'failed' | 'timedOut' | 'stuck' | 'resolved', Set<string>>;
  succeeded: number;
  slowest: SlowTask[];
}

function emptyDay(): DayState {
  return {
    ids: { failed: new Set(), timedOut: new Set(), stuck: new Set(), resolved: new Set() },
    succeeded: 0,
    slowest: [],
  };
}

/** An in-memory LifecycleStore. */
function createMemoryLifecycleStore(): LifecycleStore {
  /** Open alerts by `scope\nplace` (the place: `host+backup hash#key`). */
  const open = new Map<string, OpenAlert>();
  const silences = new Map<string, Silence>();
  const swallowed = new Map<string, Map<string, AlertMessage>>();
  const days = new Map<string, DayState>();

  /** Where an open alert sits in its scope, as the DynamoDB store's sort key says it (less `A#`). */
  const placeOf = (o: OpenAlert) =>
    `${hostBackupHash(o.alert.task.hostId, o.alert.task.backupName)}#${o.key}`;
  const idOf = (o: OpenAlert) => `${o.scopeId}\n${placeOf(o)}`;
  const ofScope = (scopeId: string) => [...open.values()].filter((o) => o.scopeId === scopeId);

  return {
    async putOpen(list) {
      for (const o of list) open.set(idOf(o), copy(o));
    },
    async openRaised(list) {
      for (const o of list) if (open.get(idOf(o))?.alert.id !== o.alert.id) open.set(idOf(o), copy(o));
    },
    async anyOpen(scopeId) {
      return ofScope(scopeId).length > 0;
    },
    async openFor(scopeId, hostId, backupName) {
      const prefix = `${scopeId}\n${hostBackupHash(hostId, backupName)}#`;
      return [...open].filter(([id]) => id.startsWith(prefix)).map(([, o]) => copy(o));
    },
    async allOpen(scopeId) {
      return copy(ofScope(scopeId));
    },
    async openAfter(scopeId, after, limit) {
      return ofScope(scopeId)
        .map((o) => ({ place: placeOf(o), open: copy(o) }))
        .filter(({ place }) => after === undefined || place > after)
        .sort((a, b) => (a.place < b.place ? -1 : 1))
        .slice(0, limit);
    },
    async deleteOpen(list) {
      for (const o of list) open.delete(idOf(o));
    },
    async dueReminders(now) {
      return copy([...open.values()].filter((o) => o.remindAt > 0 && !o.silencedBy && o.remindAt <= now));
    },
    async listSilences() {
      return copy([...silences.values()]);
    },
    async putSilence(silence) {
      silences.set(silence.id, copy(silence));
    },
    async swallow(silenceId, alert) {
      if (!swallowed.has(silenceId)) swallowed.set(silenceId, new Map());
      const held = swallowed.get(silenceId)!;
      if (held.has(alert.id)) return false;
      held.set(alert.id, copy(alert));
      return true;
    },
    async swallowed(silenceId) {
      return copy([...(swallowed.get(silenceId)?.values() ?? [])]);
    },
    async addDay(scopeId, day, add, slow) {
      const id = `${scopeId}\n${day}`;
      const current = days.get(id) ?? emptyDay();
      for (const name of ['failed', 'timedOut', 'stuck', 'resolved'] as const)
        for (const alertId of add[name]) current.ids[name].add(alertId);
      current.succeeded += add.succeeded;
      current.slowest = mergeSlowest(current.slowest, copy(slow));
      days.set(id, current);
    },
    async readDay(scopeId, day) {
      const d = days.get(`${scopeId}\n${day}`) ?? emptyDay();
      return {
        counts: {
          succeeded: d.succeeded,
          failed: d.ids.failed.size,
          timedOut: d.ids.timedOut.size,
          stuck: d.ids.stuck.size,
          resolved: d.ids.resolved.size,
        },
        slowest: copy(d.slowest),
      };
    },
  };
}
