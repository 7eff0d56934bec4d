import type { Clock, Log } from '../log';
import type { AlertRef, DeliveryState, StateStore, StoredAlert } from '../state/store';
import type { Scope } from '../task';
import type { DeliveryOutcome, Notifier } from './types';

/** How deliveries are retried; all durations in ms. */
export interface RetryPolicy {
  /** First backoff after a retryable failure; doubles per attempt. */
  baseMs: number;
  maxMs: number;
  /** A delivery still failing this long after detection is given up (expired). */
  expireAfterMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  baseMs: 60_000,
  maxMs: 30 * 60_000,
  expireAfterMs: 24 * 3_600_000,
};

export interface DeliverySummary {
  /** Alert deliveries answered 2xx this poll (one per alert and destination). */
  sent: number;
  /** Retryable failures this poll (tried again on a later poll). */
  retrying: number;
  /** Permanent failures this poll (webhook gone, rejected payload): not retried. */
  failed: number;
  /** Deliveries given up this poll because they kept failing past `expireAfterMs`. */
  expired: number;
  /** Deliveries still pending after this poll. */
  pending: number;
  /** True when another poll held the delivery lease, so this one sent nothing. */
  leaseBusy: boolean;
}

export interface DeliverDeps {
  store: StateStore;
  notifiers: readonly Notifier[];
  clock: Clock;
  log: Log;
  random?: () => number;
}

export interface DeliverInput {
  scope: Scope;
  /** Alerts that may have deliveries due: just recorded, or pending from earlier polls. */
  candidates: readonly AlertRef[];
  /** Who is delivering (unique per poll run). */
  owner: string;
  /** Lease on the scope's deliveries; must exceed the longest a poll can run (the function timeout). */
  leaseMs: number;
  policy?: RetryPolicy;
}

/**
 * Sends every due delivery of `candidates`, at most once per poll across concurrent polls: the
 * stages are lease (one deliverer per scope) -> re-read (the index lags) -> expire -> send per
 * destination in parallel -> record each outcome as soon as its destination answers -> release.
 * A crash between sending and recording is the only way a notification can repeat. A failed write
 * (or a throwing notifier) is thrown once every other outcome is recorded and the lease released.
 */
