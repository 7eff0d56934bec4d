// Issue 9, never blind at scale: the real wiring (createApp) against the HSS emulator, dynalite and
// local sinks, on a virtual clock.
import type { App } from '../../lib/app';
import { pollExitCode } from '../../cli/main';
import { makeTasks } from '../../local/hss-emulator';
import { HOUR, IN_MEMORY, openWorld, record, T0, webhookAlertsByHost, type World } from './world';

// The issue's own sizes (3,000 failures, 6,200 tasks) take tens of seconds on a busy machine
// (thousands of HTTP requests to the emulator and the sinks): give them room under load.
jest.setTimeout(300_000);

// The state in memory: these scenarios are about reading HSS within its limits and delivering
// thousands of alerts; on dynalite most of their time went to SDK and engine requests. The stores
// pass the same contract suites as the DynamoDB ones (test/state/stores.test.ts,
// test/outbox/store-contract.test.ts); the real table is exercised end to end by the other e2e
// files and test/reliability.
const engine = IN_MEMORY;
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
        ...failures(500, 'f-', T0 - HOUR),
        ...makeTasks(300, { now: T0, status: 'running', seed: 5 }),
      );
      for (let i = 0; i < 3; i++) await world.tick();
      seen.push(webhookAlertsByHost(world.sinks.webhook!));
      await world.close();
      world = undefined;
    }
    expect(seen[0]!.size).toBe(500);
    expect([...seen[1]!.keys()].sort()).toEqual([...seen[0]!.keys()].sort());
  });

  it.each([1, 2, 3])(
    'loses nothing and sends nothing twice when the process dies after page %i',
    async (crashAfter) => {
      world = await openWorld({ engine, periodSeconds: 300 });
      // 4 pages of failures: the crash falls between two of them, or before the timeout list.
      world.tasks.push(...failures(800, 'f-', T0 - HOUR));
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
      expect(delivered.size).toBe(800);
      expect([...delivered.values()].every((n) => n === 1)).toBe(true);
    },
  );
});
