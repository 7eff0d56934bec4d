// The one outbox: everything the product sends is recorded here first and delivered from here, read
// top to bottom as: enqueue (route, fallback or count what no route matched, conditional put) ->
// deliver (query due -> lease -> consistent read -> per destination in parallel: plan, render, pace,
// send, record -> destination health: failing, degraded, works again -> look once more for what
// arrived meanwhile -> reconcile the due index -> release).
import { randomUUID } from 'node:crypto';
import { AlertsError } from '../errors';
import type { Clock, Log, Sleep } from '../log';
import type { AlertMessage, DeliveryState, Message } from '../model';
import type { Destination } from '../notify/destination';
import { DEFAULT_HTTP_TIMEOUT_MS, type PostJson } from '../notify/http';
import { RETENTION, ttlAfter } from '../state/layout';
import { mapBounded, type TableClient } from '../state/table-client';
import type { HealthRow, StoredRecord, StreakRow } from './items';
import { createLeaseGuard } from './lease';
import {
  alertInWords,
  degradedNotice,
  degradedNoticeId,
  deliversAgainNotice,
  destinationFailingNotice,
  destinationRecoveredNotice,
  noRouteNotice,
  utcDay,
} from './notices';
import { displayName } from '../notify/channels';
import { RETRY_POLICY, route, type HoldUntil, type RetryPolicy } from './plan';
import {
  newDestinationRun,
  sendRound,
  settleUnconfigured,
  type DestinationRun,
  type RunContext,
} from './send';
import { createOutboxStore, type OutboxStore } from './store';
import type {
  DeliverySummary,
  DestinationDelay,
  DestinationHealth,
  Outbox,
  OutboxRecord,
  UnroutedDay,
} from './types';

export type * from './types';

export interface OutboxDeps {
  table: TableClient;
  /** Where the outbox keeps its items (default: the DynamoDB store on `table`; tests: an in-memory one). */
  store?: OutboxStore;
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
  /** A destination with only retryable failures and no 2xx for this long is degraded, ms (default 30 min). */
  degradedAfterMs?: number;
}

const DEFAULT_RECORD_MARGIN_MS = 5_000;
const DEFAULT_PARALLELISM = 16;
const DEFAULT_DEGRADED_AFTER_MS = 30 * 60_000;

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
    destinationsDegraded: [],
    allDestinationsDown: false,
    unrouted: 0,
  };
}

