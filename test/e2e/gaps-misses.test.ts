// Issue 10, "Misses" (cases 1-4), end to end: createApp/runPoll against the HSS emulator, dynalite
// and local sinks, polled tick by tick on a virtual clock (test/e2e/world.ts).
import { pollExitCode, formatSummary } from '../../cli/main';
import type { PollSummary } from '../../lib/poll';
import { utcMinute } from '../../lib/wording';
import { formatTime, type TimeFormat } from '../../local/hss-emulator';
import { useEngine } from '../support/engines';
import { recordingLog } from '../support/log';
import { expireItems, matching, stopFor, webhookAlerts, webhookEvents } from './gaps-support';
import { DAY, HOUR, MIN, openWorld, record, type World } from './world';

const engine = useEngine('dynalite');
let world: World | undefined;
afterEach(async () => {
  await world?.close();
  world = undefined;
});

async function ticks(w: World, n: number): Promise<PollSummary[]> {
  const out: PollSummary[] = [];
  for (let i = 0; i < n; i++) out.push(await w.tick());
  return out;
}

/** A task that failed `failedAt` (epoch ms), having started half an hour before. */
function failedAt(host: string, at: number) {
  return record(host, 'failed', at - 30 * MIN, { ended_at: new Date(at).toISOString() });
}

describe('1. an outage longer than the window', () => {
  it('alerts a failure from 2 h into a 2-day scheduler stop once, and the poll summary says the window was widened', async () => {
    world = await openWorld({ engine, lastDays: 1 });
    await ticks(world, 2);
    const stoppedAt = world.clock();
    world.tasks.push(failedAt('db-01', stoppedAt + 2 * HOUR));
    stopFor(world, 2 * DAY);

    const [recovery, ...after] = await ticks(world, 3);

    expect(webhookAlerts(world.sinks.webhook!, 'db-01').map((e) => e.status)).toEqual(['failed']);
    expect(matching(world.sinks.slack!, /db-01/)).toHaveLength(1);
    expect(recovery!.widened).toEqual([
      { scope: world.app.scopes[0]!.id, days: 3, blindSince: expect.any(Number) },
    ]);
    expect(recovery!.widened[0]!.blindSince).toBeLessThanOrEqual(stoppedAt);
    expect(formatSummary(recovery!)).toMatch(/window widened to 3 days for .* to read a blind gap since/);
    expect(after.map((s) => s.widened.length)).toEqual([0, 0]);
    expect([recovery!, ...after].map(pollExitCode)).toEqual([0, 0, 0]);
  });

  it('after HSS answered 503 for 2 days: the failure from 2 h in is alerted, and ONE "working again" notice says how long monitoring was blind and that the gap was read', async () => {
    world = await openWorld({ engine, lastDays: 1 });
    await ticks(world, 2);
    const outageAt = world.clock();
    world.tasks.push(failedAt('db-01', outageAt + 2 * HOUR));
    world.emulator.injectFault({ kind: 'status', status: 503 }, Infinity);
    // The scheduler keeps firing; every poll fails (one every 4 h is enough to show it).
    const failing: PollSummary[] = [];
    while (world.clock() < outageAt + 2 * DAY) {
      failing.push(await world.tick());
      stopFor(world, 4 * HOUR - MIN);
    }
    world.emulator.clearFaults();

    const recovered = await ticks(world, 3);

    expect(failing.every((s) => s.scopesFailed.length === 1)).toBe(true);
    expect(webhookAlerts(world.sinks.webhook!, 'db-01').map((e) => e.status)).toEqual(['failed']);
    const down = webhookEvents(world.sinks.webhook!, 'hss.monitoring.monitoring-down');
    const back = webhookEvents(world.sinks.webhook!, 'hss.monitoring.monitoring-recovered');
    expect(down).toHaveLength(1);
    expect(back).toHaveLength(1);
    expect(back[0]!.event.summary).toMatch(
      /blind for 2 d( \d+ h)? \(since .*\); that gap has been read with a 3-day window/,
    );
    expect(matching(world.sinks.slack!, /NOT working/)).toHaveLength(1);
    expect(matching(world.sinks.slack!, /working again/)).toHaveLength(1);
    expect(matching(world.sinks.slack!, /working again[^]*blind for 2 d/)).toHaveLength(1);
    expect(recovered[0]!.widened).toHaveLength(1);
    expect(recovered.map((s) => s.scopesFailed.length)).toEqual([0, 0, 0]);
  });

  it.each([33, 60])(
    'after a %i-day stop: one possible-loss notice to every destination with the dates, and failures still inside the 30 days are alerted',
    async (days) => {
      world = await openWorld({ engine, lastDays: 1 });
      await ticks(world, 2);
      const stoppedAt = world.clock();
      world.tasks.push(failedAt('db-late', stoppedAt + (days - 20) * DAY));
      stopFor(world, days * DAY);
      // DynamoDB deletes what outlived its TTL meanwhile.
      await expireItems(engine.client(), world.config.stateTable, world.clock());

      await ticks(world, 3);

      const loss = webhookEvents(world.sinks.webhook!, 'hss.monitoring.possible-loss');
      expect(loss).toHaveLength(1);
      const lossText = matching(world.sinks.slack!, /Possible missed alerts/);
      expect(lossText).toHaveLength(1);
      const blindSince = loss[0]!.event.facts!.find((f) => f.label === 'Blind since')!.value;
      expect(Date.parse(blindSince.replace(' UTC', 'Z').replace(' ', 'T'))).toBeLessThanOrEqual(stoppedAt);
      expect(lossText[0]).toContain(blindSince);
      expect(lossText[0]).toContain(utcMinute(world.clock() - 3 * 60_000 - 30 * DAY).slice(0, 10));
      expect(webhookAlerts(world.sinks.webhook!, 'db-late').map((e) => e.status)).toEqual(['failed']);
    },
  );
});

