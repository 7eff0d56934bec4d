// `status`: is monitoring working? Per scope: when its check was last read whole, judged against the
// latency bound its schedule and the scopes sharing its call budget promise (never a fixed number),
// failures, a gap being read, lists left mid-way, follow-ups, open alerts; per destination: pending
// deliveries, permanent failures and degradation; alerts that matched no route; per credential: the
// call budget and a starvation streak. Exit 1 when monitoring is unhealthy. `--json` for scripts.
import type { App } from '../lib/app';
import { checkVerdict } from '../lib/diff/health';
import { inert } from '../lib/notify/inert';
import { boundsOf } from '../lib/poll/plan';
import { STARVED_POLLS } from '../lib/poll/settle';
import { durationText, utcMinute } from '../lib/wording';

/** The state of one scope, as `status --json` gives it. */
interface ScopeStatus {
  scope: string;
  healthy: boolean;
  why: string;
  /** How the window is read: `whole` (one unfiltered page) or `lists`. */
  plan: 'whole' | 'lists';
  /** When its check was last read whole (epoch ms; 0 = never), and the bound it is judged by (ms). */
  readWholeAt: number;
  boundMs: number;
  failing?: { since: number; polls: number; lastError: string };
  gapSince?: number;
  listsMidway: Array<{ list: string; offset: number }>;
  openAlerts: number;
  followUps: number;
}

/** The state of one destination. */
interface DestinationStatus {
  destination: string;
  state: 'ok' | 'FAILING' | 'DEGRADED';
  fallback: boolean;
  pending: number;
  failingSince?: number;
  undelivered?: number;
  nothingDeliveredSince?: number;
  lastError?: string;
}

/** What `status` found; `healthy` is its exit code's verdict. */
export interface StatusReport {
  at: number;
  healthy: boolean;
  scopes: ScopeStatus[];
  destinations: DestinationStatus[];
  unrouted: Array<{ day: string; alerts: number; lastAt: number; last: string; unhealthy: boolean }>;
  budgets: Array<{ credential: string; nextCallInMs: number; ratePerMinute: number; starvedPolls: number }>;
}

/** Reads everything `status` reports; writes nothing. */
async function statusReport(app: App): Promise<StatusReport> {
  const now = app.clock();
  const periodMs = app.config.periodSeconds * 1000;
  const states = await app.store.readStates(app.scopes.map((s) => s.id));
  const markers = await app.store.readMarkers();
  const checks = Math.max(1, Math.round((app.config.checksPerMinute * periodMs) / 60_000));
  const bounds = boundsOf(
    app.scopes,
    states,
    app.config.alertStatuses,
    app.config.ratePerMinute,
    periodMs,
    checks,
  );
  const scopes: ScopeStatus[] = [];
  for (const scope of app.scopes) {
    const s = states.get(scope.id)!;
    const boundMs = bounds.get(scope.id)!;
    const verdict = checkVerdict(s, now, boundMs, periodMs);
    scopes.push({
      scope: scope.id,
      healthy: verdict.healthy,
      why: verdict.why,
      plan: s.plan ?? 'whole',
      readWholeAt: s.watermark,
      boundMs,
      ...(s.health
        ? { failing: { since: s.health.since, polls: s.health.failures, lastError: s.health.lastError } }
        : {}),
      ...(s.gapSince ? { gapSince: s.gapSince } : {}),
      listsMidway: Object.entries(s.cursors)
        .filter(([list, c]) => list !== 'all' && (c?.offset ?? 0) > 0)
        .map(([list, c]) => ({ list, offset: c!.offset })),
      openAlerts: (await app.lifecycle.allOpen(scope.id)).length,
      followUps: s.followUps.length,
    });
  }
  const pending = await app.outbox.pendingByDestination();
  const failing = await app.outbox.failingDestinations();
  const delayed = await app.outbox.delayedDestinations();
  const destinations: DestinationStatus[] = app.destinations.map((d) => {
    const f = failing.find((x) => x.destination === d.id);
    const r = delayed.find((x) => x.destination === d.id);
    return {
      destination: d.description,
      state: f ? 'FAILING' : r?.degraded ? 'DEGRADED' : 'ok',
      fallback: d.takesUnrouted !== undefined,
      pending: pending[d.id] ?? 0,
      ...(f ? { failingSince: f.failingSince, undelivered: f.undelivered, lastError: f.lastError } : {}),
      ...(r && !f ? { nothingDeliveredSince: r.since, lastError: r.lastError } : {}),
    };
  });
  // Alerts that reached no one: unhealthy while no fallback destination would take the next ones.
  const fallback = app.destinations.some((d) => d.takesUnrouted);
  const unrouted = (await app.outbox.unroutedAlerts()).map((day) => ({
    ...day,
    unhealthy: now - day.lastAt < 24 * 3_600_000 && !fallback,
  }));
  const budgets = [];
  for (const credential of new Set(app.scopes.map((s) => s.credential))) {
    const next = await app.budget.nextSlot(credential);
    budgets.push({
      credential,
      nextCallInMs: Math.max(0, next - now),
      ratePerMinute: app.config.ratePerMinute,
      starvedPolls: markers.starved[credential]?.polls ?? 0,
    });
  }
  const healthy =
    scopes.every((s) => s.healthy) &&
    destinations.every((d) => d.state === 'ok') &&
    unrouted.every((u) => !u.unhealthy) &&
    budgets.every((b) => b.starvedPolls < STARVED_POLLS);
  return { at: now, healthy, scopes, destinations, unrouted, budgets };
}