/** Creates the outbox of one namespace; the table client, HTTP leg, clock and sleep are the caller's. */
export function createOutbox(deps: OutboxDeps): Outbox {
  const { table, namespace, destinations, clock, log, random } = deps;
  const store = deps.store ?? createOutboxStore(table, namespace);
  const parallelism = deps.parallelism ?? DEFAULT_PARALLELISM;
  const requestTimeoutMs = deps.requestTimeoutMs ?? DEFAULT_HTTP_TIMEOUT_MS;
  const recordMarginMs = deps.recordMarginMs ?? DEFAULT_RECORD_MARGIN_MS;
  const policy = deps.policy ?? RETRY_POLICY;
  const degradedAfterMs = deps.degradedAfterMs ?? DEFAULT_DEGRADED_AFTER_MS;
  if (deps.leaseMs <= requestTimeoutMs + recordMarginMs)
    throw new AlertsError(
      `The delivery lease (${deps.leaseMs} ms) must outlast one send and its recording (${requestTimeoutMs + recordMarginMs} ms)`,
    );
  const configured = new Map(destinations.map((d) => [d.id, d]));
  // Ids this instance recorded with a delivery due and has not read back yet: the next run reads
  // them directly, since the due index may not show them yet (it is eventually consistent).
  const fresh = new Set<string>();
  // Alerts recorded with no route since the last run (the next run reports them), and the UTC days
  // whose no-route notice this instance has enqueued (so a day's later ones cost no write).
  let unrouted = 0;
  const noRouteDays = new Set<string>();

  async function enqueue(messages: readonly Message[]): Promise<{ created: string[]; existing: string[] }> {
    const now = clock();
    const unique = [...new Map(messages.map((m) => [m.id, m])).values()].map((original) => {
      const { deliveries, via } = route(original, destinations, now, deps.holdUntil);
      const message: Message =
        via === 'fallback' && 'taskRef' in original ? { ...original, noRoute: true } : original;
      return { message, deliveries, lost: via === 'no-route' && message.kind === 'alert' };
    });
    const lost = unique.filter((u) => u.lost).map((u) => u.message as AlertMessage);
    if (lost.length > 0 && !noRouteDays.has(utcDay(now))) {
      // Recorded before the alerts it is about: a crash in between cannot lose the day's notice.
      await enqueue([noRouteNotice(lost, now)]);
      noRouteDays.add(utcDay(now));
    }
    const outcomes = await mapBounded(unique, parallelism, async ({ message, deliveries }) => {
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
    const newlyLost = unique.filter((u, i) => u.lost && outcomes[i]).map((u) => u.message as AlertMessage);
    if (newlyLost.length > 0) await countLost(newlyLost, now);
    return {
      created: unique.filter((_, i) => outcomes[i]).map((u) => u.message.id),
      existing: unique.filter((_, i) => !outcomes[i]).map((u) => u.message.id),
    };
  }

  /** Alerts just recorded that no route matched and no fallback took: warned, counted for the run and the day. */
  async function countLost(alerts: readonly AlertMessage[], now: number): Promise<void> {
    unrouted += alerts.length;
    for (const a of alerts.slice(0, 10))
      log.warn(
        "An alert matched no destination's routing and reaches no one: add a route, or mark one destination fallback: true",
        { alert: a.id, status: a.status, host: a.task.hostName || a.task.hostId, scope: a.scope.id },
      );
    const last = alerts[alerts.length - 1]!;
    await store.countUnrouted(
      utcDay(now),
      alerts.length,
      now,
      alertInWords(last),
      ttlAfter(now, RETENTION.unroutedDays),
    );
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
    const streaks = new Map<string, StreakRow>(
      due.streaks.filter((s) => configured.has(s.destination)).map((s) => [s.destination, s]),
    );
    /** Fills in destination health and what went unrouted, as this run leaves them. */
    const finish = (): DeliverySummary => {
      const now = clock();
      summary.destinationsFailing = [...health.keys()].sort();
      summary.destinationsDegraded = [...streaks.values()]
        .filter((s) => !health.has(s.destination) && isDegraded(s, now))
        .map((s) => s.destination)
        .sort();
      const down = new Set([...summary.destinationsFailing, ...summary.destinationsDegraded]);
      summary.allDestinationsDown = destinations.length > 0 && destinations.every((d) => down.has(d.id));
      summary.unrouted = unrouted;
      unrouted = 0;
      return summary;
    };
    const unnoticed = [...health.values()].filter((h) => !h.noticed);
    const overdue = () => [...streaks.values()].filter((s) => needsDegradedNotice(s, health, clock()));
    if (due.ids.length === 0 && fresh.size === 0 && unnoticed.length === 0 && overdue().length === 0)
      return finish();
    if (start + requestTimeoutMs + recordMarginMs > deadline) {
      log.warn(
        'Delivery skipped: the deadline comes before a send could finish; what is due waits for the next run',
      );
      summary.stoppedEarly = true;
      return finish();
    }

    // Unique per run whatever the injected clock and random say (two runs sharing an owner would share the lease).
    const owner = randomUUID();
    if (!(await store.acquireLease(owner, start, deps.leaseMs))) {
      log.info('Another run holds the delivery lease: it sends what is due before it lets go');
      summary.leaseBusy = true;
      return finish();
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
      await updateHealth(runs, health, streaks, ctx);
    };

    try {
      await noticeUnnoticed(unnoticed, ctx);
      for (const streak of overdue()) await noticeDegraded(streak, health, ctx.clock());
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
    return finish();
  }

  /** A streak as long as the threshold: the destination is degraded. */
  function isDegraded(streak: StreakRow, now: number): boolean {
    return now - streak.since >= degradedAfterMs;
  }

  /** A degraded destination not failing permanently whose notice is not enqueued yet. */
  function needsDegradedNotice(
    streak: StreakRow,
    health: ReadonlyMap<string, HealthRow>,
    now: number,
  ): boolean {
    return !streak.noticed && isDegraded(streak, now) && !health.has(streak.destination);
  }

  /**
   * Enqueues the one degraded notice of a streak (to every other destination) when it is due, then
   * notes it on the streak: a crash in between repeats the (idempotent) enqueue.
   */
  async function noticeDegraded(
    streak: StreakRow,
    health: ReadonlyMap<string, HealthRow>,
    now: number,
  ): Promise<void> {
    const destination = configured.get(streak.destination);
    if (!destination || !needsDegradedNotice(streak, health, now)) return;
    log.error('A destination has delivered nothing for a while: the other destinations are told', {
      destination: destination.description,
      since: new Date(streak.since).toISOString(),
      error: streak.lastError,
    });
    await enqueue([degradedNotice(destination, streak, now)]);
    await store.markStreakNoticed(streak.destination);
    streak.noticed = true;
  }

  /**
   * Ends a retry streak after a 2xx: "delivers again" is enqueued (before the streak is removed) when
   * its degraded notice was, which a run that died before noting it may have done: then it looks.
   */
  async function endStreak(destination: Destination, streak: StreakRow, now: number): Promise<void> {
    let noticed = streak.noticed;
    if (!noticed && isDegraded(streak, now))
      noticed = (await store.getMessages([degradedNoticeId(destination.id, streak.since)], true)).length > 0;
    if (noticed) {
      await enqueue([deliversAgainNotice(destination, streak.since, now)]);
      log.info(`${displayName(destination)} delivers again`, { destination: destination.description });
    }
    await store.clearStreak(destination.id, streak.since);
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
    streaks: Map<string, StreakRow>,
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
        await updateStreak(run, health, streaks, now);
      } catch (err) {
        ctx.failures.push(err);
      }
    }
  }

  /**
   * After a round: a 2xx ends the destination's retry streak; a retryable failure starts one (or
   * notes its latest error), and a streak that reaches the threshold gets its degraded notice.
   */
  async function updateStreak(
    run: DestinationRun,
    health: ReadonlyMap<string, HealthRow>,
    streaks: Map<string, StreakRow>,
    now: number,
  ): Promise<void> {
    const { destination } = run;
    const error = run.retryError;
    const ok = run.answeredOk;
    // Each round reports only what happened since the last one.
    run.retryError = undefined;
    run.answeredOk = false;
    const known = streaks.get(destination.id);
    if (ok && known) {
      await endStreak(destination, known, now);
      streaks.delete(destination.id);
    }
    if (error === undefined) return;
    const current = streaks.get(destination.id);
    if (current?.lastError === error) return;
    const streak = await store.markRetrying(destination.id, now, error, ttlAfter(now, RETENTION.messageDays));
    streaks.set(destination.id, streak);
    await noticeDegraded(streak, health, now);
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

  async function delayedDestinations(): Promise<DestinationDelay[]> {
    const now = clock();
    return (await store.readStreaks())
      .filter((s) => configured.has(s.destination))
      .map(({ destination, since, lastError }) => ({
        destination,
        since,
        lastError,
        degraded: now - since >= degradedAfterMs,
      }));
  }

  async function unroutedAlerts(): Promise<UnroutedDay[]> {
    const now = clock();
    const days = new Set([utcDay(now), utcDay(now - 86_400_000)]);
    return (await store.readUnrouted())
      .filter((d) => days.has(d.day))
      .sort((a, b) => (a.day < b.day ? -1 : 1));
  }

  return {
    enqueue,
    deliver,
    failingDestinations,
    delayedDestinations,
    unroutedAlerts,
    pendingByDestination,
    get,
  };
}

function isWaiting(state: DeliveryState): boolean {
  return state.state === 'pending' || state.state === 'held';
}
