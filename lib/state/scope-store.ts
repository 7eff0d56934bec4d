// The poll's state in DynamoDB (item shapes in layout.ts): one state item per scope, its digest in
// DIGEST_SHARDS items written with optimistic concurrency, the keys a list's cycle has seen while it
// spans polls (append-only chunks, one per poll), task details in the project's partition, and the
// deployment markers item.
import { GetItemCommand, PutItemCommand, QueryCommand } from '@aws-sdk/client-dynamodb';
import { decodeEntries, encodeEntries } from './entry';
import type { Task } from '../model';
import { PK, RETENTION, SK, ttlAfter } from './layout';
import {
  DIGEST_SHARDS,
  emptyDigest,
  emptyMarkers,
  emptyScopeState,
  mergeEntry,
  shardOf,
  type Digest,
  type Markers,
  type ScopeState,
  type ScopeStore,
} from './records';
import type { Item, TableClient } from './table-client';

export interface ScopeStoreOptions {
  table: TableClient;
  namespace: string;
}

/** Rows per seen-rows chunk: 16 bytes each (key and row hash), so a chunk stays below the 400 KB item limit. */
const SEEN_CHUNK_KEYS = 20_000;

/** 16-hex-digit values packed 8 bytes each. */
function hex16(bytes: Uint8Array | undefined): string[] {
  return (
    Buffer.from(bytes ?? new Uint8Array())
      .toString('hex')
      .match(/.{16}/g) ?? []
  );
}

