// The fetch plan, pure: in what order a poll spends its HSS calls. Alert-status lists of every scope
// come before any in-flight sweep or follow-up; scopes that are mid-way through a long alert list or
// raised an alert recently go first, then the least recently read, so no scope starves. What is left
// goes to in-flight sweeps (least recently read list first) and follow-ups (least recently tried
// first), taken in turn so neither starves the other.
import type { KnownStatus } from '../model';
import { HOUR_MS } from '../retention';
import type { FollowUpRef, ScopeState } from '../state/scope-store';
import { IN_FLIGHT_STATUSES } from '../task';

/** Orders scope ids for the alert lists. */
export function alertOrder(
  states: ReadonlyArray<ScopeState>,
  alertStatuses: readonly KnownStatus[],
  now: number,
): string[] {
  const rank = (s: ScopeState): number => {
    const midway = alertStatuses.some((l) => (s.cursors[l]?.offset ?? 0) > 0);
    const recent = s.lastAlertAt > 0 && now - s.lastAlertAt < HOUR_MS;
    return midway || recent || s.health !== undefined || s.gapSince > 0 ? 0 : 1;
  };
  return [...states]
    .sort((a, b) => rank(a) - rank(b) || a.alertsReadAt - b.alertsReadAt || cmp(a.scopeId, b.scopeId))
    .map((s) => s.scopeId);
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
    if (s.health !== undefined) continue; // its alert lists are failing: spend nothing more on it
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
