// The call budget shared through DynamoDB: one item per HSS user key (not per stack, scope or
// container), a sliding window of reserved call slots written with optimistic, conditional puts
// (no transactions). Slots are reserved a few at a time, so a steady poll costs about one DynamoDB
// request per HSS call or less; a reserved slot that goes unused is wasted budget, which is safe.
// Writers' clocks may disagree (a laptop 20 minutes fast doing a dry run): every writer stamps its
// own clock in the item, each reader learns how far each writer's clock is from its own and reads
// that writer's slots and penalty in its own clock (window.ts), a stamp from a clock
// running ahead counts at most one window from now, and a writer keeps its own recent calls in the
// item even if another writer's clock made them look old.
import { createHash, randomUUID } from 'node:crypto';
import { GetItemCommand, PutItemCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import type { HssAuth } from '../huaweicloud/credentials';
import type { CallBudget } from './port';
import {
  earliestStart,
  inOurClock,
  latestInOurClock,
  observeClock,
  RATE_WINDOW_MS,
  type ClockOffset,
} from './window';
import type { Clock, Sleep } from '../log';
import { KEY, PK, RETENTION, SK, ttlAfter } from '../state/layout';
import { StateError } from '../state/errors';
import type { Item, TableClient } from '../state/table-client';

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

const BUDGET_DEFAULTS = {
  marginMs: 1_000,
  slackMs: 10_000,
  batchSize: 2,
  maxWriteAttempts: 8,
} as const;

/**
 * What identifies an HSS user's rate limit without revealing it: SHA-256 of the AK (never the AK
 * itself) for AK/SK, `token:<credential name>` for an IAM token (a token does not name its user).
 */
export function budgetHash(name: string, auth: HssAuth): string {
  if (auth.kind === 'token') return `token:${name}`;
  return createHash('sha256').update(auth.ak).digest('hex');
}

/** The shared item as read; every time in it is in the clock of the writer that stamped it. */
interface Shared {
  exists: boolean;
  version: number;
  /** `{owner}.{n}` -> latest start of a reserved slot, or its actual start once used. */
  slots: Map<string, number>;
  /** Owner -> its clock when it last wrote the item. */
  clocks: Map<string, number>;
  /** End of the longest penalty, in the clock of `blockedBy`. */
  blockedUntil: number;
  blockedBy?: string;
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
  /** Own slots used (id -> actual start) less than a window ago: written back on every write. */
  used: Map<string, number>;
  /** Latest penalty this instance knows of, in its own clock. */
  blockedUntil: number;
  /** What this instance knows of each other writer's clock. */
  clocks: Map<string, ClockOffset>;
  /** The writers' clock stamps at the last read, and this instance's clock when that read began. */
  lastRead?: { at: number; clocks: Map<string, number> };
  /** Serialises this instance's reads and writes for the credential (never held while sleeping). */
  lock: Promise<unknown>;
}

/**
 * A CallBudget kept in the state table and shared by every container, invocation and stack that
 * uses the same HSS user: at most `ratePerMinute` call starts in any `windowMs + marginMs`. A slot
 * reserved by one instance counts for the others at its latest start until its owner writes again
 * (then at its actual start, or not at all if it was never used). Writers whose clocks disagree
 * (by minutes) neither starve nor overrun each other once each has read a write of the other; a
 * writer's slots and penalty count for the others at most one window from their now. Known races:
 * a slot already reserved when another instance records a penalty may still be used (at most
 * `batchSize - 1` calls, within `slackMs`); a writer whose clock is behind is counted at face value
 * (too early) by an instance that has not yet seen it write twice. `nextSlot` says when the next
 * call may start: a poll is starved while that is past its deadline. Throws StateError when
 * DynamoDB fails or stays contended.
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
      pk: PK.budget(budgetHash(credential, auth)),
      mine: [],
      used: new Map(),
      blockedUntil: -Infinity,
      clocks: new Map(),
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

  /** Drops own slots that can no longer be used (expired, or inside a penalty) and calls a window old: the next write leaves them out. */
  function dropUnusable(state: CredentialState, now: number): void {
    state.mine = state.mine.filter(
      (slot) => slot.claimed || (slot.until >= now && slot.from >= state.blockedUntil),
    );
    for (const [id, at] of state.used) if (at <= now - windowMs) state.used.delete(id);
  }

  async function read(state: CredentialState): Promise<Shared> {
    const started = clock();
    const out = await table.send('GetItem', 'read', (c) =>
      c.send(
        new GetItemCommand({
          TableName: table.tableName,
          Key: { [KEY.pk]: { S: state.pk }, [KEY.sk]: { S: SK.budget } },
          ConsistentRead: true,
          ReturnConsumedCapacity: 'TOTAL',
        }),
      ),
    );
    const shared = decode(out.Item);
    learnClocks(state, shared, started, clock());
    return shared;
  }

  /** What one read says of every other writer's clock (see observeClock). */
  function learnClocks(state: CredentialState, shared: Shared, started: number, answered: number): void {
    const before = state.lastRead;
    for (const [writer, stamp] of shared.clocks) {
      if (writer === owner) continue;
      const isNew = before !== undefined && before.clocks.get(writer) !== stamp;
      state.clocks.set(
        writer,
        observeClock(state.clocks.get(writer), stamp, answered, isNew ? before.at : undefined),
      );
    }
    state.lastRead = { at: started, clocks: new Map(shared.clocks) };
  }

  /**
   * The slots to write, each in its writer's clock: another writer's until it is a window old even
   * at the latest time it may stand for; this instance's own from memory (its calls of the last
   * window and its reserved slots), so none is lost to another writer's idea of the time.
   */
  function merged(shared: Shared, state: CredentialState, now: number): Map<string, number> {
    const slots = new Map<string, number>();
    for (const [id, at] of shared.slots) {
      const writer = ownerOf(id);
      if (writer === owner || latestInOurClock(at, state.clocks.get(writer)) <= now - windowMs) continue;
      slots.set(id, at);
    }
    for (const [id, at] of state.used) slots.set(id, at);
    for (const slot of state.mine) slots.set(slot.id, slot.until);
    return slots;
  }

  /** The slots of `slots` as this instance counts them: in its own clock, ascending. */
  function booked(slots: ReadonlyMap<string, number>, state: CredentialState, now: number): number[] {
    return [...slots]
      .map(([id, at]) => {
        const writer = ownerOf(id);
        return writer === owner ? at : inOurClock(at, state.clocks.get(writer), now, windowMs);
      })
      .sort((a, b) => a - b);
  }

  /** The shared penalty's end in this instance's clock (-Infinity when there is none). */
  function sharedPenalty(shared: Shared, state: CredentialState, now: number): number {
    return shared.blockedBy === undefined || shared.blockedBy === owner
      ? shared.blockedUntil
      : inOurClock(shared.blockedUntil, state.clocks.get(shared.blockedBy), now, windowMs);
  }

  /** The end of the longest penalty this instance knows of, in its clock. */
  function penaltyEnd(shared: Shared, state: CredentialState, now: number): number {
    return Math.max(state.blockedUntil, sharedPenalty(shared, state, now));
  }

  /** The item as this instance writes it at `now`: its clock stamped, clocks of writers gone dropped. */
  function next(shared: Shared, slots: Map<string, number>, now: number, penalty?: number): Shared {
    const blockedBy = penalty !== undefined ? owner : shared.blockedBy;
    const writers = new Set([...slots.keys()].map(ownerOf));
    if (blockedBy !== undefined) writers.add(blockedBy);
    const clocks = new Map([...shared.clocks].filter(([writer]) => writers.has(writer)));
    clocks.set(owner, now);
    return {
      exists: true,
      version: shared.version + 1,
      slots,
      clocks,
      blockedUntil: penalty ?? shared.blockedUntil,
      ...(blockedBy !== undefined ? { blockedBy } : {}),
    };
  }

  /** Writes `item` if the table still holds `shared` (its version); false when another writer was first. */
  function put(state: CredentialState, shared: Shared, item: Shared, now: number): Promise<boolean> {
    return table.conditionally(() =>
      table.send('PutItem', 'write', (c) =>
        c.send(
          new PutItemCommand({
            TableName: table.tableName,
            Item: encode(state.pk, item, ttlOf(item, now)),
            ConditionExpression: shared.exists ? '#v = :v' : 'attribute_not_exists(#pk)',
            ExpressionAttributeNames: shared.exists ? { '#v': 'v' } : { '#pk': KEY.pk },
            ...(shared.exists ? { ExpressionAttributeValues: { ':v': { N: String(shared.version) } } } : {}),
            ReturnConsumedCapacity: 'TOTAL',
          }),
        ),
      ),
    );
  }

  function contended(): StateError {
    return new StateError(
      `DynamoDB PutItem on table ${table.tableName} for the HSS call budget lost ${maxWriteAttempts} conditional writes in a row to other pollers`,
      'PutItem',
      'ConditionalCheckFailedException',
      true,
    );
  }

  /** Reserves up to batchSize slots (the first claimed for the caller); 'late' when none starts by latestStart. */
  async function reserve(state: CredentialState, latestStart: number): Promise<Slot | 'late'> {
    for (let attempt = 1; attempt <= maxWriteAttempts; attempt++) {
      const shared = state.cached ?? (await read(state));
      const now = clock();
      const blockedUntil = penaltyEnd(shared, state, now);
      state.blockedUntil = blockedUntil;
      const slots = merged(shared, state, now);
      const times = booked(slots, state, now);
      const fresh: Slot[] = [];
      for (let i = 0; i < batchSize; i++) {
        const from = earliestStart(times, now, blockedUntil, rate, windowMs);
        // Later slots of a batch only when they are usable soon after the first.
        if (from > latestStart || (fresh.length > 0 && from > fresh[0]!.from + slackMs)) break;
        const slot = { id: `${owner}.${++seq}`, from, until: from + slackMs, claimed: false };
        fresh.push(slot);
        times.push(slot.until);
        times.sort((a, b) => a - b);
        slots.set(slot.id, slot.until);
      }
      if (fresh.length === 0) return 'late';
      const item = next(shared, slots, now);
      if (!(await put(state, shared, item, now))) {
        // Someone else wrote first: read what they wrote and plan again.
        state.cached = undefined;
        continue;
      }
      state.cached = item;
      fresh[0]!.claimed = true;
      state.mine.push(...fresh);
      state.mine.sort((a, b) => a.from - b.from);
      return fresh[0]!;
    }
    throw contended();
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
        if (slot.from < state.blockedUntil || startAt > slot.until) continue;
        state.used.set(slot.id, startAt);
        return true;
      }
    },

    async penalize(credential, ms) {
      if (!(Number.isFinite(ms) && ms > 0)) return;
      const state = stateOf(credential);
      await locked(state, async () => {
        for (let attempt = 1; attempt <= maxWriteAttempts; attempt++) {
          // Read fresh: the penalty must not lose to a longer one we have not seen, nor hide it.
          const shared = await read(state);
          const now = clock();
          const until = now + ms;
          state.blockedUntil = Math.max(state.blockedUntil, until);
          dropUnusable(state, now);
          // The longest penalty wins, compared in this instance's clock; the version moves so that
          // every other instance re-reads before its next reservation.
          if (sharedPenalty(shared, state, now) >= until) return;
          const item = next(shared, merged(shared, state, now), now, until);
          if (await put(state, shared, item, now)) {
            state.cached = item;
            return;
          }
        }
        throw contended();
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
        state.blockedUntil = penaltyEnd(shared, state, now);
        return earliestStart(
          booked(merged(shared, state, now), state, now),
          now,
          state.blockedUntil,
          rate,
          windowMs,
        );
      });
    },
  };
}

