// A scope's state in the table: one state item (list cursors, the watermark, health, gap), its
// digest (every task its lists showed, 40 bytes each, in DIGEST_SHARDS items), and task detail
// items (the full task, for follow-ups and resolution). Items (pk = keys.scope(ns, scope id)):
//   sk `C#state`   state JSON `st`, plus `s_<list>` binary seen-sets of cycles spanning polls
//   sk `D#<n>`     digest shard n: `e` binary entries, `v` version (optimistic concurrency)
// Task details live in the project's partition (pk = keys.project(ns, project), sk `T#<entry key>`).
import { GetItemCommand, PutItemCommand, QueryCommand } from '@aws-sdk/client-dynamodb';
import { decodeEntries, encodeEntries, type Entry } from '../diff/entry';
import type { KnownStatus, Task } from '../model';
import { RETENTION, ttlAfter } from '../retention';
import { keys, type Item, type TableClient } from './table-client';

/** Digest items per scope: a scope of 50,000 tasks keeps each under 130 KB (the item limit is 400 KB). */
export const DIGEST_SHARDS = 16;
const STATE_SK = 'C#state';
const DIGEST_PREFIX = 'D#';
const TASK_PREFIX = 'T#';

/** Where a list's scan stands. */
export interface ListCursor {
  /** Next record offset of the current cycle; 0 = the next read starts a new cycle. */
  offset: number;
  /** When the current cycle read its first page, epoch ms; 0 = none in progress. */
  cycleStart: number;
  /** Window (days) of the current cycle. */
  lastDays: number;
  /** 32-bit hash of each page as last processed, by page number: an equal page is skipped. */
  pages: number[];
  /** Page size the offsets and `pages` are counted in. */
  pageSize: number;
  /** When the last complete cycle ended (epoch ms), and when it had started. */
  completedAt: number;
  completedStart: number;
  /** How long the last complete cycle took, ms. */
  cycleMs: number;
  /** When a page of this list was last read, epoch ms (rotation). */
  readAt: number;
  /** A page of the cycle in progress differed from the last pass (so its absentees must be judged). */
  cycleChanged?: boolean;
}

/** Consecutive failed polls of a scope. */
export interface ScopeHealth {
  failures: number;
  /** First failure of the streak, epoch ms. */
  since: number;
  lastError: string;
  /** Latest failure, epoch ms: the scope has recovered once its lists were read whole after it. */
  lastAt: number;
  /** Id of the "monitoring is NOT working" notice once enqueued. */
  downNoticeId?: string;
}

/** Everything a poll keeps of one scope between runs, but the digest. */
export interface ScopeState {
  scopeId: string;
  cursors: Partial<Record<KnownStatus, ListCursor>>;
  /** Digest keys seen in a cycle that spans polls, per list. */
  seen: Partial<Record<KnownStatus, string[]>>;
  /** Start of the last cycle pair that read every alert list whole (epoch ms); 0 = never. */
  watermark: number;
  health?: ScopeHealth;
  /** Blind since (the watermark when a gap was found), while the gap is being read; 0 = none. */
  gapSince: number;
  /** When the gap was found (the widened cycles start after it); 0 = none. */
  gapFoundAt: number;
  /** The watermark a "possible loss" (gap > 30 days) was announced for. */
  lossNoticeFor: number;
  /** When this scope last raised an alert, epoch ms (scopes with recent failures are read first). */
  lastAlertAt: number;
  /** Tasks that left their in-flight list near the window edge: follow-ups due (least recently tried first). */
  followUps: FollowUpRef[];
  /** Earliest time an in-flight task can count as stuck (epoch ms); 0 = none can. */
  stuckDueAt: number;
  /** Day (`YYYY-MM-DD`) of the last daily summary sent (kept on the first scope only). */
  summaryDay?: string;
  /** When this scope was first polled, epoch ms (0 = never). */
  firstPollAt: number;
  /** Earliest time an in-flight task was marked gone and is not judged yet, epoch ms (0 = none). */
  goneAt: number;
  /** Some in-flight task was missed by one cycle and waits for the next to confirm it (0 = none). */
  goneMarked: number;
}

/** A follow-up to run: the task's digest key, when it is due, and where its last try stopped reading. */
export interface FollowUpRef {
  key: string;
  dueAt: number;
  /** Record offset the next try starts at (a host name matching many tasks spans tries). */
  offset: number;
}

/** A scope's digest as read, with what changed since. */
export interface Digest {
  scopeId: string;
  entries: Map<string, Entry>;
  /** Version of each shard as read (0 = absent). */
  versions: number[];
  dirty: Set<number>;
  /** Keys removed this run, with when (epoch s): a concurrent writer's newer entry survives the merge. */
  removed: Map<string, number>;
}

