// The send loop of one destination in one run: plan (due, expired), render the due batch into
// requests, and for each request: pace, check the lease and the deadline, sign, post, classify, and
// record the outcome of every message it covered before the next request goes out. A crash repeats
// at most the request in flight; a retryable or endpoint-wide failure stops the destination for
// this run and leaves the rest pending (not counted as attempts).
import { oneLine } from '../errors';
import type { Clock, Log, Sleep } from '../log';
import type { DeliveryOutcome, DeliveryState } from '../model';
import { classifyNetworkError, haltsBatch } from '../notify/classify';
import type { ChannelRequest, Destination } from '../notify/destination';
import type { PostJson } from '../notify/http';
import { mapBounded } from '../state/table-client';
import { RETENTION, ttlAfter } from '../state/layout';
import type { HealthRow, StoredRecord } from './items';
import type { LeaseGuard } from './lease';
import { nextSendAt } from './pacing';
import { nextState, planDestination, type RetryPolicy } from './plan';
import type { OutboxStore } from './store';
import type { DeliverySummary } from './types';

/** What every destination of one run shares. */
export interface RunContext {
  store: OutboxStore;
  lease: LeaseGuard;
  post: PostJson;
  clock: Clock;
  sleep: Sleep;
  log: Log;
  random: () => number;
  policy: RetryPolicy;
  /** Longest a request may take (the post timeout), ms. */
  requestTimeoutMs: number;
  /** Time kept after a request's timeout to record its outcome, ms. */
  recordMarginMs: number;
  /** DynamoDB writes in flight at once when recording a digest's outcomes. */
  parallelism: number;
  /** No request starts unless its timeout and margin end before this, epoch ms. */
  deadline: number;
  listsIncomplete: boolean;
  summary: DeliverySummary;
  /** Records whose due-index entry may be behind the table: reconciled at the end of the run. */
  stale: Set<StoredRecord>;
  /** DynamoDB failures, thrown once the run has recorded what it can and let go of the lease. */
  failures: unknown[];
}

/** One destination across the rounds of one run. */
export interface DestinationRun {
  destination: Destination;
  /** Start times of this run's requests (pacing). */
  sentAt: number[];
  /** Nothing more for this destination in this run. */
  stopped: boolean;
  /** At least one request was answered ok. */
  answeredOk: boolean;
  /** The endpoint refused permanently (401/403/404/410) this round: its health as recorded then. */
  failing?: HealthRow;
  /** Alerts of this run's batches it did not get because of the refusal. */
  undeliveredAlerts: number;
  /** The last retryable failure of this round (429, 5xx, network), until the outbox records the streak. */
  retryError?: string;
}

export function newDestinationRun(destination: Destination): DestinationRun {
  return {
    destination,
    sentAt: [],
    stopped: false,
    answeredOk: false,
    undeliveredAlerts: 0,
  };
}

