// The fetch plan, pure: in what order a poll spends its HSS calls. Alert-status lists of every scope
// come before any in-flight sweep or follow-up; lists mid-way through a long read go first, then the
// least recently read, so no scope starves; a scope that is failing comes after every healthy one.
// What is left goes to in-flight sweeps (least recently read list first) and follow-ups (least
// recently tried first), taken in turn so neither starves the other.
import type { KnownStatus } from '../model';
import type { FollowUpRef, ScopeState } from '../state/records';
import { IN_FLIGHT_STATUSES } from '../task';
import { HOUR_MS } from '../time';

/**
 * Orders the alert lists of every scope: healthy scopes before failing ones (a scope HSS keeps
 * failing must not hold up the others); then lists mid-way through a long read (an incident being
 * read), then the least recently read (per list, so a scope whose second list did not fit a poll is
 * first in line for it next time); among equals, scopes with a recent alert first. Recency never
 * jumps the queue: that keeps the promise of latencyBoundMs for every scope.
 */
export function alertOrder(
  states: ReadonlyArray<ScopeState>,
  alertStatuses: readonly KnownStatus[],
  now: number,
): Array<{ scopeId: string; list: KnownStatus }> {
  const pairs = states.flatMap((s) =>
    alertStatuses.map((list) => ({
      scopeId: s.scopeId,
      list,
      failing: s.health ? 1 : 0,
      midway: (s.cursors[list]?.offset ?? 0) > 0 ? 0 : 1,
      // A failing scope's last attempt counts as a read: failing scopes take turns.
      readAt: Math.max(s.cursors[list]?.readAt ?? 0, s.health?.lastAt ?? 0),
      recent: s.lastAlertAt > 0 && now - s.lastAlertAt < HOUR_MS ? 0 : 1,
    })),
  );
  pairs.sort(
    (a, b) =>
      a.failing - b.failing ||
      a.midway - b.midway ||
      a.readAt - b.readAt ||
      a.recent - b.recent ||
      cmp(a.scopeId, b.scopeId) ||
      alertStatuses.indexOf(a.list) - alertStatuses.indexOf(b.list),
  );
  return pairs.map(({ scopeId, list }) => ({ scopeId, list }));
}

/** One unit of leftover work. */
export type SweepJob =
  | { kind: 'sweep'; scopeId: string; list: KnownStatus }
  | { kind: 'follow-up'; scopeId: string; ref: FollowUpRef };

/** The leftover work in the order it is taken: sweeps and due follow-ups alternating. */
export function leftoverOrder(states: ReadonlyArray<ScopeState>, now: number): SweepJob[] {
  const sweeps: Array<{ job: SweepJob; readAt: number }> = [];
  const followUps: Array<{ job: SweepJob; dueAt: number; key: string }> = [];
  for (const s of states) {
    for (const list of IN_FLIGHT_STATUSES) {
      sweeps.push({ job: { kind: 'sweep', scopeId: s.scopeId, list }, readAt: s.cursors[list]?.readAt ?? 0 });
    }
    for (const ref of s.followUps) {
      if (ref.dueAt <= now) {
        followUps.push({
          job: { kind: 'follow-up', scopeId: s.scopeId, ref },
          dueAt: ref.dueAt,
          key: ref.key,
        });
      }
    }
  }
  sweeps.sort((a, b) => a.readAt - b.readAt || cmp(a.job.scopeId, b.job.scopeId));
  followUps.sort((a, b) => a.dueAt - b.dueAt || cmp(a.job.scopeId, b.job.scopeId) || cmp(a.key, b.key));
  const jobs: SweepJob[] = [];
  for (let i = 0; i < Math.max(sweeps.length, followUps.length); i++) {
    if (sweeps[i]) jobs.push(sweeps[i]!.job);
    if (followUps[i]) jobs.push(followUps[i]!.job);
  }
  return jobs;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * The scheduler's promise: the longest a new failure in any scope can wait to be read, when every
 * alert list fits one page. The alert lists of all scopes are read round-robin with the calls each
 * poll may make (`ratePerMinute` over the period), less the one call every `sweepEvery` polls keeps
 * for the in-flight sweep; a list comes round within `ceil(lists / calls per poll)` polls, plus the
 * poll in which the failure appears.
 */
export function latencyBoundMs(
  scopes: number,
  alertLists: number,
  ratePerMinute: number,
  periodMs: number,
  sweepEvery = 5,
): number {
  const callsPerPoll = Math.max(1, Math.floor((ratePerMinute * periodMs) / 60_000));
  const forAlerts = Math.max(0.5, callsPerPoll - 1 / sweepEvery);
  return (Math.ceil((scopes * alertLists) / forAlerts) + 1) * periodMs;
}
