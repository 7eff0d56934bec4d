// Overlapping invocations on Amazon's DynamoDB Local: separate apps (separate Lambda containers: own
// DynamoDB client, reader, budget and outbox) polling the same scope through the same table at the
// same moment, on a virtual clock that moves only when every one of them waits. Each failure reaches
// each destination exactly once, also when one invocation dies halfway (then only the request it
// had in flight may repeat); and three invocations at once with one credential never make HSS see
// more than 5 calls in any minute (issue 12).
import type { App } from '../../lib/app';
import type { PollSummary } from '../../lib/poll';
import { makeTasks } from '../../local/hss-emulator';
import { useEngine } from '../support/engines';
import { virtualTime } from '../budget/virtual-time';
import { openWorld, T0, type SinkName, type World } from '../e2e/world';
import {
  alerting,
  deliveriesOf,
  doomedApp,
  expectedAlert,
  quietTasks,
  unrecorded,
  type Expected,
} from './support';

const engine = useEngine('DynamoDB Local');

const SINKS: SinkName[] = ['webhook', 'pagerduty', 'slack', 'teams'];

async function world(sinks: SinkName[] = SINKS): Promise<World> {
  return openWorld({ engine, sinks, pageSize: 10, time: virtualTime(T0) });
}

/** Deliveries per destination and host, for the hosts of `expected`. */
function counts(w: World, expected: readonly Expected[]): Record<string, Record<string, number>> {
  return Object.fromEntries(
    Object.entries(w.sinks).map(([name, sink]) => [
      name,
      Object.fromEntries(expected.map((e) => [e.host, deliveriesOf(sink!, e.host)])),
    ]),
  );
}

/** `n` polls at once, `ticks` times; the errors they threw (none expected unless a process died). */
async function overlapping(
  w: World,
  ticks: number,
  apps: (tick: number) => App[],
): Promise<Array<PollSummary | Error>> {
  const results: Array<PollSummary | Error> = [];
  for (let tick = 0; tick < ticks; tick++) results.push(...(await w.together(apps(tick))));
  return results;
}

describe(`overlapping polls on ${engine.name}`, () => {
  it('four invocations at once over the same failures deliver each exactly once per destination', async () => {
    // Prepare: 12 failures and timeouts (two pages of the failed list), four containers.
    const w = await world();
    try {
      const seeded = alerting(12, 'host-c');
      w.tasks.push(...seeded, ...quietTasks());
      const expected = seeded.map((t) => expectedAlert(t));
      const containers = [0, 1, 2, 3].map(() => w.newApp());

      // Act: every minute, the four poll at once.
      const results = await overlapping(w, 5, () => containers);

      // Assess
      expect(results.filter((r) => r instanceof Error)).toEqual([]);
      const once = Object.fromEntries(
        SINKS.map((s) => [s, Object.fromEntries(expected.map((e) => [e.host, 1]))]),
      );
      expect(counts(w, expected)).toEqual(once);
      const quiet = quietTasks().map((t) => t.host_name);
      expect(
        Object.values(w.sinks).flatMap((s) =>
          s!.received.filter((r) => quiet.some((q) => r.body.includes(q))),
        ),
      ).toEqual([]);
      expect(w.emulator.maxCallsInAnyMinute()).toBeLessThanOrEqual(5);
    } finally {
      await w.close();
    }
  });

  it('four invocations at once, the one that delivers first dying after its first 2xx: only what it had in flight repeats, once', async () => {
    // Prepare: four containers; whichever gets the delivery lease first dies on its first 2xx.
    const w = await world();
    try {
      const seeded = alerting(12, 'host-d');
      w.tasks.push(...seeded, ...quietTasks());
      const expected = seeded.map((t) => expectedAlert(t));
      const shared = { oks: 0 };
      const containers = [0, 1, 2, 3].map((i) =>
        doomedApp(w, engine.newClient(), { afterOk: 1, shared, label: `container ${i}` }),
      );
      const alive = () => containers.filter((c) => !c.doomed.dead).map((c) => c.app);

      // Act: every minute, the containers still alive poll at once; the crash window is read after the first.
      const results = await overlapping(w, 1, alive);
      const window = await unrecorded(w, expected);
      results.push(...(await overlapping(w, 5, alive)));

      // Assess: exactly one died, the others never failed.
      expect(containers.filter((c) => c.doomed.dead)).toHaveLength(1);
      expect(results.filter((r) => r instanceof Error)).toHaveLength(1);
      // What it had on the wire: at most one request per destination, repeated once by a survivor.
      expect(Object.entries(window.requests).filter(([, n]) => n > 1)).toEqual([]);
      const problems: string[] = [];
      for (const [name, hosts] of Object.entries(counts(w, expected))) {
        for (const e of expected) {
          const allowed = window.pairs.has(`${name}\n${e.id}`) ? 2 : 1;
          const n = hosts[e.host]!;
          if (n < 1 || n > allowed)
            problems.push(`${e.host} reached ${name} ${n} times (allowed ${allowed})`);
        }
      }
      expect(problems).toEqual([]);
      expect(window.pairs.size).toBeGreaterThan(0);
    } finally {
      await w.close();
    }
  });

  it('three invocations at once with one credential never make HSS see more than 5 calls in any minute', async () => {
    // Prepare: lists longer than a poll can read (40 failed, 60 running, 60 waiting: 16 pages of 10).
    const w = await world(['webhook']);
    try {
      const seeded = alerting(40, 'host-r', false);
      w.tasks.push(
        ...seeded,
        ...makeTasks(60, { now: T0, status: 'running', seed: 11, hostPrefix: 'run-' }),
        ...makeTasks(60, { now: T0, status: 'waiting', seed: 12, hostPrefix: 'wait-' }),
      );
      const containers = [0, 1, 2].map(() => w.newApp());

      // Act
      const results = await overlapping(w, 10, () => containers);

      // Assess
      expect(results.filter((r) => r instanceof Error)).toEqual([]);
      expect(w.emulator.requests.filter((r) => r.status !== 200).map((r) => r.status)).toEqual([]);
      expect(w.emulator.maxCallsInAnyMinute()).toBe(5);
      const delivered = seeded.map((t) => deliveriesOf(w.sinks.webhook!, t.host_name));
      expect(delivered).toEqual(seeded.map(() => 1));
    } finally {
      await w.close();
    }
  });
});