export function createScopeStore({ table, namespace }: ScopeStoreOptions): ScopeStore {
  const pkOf = (scopeId: string) => PK.scope(namespace, scopeId);
  const put = (Item: Item) =>
    table.send('PutItem', 'write', (c) =>
      c.send(new PutItemCommand({ TableName: table.tableName, Item, ReturnConsumedCapacity: 'TOTAL' })),
    );

  async function query(pk: string, prefix: string): Promise<Item[]> {
    const items: Item[] = [];
    let startKey: Item | undefined;
    do {
      const out = await table.send('Query', 'read', (c) =>
        c.send(
          new QueryCommand({
            TableName: table.tableName,
            KeyConditionExpression: 'pk = :pk AND begins_with(sk, :p)',
            ExpressionAttributeValues: { ':pk': { S: pk }, ':p': { S: prefix } },
            ConsistentRead: true,
            ExclusiveStartKey: startKey,
            ReturnConsumedCapacity: 'TOTAL',
          }),
        ),
      );
      items.push(...(out.Items ?? []));
      startKey = out.LastEvaluatedKey;
    } while (startKey);
    return items;
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
                sk: { S: SK.digestShard(shard) },
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

  /** Reads a shard another run wrote and merges it into `digest` (the newer entry of a key wins). */
  async function mergeShard(digest: Digest, shard: number): Promise<void> {
    const out = await table.send('GetItem', 'read', (c) =>
      c.send(
        new GetItemCommand({
          TableName: table.tableName,
          Key: { pk: { S: pkOf(digest.scopeId) }, sk: { S: SK.digestShard(shard) } },
          ConsistentRead: true,
          ReturnConsumedCapacity: 'TOTAL',
        }),
      ),
    );
    digest.versions[shard] = Number(out.Item?.v?.N ?? 0);
    for (const theirs of decodeEntries(out.Item?.e?.B ?? new Uint8Array())) mergeEntry(digest, theirs);
  }

  return {
    async readStates(scopeIds) {
      const items = await table.batchGet(
        scopeIds.map((id) => ({ pk: { S: pkOf(id) }, sk: { S: SK.scopeState } })),
        true,
      );
      const byPk = new Map(items.map((item) => [item.pk?.S ?? '', item]));
      return new Map(
        scopeIds.map((id) => {
          const item = byPk.get(pkOf(id));
          const stored = item ? (JSON.parse(item.st?.S ?? '{}') as Partial<ScopeState>) : {};
          return [id, { ...emptyScopeState(id), ...stored, scopeId: id }];
        }),
      );
    },

    async writeState(state, previous, now) {
      if (previous && JSON.stringify(previous) === JSON.stringify(state)) return;
      await put({
        pk: { S: pkOf(state.scopeId) },
        sk: { S: SK.scopeState },
        st: { S: JSON.stringify(state) },
        ttl: { N: String(ttlAfter(now, RETENTION.scopeStateDays)) },
      });
    },

    async readDigest(scopeId) {
      const digest = emptyDigest(scopeId);
      for (const item of await query(pkOf(scopeId), SK.digestPrefix)) {
        const shard = Number((item.sk?.S ?? '').slice(SK.digestPrefix.length));
        if (!Number.isInteger(shard) || shard < 0 || shard >= DIGEST_SHARDS) continue;
        digest.versions[shard] = Number(item.v?.N ?? 0);
        for (const entry of decodeEntries(item.e?.B ?? new Uint8Array()))
          digest.entries.set(entry.key, entry);
      }
      return digest;
    },

    async writeDigest(digest, now) {
      for (const shard of [...digest.dirty].sort((a, b) => a - b)) {
        await writeShard(digest, shard, now);
        digest.dirty.delete(shard);
      }
    },

    async addSeen(scopeId, list, cycleStart, chunk, rows, now) {
      const all = [...rows];
      // Chunks of one poll are numbered after it, so a repeated write replaces itself.
      for (let i = 0; i < all.length; i += SEEN_CHUNK_KEYS) {
        const part = all.slice(i, i + SEEN_CHUNK_KEYS);
        await put({
          pk: { S: pkOf(scopeId) },
          sk: { S: `${SK.seenCycle(list, cycleStart)}${chunk}.${i / SEEN_CHUNK_KEYS}` },
          k: { B: Buffer.from(part.map(([key]) => key).join(''), 'hex') },
          h: { B: Buffer.from(part.map(([, hash]) => hash).join(''), 'hex') },
          ttl: { N: String(ttlAfter(now, RETENTION.digestDays)) },
        });
      }
    },

    async readSeen(scopeId, list, cycleStart) {
      const seen = new Map<string, string>();
      for (const item of await query(pkOf(scopeId), SK.seenCycle(list, cycleStart))) {
        const keys = hex16(item.k?.B);
        const hashes = hex16(item.h?.B);
        keys.forEach((key, i) => seen.set(key, hashes[i] ?? ''));
      }
      return seen;
    },

    async readSketch(scopeId, list) {
      const out = await table.send('GetItem', 'read', (c) =>
        c.send(
          new GetItemCommand({
            TableName: table.tableName,
            Key: { pk: { S: pkOf(scopeId) }, sk: { S: SK.sketch(list) } },
            ConsistentRead: true,
            ReturnConsumedCapacity: 'TOTAL',
          }),
        ),
      );
      if (!out.Item) return undefined;
      return { rows: new Set(hex16(out.Item.h?.B)), keys: Number(out.Item.n?.N ?? 0) };
    },

    async writeSketch(scopeId, list, sketch, now) {
      await put({
        pk: { S: pkOf(scopeId) },
        sk: { S: SK.sketch(list) },
        h: { B: Buffer.from([...sketch.rows].join(''), 'hex') },
        n: { N: String(sketch.keys) },
        ttl: { N: String(ttlAfter(now, RETENTION.digestDays)) },
      });
    },

    async putTasks(projectId, tasks, now) {
      const pk = PK.project(namespace, projectId);
      const ttl = String(ttlAfter(now, RETENTION.taskDays));
      // One item per key: a batch may not name an item twice.
      const byKey = new Map(tasks.map(({ key, task }) => [key, task]));
      await table.batchWrite(
        [...byKey].map(([key, task]) => ({
          PutRequest: {
            Item: { pk: { S: pk }, sk: { S: SK.task(key) }, t: { S: JSON.stringify(task) }, ttl: { N: ttl } },
          },
        })),
      );
    },

    async getTasks(projectId, wanted) {
      const pk = PK.project(namespace, projectId);
      const items = await table.batchGet(
        [...new Set(wanted)].map((key) => ({ pk: { S: pk }, sk: { S: SK.task(key) } })),
        false,
      );
      return new Map(
        items.map((item) => [
          (item.sk?.S ?? '').slice(SK.taskPrefix.length),
          JSON.parse(item.t?.S ?? '{}') as Task,
        ]),
      );
    },

    async readMarkers() {
      const out = await table.send('GetItem', 'read', (c) =>
        c.send(
          new GetItemCommand({
            TableName: table.tableName,
            Key: { pk: { S: PK.deployment(namespace) }, sk: { S: SK.markers } },
            ConsistentRead: true,
            ReturnConsumedCapacity: 'TOTAL',
          }),
        ),
      );
      const stored = out.Item?.m?.S ? (JSON.parse(out.Item.m.S) as Partial<Markers>) : {};
      return { ...emptyMarkers(), ...stored };
    },

    async writeMarkers(markers, previous, now) {
      if (JSON.stringify(markers) === JSON.stringify(previous)) return;
      await put({
        pk: { S: PK.deployment(namespace) },
        sk: { S: SK.markers },
        m: { S: JSON.stringify(markers) },
        ttl: { N: String(ttlAfter(now, RETENTION.scopeStateDays)) },
      });
    },
  };
}
