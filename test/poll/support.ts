// Hand-written fakes of our own interfaces (PageReader + CallBudget, Outbox) for the poll's unit
// tests, on a virtual clock; the stores are the in-memory ones (local/memory-stores.ts), which pass
// the same contract suite as the DynamoDB stores. The end-to-end behaviour tests (emulator, real
// outbox, sinks, DynamoDB) live in test/e2e and test/reliability.
import type { LifecycleConfig } from '../../lib/config/types';
import { silentLog } from '../../lib/log';
import { poll, type PollDeps, type PollOptions, type PollSummary } from '../../lib/poll';
import { createMemoryStores } from '../../local/memory-stores';
import { HssServerError } from '../../lib/hss/errors';
import type { HssTarget, ListQuery, PageReader, PageResult } from '../../lib/hss/pages';
import type { CallBudget } from '../../lib/budget/port';
import type { Message, Scope, Task } from '../../lib/model';
import type { DeliverySummary, Outbox, OutboxRecord } from '../../lib/outbox/types';
import { emptyDeliverySummary as emptyDelivery } from '../../lib/outbox';

const T0 = Date.UTC(2026, 10, 27, 12, 0, 0);
export const MIN = 60_000;
export const HOUR = 60 * MIN;
export const DAY = 24 * HOUR;

/** The lifecycle of poll tests that do not test it: no stuck alert within a week, no reminders. */
const QUIET_LIFECYCLE: LifecycleConfig = {
  stuckAfterMinutes: 10_080,
  stuckMaxHours: 720,
  notifyResolved: true,
  remindAfterHours: 0,
};

/** The product's defaults for stuck tasks (STUCK_AFTER_MINUTES, STUCK_MAX_HOURS), no reminders. */
export const STUCK_LIFECYCLE: LifecycleConfig = {
  stuckAfterMinutes: 60,
  stuckMaxHours: 6,
  notifyResolved: true,
  remindAfterHours: 0,
};

export const SCOPE: Scope = {
  id: 'ap-southeast-1/proj-1/0',
  region: 'ap-southeast-1',
  projectId: 'proj-1',
  enterpriseProjectId: '0',
  credential: 'default',
};

/** Virtual time: `sleep` moves the clock instead of waiting. */
export function virtualClock(start = T0) {
  const time = { now: start };
  return {
    time,
    clock: () => time.now,
    sleep: async (ms: number) => {
      time.now += Math.max(0, ms);
    },
    advance: (ms: number) => {
      time.now += ms;
    },
  };
}

/** A task with sensible defaults, started `agoMs` before `now`. */
export function task(
  hostId: string,
  status: Task['status'],
  now: number,
  agoMs = HOUR,
  extra: Partial<Task> = {},
): Task {
  const startedMs = now - agoMs;
  return {
    hostId,
    hostName: `web-${hostId}`,
    backupName: 'autobk_1',
    status,
    rawStatus: status,
    process: status === 'success' ? 100 : 40,
    startedAt: new Date(startedMs).toISOString(),
    startedMs,
    ...(status === 'failed'
      ? { errorCode: 'E1', errorMessage: 'disk full', endedAt: new Date(now).toISOString() }
      : {}),
    ...extra,
  };
}

/**
 * An HSS stand-in: tasks per project, listed newest or oldest first, paged by offset; a rolling
 * per-credential limit of `perMinute` calls on the virtual clock (each call takes `callMs`).
 */
export function fakeHss(
  vt: ReturnType<typeof virtualClock>,
  options: { perMinute?: number; callMs?: number; order?: 'newest-first' | 'oldest-first' } = {},
) {
  const perMinute = options.perMinute ?? 5;
  const callMs = options.callMs ?? 300;
  const tasks = new Map<string, Task[]>();
  const starts = new Map<string, number[]>();
  const calls: Array<{ target: HssTarget; query: ListQuery; offset: number; at: number }> = [];
  const failures = new Map<string, Error>();
  const stats = { calls: 0, throttled: 0, retries: 0 };

  const slotAt = (credential: string, now: number): number => {
    const s = (starts.get(credential) ?? []).filter((t) => t > now - 60_000);
    starts.set(credential, s);
    return s.length < perMinute ? now : s[s.length - perMinute]! + 60_000;
  };

  const budget: CallBudget = {
    async acquire(credential, latestStart) {
      const slot = slotAt(credential, vt.clock());
      if (slot > latestStart) return false;
      if (slot > vt.clock()) await vt.sleep(slot - vt.clock());
      starts.get(credential)!.push(vt.clock());
      return true;
    },
    async penalize() {},
    async nextSlot(credential) {
      return slotAt(credential, vt.clock());
    },
  };

  const reader: PageReader = {
    stats,
    async fetchPage(target, query, offset, deadline, limit = 200, attempts = 4): Promise<PageResult> {
      if (!(await budget.acquire(target.credential, deadline - callMs))) return { kind: 'out-of-time' };
      stats.calls += 1;
      calls.push({ target, query, offset, at: vt.clock() });
      vt.advance(callMs);
      const failure = failures.get(target.projectId);
      if (failure) {
        // A server error is retried as the reader retries it: each attempt takes a call of the budget.
        for (let attempt = 1; failure instanceof HssServerError && attempt < attempts; attempt++) {
          if (!(await budget.acquire(target.credential, deadline - callMs))) break;
          stats.calls += 1;
          calls.push({ target, query, offset, at: vt.clock() });
          vt.advance(callMs);
        }
        throw failure;
      }
      const since = vt.clock() - query.lastDays * DAY;
      let list = (tasks.get(target.projectId) ?? [])
        .filter((t) => !query.status || t.status === query.status)
        .filter((t) => !query.resourceName || t.hostName.includes(query.resourceName))
        .filter((t) => (t.startedMs ?? 0) >= since)
        .sort((a, b) => (b.startedMs ?? 0) - (a.startedMs ?? 0) || (a.hostId < b.hostId ? -1 : 1));
      if (options.order === 'oldest-first') list = list.reverse();
      const rows = list.slice(offset, offset + limit).map((t) => ({ ...t }));
      return { kind: 'page', page: { rows: rows.length, tasks: rows, rejected: [], totalNum: list.length } };
    },
  };

  return {
    reader,
    budget,
    calls,
    /** Tasks of a project (mutable). */
    tasks: (projectId = SCOPE.projectId): Task[] => {
      if (!tasks.has(projectId)) tasks.set(projectId, []);
      return tasks.get(projectId)!;
    },
    failProject: (projectId: string, err: Error | undefined) => {
      if (err) failures.set(projectId, err);
      else failures.delete(projectId);
    },
    /** Most calls any credential started in a rolling 60 s window. */
    maxPerMinute(): number {
      const times = calls.map((c) => c.at).sort((a, b) => a - b);
      let best = 0;
      for (let i = 0, j = 0; i < times.length; i++) {
        while (times[i]! - times[j]! >= 60_000) j++;
        best = Math.max(best, i - j + 1);
      }
      return best;
    },
  };
}