/** Follow-up queries (by host name) the emulator got, by the host asked for, in order. */
function followUpHosts(w: World): string[] {
  return w.emulator.requests
    .filter((r) => r.query.resource_name !== undefined)
    .map((r) => r.query.resource_name!);
}

describe('2. follow-up starvation', () => {
  it('alerts a task that failed after leaving the window while another stays stuck there; follow-ups rotate; the stuck one is reported once as lost track, with its details', async () => {
    world = await openWorld({ engine, lastDays: 1 });
    const T = world.clock();
    const stuck = record('stuck-01', 'running', T - 23 * HOUR - 50 * MIN);
    const later = record('later-01', 'running', T - 23 * HOUR - 40 * MIN);
    world.tasks.push(stuck, later);
    // Both leave the 1-day window running (stuck-01 first) and become follow-ups.
    const early = await ticks(world, 25);
    expect(early.map(pollExitCode)).toEqual(early.map(() => 0));
    expect(new Set(followUpHosts(world))).toEqual(new Set(['stuck-01', 'later-01']));
    Object.assign(later, {
      status: 'failed',
      ended_at: new Date(world.clock()).toISOString(),
      error_info: { code: 'HSS.5004', message: 'Vault capacity insufficient' },
    });
    const asked = followUpHosts(world).length;

    await ticks(world, 3);

    expect(webhookAlerts(world.sinks.webhook!, 'later-01').filter((e) => e.status === 'failed')).toEqual([
      expect.objectContaining({ reason: 'resolved-after-window' }),
    ]);
    // Rotation: the first follow-up after the failure was later-01's, although stuck-01 had waited longer.
    expect(followUpHosts(world)[asked]).toBe('later-01');

    // stuck-01 never ends: after a bounded number of tries it is reported once (polls 3 h apart).
    for (let i = 0; i < 16; i++) {
      stopFor(world, 3 * HOUR - MIN);
      await world.tick();
    }

    const lost = webhookEvents(world.sinks.webhook!, 'hss.monitoring.lost-track');
    expect(lost).toHaveLength(1);
    expect(lost[0]!.event.facts).toEqual(
      expect.arrayContaining([
        { label: 'Host', value: 'stuck-01 (stuck-01-id)' },
        { label: 'Backup', value: 'nightly' },
        { label: 'Last status', value: 'running' },
        { label: 'Started', value: utcMinute(T - 23 * HOUR - 50 * MIN) },
      ]),
    );
    expect(matching(world.sinks.slack!, /Lost track[^]*stuck-01/)).toHaveLength(1);
    // Bounded: at most 12 tries (one page each: the name matches one task).
    expect(followUpHosts(world).filter((h) => h === 'stuck-01').length).toBeLessThanOrEqual(12);
    expect(followUpHosts(world).filter((h) => h === 'later-01').length).toBeLessThanOrEqual(4);
    expect(world.emulator.maxCallsInAnyMinute()).toBeLessThanOrEqual(5);
  });
});