/** Sends what is due to `run.destination` among `records`, expiring what is past the retry horizon. */
export async function sendRound(
  ctx: RunContext,
  run: DestinationRun,
  records: readonly StoredRecord[],
): Promise<void> {
  const { destination } = run;
  const plan = planDestination(records, destination.id, true, ctx.clock(), ctx.policy);
  if (plan.expire.length > 0) await expire(ctx, destination, plan.expire);
  if (run.stopped || plan.send.length === 0) return;

  const batch = plan.send;
  let requests: ChannelRequest[];
  try {
    requests = destination.render(
      batch.map((r) => r.message),
      {
        now: ctx.clock(),
        ...(ctx.listsIncomplete ? { listsIncomplete: true } : {}),
        ...(batch.some((r) => r.deliveries[destination.id]?.state === 'held') ? { released: true } : {}),
      },
    );
  } catch (err) {
    // A channel bug must not stop the others; its messages stay pending (and expire if it persists).
    ctx.log.error('Could not render messages for a destination', {
      destination: destination.description,
      messages: batch.length,
      error: oneLine(err),
    });
    run.stopped = true;
    return;
  }

  const uncovered =
    batch.length - new Set(requests.flatMap((r) => r.covers).filter((i) => batch[i] !== undefined)).size;
  if (uncovered > 0)
    // A channel bug: those messages stay pending for it (and expire); say so rather than lose them quietly.
    ctx.log.error('A destination rendered requests that leave messages out', {
      destination: destination.description,
      messages: uncovered,
    });

  const need = ctx.requestTimeoutMs + ctx.recordMarginMs;
  for (const request of requests) {
    if (run.stopped || ctx.lease.lost) break;
    const covered = [...new Set(request.covers)].map((i) => batch[i]).filter((r) => r !== undefined);
    if (covered.length === 0) continue;

    const at = nextSendAt(run.sentAt, destination.limits, ctx.clock());
    if (at + need > ctx.deadline) {
      stopEarly(ctx, run, 'the deadline comes before the next send could finish');
      break;
    }
    if (at > ctx.clock()) await ctx.sleep(at - ctx.clock());
    const now = ctx.clock();
    if (now + need > ctx.deadline) {
      stopEarly(ctx, run, 'the deadline comes before the next send could finish');
      break;
    }
    let held: boolean;
    try {
      held = await ctx.lease.cover(now + need);
    } catch (err) {
      ctx.failures.push(err);
      stopEarly(ctx, run, 'the lease could not be renewed');
      break;
    }
    if (!held) {
      stopEarly(ctx, run, 'the lease is lost or could not cover the send');
      break;
    }

    run.sentAt.push(ctx.clock());
    const { outcome, status } = await sendOne(ctx, destination, request);
    const halts =
      outcome.kind !== 'ok' && haltsBatch(status === undefined ? { outcome } : { outcome, status });
    if (halts && outcome.kind === 'permanent') {
      // The streak is written before the refused deliveries: a crash in between must not leave them
      // failed with no trace that the destination is gone (and so no notice).
      try {
        const refusedAt = ctx.clock();
        run.failing = await ctx.store.markFailing(
          destination.id,
          refusedAt,
          outcome.error,
          covered.length,
          ttlAfter(refusedAt, RETENTION.messageDays),
        );
      } catch (err) {
        ctx.failures.push(err);
        run.stopped = true;
        break;
      }
      run.undeliveredAlerts += batch.filter(
        (r) => r.message.kind === 'alert' && r.deliveries[destination.id]?.state !== 'done',
      ).length;
    }
    const recorded = await record(ctx, destination, covered, (state) =>
      nextState(state, outcome, ctx.clock(), ctx.random, ctx.policy),
    );
    tally(ctx.summary, outcome, covered.length);
    logOutcome(ctx.log, destination, outcome, covered);
    if (outcome.kind === 'retryable') run.retryError = outcome.error;
    if (!recorded || halts) {
      // A halting answer stops the destination for this run (do not hammer it); so does a failed
      // write: sending on while outcomes cannot be recorded would repeat every one of them later.
      run.stopped = true;
      break;
    }
    if (outcome.kind === 'ok') run.answeredOk = true;
  }
}

/** Deliveries to a destination no longer configured: looked at again later, expired at the horizon. */
export async function settleUnconfigured(
  ctx: RunContext,
  destinationId: string,
  records: readonly StoredRecord[],
): Promise<void> {
  const plan = planDestination(records, destinationId, false, ctx.clock(), ctx.policy);
  const described = { id: destinationId, description: `${destinationId} (not configured)` };
  if (plan.expire.length > 0) await expire(ctx, described, plan.expire);
  if (plan.defer.length === 0) return;
  ctx.log.warn(
    'Deliveries wait for a destination that is no longer configured: they expire unless it comes back',
    {
      destination: destinationId,
      messages: plan.defer.length,
    },
  );
  const nextAt = new Map(plan.defer.map((d) => [d.record, d.nextAt]));
  await record(ctx, described, [...nextAt.keys()], (state, r) => ({ ...state, nextAt: nextAt.get(r)! }));
}

