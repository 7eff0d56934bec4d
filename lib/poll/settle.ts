// Phase 5, settle: what the poll learned becomes state and messages. Cursors are saved, each scope's
// health and watermark judged, a starved call budget noticed, the lifecycle planned; then, in this
// order so that a crash repeats instead of losing: every message is enqueued, the lifecycle's edits
// applied, the day counted, and last the digests, scope states and markers written.
import { checkVerdict, recordFailure, settleWatermark } from '../diff/health';
import { oneLine } from '../errors';
import { HssAuthError } from '../hss/errors';
import { planLifecycle } from './lifecycle';
import { downNotice, recoveredNotice, starvedNotice, unstarvedNotice } from './notices';
import { boundsOf } from './plan';
import { checkLists } from './read';
import type { PollRun, ScopeRun } from './run';

/** Polls in a row in which a credential's budget let no call start before it is an outage. */
export const STARVED_POLLS = 3;

/** Saves each scan's cursor; a cycle that continues next poll keeps the keys it saw aside. */
async function saveScans(run: PollRun, sr: ScopeRun, now: number): Promise<void> {
  for (const [list, scan] of sr.scans) {
    const saved = scan.save(now);
    sr.state.cursors[list] = saved.cursor;
    // The unfiltered list is read from its first page every time: a full one is not continued.
    if (saved.inProgress && list !== 'all') {
      run.summary.left.push({ scope: sr.scope.id, list, offset: saved.cursor.offset });
      const rows = sr.rows.get(list);
      if (rows && rows.size > 0)
        await run.effects.addSeen(sr.scope.id, list, scan.cycleStart, String(run.startedAt), rows, now);
    }
  }
}

/** A failed scope's streak grows (and is announced on its third poll); a read one may have recovered. */
function settleHealth(run: PollRun, sr: ScopeRun, now: number): void {
  const { state, scope } = sr;
  if (sr.failed) {
    const error = oneLine(sr.failed).slice(0, 1000);
    const { health, announce } = recordFailure(state.health, error, now);
    state.health = health;
    run.summary.scopesFailed.push({ scope: scope.id, error, auth: sr.failed instanceof HssAuthError });
    if (announce) {
      const notice = downNotice(scope, health, now);
      health.downNoticeId = notice.id;
      run.notices.push(notice);
    }
    return;
  }
  const lists = checkLists(run, sr);
  if (lists.every((l) => sr.scans.get(l)?.complete)) run.summary.scopesComplete += 1;
  const judged = settleWatermark(
    state,
    lists.map((l) => state.cursors[l]?.completedStart ?? 0),
  );
  state.watermark = judged.watermark;
  state.gapSince = judged.gapSince;
  state.gapFoundAt = judged.gapFoundAt;
  if (judged.health) state.health = judged.health;
  else delete state.health;
  if (judged.recovered) {
    const { health, blindSince } = judged.recovered;
    run.notices.push(recoveredNotice(scope, health, blindSince, sr.windowDays, now));
  }
}

/**
 * A credential that wanted calls and could start none, poll after poll: on the STARVED_POLLS-th
 * poll in a row monitoring is announced as NOT working (and the poll fails); the first poll that
 * starts a call ends the streak, with a "working again" notice if one was sent.
 */
function settleBudget(run: PollRun, now: number): void {
  const starved = run.markers.next.starved;
  for (const [name, c] of run.credentials) {
    const scopes = run.scopes.filter((s) => s.scope.credential === name).map((s) => s.scope);
    const streak = starved[name];
    if (c.calls > 0) {
      if (streak?.noticeId) run.notices.push(unstarvedNotice(name, scopes, streak, now));
      delete starved[name];
      continue;
    }
    if (!c.exhausted) continue;
    const next = streak ? { ...streak, polls: streak.polls + 1 } : { polls: 1, since: now };
    if (next.polls >= STARVED_POLLS) {
      run.summary.budgetStarved.push(name);
      if (!next.noticeId) {
        const notice = starvedNotice(name, scopes, next, now);
        next.noticeId = notice.id;
        run.notices.push(notice);
      }
    }
    starved[name] = next;
  }
}

/** How many scopes are blind now (not read whole within their bound and a period), and the longest wait. */
function judgeWatch(run: PollRun, now: number): void {
  const { periodMs, callsPerPoll, alertStatuses } = run.options;
  const rate = ((callsPerPoll ?? Infinity) * 60_000) / periodMs;
  const states = new Map(run.scopes.map((sr) => [sr.scope.id, sr.state]));
  const bounds = boundsOf(
    run.scopes.map((sr) => sr.scope),
    states,
    alertStatuses,
    rate,
    periodMs,
  );
  for (const sr of run.scopes) {
    if (!checkVerdict(sr.state, now, bounds.get(sr.scope.id)!, periodMs).healthy)
      run.summary.scopesBlind += 1;
    const since = sr.state.watermark > 0 ? sr.state.watermark : sr.state.firstPollAt;
    run.summary.detectionLagMs = Math.max(run.summary.detectionLagMs, now - since);
  }
}

/** Settles the poll: state and messages, written in crash-safe order. */
export async function settle(run: PollRun): Promise<void> {
  const { clock } = run.deps;
  for (const sr of run.scopes) {
    await saveScans(run, sr, clock());
    settleHealth(run, sr, clock());
  }
  settleBudget(run, clock());
  const now = clock();
  judgeWatch(run, now);
  const plan = await planLifecycle(run, now);
  await run.effects.enqueue([...plan.messages, ...run.notices]);
  await run.effects.applyLifecycle(plan.edits, now);
  await run.effects.countDay(plan.days, now);
  // A scope read this poll is written (its cursors moved): `status` judges it by when it was read
  // whole; one left alone writes nothing.
  for (const sr of run.scopes) {
    if (sr.digest) await run.effects.writeDigest(sr.digest, now);
    await run.effects.writeState(sr.state, sr.before, now);
  }
  await run.effects.writeMarkers(run.markers.next, run.markers.before, now);
}