export function emptyScopeState(scopeId: string): ScopeState {
  return {
    scopeId,
    cursors: {},
    seen: {},
    watermark: 0,
    gapSince: 0,
    gapFoundAt: 0,
    lossNoticeFor: 0,
    lastAlertAt: 0,
    followUps: [],
    stuckDueAt: 0,
    firstPollAt: 0,
    goneAt: 0,
    goneMarked: 0,
  };
}

export function shardOf(key: string): number {
  return parseInt(key.slice(0, 2), 16) % DIGEST_SHARDS;
}

/** Sets (or replaces) an entry, marking its shard for writing. */
export function putEntry(digest: Digest, entry: Entry): void {
  digest.entries.set(entry.key, entry);
  digest.removed.delete(entry.key);
  digest.dirty.add(shardOf(entry.key));
}

/** Forgets an entry at `nowSec`. */
export function dropEntry(digest: Digest, key: string, nowSec: number): void {
  if (!digest.entries.delete(key)) return;
  digest.removed.set(key, nowSec);
  digest.dirty.add(shardOf(key));
}

export interface ScopeStore {
  /** Reads the state items of `scopeIds` (strongly consistent); absent ones come back empty. */
  readStates(scopeIds: readonly string[]): Promise<Map<string, ScopeState>>;
  /** Writes a state item (whole); a no-op when it equals `previous`. */
  writeState(state: ScopeState, previous: ScopeState | undefined, now: number): Promise<void>;
  /** Reads a scope's digest (one consistent Query). */
  readDigest(scopeId: string): Promise<Digest>;
  /**
   * Writes the dirty shards, each conditional on the version read; a shard another run wrote
   * meanwhile is read again and merged (the newer entry of a key wins), then written again.
   */
  writeDigest(digest: Digest, now: number): Promise<void>;
  /** Writes task details (BatchWriteItem), keyed by digest key. */
  putTasks(projectId: string, tasks: ReadonlyArray<{ key: string; task: Task }>, now: number): Promise<void>;
  /** Reads task details by digest key; missing keys are absent. */
  getTasks(projectId: string, keys: readonly string[]): Promise<Map<string, Task>>;
}

export interface ScopeStoreOptions {
  table: TableClient;
  namespace: string;
}