describe('3. follow-ups that cannot succeed', () => {
  it('never fail a poll: a task with no host name is reported as lost track, and a new failure meanwhile is alerted at once', async () => {
    world = await openWorld({ engine, lastDays: 1 });
    const T = world.clock();
    world.tasks.push(record('', 'running', T - 23 * HOUR - 55 * MIN, { host_id: 'nameless-id' }));
    const polls = await ticks(world, 8);
    world.tasks.push(failedAt('db-new', world.clock() - MIN));
    polls.push(await world.tick());

    expect(polls.map(pollExitCode)).toEqual(polls.map(() => 0));
    expect(polls.every((p) => p.scopesFailed.length === 0)).toBe(true);
    expect(followUpHosts(world)).toEqual([]);
    const lost = webhookEvents(world.sinks.webhook!, 'hss.monitoring.lost-track');
    expect(lost).toHaveLength(1);
    expect(lost[0]!.event.summary).toMatch(/no host name to search by/);
    expect(lost[0]!.event.facts).toContainEqual({ label: 'Host', value: '(no name) (nameless-id)' });
    expect(webhookAlerts(world.sinks.webhook!, 'db-new').map((e) => e.status)).toEqual(['failed']);
  });

  it('never fail a poll: a follow-up whose query HSS keeps failing (HTTP 500 for its host name) is counted, retried with back-off, then reported as lost track', async () => {
    world = await openWorld({ engine, lastDays: 1 });
    const T = world.clock();
    world.tasks.push(record('bad-host', 'running', T - 23 * HOUR - 55 * MIN));
    world.emulator.beforePage = (request) => {
      if (request.query.resource_name === 'bad-host') throw new Error('refused');
    };
    const polls = await ticks(world, 8);
    world.tasks.push(failedAt('db-new', world.clock() - MIN));
    polls.push(await world.tick());
    const newAlertedAfterOnePoll = webhookAlerts(world.sinks.webhook!, 'db-new').length;
    for (let i = 0; i < 16; i++) {
      stopFor(world, 3 * HOUR - MIN);
      polls.push(await world.tick());
    }

    expect(polls.map(pollExitCode)).toEqual(polls.map(() => 0));
    expect(webhookAlerts(world.sinks.webhook!, 'db-new').map((e) => e.status)).toEqual(['failed']);
    expect(newAlertedAfterOnePoll).toBe(1);
    expect(webhookEvents(world.sinks.webhook!, 'hss.monitoring.lost-track')).toHaveLength(1);
    // Counted like any try: a bounded number of queries, not one (or four) every poll.
    expect(followUpHosts(world).length).toBeLessThanOrEqual(4 * 12);
    expect(world.emulator.maxCallsInAnyMinute()).toBeLessThanOrEqual(5);
  });

  it('never fail a poll: a host name matching 1,981 tasks (web -> web-01..web-99) is paged across tries until its task is found failed, and new failures meanwhile are alerted at once', async () => {
    world = await openWorld({ engine, lastDays: 1 });
    const T = world.clock();
    const web = record('web', 'running', T - 23 * HOUR - 55 * MIN);
    world.tasks.push(web);
    for (let h = 1; h <= 99; h++) {
      for (let i = 0; i < 20; i++) {
        const host = `web-${String(h).padStart(2, '0')}`;
        world.tasks.push(
          // All newer than `web`: it is the last of the 1,981 records the name matches.
          record(host, 'success', T - 23 * HOUR + (h * 20 + i) * 40_000, { host_id: `${host}-${i}-id` }),
        );
      }
    }
    const polls = await ticks(world, 8);
    Object.assign(web, { status: 'failed', ended_at: new Date(world.clock()).toISOString() });
    let newAlertedAfterOnePoll = 0;
    for (
      let i = 0;
      i < 20 && webhookAlerts(world.sinks.webhook!, 'web').every((e) => e.status !== 'failed');
      i++
    ) {
      if (i === 2) world.tasks.push(failedAt('db-new', world.clock() - MIN));
      polls.push(await world.tick());
      if (i === 2) newAlertedAfterOnePoll = webhookAlerts(world.sinks.webhook!, 'db-new').length;
    }

    expect(polls.map(pollExitCode)).toEqual(polls.map(() => 0));
    expect(polls.every((p) => p.scopesFailed.length === 0)).toBe(true);
    expect(webhookAlerts(world.sinks.webhook!, 'web').filter((e) => e.status === 'failed')).toEqual([
      expect.objectContaining({ reason: 'resolved-after-window' }),
    ]);
    expect(webhookAlerts(world.sinks.webhook!, 'db-new').map((e) => e.status)).toEqual(['failed']);
    expect(newAlertedAfterOnePoll).toBe(1);
    // The 10 pages the name matches were read across several tries, never more than 2 a poll.
    expect(followUpHosts(world).length).toBeGreaterThanOrEqual(10);
    expect(Math.max(...polls.map((p) => p.followUps.tried))).toBe(1);
    expect(webhookEvents(world.sinks.webhook!, 'hss.monitoring.lost-track')).toEqual([]);
  });
});

