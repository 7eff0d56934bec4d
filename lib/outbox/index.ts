// The one outbox: everything the product sends is recorded here first and delivered from here, read
// top to bottom as: enqueue (route, conditional put) -> deliver (query due -> lease -> consistent
// read -> per destination in parallel: plan, render, pace, send, record -> destination health ->
// look once more for what arrived meanwhile -> reconcile the due index -> release).
import { randomUUID } from 'node:crypto';
import { AlertsError } from '../errors';
import type { Clock, Log, Sleep } from '../log';
import type { DeliveryState, Message } from '../model';
import type { Destination } from '../notify/destination';
import { DEFAULT_HTTP_TIMEOUT_MS, type PostJson } from '../notify/http';
import { RETENTION, ttlAfter } from '../retention';
import { mapBounded, type TableClient } from '../state/table-client';
import type { HealthRow, StoredRecord } from './items';
import { createLeaseGuard } from './lease';
import { destinationFailingNotice, destinationRecoveredNotice } from './notices';
import { RETRY_POLICY, route, type HoldUntil, type RetryPolicy } from './plan';
import {
  newDestinationRun,
  sendRound,
  settleUnconfigured,
  type DestinationRun,
  type RunContext,
} from './send';
import { createOutboxStore } from './store';
import type { DeliverySummary, DestinationHealth, Outbox, OutboxRecord } from './types';

export type { HoldUntil, RetryPolicy } from './plan';
export type * from './types';

export interface OutboxDeps {
  table: TableClient;
  /** Config.stateNamespace: the outbox partition is `keys.outbox(namespace)`. */
  namespace: string;
  destinations: readonly Destination[];
  /** The shared HTTP leg (lib/notify/http.ts createPostJson). */
  post: PostJson;
  clock: Clock;
  sleep: Sleep;
  log: Log;
  /** [0, 1): backoff jitter. */
  random: () => number;
  /** How long one lease lasts, ms; renewed before any send it would not outlive. Must exceed requestTimeoutMs + recordMarginMs. */
  leaseMs: number;
  /** Quiet hours: when a destination must not get a message before a time (injected; none by default). */
  holdUntil?: HoldUntil;
  /** Timeout of one request, ms (default DEFAULT_HTTP_TIMEOUT_MS): no send starts that the lease or the deadline would not outlive by this plus the margin. */
  requestTimeoutMs?: number;
  /** Time kept after a request's timeout to record its outcome, ms (default 5000). */
  recordMarginMs?: number;
  /** DynamoDB requests in flight at once (default 16). */
  parallelism?: number;
  /** Backoff and retry horizon (default RETRY_POLICY). */
  policy?: RetryPolicy;
}

export const DEFAULT_RECORD_MARGIN_MS = 5_000;
export const DEFAULT_PARALLELISM = 16;

/** A DeliverySummary of a run that did nothing (yet). */
export function emptyDeliverySummary(): DeliverySummary {
  return {
    sent: 0,
    requests: 0,
    retrying: 0,
    failed: 0,
    expired: 0,
    pending: 0,
    leaseBusy: false,
    stoppedEarly: false,
    destinationsFailing: [],
  };
}

