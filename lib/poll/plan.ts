// The fetch plan, pure: in what order a poll spends its HSS calls. The check of every scope (its one
// unfiltered page while its window fits a page, else its alert-status lists) comes before anything
// else; lists mid-way through a long read go first, then the least recently read, so no scope
// starves; a scope that is failing comes after every healthy one. What is left goes, in turn, to the
// in-flight sweeps of large scopes (least recently read first), follow-ups (earliest due first),
// asking by host name after open alerts' hosts, and probing whether a large scope fits a page again.
import type { KnownStatus, ListName } from '../model';
import type { FollowUpRef, ScopeState } from '../state/records';
import { IN_FLIGHT_STATUSES } from '../task';
import { HOUR_MS } from '../time';

/** How often a large scope asks HSS by host name after the hosts of its open alerts (a later success resolves them). */
export const ASK_EVERY_MS = 5 * 60_000;
/** How often a large scope tries one unfiltered page to see whether its window fits a page again. */
export const PROBE_EVERY_MS = 30 * 60_000;

/** The lists a scope's check reads whole: `all` while its window fits a page, else the alert lists. */
export function checkListsOf(state: ScopeState, alertStatuses: readonly KnownStatus[]): readonly ListName[] {
  return state.plan === 'lists' ? alertStatuses : ['all'];
}

/**
 * Orders the check lists of every scope: healthy scopes before failing ones (a scope HSS keeps
 * failing must not hold up the others); then lists mid-way through a long read (an incident being
 * read), then the least recently read (per list, so a scope whose second list did not fit a poll is
 * first in line for it next time); among equals, scopes with a recent alert first. Recency never
 * jumps the queue: that keeps the promise of latencyBoundMs for every scope.
 */
export function checkOrder(
  states: ReadonlyArray<ScopeState>,
  alertStatuses: readonly KnownStatus[],
  now: number,
): Array<{ scopeId: string; list: ListName }> {
  const pairs = states.flatMap((s) =>
    checkListsOf(s, alertStatuses).map((list) => ({
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
      cmp(a.list, b.list),
  );
  return pairs.map(({ scopeId, list }) => ({ scopeId, list }));
}

/** One unit of leftover work. */
export type SweepJob =
  | { kind: 'sweep'; scopeId: string; list: KnownStatus }
  | { kind: 'follow-up'; scopeId: string; ref: FollowUpRef }
  | { kind: 'ask'; scopeId: string }
  | { kind: 'probe'; scopeId: string };

/**
 * The leftover work in the order it is taken: the in-flight sweeps of large scopes, due follow-ups,
 * asking after open alerts' hosts (large scopes, every ASK_EVERY_MS) and probing (large scopes, every
 * PROBE_EVERY_MS), one of each kind in turn so that none starves the others.
 */
export function leftoverOrder(states: ReadonlyArray<ScopeState>, now: number): SweepJob[] {
  const sweeps: Array<{ job: SweepJob; at: number }> = [];
  const followUps: Array<{ job: SweepJob; at: number; key: string }> = [];
  const asks: Array<{ job: SweepJob; at: number }> = [];
  const probes: Array<{ job: SweepJob; at: number }> = [];
  for (const s of states) {
    const large = s.plan === 'lists';
    if (large) {
      for (const list of IN_FLIGHT_STATUSES)
        sweeps.push({ job: { kind: 'sweep', scopeId: s.scopeId, list }, at: s.cursors[list]?.readAt ?? 0 });
      if (s.mayHaveOpen && now - (s.askedAt ?? 0) >= ASK_EVERY_MS)
        asks.push({ job: { kind: 'ask', scopeId: s.scopeId }, at: s.askedAt ?? 0 });
      if (now - (s.probedAt ?? 0) >= PROBE_EVERY_MS)
        probes.push({ job: { kind: 'probe', scopeId: s.scopeId }, at: s.probedAt ?? 0 });
    }
    for (const ref of s.followUps) {
      if (ref.dueAt <= now)
        followUps.push({ job: { kind: 'follow-up', scopeId: s.scopeId, ref }, at: ref.dueAt, key: ref.key });
    }
  }
  const byAt = (a: { job: SweepJob; at: number }, b: { job: SweepJob; at: number }) =>
    a.at - b.at || cmp(a.job.scopeId, b.job.scopeId);
  sweeps.sort(byAt);
  followUps.sort((a, b) => byAt(a, b) || cmp(a.key, b.key));
  asks.sort(byAt);
  probes.sort(byAt);
  const kinds = [sweeps, followUps, asks, probes];
  const jobs: SweepJob[] = [];
  for (let i = 0; i < Math.max(...kinds.map((k) => k.length)); i++)
    for (const kind of kinds) if (kind[i]) jobs.push(kind[i]!.job);
  return jobs;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * The scheduler's promise: the longest a new failure in any scope can wait to be read. The checks of
 * all scopes are read round-robin with the calls each poll may make (`ratePerMinute` over the
 * period). A scope whose window fits a page is checked with one call: when every scope gets its call
 * each poll, within one period; otherwise a scope comes round within `ceil(scopes / calls per poll)`
 * polls, plus the poll in which the failure appears. A large scope (`lists`: `alertLists` calls a
 * check) shares its calls with the one call every `sweepEvery` polls keeps for its in-flight sweep.
 */
export function latencyBoundMs(
  scopes: number,
  plan: 'whole' | { alertLists: number },
  ratePerMinute: number,
  periodMs: number,
  sweepEvery = 5,
): number {
  const callsPerPoll = Math.max(1, Math.floor((ratePerMinute * periodMs) / 60_000));
  if (plan === 'whole')
    return scopes <= callsPerPoll ? periodMs : (Math.ceil(scopes / callsPerPoll) + 1) * periodMs;
  const forAlerts = Math.max(0.5, callsPerPoll - 1 / sweepEvery);
  return (Math.ceil((scopes * plan.alertLists) / forAlerts) + 1) * periodMs;
}

/**
 * The latency bound of each scope, by scope id: what its schedule and the scopes sharing its
 * credential's call budget allow (latencyBoundMs), with every large scope of the credential counted
 * as large. With several checks a minute, a credential whose scopes all get a call every check is
 * bound by the check spacing.
 */
export function boundsOf(
  scopes: ReadonlyArray<{ id: string; credential: string }>,
  states: ReadonlyMap<string, Pick<ScopeState, 'plan'>>,
  alertStatuses: readonly KnownStatus[],
  ratePerMinute: number,
  periodMs: number,
  checksPerPeriod = 1,
): Map<string, number> {
  const out = new Map<string, number>();
  for (const credential of new Set(scopes.map((s) => s.credential))) {
    const mine = scopes.filter((s) => s.credential === credential);
    const large = mine.some((s) => states.get(s.id)?.plan === 'lists');
    const bound = large
      ? latencyBoundMs(mine.length, { alertLists: alertStatuses.length }, ratePerMinute, periodMs)
      : mine.length * checksPerPeriod <= Math.floor((ratePerMinute * periodMs) / 60_000)
        ? periodMs / checksPerPeriod
        : latencyBoundMs(mine.length, 'whole', ratePerMinute, periodMs);
    for (const s of mine) out.set(s.id, bound);
  }
  return out;
}
