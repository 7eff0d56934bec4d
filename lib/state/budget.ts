// The call budget shared through DynamoDB: one item per HSS user key (not per stack, scope or
// container), a sliding window of reserved call slots written with optimistic, conditional puts
// (no transactions). Slots are reserved a few at a time, so a steady poll costs about one DynamoDB
// request per HSS call or less; a reserved slot that goes unused is wasted budget, which is safe.
import { createHash, randomUUID } from 'node:crypto';
import {
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
  type AttributeValue,
} from '@aws-sdk/client-dynamodb';
import type { HssAuth } from '../config/types';
import type { CallBudget } from '../hss/pages';
import { earliestStart, RATE_WINDOW_MS } from '../hss/sliding-window';
import type { Clock, Sleep } from '../log';
import { RETENTION, ttlAfter } from '../retention';
import { StateError } from './errors';
import { KEY } from './table';
import { keys, type Item, type TableClient } from './table-client';

export interface TableBudgetOptions {
  table: TableClient;
  /** Credentials by name: the budget key is derived from the AK (hashed) or, for a token, the name. */
  credentials: Record<string, HssAuth>;
  /** Call starts allowed per window per HSS user (HSS: 5 a minute); Infinity = no limit. */
  ratePerMinute: number;
  clock: Clock;
  sleep: Sleep;
  /** HSS's window, ms (default 60000). */
  windowMs?: number;
  /** Added to the window for clock skew between containers and network jitter, ms (default 1000). */
  marginMs?: number;
  /** How long after its earliest start a reserved slot may still be used, ms (default 10000). */
  slackMs?: number;
  /** Slots reserved per DynamoDB write when they are free together (default 2). */
  batchSize?: number;
  /** Conditional writes tried per reservation before giving up with a StateError (default 8). */
  maxWriteAttempts?: number;
  /** Names this instance's slots in the shared item (default a random UUID). */
  ownerId?: string;
}

export const BUDGET_DEFAULTS = {
  marginMs: 1_000,
  slackMs: 10_000,
  batchSize: 2,
  maxWriteAttempts: 8,
} as const;

/** Sort key of the budget item (its partition is `keys.budget(hash)`). */
export const BUDGET_SK = 'B';

/**
 * What identifies an HSS user's rate limit without revealing it: SHA-256 of the AK (never the AK
 * itself) for AK/SK, `token:<credential name>` for an IAM token (a token does not name its user).
 */
export function budgetHash(name: string, auth: HssAuth): string {
  if (auth.kind === 'token') return `token:${name}`;
  return createHash('sha256').update(auth.ak).digest('hex');
}

/** The shared item as read: version, slots (id -> latest start, or the actual start once used), penalty. */
interface Shared {
  exists: boolean;
  version: number;
  slots: Map<string, number>;
  blockedUntil: number;
}

/** A slot this instance reserved: usable from `from` to `until` (epoch ms). */
interface Slot {
  id: string;
  from: number;
  until: number;
  claimed: boolean;
}

interface CredentialState {
  pk: string;
  /** The item as this instance last wrote or read it; undefined = read before the next write. */
  cached?: Shared;
  /** Reserved slots not yet used, earliest first. */
  mine: Slot[];
  /** Own slots to rewrite on the next write: used (actual start) or given up (null = delete). */
  rewrites: Map<string, number | null>;
  /** Latest penalty this instance knows of. */
  blockedUntil: number;
  /** Serialises this instance's reads and writes for the credential (never held while sleeping). */
  lock: Promise<unknown>;
}

/**
 * A CallBudget kept in the state table and shared by every container, invocation and stack that
 * uses the same HSS user: at most `ratePerMinute` call starts in any `windowMs + marginMs`. A slot
 * reserved by one instance counts for the others at its latest start until its owner writes again
 * (then at its actual start, or not at all if it was never used). Known race: a slot already
 * reserved when another instance records a penalty may still be used (at most `batchSize - 1`
 * calls, within `slackMs`). Throws StateError when DynamoDB fails or stays contended.
 */
