// `status`: is monitoring working? Per scope: the last poll that read its alert lists whole (the
// watermark), failures, lists left mid-way, follow-ups, open alerts; per destination: pending
// deliveries, permanent failures and degradation (nothing delivered for a while); alerts that
// matched no route; the call budget. Exit 1 when monitoring is unhealthy.
import type { App } from '../lib/app';
import { inert } from '../lib/notify/inert';
import { durationText, utcMinute } from '../lib/wording';

export async function statusCommand(app: App, out: (line: string) => void): Promise<number> {
  const now = app.clock();
  const periodMs = app.config.periodSeconds * 1000;
  const states = await app.store.readStates(app.scopes.map((s) => s.id));
  let unhealthy = false;
  for (const scope of app.scopes) {
    const s = states.get(scope.id)!;
    const open = await app.lifecycle.allOpen(scope.id);
    const stale = s.watermark === 0 || now - s.watermark > 3 * periodMs + 15 * 60_000;
    const bad = s.health !== undefined || stale;
    unhealthy ||= bad;
    out(`${bad ? 'UNHEALTHY' : 'ok'}  ${scope.id}`);
    out(
      `    alert lists last read whole: ${s.watermark ? `${utcMinute(s.watermark)} (${durationText(now - s.watermark)} ago)` : 'never'}`,
    );
    if (s.health)
      out(
        `    failing since ${utcMinute(s.health.since)}: ${s.health.failures} polls, last error: ${s.health.lastError}`,
      );
    if (s.gapSince) out(`    reading a blind gap since ${utcMinute(s.gapSince)}`);
    const left = Object.entries(s.cursors).filter(([, c]) => (c?.offset ?? 0) > 0);
    for (const [list, c] of left) out(`    ${list} list mid-way at record ${c!.offset}`);
    out(`    open alerts: ${open.length}; follow-ups pending: ${s.followUps.length}`);
  }
  const pending = await app.outbox.pendingByDestination();
  const failing = await app.outbox.failingDestinations();
  const delayed = await app.outbox.delayedDestinations();
  for (const d of app.destinations) {
    const f = failing.find((x) => x.destination === d.id);
    const r = delayed.find((x) => x.destination === d.id);
    const state = f ? 'FAILING' : r?.degraded ? 'DEGRADED' : 'ok';
    unhealthy ||= state !== 'ok';
    out(
      `${state}  ${d.description}${d.takesUnrouted ? ' (fallback)' : ''}: ${pending[d.id] ?? 0} pending` +
        (f
          ? `; failing since ${utcMinute(f.failingSince)}: ${f.lastError}; ${f.undelivered} undelivered`
          : '') +
        (r && !f
          ? `; nothing delivered since ${utcMinute(r.since)} (${durationText(now - r.since)}${r.degraded ? '' : ', retrying'}): ${r.lastError}`
          : ''),
    );
  }
  // Alerts that reached no one: unhealthy while no fallback destination would take the next ones.
  const fallback = app.destinations.some((d) => d.takesUnrouted);
  for (const day of await app.outbox.unroutedAlerts()) {
    const recent = now - day.lastAt < 24 * 3_600_000;
    unhealthy ||= recent && !fallback;
    out(
      `${recent && !fallback ? 'NO ROUTE' : 'note'}  ${day.alerts} alert(s) of ${day.day} (UTC) matched no destination's routing and reached no one; the last at ${utcMinute(day.lastAt)}: ${inert(day.last)}` +
        (fallback ? '' : '; add a route, or mark one destination fallback: true'),
    );
  }
  for (const credential of new Set(app.scopes.map((s) => s.credential))) {
    const next = await app.budget.nextSlot(credential);
    out(
      `budget  ${credential}: ${next <= now ? 'a call may start now' : `next call in ${Math.ceil((next - now) / 1000)} s`} (${app.config.ratePerMinute}/min)`,
    );
  }
  out(unhealthy ? 'monitoring is UNHEALTHY' : 'monitoring is healthy');
  return unhealthy ? 1 : 0;
}
