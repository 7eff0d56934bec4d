// Pure judgments of a scope's health, clock passed in: how wide its window must be to read a blind
// gap, when failed polls make monitoring "NOT working", and when reading the lists whole again
// makes it work again. Each returns the scope state's next values; the caller builds the notices.
// Table-tested in test/diff/health.test.ts.
import type { ScopeHealth, ScopeState } from '../state/records';
import { MAX_WINDOW_DAYS } from '../state/layout';
import { DAY_MS, HOUR_MS } from '../time';

/** Consecutive failed polls of a scope after which destinations hear that monitoring is not working. */
export const FAILURE_THRESHOLD = 3;

/** The window of a scope's check this poll, and whether a gap is being read. */
export interface GapWindow {
  /** Window of the check, days (`lastDays`, or wider to read a gap). */
  days: number;
  /** Blind since (epoch ms) while a gap is read; 0 = no gap. */
  gapSince: number;
  /** When the gap was found; 0 = no gap. */
  gapFoundAt: number;
  /** A gap longer than the API's 30 days was found for this blind start: announce a possible loss. */
  possibleLoss: boolean;
}

/**
 * The window of a scope's check at `now`: `lastDays`, or wider (up to the API's 30 days) when
 * monitoring has been blind for longer than the window since the lists were last read whole (a
 * margin of two periods and 10 minutes: a poll that read them a moment ago is no gap). Pure.
 */
export function gapWindow(
  state: Pick<ScopeState, 'gapSince' | 'gapFoundAt' | 'watermark' | 'lossNoticeFor'>,
  now: number,
  lastDays: number,
  periodMs: number,
): GapWindow {
  const blindSince = state.gapSince > 0 ? state.gapSince : state.watermark;
  const none = { days: lastDays, gapSince: 0, gapFoundAt: 0, possibleLoss: false };
  if (blindSince <= 0) return none;
  const gapMs = now - blindSince;
  if (gapMs <= lastDays * DAY_MS - 2 * periodMs - 10 * 60_000) return none;
  return {
    days: Math.min(MAX_WINDOW_DAYS, Math.max(lastDays, Math.ceil((gapMs + HOUR_MS) / DAY_MS))),
    gapSince: blindSince,
    gapFoundAt: state.gapSince > 0 ? state.gapFoundAt : now,
    possibleLoss: gapMs + HOUR_MS > MAX_WINDOW_DAYS * DAY_MS && state.lossNoticeFor !== blindSince,
  };
}

/**
 * A scope whose check failed at `now` with `error`: its failure streak grows, and on the
 * FAILURE_THRESHOLD-th failure in a row (with no notice yet) monitoring is announced as NOT working.
 */
export function recordFailure(
  health: ScopeHealth | undefined,
  error: string,
  now: number,
): { health: ScopeHealth; announce: boolean } {
  const next: ScopeHealth = health
    ? { ...health, failures: health.failures + 1, lastAt: now, lastError: error }
    : { failures: 1, since: now, lastAt: now, lastError: error };
  return { health: next, announce: next.failures >= FAILURE_THRESHOLD && !next.downNoticeId };
}

/** What reading a scope's lists says about its watermark, gap and health. */
export interface WatermarkJudgment {
  /** Start of the oldest of the check's last complete cycles (never moves back), epoch ms; 0 = never. */
  watermark: number;
  gapSince: number;
  gapFoundAt: number;
  /** The scope's failure streak, undefined once it has recovered. */
  health: ScopeHealth | undefined;
  /** It recovered now after a "NOT working" notice: announce, saying it was blind since `blindSince`. */
  recovered?: { health: ScopeHealth; blindSince: number };
}

/**
 * Settles a scope after its cursors were saved: `completedStarts` are the starts of the last
 * complete cycles of the lists that make up its check. The watermark is the oldest of them. A gap
 * is read once every list completed a cycle started after it was found; a failing scope has
 * recovered once every list completed a cycle started after its last failure, and its gap is read.
 */
export function settleWatermark(
  state: Pick<ScopeState, 'watermark' | 'gapSince' | 'gapFoundAt' | 'health'>,
  completedStarts: readonly number[],
): WatermarkJudgment {
  const same: WatermarkJudgment = {
    watermark: state.watermark,
    gapSince: state.gapSince,
    gapFoundAt: state.gapFoundAt,
    health: state.health,
  };
  const watermark = completedStarts.length === 0 ? 0 : Math.min(...completedStarts);
  if (watermark <= 0) return same;
  const blindSince = state.gapSince > 0 ? state.gapSince : state.watermark;
  const gapRead = state.gapSince > 0 && watermark >= state.gapFoundAt;
  const out: WatermarkJudgment = {
    watermark: Math.max(state.watermark, watermark),
    gapSince: gapRead ? 0 : state.gapSince,
    gapFoundAt: gapRead ? 0 : state.gapFoundAt,
    health: state.health,
  };
  const health = state.health;
  if (!health || watermark < health.lastAt || out.gapSince > 0) return out;
  out.health = undefined;
  if (health.downNoticeId) out.recovered = { health, blindSince: blindSince > 0 ? blindSince : health.since };
  return out;
}

/** What `status` says of one scope. */
export interface CheckVerdict {
  healthy: boolean;
  /** Why, in a few words (`read whole 2 min ago`, `not read whole for 12 min, promised within 3 min`). */
  why: string;
}

/**
 * Whether a scope is watched as promised at `now`: its check was read whole within `boundMs` (the
 * latency bound its schedule and the scopes sharing its call budget allow) and one period more (a
 * poll is running), and it is not failing poll after poll. A scope not read whole yet is given the
 * same time from its first poll. Pure.
 */
export function checkVerdict(
  state: Pick<ScopeState, 'watermark' | 'firstPollAt' | 'health'>,
  now: number,
  boundMs: number,
  periodMs: number,
): CheckVerdict {
  const allowed = boundMs + periodMs;
  if (state.health && state.health.failures >= FAILURE_THRESHOLD)
    return { healthy: false, why: `failing for ${state.health.failures} polls` };
  if (state.watermark > 0) {
    const age = now - state.watermark;
    return age <= allowed
      ? { healthy: true, why: `read whole ${Math.round(age / 1000)} s ago` }
      : {
          healthy: false,
          why: `not read whole for ${Math.round(age / 60_000)} min, promised within ${Math.round(allowed / 60_000)} min`,
        };
  }
  if (state.firstPollAt === 0) return { healthy: false, why: 'never polled' };
  const since = now - state.firstPollAt;
  return since <= allowed
    ? { healthy: true, why: 'first read in progress' }
    : { healthy: false, why: `never read whole in ${Math.round(since / 60_000)} min of polling` };
}