/** An in-memory outbox: dedupes by id, "delivers" everything pending when asked. */
function fakeOutbox(): Outbox & { records: Map<string, OutboxRecord>; delivered: Message[] } {
  const records = new Map<string, OutboxRecord>();
  const delivered: Message[] = [];
  return {
    records,
    delivered,
    async enqueue(messages) {
      const created: string[] = [];
      const existing: string[] = [];
      for (const m of messages) {
        if (records.has(m.id)) existing.push(m.id);
        else {
          records.set(m.id, {
            message: m,
            deliveries: { sink: { state: 'pending', attempts: 0, nextAt: 0 } },
            expiresAt: 0,
          });
          created.push(m.id);
        }
      }
      return { created, existing };
    },
    async deliver(): Promise<DeliverySummary> {
      const summary = emptyDelivery();
      for (const r of records.values()) {
        if (r.deliveries.sink?.state !== 'pending') continue;
        r.deliveries.sink = { state: 'done', attempts: 1, nextAt: 0 };
        delivered.push(r.message);
        summary.sent += 1;
      }
      return summary;
    },
    async failingDestinations() {
      return [];
    },
    async delayedDestinations() {
      return [];
    },
    async unroutedAlerts() {
      return [];
    },
    async pendingByDestination() {
      return {};
    },
    async get(ids) {
      return ids.flatMap((id) => (records.has(id) ? [records.get(id)!] : []));
    },
  };
}

/** What a poll of `memoryWorld` may change: any option, and how long it may run (ms). */
export type TickOptions = Partial<PollOptions> & { runMs?: number };

export interface MemoryWorldOptions {
  scopes?: Scope[];
  hss?: Parameters<typeof fakeHss>[1];
  /** Schedule period (default 5 minutes). */
  periodMs?: number;
  /** How long each poll may run, ms (default: the period less 60 s); HSS reads stop 15 s before. */
  runMs?: number;
  /** Options every poll gets (the lifecycle defaults to QUIET_LIFECYCLE). */
  base?: Partial<PollOptions>;
}

/**
 * The poll on a virtual clock over the fake HSS, the in-memory stores (their calls counted as
 * DynamoDB requests) and the fake outbox: `run` polls once now, `tick` polls and moves the clock to
 * the next period.
 */
export function memoryWorld(o: MemoryWorldOptions = {}) {
  const vt = virtualClock();
  const hss = fakeHss(vt, o.hss);
  const { store, lifecycle, stats } = createMemoryStores();
  const outbox = fakeOutbox();
  const deps: PollDeps = {
    reader: hss.reader,
    budget: hss.budget,
    store,
    lifecycle,
    outbox,
    clock: vt.clock,
    log: silentLog,
    dynamoStats: () => ({ ...stats }),
  };
  const periodMs = o.periodMs ?? 5 * MIN;
  const run = (over: TickOptions = {}): Promise<PollSummary> => {
    const now = vt.clock();
    const runMs = over.runMs ?? o.runMs ?? periodMs - MIN;
    return poll(deps, {
      scopes: o.scopes ?? [SCOPE],
      lastDays: 1,
      alertStatuses: ['failed', 'timeout'],
      baseline: false,
      periodMs,
      fetchDeadline: now + runMs - 15_000,
      deadline: now + runMs,
      lifecycle: QUIET_LIFECYCLE,
      ...o.base,
      ...over,
    });
  };
  const tick = async (over: TickOptions = {}): Promise<PollSummary> => {
    const start = vt.clock();
    const summary = await run(over);
    vt.time.now = Math.max(vt.clock(), start + (over.periodMs ?? periodMs));
    return summary;
  };
  return { vt, hss, store, lifecycle, outbox, deps, run, tick };
}