describe('4. timestamps in every form HSS may use', () => {
  it('reads epoch ms (number and digits), +08:00 offsets and zone-less times: each failure alerted once with the right instant; zone-less times logged once as ambiguous', async () => {
    const log = recordingLog();
    world = await openWorld({ engine, lastDays: 1, log });
    const T = world.clock();
    const started = T - 3 * HOUR;
    const ended = T - 2 * HOUR;
    const forms: Array<[string, TimeFormat]> = [
      ['epoch-number', 'epoch-ms'],
      ['epoch-text', 'epoch-ms-text'],
      ['offset', 'offset+08'],
      ['zoneless', 'zoneless'],
    ];
    for (const [host, format] of forms) {
      world.tasks.push(
        record(host, 'failed', started, {
          started_at: formatTime(started, format),
          ended_at: formatTime(ended, format),
        }),
      );
    }
    world.tasks.push(
      record('zoneless-running', 'running', T - HOUR, { started_at: formatTime(T - HOUR, 'zoneless') }),
    );

    const polls = await ticks(world, 4);

    for (const [host] of forms) {
      const alerts = webhookAlerts(world.sinks.webhook!, host);
      expect(alerts.map((a) => [a.status, a.task!.started_at_utc, a.task!.ended_at_utc])).toEqual([
        ['failed', new Date(started).toISOString(), new Date(ended).toISOString()],
      ]);
    }
    expect(log.lines.filter((l) => /without a time zone/.test(l.message))).toHaveLength(1);
    expect(polls.map(pollExitCode)).toEqual([0, 0, 0, 0]);
  });

  it('follows up a zone-less running task that HSS (in UTC+8) drops from its window while it looks 8 h younger to us, and alerts its failure', async () => {
    world = await openWorld({ engine, lastDays: 1 });
    const T = world.clock();
    const realStart = T - 23 * HOUR - 50 * MIN;
    // HSS writes local time (UTC+8) without a zone: we read it as UTC, 8 h later than it was.
    const local = (ms: number) => formatTime(ms + 8 * HOUR, 'zoneless');
    const task = record('tz-01', 'running', realStart, { started_at: local(realStart) });
    world.tasks.push(task);
    // HSS's own window goes by the real start (the emulator would read the text as UTC too).
    world.emulator.beforePage = ({ query }) => {
      const lastDays = Number(query.last_days ?? 1);
      task.project_id = realStart >= world!.clock() - lastDays * DAY ? undefined : 'elsewhere';
    };
    const before = await ticks(world, 20);
    Object.assign(task, { status: 'failed', ended_at: local(world.clock() - MIN) });

    const after: PollSummary[] = [];
    for (
      let i = 0;
      i < 30 && webhookAlerts(world.sinks.webhook!, 'tz-01').every((a) => a.status !== 'failed');
      i++
    ) {
      after.push(await world.tick());
    }

    expect(webhookAlerts(world.sinks.webhook!, 'tz-01').filter((a) => a.status === 'failed')).toEqual([
      expect.objectContaining({ reason: 'resolved-after-window' }),
    ]);
    expect(before.reduce((n, p) => n + p.followUps.tried, 0)).toBeGreaterThan(0);
    expect(webhookEvents(world.sinks.webhook!, 'hss.monitoring.lost-track')).toEqual([]);
  });

  it('does not make finished tasks with epoch-millisecond start times window-edge tasks: no follow-up for any of them', async () => {
    world = await openWorld({ engine, lastDays: 1 });
    const T = world.clock();
    const running = Array.from({ length: 40 }, (_, i) =>
      record(`ms-${i}`, 'running', T - (2 + i / 5) * HOUR, {
        started_at: formatTime(T - (2 + i / 5) * HOUR, i % 2 === 0 ? 'epoch-ms' : 'epoch-ms-text'),
      }),
    );
    world.tasks.push(...running);
    const polls = await ticks(world, 3);
    for (const t of running)
      Object.assign(t, { status: 'success', process: 100, ended_at: formatTime(world.clock(), 'epoch-ms') });
    polls.push(...(await ticks(world, 4)));

    expect(polls[0]!.tasksSeen).toBe(40);
    expect(polls.reduce((n, p) => n + p.followUps.due, 0)).toBe(0);
    expect(followUpHosts(world)).toEqual([]);
    expect(polls.map(pollExitCode)).toEqual(polls.map(() => 0));
  });
});