/** The report as lines a person reads. */
function statusLines(r: StatusReport): string[] {
  const lines: string[] = [];
  const ago = (at: number) => `${utcMinute(at)} (${durationText(r.at - at)} ago)`;
  for (const s of r.scopes) {
    lines.push(`${s.healthy ? 'ok' : 'UNHEALTHY'}  ${s.scope}: ${s.why}`);
    lines.push(
      `    check (${s.plan === 'whole' ? 'one unfiltered page' : 'alert lists by status'}) last read whole: ${s.readWholeAt ? ago(s.readWholeAt) : 'never'}; promised within ${durationText(s.boundMs)}`,
    );
    if (s.failing)
      lines.push(
        `    failing since ${utcMinute(s.failing.since)}: ${s.failing.polls} polls, last error: ${s.failing.lastError}`,
      );
    if (s.gapSince) lines.push(`    reading a blind gap since ${utcMinute(s.gapSince)}`);
    for (const m of s.listsMidway) lines.push(`    ${m.list} list mid-way at record ${m.offset}`);
    lines.push(`    open alerts: ${s.openAlerts}; follow-ups pending: ${s.followUps}`);
  }
  for (const d of r.destinations) {
    lines.push(
      `${d.state}  ${d.destination}${d.fallback ? ' (fallback)' : ''}: ${d.pending} pending` +
        (d.failingSince !== undefined
          ? `; failing since ${utcMinute(d.failingSince)}: ${d.lastError}; ${d.undelivered} undelivered`
          : '') +
        (d.nothingDeliveredSince !== undefined
          ? `; nothing delivered since ${utcMinute(d.nothingDeliveredSince)} (${durationText(r.at - d.nothingDeliveredSince)}${d.state === 'DEGRADED' ? '' : ', retrying'}): ${d.lastError}`
          : ''),
    );
  }
  const fallback = r.destinations.some((d) => d.fallback);
  for (const u of r.unrouted) {
    lines.push(
      `${u.unhealthy ? 'NO ROUTE' : 'note'}  ${u.alerts} alert(s) of ${u.day} (UTC) matched no destination's routing and reached no one; the last at ${utcMinute(u.lastAt)}: ${inert(u.last)}` +
        (fallback ? '' : '; add a route, or mark one destination fallback: true'),
    );
  }
  for (const b of r.budgets) {
    const starved = b.starvedPolls >= STARVED_POLLS ? 'STARVED' : 'budget';
    lines.push(
      `${starved}  ${b.credential}: ${b.nextCallInMs === 0 ? 'a call may start now' : `next call in ${Math.ceil(b.nextCallInMs / 1000)} s`} (${b.ratePerMinute}/min)` +
        (b.starvedPolls > 0 ? `; no call could start in the last ${b.starvedPolls} poll(s)` : ''),
    );
  }
  lines.push(r.healthy ? 'monitoring is healthy' : 'monitoring is UNHEALTHY');
  return lines;
}

/** Runs `status [--json]`; exit 1 when monitoring is unhealthy. */
export async function statusCommand(app: App, out: (line: string) => void, json = false): Promise<number> {
  const report = await statusReport(app);
  if (json) out(JSON.stringify(report, null, 2));
  else for (const line of statusLines(report)) out(line);
  return report.healthy ? 0 : 1;
}