/** Creates the outbox of one namespace; the table client, HTTP leg, clock and sleep are the caller's. */
export function createOutbox(deps: OutboxDeps): Outbox {
  const { table, namespace, destinations, clock, log, random } = deps;
  const store = createOutboxStore(table, namespace);
  const parallelism = deps.parallelism ?? DEFAULT_PARALLELISM;
  const requestTimeoutMs = deps.requestTimeoutMs ?? DEFAULT_HTTP_TIMEOUT_MS;
  const recordMarginMs = deps.recordMarginMs ?? DEFAULT_RECORD_MARGIN_MS;
  const policy = deps.policy ?? RETRY_POLICY;
  if (deps.leaseMs <= requestTimeoutMs + recordMarginMs)
    throw new AlertsError(
      `The delivery lease (${deps.leaseMs} ms) must outlast one send and its recording (${requestTimeoutMs + recordMarginMs} ms)`,
    );
  const configured = new Map(destinations.map((d) => [d.id, d]));
  // Ids this instance recorded with a delivery due and has not read back yet: the next run reads
  // them directly, since the due index may not show them yet (it is eventually consistent).
  const fresh = new Set<string>();

  async function enqueue(messages: readonly Message[]): Promise<{ created: string[]; existing: string[] }> {
    const now = clock();
    const unique = [...new Map(messages.map((m) => [m.id, m])).values()];
    const outcomes = await mapBounded(unique, parallelism, async (message) => {
      const deliveries = route(message, destinations, now, deps.holdUntil);
      const record: StoredRecord = {
        message,
        deliveries,
        recordedAt: now,
        expiresAt: ttlAfter(now, message.kind === 'alert' ? RETENTION.alertDays : RETENTION.messageDays),
        tableView: Object.fromEntries(Object.entries(deliveries).map(([d, s]) => [d, JSON.stringify(s)])),
      };
      const created = await store.putMessage(record, record.expiresAt);
      if (created && Object.values(deliveries).some((d) => d.state === 'pending')) fresh.add(message.id);
      if (created && message.kind === 'notice' && message.supersedes?.length)
        await skipSuperseded(message.supersedes, Object.keys(deliveries));
      return created;
    });
    return {
      created: unique.filter((_, i) => outcomes[i]).map((m) => m.id),
      existing: unique.filter((_, i) => !outcomes[i]).map((m) => m.id),
    };
  }

  /** Skips the deliveries of `ids` still waiting for one of `destinations` (a newer notice made them moot). */
  async function skipSuperseded(ids: readonly string[], destinations: readonly string[]): Promise<void> {
    for (const record of await store.getMessages(ids, true)) {
      for (const destination of destinations) {
        const state = record.deliveries[destination];
        if (!state || !isWaiting(state)) continue;
        record.deliveries[destination] = { ...state, state: 'skipped', nextAt: 0 };
        if ((await store.saveDelivery(record, destination)) === 'index-stale')
          await store.reconcileIndex(record);
      }
    }
  }

  async function deliver(
    deadline: number,
    context: { listsIncomplete?: boolean } = {},
  ): Promise<DeliverySummary> {
    const summary = emptyDeliverySummary();
    const start = clock();
    const due = await store.queryDue(start);
    const health = new Map<string, HealthRow>(
      due.health.filter((h) => configured.has(h.destination)).map((h) => [h.destination, h]),
    );
    const failingList = () => [...health.keys()].sort();
    const unnoticed = [...health.values()].filter((h) => !h.noticed);
    if (due.ids.length === 0 && fresh.size === 0 && unnoticed.length === 0) {
      summary.destinationsFailing = failingList();
      return summary;
    }
    if (start + requestTimeoutMs + recordMarginMs > deadline) {
      log.warn(
        'Delivery skipped: the deadline comes before a send could finish; what is due waits for the next run',
      );
      summary.stoppedEarly = true;
      summary.destinationsFailing = failingList();
      return summary;
    }

    // Unique per run whatever the injected clock and random say (two runs sharing an owner would share the lease).
    const owner = randomUUID();
    if (!(await store.acquireLease(owner, start, deps.leaseMs))) {
      log.info('Another run holds the delivery lease: it sends what is due before it lets go');
      summary.leaseBusy = true;
      summary.destinationsFailing = failingList();
      return summary;
    }
    const lease = createLeaseGuard({
      store,
      owner,
      clock,
      leaseMs: deps.leaseMs,
      until: start + deps.leaseMs,
    });
    const ctx: RunContext = {
      store,
      lease,
      post: deps.post,
      clock,
      sleep: deps.sleep,
      log,
      random,
      policy,
      requestTimeoutMs,
      recordMarginMs,
      parallelism,
      deadline,
      listsIncomplete: context.listsIncomplete === true,
      summary,
      stale: new Set(),
      failures: [],
    };
    const runs = new Map(destinations.map((d) => [d.id, newDestinationRun(d)]));
    const seen = new Map<string, StoredRecord>();

    /** Reads `ids` (strongly consistent: the index lags) that this run has not seen, and delivers them. */
    const round = async (ids: Iterable<string>): Promise<void> => {
      const wanted = [...new Set(ids)].filter((id) => !seen.has(id));
      for (const id of wanted) fresh.delete(id);
      if (wanted.length === 0) return;
      const records = await store.getMessages(wanted, true);
      for (const r of records) seen.set(r.message.id, r);
      const unknown = new Set(
        records.flatMap((r) => Object.keys(r.deliveries)).filter((id) => !configured.has(id)),
      );
      const settled = await Promise.allSettled([
        ...[...runs.values()].map((run) => sendRound(ctx, run, records)),
        ...[...unknown].map((id) => settleUnconfigured(ctx, id, records)),
      ]);
      for (const s of settled) if (s.status === 'rejected') ctx.failures.push(s.reason);
      await updateHealth(runs, health, ctx);
    };

    try {
      await noticeUnnoticed(unnoticed, ctx);
      await round([...due.ids, ...fresh]);
      // What an overlapping poll (or this run's own notices) recorded meanwhile would otherwise wait
      // for the next run: one more look at what is due, not a re-read of everything.
      if (
        !lease.lost &&
        ctx.failures.length === 0 &&
        clock() + requestTimeoutMs + recordMarginMs <= deadline
      ) {
        const late = await store.queryDue(clock());
        await round([...late.ids, ...fresh]);
      }
      await mapBounded([...ctx.stale], parallelism, (r) => store.reconcileIndex(r));
    } catch (err) {
      ctx.failures.push(err);
    } finally {
      try {
        await lease.release();
      } catch (err) {
        ctx.failures.push(err);
      }
    }
    if (ctx.failures.length > 0) throw ctx.failures[0];

    for (const r of seen.values()) summary.pending += Object.values(r.deliveries).filter(isWaiting).length;
    summary.destinationsFailing = failingList();
    return summary;
  }

  /** A failing destination whose notice was not enqueued (a run died in between): enqueue it now. */
  async function noticeUnnoticed(rows: readonly HealthRow[], ctx: RunContext): Promise<void> {
    for (const row of rows) {
      const destination = configured.get(row.destination);
      if (!destination) continue;
      await enqueue([destinationFailingNotice(destination, row, row.undelivered, ctx.clock())]);
      await store.markNoticed(row.destination);
      row.noticed = true;
    }
  }

  /**
   * After a round: a destination that refused permanently (its streak is written before the refused
   * deliveries, in send.ts) gets its one notice enqueued; a failing destination that answered ok ends its streak and a
   * "works again" notice is enqueued. Notices are enqueued before the health item changes, so a
   * crash in between repeats the (idempotent) enqueue rather than losing the notice.
   */
  async function updateHealth(
    runs: ReadonlyMap<string, DestinationRun>,
    health: Map<string, HealthRow>,
    ctx: RunContext,
  ): Promise<void> {
    for (const run of runs.values()) {
      const { destination } = run;
      const now = ctx.clock();
      try {
        if (run.failing) {
          const row = run.failing;
          run.failing = undefined;
          if (!health.has(destination.id))
            log.error('A destination is failing permanently: the other destinations are told', {
              destination: destination.description,
              error: row.lastError,
            });
          health.set(destination.id, row);
          if (!row.noticed) {
            await enqueue([destinationFailingNotice(destination, row, run.undeliveredAlerts, now)]);
            await store.markNoticed(destination.id);
            row.noticed = true;
          }
          run.undeliveredAlerts = 0;
        } else if (run.answeredOk && health.has(destination.id)) {
          const row = health.get(destination.id)!;
          if (row.noticed) await enqueue([destinationRecoveredNotice(destination, row, now)]);
          await store.clearHealth(destination.id, row.failingSince);
          health.delete(destination.id);
          log.info('A destination that was failing permanently works again', {
            destination: destination.description,
          });
        }
      } catch (err) {
        ctx.failures.push(err);
      }
    }
  }

  async function failingDestinations(): Promise<DestinationHealth[]> {
    const rows = await store.readHealth();
    return rows
      .filter((r) => configured.has(r.destination))
      .map(({ destination, failingSince, lastError, undelivered }) => ({
        destination,
        failingSince,
        lastError,
        undelivered,
      }));
  }

  async function pendingByDestination(): Promise<Record<string, number>> {
    const counts: Record<string, number> = {};
    for (const record of await store.queryIndex()) {
      for (const [destination, state] of Object.entries(record.deliveries)) {
        if (isWaiting(state)) counts[destination] = (counts[destination] ?? 0) + 1;
      }
    }
    return counts;
  }

  async function get(ids: readonly string[]): Promise<OutboxRecord[]> {
    const records = await store.getMessages(ids, true);
    return records.map(({ message, deliveries, expiresAt }) => ({ message, deliveries, expiresAt }));
  }

  return { enqueue, deliver, failingDestinations, pendingByDestination, get };
}

function isWaiting(state: DeliveryState): boolean {
  return state.state === 'pending' || state.state === 'held';
}
