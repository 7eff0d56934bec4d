// Issue 9, never blind at scale, an incident (3,000 failures at once): the real wiring (createApp)
// against the HSS emulator and local sinks, the state in memory, on a virtual clock.
import { HOUR, IN_MEMORY, MIN, openWorld, record, T0, webhookAlertsByHost, type World } from './world';

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

describe('never blind at scale: an incident', () => {
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
});