export async function deliverPending(deps: DeliverDeps, input: DeliverInput): Promise<DeliverySummary> {
  const summary: DeliverySummary = {
    sent: 0,
    retrying: 0,
    failed: 0,
    expired: 0,
    pending: 0,
    leaseBusy: false,
  };
  if (input.candidates.length === 0) return summary;
  const { store, clock, log } = deps;
  const policy = input.policy ?? DEFAULT_RETRY_POLICY;
  const random = deps.random ?? Math.random;

  if (!(await store.acquireLease(input.scope, input.owner, clock(), input.leaseMs))) {
    log.info('Another poll holds the delivery lease: it sends what is pending before it lets go', {
      scope: input.scope,
    });
    summary.leaseBusy = true;
    return summary;
  }
  // One destination's failure (a throttled write, a notifier bug) must not abandon the others
  // mid-batch, nor the rest of its own batch: sends left unrecorded would repeat. Every outcome
  // that can be recorded is, the lease is released, and then the first failure is thrown.
  const failures: unknown[] = [];
  const save = async (record: StoredAlert, destination: string): Promise<void> => {
    try {
      await store.saveDelivery(input.scope, record, destination);
    } catch (err) {
      failures.push(err);
    }
  };

  const round = async (records: readonly StoredAlert[]): Promise<void> => {
    const now = clock();
    const settled = await Promise.allSettled(
      deps.notifiers.map(async (notifier) => {
        const due: StoredAlert[] = [];
        for (const record of records) {
          const state = record.deliveries[notifier.id];
          if (state?.state !== 'pending') continue;
          if (now - record.alert.detectedAt > policy.expireAfterMs) {
            record.deliveries[notifier.id] = { ...state, state: 'expired' };
            summary.expired += 1;
            log.error('Delivery expired: it kept failing and is given up', {
              destination: notifier.description,
              alertId: record.alert.id,
              attempts: state.attempts,
              lastError: state.lastError,
            });
            await save(record, notifier.id);
          } else if (state.nextAt <= now) {
            due.push(record);
          }
        }
        if (due.length === 0) return;
        // BatchGetItem returns items in no order: send oldest detections first, then by host name.
        due.sort(
          (a, b) =>
            a.alert.detectedAt - b.alert.detectedAt || compare(a.alert.task.hostName, b.alert.task.hostName),
        );
        // Each outcome is recorded as soon as it is known, before the next message goes out.
        const recorded = new Set<number>();
        const record = async (i: number, outcome: DeliveryOutcome): Promise<void> => {
          const alert = due[i];
          if (!alert || recorded.has(i)) return;
          recorded.add(i);
          const state = alert.deliveries[notifier.id]!;
          alert.deliveries[notifier.id] = nextState(state, outcome, clock(), policy, random);
          tally(summary, outcome);
          if (outcome.kind !== 'ok') {
            const level = outcome.kind === 'permanent' ? 'error' : 'warn';
            log[level](
              `Delivery ${outcome.kind === 'permanent' ? 'failed for good' : 'failed, will retry'}`,
              {
                destination: notifier.description,
                alertId: alert.alert.id,
                error: outcome.error,
              },
            );
          }
          await save(alert, notifier.id);
        };
        const outcomes = await notifier.deliver(
          due.map((r) => r.alert),
          record,
        );
        for (const i of due.keys()) {
          await record(i, outcomes[i] ?? { kind: 'retryable', error: 'notifier returned no outcome' });
        }
      }),
    );
    for (const s of settled) if (s.status === 'rejected') failures.push(s.reason);
  };

  const records = await store.getAlerts(input.scope, input.candidates, true);
  await round(records);
  // Alerts that an overlapping poll recorded while this one held the lease would otherwise wait
  // for the next tick: look once more before letting go.
  const seen = new Set(records.map((r) => r.alert.id));
  const late = (await store.readWorkingSet(input.scope)).pending;
  const lateRecords =
    late.length > 0
      ? (await store.getAlerts(input.scope, late, true)).filter((r) => !seen.has(r.alert.id))
      : [];
  if (lateRecords.length > 0) {
    records.push(...lateRecords);
    await round(lateRecords);
  }
  await store.releaseLease(input.scope, input.owner);
  if (failures.length > 0) throw failures[0];

  for (const record of records) {
    for (const [destination, state] of Object.entries(record.deliveries)) {
      if (state.state !== 'pending') continue;
      summary.pending += 1;
      if (!deps.notifiers.some((n) => n.id === destination)) {
        log.warn('A pending delivery names a destination that is no longer configured', { destination });
      }
    }
  }
  return summary;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function tally(summary: DeliverySummary, outcome: DeliveryOutcome): void {
  if (outcome.kind === 'ok') summary.sent += 1;
  else if (outcome.kind === 'retryable') summary.retrying += 1;
  else summary.failed += 1;
}

/** The delivery state after one attempt. Pure apart from `random` (backoff jitter). */
export function nextState(
  state: DeliveryState,
  outcome: DeliveryOutcome,
  now: number,
  policy: RetryPolicy,
  random: () => number,
): DeliveryState {
  const attempts = state.attempts + 1;
  if (outcome.kind === 'ok') return { state: 'done', attempts, nextAt: 0 };
  if (outcome.kind === 'permanent') return { state: 'failed', attempts, nextAt: 0, lastError: outcome.error };
  const backoff = Math.min(policy.maxMs, policy.baseMs * 2 ** (attempts - 1)) * (0.5 + random() / 2);
  return {
    state: 'pending',
    attempts,
    nextAt: now + Math.max(backoff, outcome.retryAfterMs ?? 0),
    lastError: outcome.error,
  };
}
