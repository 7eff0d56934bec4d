// Phase 1, prepare: read what the poll starts from (every scope's state, the deployment markers,
// the silences), size each scope's window (wider to read a blind gap) and build the run.
import { gapWindow } from '../diff/health';
import { emptyDeliverySummary } from '../outbox';
import { liveEffects, recordingEffects } from './effects';
import { possibleLossNotice } from './notices';
import {
  PAGE_SIZE,
  type PollDeps,
  type PollOptions,
  type PollRun,
  type PollSummary,
  type ScopeRun,
} from './run';

function emptySummary(scopes: number): PollSummary {
  return {
    scopes,
    scopesComplete: 0,
    scopesFailed: [],
    tasksSeen: 0,
    changes: 0,
    alertsNew: 0,
    alertsByStatus: {},
    scopesBlind: 0,
    detectionLagMs: 0,
    pagesRead: 0,
    pagesUnchanged: 0,
    recordsRejected: 0,
    recordsDuplicated: 0,
    followUps: { tried: 0, ended: 0, lostTrack: 0, due: 0 },
    widened: [],
    left: [],
    outOfTime: false,
    budgetStarved: [],
    hssCalls: 0,
    hssThrottled: 0,
    delivery: emptyDeliverySummary(),
    lifecycle: { silenced: 0, released: 0, resolved: 0, reminders: 0 },
    dynamoRequests: 0,
    readCapacity: 0,
    writeCapacity: 0,
    durationMs: 0,
  };
}

/** Reads the starting state and builds the run; writes nothing. */
export async function prepare(deps: PollDeps, options: PollOptions): Promise<PollRun> {
  const startedAt = deps.clock();
  const dynamo = deps.dynamoStats?.() ?? { requests: 0, readCapacity: 0, writeCapacity: 0 };
  const [states, markers, silences] = await Promise.all([
    deps.store.readStates(options.scopes.map((s) => s.id)),
    deps.store.readMarkers(),
    deps.lifecycle.listSilences(),
  ]);
  const run: PollRun = {
    deps,
    options,
    effects: options.dryRun ? recordingEffects(deps) : liveEffects(deps),
    startedAt,
    pageSize: options.pageSize ?? PAGE_SIZE,
    stuck: {
      afterMs: options.lifecycle.stuckAfterMinutes * 60_000,
      maxMs: options.lifecycle.stuckMaxHours * 3_600_000,
    },
    scopes: [],
    byId: new Map(),
    credentials: new Map(),
    silences,
    markers: { before: markers, next: structuredClone(markers) },
    life: { succeeded: new Map(), ended: new Map(), raised: [] },
    notices: [],
    summary: emptySummary(options.scopes.length),
    lastDelivery: 0,
    baseline: { reader: { ...deps.reader.stats }, dynamo },
  };
  if (run.markers.next.since === 0) run.markers.next.since = startedAt;
  for (const scope of options.scopes) {
    const before = states.get(scope.id)!;
    const state = structuredClone(before);
    if (state.firstPollAt === 0) state.firstPollAt = startedAt;
    const gap = gapWindow(state, startedAt, options.lastDays, options.periodMs);
    state.gapSince = gap.gapSince;
    state.gapFoundAt = gap.gapFoundAt;
    if (gap.gapSince > 0) {
      run.summary.widened.push({ scope: scope.id, days: gap.days, blindSince: gap.gapSince });
    }
    if (gap.possibleLoss) {
      state.lossNoticeFor = gap.gapSince;
      run.notices.push(possibleLossNotice(scope, gap.gapSince, startedAt));
    }
    const scopeRun: ScopeRun = {
      scope,
      before,
      state,
      windowDays: gap.days,
      scans: new Map(),
      inFlightSeen: new Set(),
      calls: 0,
      observed: new Map(),
      rows: new Map(),
      cycleRows: new Map(),
      sketches: new Map(),
    };
    run.scopes.push(scopeRun);
    run.byId.set(scope.id, scopeRun);
  }
  return run;
}