async function expire(
  ctx: RunContext,
  destination: Pick<Destination, 'id' | 'description'>,
  records: readonly StoredRecord[],
): Promise<void> {
  ctx.summary.expired += records.length;
  ctx.log.error('Deliveries expired: they kept failing past the retry horizon and are given up', {
    destination: destination.description,
    messages: records.length,
    ids: records.slice(0, 10).map((r) => r.message.id),
    lastError: records[0]?.deliveries[destination.id]?.lastError,
  });
  await record(ctx, destination, records, (state) => ({ ...state, state: 'expired' }));
}

async function sendOne(
  ctx: RunContext,
  destination: Destination,
  request: ChannelRequest,
): Promise<{ outcome: DeliveryOutcome; status?: number }> {
  let signed: ChannelRequest;
  try {
    signed = destination.sign ? destination.sign(request, ctx.clock()) : request;
  } catch (err) {
    return { outcome: { kind: 'retryable', error: `could not sign the request: ${oneLine(err)}` } };
  }
  ctx.summary.requests += 1;
  let answer;
  try {
    answer = await ctx.post(signed.url, signed.body, {
      ...(signed.headers ? { headers: signed.headers } : {}),
      timeoutMs: ctx.requestTimeoutMs,
    });
  } catch (err) {
    return { outcome: classifyNetworkError(err) };
  }
  try {
    return { outcome: destination.classify(answer, ctx.clock()), status: answer.status };
  } catch (err) {
    return {
      outcome: {
        kind: 'retryable',
        error: `HTTP ${answer.status}: could not classify the answer: ${oneLine(err)}`,
      },
      status: answer.status,
    };
  }
}

/**
 * Moves the delivery of `destination` of each record to `next(state)` and writes them (bounded
 * parallelism); false when a write failed (the failure is kept for the end of the run).
 */
async function record(
  ctx: RunContext,
  destination: Pick<Destination, 'id'>,
  records: readonly StoredRecord[],
  next: (state: DeliveryState, record: StoredRecord) => DeliveryState,
): Promise<boolean> {
  let ok = true;
  await mapBounded(records, ctx.parallelism, async (r) => {
    const state = r.deliveries[destination.id];
    if (!state) return;
    r.deliveries[destination.id] = next(state, r);
    try {
      const result = await ctx.store.saveDelivery(r, destination.id);
      if (result === 'index-stale') ctx.stale.add(r);
    } catch (err) {
      ok = false;
      ctx.stale.add(r);
      ctx.failures.push(err);
    }
  });
  return ok;
}

function stopEarly(ctx: RunContext, run: DestinationRun, why: string): void {
  run.stopped = true;
  if (!ctx.summary.stoppedEarly)
    ctx.log.warn(`Delivery stopped early: ${why}; the rest stays pending for the next run`, {
      destination: run.destination.description,
    });
  ctx.summary.stoppedEarly = true;
}

function tally(summary: DeliverySummary, outcome: DeliveryOutcome, deliveries: number): void {
  if (outcome.kind === 'ok') summary.sent += deliveries;
  else if (outcome.kind === 'retryable') summary.retrying += deliveries;
  else summary.failed += deliveries;
}

function logOutcome(
  log: Log,
  destination: Destination,
  outcome: DeliveryOutcome,
  covered: readonly StoredRecord[],
): void {
  if (outcome.kind === 'ok') return;
  const extra = {
    destination: destination.description,
    messages: covered.length,
    ids: covered.slice(0, 10).map((r) => r.message.id),
    error: outcome.error,
  };
  if (outcome.kind === 'permanent') log.error('Delivery failed for good', extra);
  else log.warn('Delivery failed, will retry', extra);
}
