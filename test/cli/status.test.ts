// `status` is honest about delivery (issue 18 #1, #2), on the whole product (createApp, the HSS
// emulator, dynalite, local sinks) on a virtual clock: a destination that has delivered nothing for
// DESTINATION_DEGRADED_AFTER_MINUTES is DEGRADED (exit 1) until it delivers again, brief outages never
// are; alerts no route matched are shown (exit 1 while no fallback destination would take the next).
import { statusCommand } from '../../cli/status';
import type { App } from '../../lib/app';
import type { GlobFilter } from '../../lib/notify/routing';
import { useEngine } from '../support/engines';
import { HOUR, MIN, openWorld, record, T0, type World } from '../e2e/world';

jest.setTimeout(120_000);

const engine = useEngine('dynalite');
let world: World | undefined;
afterEach(async () => {
  await world?.close();
  world = undefined;
});

async function status(app: App) {
  const lines: string[] = [];
  const code = await statusCommand(app, (l) => lines.push(l));
  return { code, lines, text: lines.join('\n') };
}

/** Polls (one per tick) until the clock reaches `until`, calling `each` before every poll. */
async function pollUntil(w: World, until: number, each: () => Promise<void> | void = () => undefined) {
  const summaries = [];
  while (w.clock() < until) {
    await each();
    summaries.push(await w.tick());
  }
  return summaries;
}

const webhookNotices = (w: World) =>
  w.sinks
    .webhook!.received.map((r) => r.json as { type?: string; summary?: string })
    .filter((j) => j.type?.startsWith('hss.monitoring.'))
    .map((j) => j.type!.replace('hss.monitoring.', ''));

const hosts = (...include: string[]): GlobFilter => ({ include, exclude: [] });

