// Issue 9, never blind at scale: the real wiring (createApp) against the HSS emulator, dynalite and
// local sinks, on a virtual clock.
import type { App } from '../../lib/app';
import { pollExitCode } from '../../cli/main';
import { makeTasks } from '../../local/hss-emulator';
import { useEngine } from '../support/engines';
import { HOUR, MIN, openWorld, record, T0, webhookAlertsByHost, type World } from './world';

const engine = useEngine('dynalite');
let world: World | undefined;
afterEach(async () => {
  await world?.close();
  world = undefined;
});

function failures(n: number, prefix: string, newestStart: number, spacingMs = 10_000) {
  return Array.from({ length: n }, (_, i) => record(`${prefix}${i}`, 'failed', newestStart - i * spacingMs));
}

describe('never blind at scale', () => {
  it('alerts one failure among 4,200 in-flight tasks in the first poll, and every poll exits 0', async () => {
    world = await openWorld({ engine });
    world.tasks.push(
      ...makeTasks(2100, { now: T0, status: 'running', seed: 1 }),
      ...makeTasks(2100, { now: T0, status: 'waiting', seed: 2 }),
      record('db-07', 'failed', T0 - HOUR),
    );

    const polls = [];
    for (let i = 0; i < 4; i++) polls.push(await world.tick());

    expect([...webhookAlertsByHost(world.sinks.webhook!)]).toEqual([['db-07', 1]]);
    expect(polls[0]!.alertsNew).toBe(1);
    expect(polls.map(pollExitCode)).toEqual([0, 0, 0, 0]);
    expect(world.emulator.maxCallsInAnyMinute()).toBeLessThanOrEqual(5);
  });

  it.each(['newest-first', 'oldest-first'] as const)(
    'delivers 3,000 failures to the webhook exactly once within 3 polls, Slack in a handful of digests, and 20 late ones within 2 more (%s, 5-minute schedule)',
    async (order) => {
      world = await openWorld({ engine, periodSeconds: 300, emulator: { order } });
      world.tasks.push(...failures(3000, 'web-', T0 - HOUR));

      for (let i = 0; i < 3; i++) await world.tick();
      const first = webhookAlertsByHost(world.sinks.webhook!);
      const slackAfterIncident = world.sinks.slack!.received.length;
      // 20 more, started hours ago: deep in the list whichever way HSS orders it.
      world.tasks.push(...failures(20, 'late-', T0 - 5 * HOUR - 5 * MIN, 1000));
      for (let i = 0; i < 2; i++) await world.tick();

      const all = webhookAlertsByHost(world.sinks.webhook!);
      expect(first.size).toBe(3000);
      expect(all.size).toBe(3020);
      expect([...all.values()].every((n) => n === 1)).toBe(true);
      expect(slackAfterIncident).toBeLessThanOrEqual(5);
      const digest = world.sinks.slack!.visibleText(world.sinks.slack!.received[0]!);
      expect(digest).toMatch(/\d+ restore\/backup tasks need attention/);
      expect(world.emulator.maxCallsInAnyMinute()).toBeLessThanOrEqual(5);
    },
  );

  it('with a 60 s schedule and 30 calls/minute, reads 2,100 failed + 4,100 in flight: every poll ends in its period, exits 0, all alerted within 3 polls, never throttled', async () => {
    world = await openWorld({ engine, ratePerMinute: 30, periodSeconds: 60 });
    world.tasks.push(
      ...failures(2100, 'f-', T0 - HOUR, 5_000),
      ...makeTasks(2050, { now: T0, status: 'running', seed: 3 }),
      ...makeTasks(2050, { now: T0, status: 'waiting', seed: 4 }),
    );

    const polls = [];
    for (let i = 0; i < 3; i++) polls.push(await world.tick());

    const delivered = webhookAlertsByHost(world.sinks.webhook!);
    expect(delivered.size).toBe(2100);
    expect([...delivered.values()].every((n) => n === 1)).toBe(true);
    expect(polls.map(pollExitCode)).toEqual([0, 0, 0]);
    expect(polls.every((p) => p.durationMs < 60_000)).toBe(true);
    expect(polls.reduce((n, p) => n + p.hssThrottled, 0)).toBe(0);
    expect(world.emulator.maxCallsInAnyMinute()).toBeLessThanOrEqual(30);
  });

  it('finds the same failures paging oldest-first as newest-first', async () => {
    const seen: Array<Map<string, number>> = [];
    for (const order of ['newest-first', 'oldest-first'] as const) {
      world = await openWorld({ engine, periodSeconds: 300, emulator: { order } });
      world.tasks.push(
        ...failures(700, 'f-', T0 - HOUR),
        ...makeTasks(600, { now: T0, status: 'running', seed: 5 }),
      );
      for (let i = 0; i < 3; i++) await world.tick();
      seen.push(webhookAlertsByHost(world.sinks.webhook!));
      await world.close();
      world = undefined;
    }
    expect(seen[0]!.size).toBe(700);
    expect([...seen[1]!.keys()].sort()).toEqual([...seen[0]!.keys()].sort());
  });

  it.each([1, 2, 3, 5, 8])(
    'loses nothing and sends nothing twice when the process dies after page %i',
    async (crashAfter) => {
      world = await openWorld({ engine, periodSeconds: 300 });
      world.tasks.push(...failures(1500, 'f-', T0 - HOUR));
      // The first container dies (like a killed process) once it has read `crashAfter` pages.
      const doomed: App = world.newApp();
      const fetchPage = doomed.reader.fetchPage.bind(doomed.reader);
      let pages = 0;
      doomed.reader.fetchPage = async (...args) => {
        if (pages++ >= crashAfter) throw new Error('process killed');
        return fetchPage(...args);
      };
      await expect(world.tick(doomed)).rejects.toThrow('process killed');
      world.time.now += 300_000;
      for (let i = 0; i < 3; i++) await world.tick();

      const delivered = webhookAlertsByHost(world.sinks.webhook!);
      expect(delivered.size).toBe(1500);
      expect([...delivered.values()].every((n) => n === 1)).toBe(true);
    },
  );
});