export function createTableBudget(options: TableBudgetOptions): CallBudget {
  const { table, credentials, ratePerMinute: rate, clock, sleep } = options;
  const windowMs = (options.windowMs ?? RATE_WINDOW_MS) + (options.marginMs ?? BUDGET_DEFAULTS.marginMs);
  const slackMs = options.slackMs ?? BUDGET_DEFAULTS.slackMs;
  const batchSize = options.batchSize ?? BUDGET_DEFAULTS.batchSize;
  const maxWriteAttempts = options.maxWriteAttempts ?? BUDGET_DEFAULTS.maxWriteAttempts;
  const owner = options.ownerId ?? randomUUID();
  const states = new Map<string, CredentialState>();
  let seq = 0;

  function stateOf(credential: string): CredentialState {
    let state = states.get(credential);
    if (state) return state;
    const auth = credentials[credential];
    if (auth === undefined)
      throw new StateError(
        `no credential named "${credential}" for the call budget`,
        'budget',
        undefined,
        false,
      );
    state = {
      pk: keys.budget(budgetHash(credential, auth)),
      mine: [],
      rewrites: new Map(),
      blockedUntil: -Infinity,
      lock: Promise.resolve(),
    };
    states.set(credential, state);
    return state;
  }

  function locked<T>(state: CredentialState, work: () => Promise<T>): Promise<T> {
    const run = state.lock.then(work);
    state.lock = run.catch(() => undefined);
    return run;
  }

  /** Drops own slots that can no longer be used (expired, or inside a penalty), to be deleted on the next write. */
  function dropUnusable(state: CredentialState, now: number): void {
    state.mine = state.mine.filter((slot) => {
      const usable = slot.claimed || (slot.until >= now && slot.from >= state.blockedUntil);
      if (!usable) state.rewrites.set(slot.id, null);
      return usable;
    });
  }

  async function read(state: CredentialState): Promise<Shared> {
    const out = await table.send('GetItem', 'read', (c) =>
      c.send(
        new GetItemCommand({
          TableName: table.tableName,
          Key: { [KEY.pk]: { S: state.pk }, [KEY.sk]: { S: BUDGET_SK } },
          ConsistentRead: true,
          ReturnConsumedCapacity: 'TOTAL',
        }),
      ),
    );
    return decode(out.Item);
  }

  /** The shared slots with this instance's rewrites applied and the ones out of the window dropped. */
  function merged(shared: Shared, state: CredentialState, now: number): Map<string, number> {
    const slots = new Map(shared.slots);
    for (const [id, at] of state.rewrites) {
      if (at === null) slots.delete(id);
      else if (slots.has(id)) slots.set(id, at);
    }
    for (const [id, at] of slots) if (at <= now - windowMs) slots.delete(id);
    return slots;
  }

  /** Reserves up to batchSize slots (the first claimed for the caller); 'late' when none starts by latestStart. */
  async function reserve(state: CredentialState, latestStart: number): Promise<Slot | 'late'> {
    for (let attempt = 1; attempt <= maxWriteAttempts; attempt++) {
      const shared = state.cached ?? (await read(state));
      const now = clock();
      const blockedUntil = Math.max(shared.blockedUntil, state.blockedUntil);
      state.blockedUntil = blockedUntil;
      const slots = merged(shared, state, now);
      const booked = [...slots.values()].sort((a, b) => a - b);
      const fresh: Slot[] = [];
      for (let i = 0; i < batchSize; i++) {
        const from = earliestStart(booked, now, blockedUntil, rate, windowMs);
        // Later slots of a batch only when they are usable soon after the first.
        if (from > latestStart || (fresh.length > 0 && from > fresh[0]!.from + slackMs)) break;
        const slot = { id: `${owner}.${++seq}`, from, until: from + slackMs, claimed: false };
        fresh.push(slot);
        booked.push(slot.until);
        booked.sort((a, b) => a - b);
        slots.set(slot.id, slot.until);
      }
      if (fresh.length === 0) return 'late';
      const applied = new Map(state.rewrites);
      const next: Shared = {
        exists: true,
        version: shared.version + 1,
        slots,
        blockedUntil: shared.blockedUntil,
      };
      const written = await table.conditionally(() =>
        table.send('PutItem', 'write', (c) =>
          c.send(
            new PutItemCommand({
              TableName: table.tableName,
              Item: encode(state.pk, next, ttlOf(next, now)),
              ConditionExpression: shared.exists ? '#v = :v' : 'attribute_not_exists(#pk)',
              ExpressionAttributeNames: shared.exists ? { '#v': 'v' } : { '#pk': KEY.pk },
              ...(shared.exists
                ? { ExpressionAttributeValues: { ':v': { N: String(shared.version) } } }
                : {}),
              ReturnConsumedCapacity: 'TOTAL',
            }),
          ),
        ),
      );
      if (!written) {
        // Someone else wrote first: read what they wrote and plan again.
        state.cached = undefined;
        continue;
      }
      state.cached = next;
      for (const [id, at] of applied) if (state.rewrites.get(id) === at) state.rewrites.delete(id);
      fresh[0]!.claimed = true;
      state.mine.push(...fresh);
      state.mine.sort((a, b) => a.from - b.from);
      return fresh[0]!;
    }
    throw new StateError(
      `DynamoDB PutItem on table ${table.tableName} for the HSS call budget lost ${maxWriteAttempts} conditional writes in a row to other pollers`,
      'PutItem',
      'ConditionalCheckFailedException',
      true,
    );
  }

  return {
    async acquire(credential, latestStart) {
      const state = stateOf(credential);
      for (;;) {
        const slot = await locked(state, async () => {
          dropUnusable(state, clock());
          const free = state.mine.find((s) => !s.claimed);
          if (free) {
            if (free.from > latestStart) return 'late' as const;
            free.claimed = true;
            return free;
          }
          return reserve(state, latestStart);
        });
        if (slot === 'late') return false;
        const now = clock();
        if (slot.from > now) await sleep(slot.from - now);
        const startAt = clock();
        state.mine = state.mine.filter((s) => s !== slot);
        // Penalised while it slept, or the sleep overran the slot: give it up and take another.
        if (slot.from < state.blockedUntil || startAt > slot.until) {
          state.rewrites.set(slot.id, null);
          continue;
        }
        state.rewrites.set(slot.id, startAt);
        return true;
      }
    },

    async penalize(credential, ms) {
      if (!(Number.isFinite(ms) && ms > 0)) return;
      const state = stateOf(credential);
      await locked(state, async () => {
        const now = clock();
        const until = now + ms;
        state.blockedUntil = Math.max(state.blockedUntil, until);
        dropUnusable(state, now);
        const out = await table.conditionally(() =>
          table.send('UpdateItem', 'write', (c) =>
            c.send(
              new UpdateItemCommand({
                TableName: table.tableName,
                Key: { [KEY.pk]: { S: state.pk }, [KEY.sk]: { S: BUDGET_SK } },
                // The version moves so that every other instance re-reads before its next reservation.
                UpdateExpression: 'SET blockedUntil = :b, #v = if_not_exists(#v, :zero) + :one, #ttl = :ttl',
                ConditionExpression: 'attribute_not_exists(blockedUntil) OR blockedUntil < :b',
                ExpressionAttributeNames: { '#v': 'v', '#ttl': KEY.ttl },
                ExpressionAttributeValues: {
                  ':b': { N: String(until) },
                  ':zero': { N: '0' },
                  ':one': { N: '1' },
                  ':ttl': { N: String(ttlAfter(until, RETENTION.budgetDays)) },
                },
                ReturnConsumedCapacity: 'TOTAL',
              }),
            ),
          ),
        );
        // Either way the cached copy is stale (we or someone else wrote a longer penalty).
        state.cached = undefined;
        return out;
      });
    },

    async nextSlot(credential) {
      const state = stateOf(credential);
      return locked(state, async () => {
        const now = clock();
        dropUnusable(state, now);
        const free = state.mine.find((s) => !s.claimed);
        if (free) return Math.max(free.from, now);
        const shared = state.cached ?? (await read(state));
        state.cached = shared;
        state.blockedUntil = Math.max(state.blockedUntil, shared.blockedUntil);
        const booked = [...merged(shared, state, now).values()].sort((a, b) => a - b);
        return earliestStart(booked, now, state.blockedUntil, rate, windowMs);
      });
    },
  };
}