describe('status and delivery health', () => {
  it('says DEGRADED (exit 1) at 6, 23 and 26 hours while Slack answers 503 and the webhook works, and healthy once Slack delivers again', async () => {
    // Prepare: a poll every 15 minutes; Slack answers 503 to everything for 26 hours.
    world = await openWorld({ engine, periodSeconds: 900 });
    const w = world;
    w.tasks.push(record('web-01', 'failed', T0 - HOUR));
    w.sinks.slack!.failNext({ kind: 'status', status: 503, body: 'service unavailable' }, 100_000);

    // Act
    const checks = [];
    for (const hour of [6, 23, 26]) {
      await pollUntil(w, T0 + hour * HOUR);
      checks.push(await status(w.app));
    }
    w.sinks.slack!.clearFaults();
    w.tasks.push(record('web-02', 'failed', w.clock() - MIN));
    const back = await w.tick();
    const after = await status(w.app);

    // Assess
    for (const check of checks) {
      expect(check.code).toBe(1);
      expect(check.lines).toContainEqual(
        expect.stringMatching(
          /^DEGRADED {2}slack http:\/\/127\.0\.0\.1:\d+\/…: \d+ pending; nothing delivered since 2026-11-27 12:00 UTC \(.*\): HTTP 503/,
        ),
      );
      expect(check.lines).toContainEqual(expect.stringMatching(/^ok {2}webhook /));
      expect(check.lines).toContain('monitoring is UNHEALTHY');
    }
    expect(webhookNotices(w)).toEqual(['destination-degraded', 'destination-recovered']);
    expect(back.delivery).toMatchObject({ destinationsDegraded: [], allDestinationsDown: false });
    expect(after.code).toBe(0);
    expect(after.lines).toContain('monitoring is healthy');
  });

  it('never says DEGRADED through half a day of polls with a 10-minute Slack outage every 6 hours', async () => {
    // Prepare
    world = await openWorld({ engine, periodSeconds: 300 });
    const w = world;
    w.tasks.push(record('web-01', 'failed', T0 - HOUR));

    // Act: a new failure every hour; Slack answers 503 for 10 minutes every 6 hours; status every hour.
    const destinationLines: string[][] = [];
    const codes: number[] = [];
    let polls = 0;
    for (let h = 1; h <= 12; h += 1) {
      await pollUntil(w, T0 + h * HOUR, () => {
        polls += 1;
        const minute = Math.round((w.clock() - T0) / MIN);
        if (minute % 360 === 60) w.sinks.slack!.failNext({ kind: 'status', status: 503 }, 2);
        if (minute % 60 === 0) w.tasks.push(record(`web-${minute}`, 'failed', w.clock() - MIN));
      });
      const check = await status(w.app);
      codes.push(check.code);
      destinationLines.push(check.lines.filter((l) => / (slack|webhook) http/.test(l)));
    }

    // Assess: the outages happened, and every check found both destinations ok and monitoring healthy.
    expect(polls).toBe(144);
    expect(codes).toEqual(codes.map(() => 0));
    expect(w.sinks.slack!.attempts.filter((r) => r.status === 503)).toHaveLength(4);
    expect(destinationLines.flat()).toHaveLength(24);
    expect(destinationLines.flat().filter((l) => !l.startsWith('ok  '))).toEqual([]);
    expect(webhookNotices(w)).toEqual([]);
  });

  it('routes DB-01 by db-* whatever the case, counts cache-01 that no route matched (exit 1), and sends it to a fallback once there is one', async () => {
    // Prepare: the issue's file: web-* to Slack, db-* to the webhook.
    world = await openWorld({ engine });
    const w = world;
    const [slack, webhook] = w.config.destinations;
    slack!.routing = { hosts: hosts('web-*') };
    webhook!.routing = { hosts: hosts('db-*') };
    const routed = w.newApp();
    w.tasks.push(
      record('web-01', 'failed', T0 - HOUR),
      record('DB-01', 'failed', T0 - HOUR),
      record('cache-01', 'failed', T0 - HOUR),
    );

    // Act
    const poll = await w.tick(routed);
    const unrouted = await status(routed);
    // Then Slack becomes the fallback and another cache host fails.
    slack!.routing = { hosts: hosts('web-*'), fallback: true };
    const withFallback = w.newApp();
    w.tasks.push(record('cache-02', 'failed', w.clock() - MIN));
    const next = await w.tick(withFallback);
    const fixed = await status(withFallback);

    // Assess
    expect(poll).toMatchObject({ alertsNew: 3, delivery: { unrouted: 1 } });
    const webhookHosts = w.sinks
      .webhook!.received.map((r) => r.json as { type?: string; task?: { host_name?: string } })
      .filter((j) => j.type === 'hss.task.status_alert')
      .map((j) => j.task?.host_name);
    expect(webhookHosts).toEqual(['DB-01']);
    expect(webhookNotices(w)).toEqual(['no-route']);
    expect(unrouted.code).toBe(1);
    expect(unrouted.lines).toContainEqual(
      expect.stringMatching(
        /^NO ROUTE {2}1 alert\(s\) of 2026-11-27 \(UTC\) matched no destination's routing and reached no one; the last at 2026-11-27 12:00 UTC: failed cache-01 \(backup nightly\) in cn-north-4\/demo-project\/0; add a route, or mark one destination fallback: true$/,
      ),
    );
    expect(next.delivery.unrouted).toBe(0);
    const slackTexts = w.sinks.slack!.received.map((r) => w.sinks.slack!.visibleText(r));
    expect(slackTexts.filter((t) => t.includes('cache-02'))).toEqual([
      expect.stringContaining("no destination's routing matched: sent here, to the fallback destination"),
    ]);
    expect(fixed.code).toBe(0);
    expect(fixed.lines).toContainEqual(expect.stringMatching(/^ok {2}slack .* \(fallback\): 0 pending$/));
    expect(fixed.lines).toContainEqual(expect.stringMatching(/^note {2}1 alert\(s\) of 2026-11-27 /));
  });
});