export function createScopeStore({ table, namespace }: ScopeStoreOptions): ScopeStore {
  const pkOf = (scopeId: string) => keys.scope(namespace, scopeId);

  async function readStates(scopeIds: readonly string[]): Promise<Map<string, ScopeState>> {
    const items = await table.batchGet(
      scopeIds.map((id) => ({ pk: { S: pkOf(id) }, sk: { S: STATE_SK } })),
      true,
    );
    const byPk = new Map(items.map((item) => [item.pk?.S ?? '', item]));
    return new Map(
      scopeIds.map((id) => {
        const item = byPk.get(pkOf(id));
        return [id, item ? fromStateItem(id, item) : emptyScopeState(id)];
      }),
    );
  }

  async function writeState(state: ScopeState, previous: ScopeState | undefined, now: number): Promise<void> {
    if (previous && JSON.stringify(previous) === JSON.stringify(state)) return;
    const { seen, ...rest } = state;
    const item: Item = {
      pk: { S: pkOf(state.scopeId) },
      sk: { S: STATE_SK },
      st: { S: JSON.stringify(rest) },
      ttl: { N: String(ttlAfter(now, RETENTION.scopeStateDays)) },
    };
    for (const [list, keysSeen] of Object.entries(seen)) {
      if (keysSeen && keysSeen.length > 0) item[`s_${list}`] = { B: Buffer.from(keysSeen.join(''), 'hex') };
    }
    await table.send('PutItem', 'write', (c) =>
      c.send(new PutItemCommand({ TableName: table.tableName, Item: item, ReturnConsumedCapacity: 'TOTAL' })),
    );
  }

  async function readDigest(scopeId: string): Promise<Digest> {
    const digest: Digest = {
      scopeId,
      entries: new Map(),
      versions: new Array<number>(DIGEST_SHARDS).fill(0),
      dirty: new Set(),
      removed: new Map(),
    };
    let startKey: Item | undefined;
    do {
      const out = await table.send('Query', 'read', (c) =>
        c.send(
          new QueryCommand({
            TableName: table.tableName,
            KeyConditionExpression: 'pk = :pk AND begins_with(sk, :d)',
            ExpressionAttributeValues: { ':pk': { S: pkOf(scopeId) }, ':d': { S: DIGEST_PREFIX } },
            ConsistentRead: true,
            ExclusiveStartKey: startKey,
            ReturnConsumedCapacity: 'TOTAL',
          }),
        ),
      );
      for (const item of out.Items ?? []) {
        const shard = Number((item.sk?.S ?? '').slice(DIGEST_PREFIX.length));
        if (!Number.isInteger(shard) || shard < 0 || shard >= DIGEST_SHARDS) continue;
        digest.versions[shard] = Number(item.v?.N ?? 0);
        for (const entry of decodeEntries(item.e?.B ?? new Uint8Array()))
          digest.entries.set(entry.key, entry);
      }
      startKey = out.LastEvaluatedKey;
    } while (startKey);
    return digest;
  }

  async function writeShard(digest: Digest, shard: number, now: number): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const entries = [...digest.entries.values()].filter((e) => shardOf(e.key) === shard);
      const version = digest.versions[shard] ?? 0;
      const written = await table.conditionally(() =>
        table.send('PutItem', 'write', (c) =>
          c.send(
            new PutItemCommand({
              TableName: table.tableName,
              Item: {
                pk: { S: pkOf(digest.scopeId) },
                sk: { S: `${DIGEST_PREFIX}${shard}` },
                e: { B: encodeEntries(entries) },
                v: { N: String(version + 1) },
                ttl: { N: String(ttlAfter(now, RETENTION.digestDays)) },
              },
              ConditionExpression: version === 0 ? 'attribute_not_exists(v)' : 'v = :v',
              ...(version === 0 ? {} : { ExpressionAttributeValues: { ':v': { N: String(version) } } }),
              ReturnConsumedCapacity: 'TOTAL',
            }),
          ),
        ),
      );
      if (written) {
        digest.versions[shard] = version + 1;
        return;
      }
      if (attempt >= 4) {
        throw new Error(`digest shard ${shard} of scope ${digest.scopeId} kept changing under 5 writes`);
      }
      await mergeShard(digest, shard);
    }
  }

  /** Reads a shard another run wrote and merges it into `digest`: per key, the newer entry wins. */
  async function mergeShard(digest: Digest, shard: number): Promise<void> {
    const out = await table.send('GetItem', 'read', (c) =>
      c.send(
        new GetItemCommand({
          TableName: table.tableName,
          Key: { pk: { S: pkOf(digest.scopeId) }, sk: { S: `${DIGEST_PREFIX}${shard}` } },
          ConsistentRead: true,
          ReturnConsumedCapacity: 'TOTAL',
        }),
      ),
    );
    digest.versions[shard] = Number(out.Item?.v?.N ?? 0);
    for (const theirs of decodeEntries(out.Item?.e?.B ?? new Uint8Array())) {
      const ours = digest.entries.get(theirs.key);
      const removedAt = digest.removed.get(theirs.key);
      if (
        ours ? theirs.changedSec > ours.changedSec : removedAt === undefined || theirs.changedSec > removedAt
      ) {
        digest.entries.set(theirs.key, theirs);
      }
    }
  }

  async function writeDigest(digest: Digest, now: number): Promise<void> {
    for (const shard of [...digest.dirty].sort((a, b) => a - b)) {
      await writeShard(digest, shard, now);
      digest.dirty.delete(shard);
    }
  }

  async function putTasks(
    projectId: string,
    tasks: ReadonlyArray<{ key: string; task: Task }>,
    now: number,
  ): Promise<void> {
    const pk = keys.project(namespace, projectId);
    const ttl = String(ttlAfter(now, RETENTION.taskDays));
    await table.batchWrite(
      tasks.map(({ key, task }) => ({
        PutRequest: {
          Item: {
            pk: { S: pk },
            sk: { S: TASK_PREFIX + key },
            t: { S: JSON.stringify(task) },
            ttl: { N: ttl },
          },
        },
      })),
    );
  }

  async function getTasks(projectId: string, wanted: readonly string[]): Promise<Map<string, Task>> {
    const pk = keys.project(namespace, projectId);
    const items = await table.batchGet(
      wanted.map((key) => ({ pk: { S: pk }, sk: { S: TASK_PREFIX + key } })),
      false,
    );
    return new Map(
      items.map((item) => [
        (item.sk?.S ?? '').slice(TASK_PREFIX.length),
        JSON.parse(item.t?.S ?? '{}') as Task,
      ]),
    );
  }

  return { readStates, writeState, readDigest, writeDigest, putTasks, getTasks };
}

function fromStateItem(scopeId: string, item: Item): ScopeState {
  const rest = JSON.parse(item.st?.S ?? '{}') as Omit<ScopeState, 'seen'>;
  const seen: ScopeState['seen'] = {};
  for (const [name, value] of Object.entries(item)) {
    if (!name.startsWith('s_') || !value.B) continue;
    const hex = Buffer.from(value.B).toString('hex');
    seen[name.slice(2) as KnownStatus] = hex.match(/.{16}/g) ?? [];
  }
  return { ...emptyScopeState(scopeId), ...rest, scopeId, seen };
}
