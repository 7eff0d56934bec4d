// `status`: is monitoring working? Per scope: the last poll that read its alert lists whole (the
// watermark), failures, lists left mid-way, follow-ups, open alerts; per destination: pending
// deliveries and permanent failures; the call budget. Exit 1 when monitoring is unhealthy.
import type { App } from '../lib/app';
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
  for (const d of app.destinations) {
    const f = failing.find((x) => x.destination === d.id);
    unhealthy ||= f !== undefined;
    out(
      `${f ? 'FAILING' : 'ok'}  ${d.description}: ${pending[d.id] ?? 0} pending` +
        (f
          ? `; failing since ${utcMinute(f.failingSince)}: ${f.lastError}; ${f.undelivered} undelivered`
          : ''),
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