/** The writer of a slot id (`{owner}.{n}`). */
function ownerOf(id: string): string {
  const dot = id.lastIndexOf('.');
  return dot < 0 ? id : id.slice(0, dot);
}

function ttlOf(shared: Shared, now: number): number {
  return ttlAfter(Math.max(now, shared.blockedUntil, ...shared.slots.values()), RETENTION.budgetDays);
}

function encode(pk: string, shared: Shared, ttl: number): Item {
  const numbers = (map: ReadonlyMap<string, number>): AttributeValue => ({
    M: Object.fromEntries([...map].map(([k, n]) => [k, { N: String(n) }])),
  });
  return {
    [KEY.pk]: { S: pk },
    [KEY.sk]: { S: SK.budget },
    v: { N: String(shared.version) },
    slots: numbers(shared.slots),
    clocks: numbers(shared.clocks),
    ...(shared.blockedUntil > -Infinity ? { blockedUntil: { N: String(shared.blockedUntil) } } : {}),
    ...(shared.blockedBy !== undefined ? { blockedBy: { S: shared.blockedBy } } : {}),
    [KEY.ttl]: { N: String(ttl) },
  };
}

function decode(item: Item | undefined): Shared {
  if (item === undefined)
    return { exists: false, version: 0, slots: new Map(), clocks: new Map(), blockedUntil: -Infinity };
  const numbers = (value: AttributeValue | undefined): Map<string, number> => {
    const map = new Map<string, number>();
    for (const [k, v] of Object.entries(value?.M ?? {})) {
      const n = Number(v.N);
      if (Number.isFinite(n)) map.set(k, n);
    }
    return map;
  };
  const blocked = Number(item.blockedUntil?.N);
  return {
    exists: true,
    version: Number(item.v?.N ?? 0),
    slots: numbers(item.slots),
    clocks: numbers(item.clocks),
    blockedUntil: Number.isFinite(blocked) ? blocked : -Infinity,
    ...(item.blockedBy?.S !== undefined ? { blockedBy: item.blockedBy.S } : {}),
  };
}