function ttlOf(shared: Shared, now: number): number {
  return ttlAfter(Math.max(now, shared.blockedUntil, ...shared.slots.values()), RETENTION.budgetDays);
}

function encode(pk: string, shared: Shared, ttl: number): Item {
  const slots: Record<string, AttributeValue> = {};
  for (const [id, at] of shared.slots) slots[id] = { N: String(at) };
  return {
    [KEY.pk]: { S: pk },
    [KEY.sk]: { S: BUDGET_SK },
    v: { N: String(shared.version) },
    slots: { M: slots },
    ...(shared.blockedUntil > -Infinity ? { blockedUntil: { N: String(shared.blockedUntil) } } : {}),
    [KEY.ttl]: { N: String(ttl) },
  };
}

function decode(item: Item | undefined): Shared {
  if (item === undefined) return { exists: false, version: 0, slots: new Map(), blockedUntil: -Infinity };
  const slots = new Map<string, number>();
  for (const [id, value] of Object.entries(item.slots?.M ?? {})) {
    const at = Number(value.N);
    if (Number.isFinite(at)) slots.set(id, at);
  }
  const blocked = Number(item.blockedUntil?.N);
  return {
    exists: true,
    version: Number(item.v?.N ?? 0),
    slots,
    blockedUntil: Number.isFinite(blocked) ? blocked : -Infinity,
  };
}
