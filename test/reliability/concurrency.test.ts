// Four polls of one scope started at the same moment (four Lambda instances, four DynamoDB clients)
// over 50 new failures: each alert reaches each destination exactly once. Then the same with the
// delivering poll dying halfway through its deliveries, leaving its lease behind: nothing is sent
// while the lease holds, later polls finish the job once it expires, and the only repeats are
// alerts the dead poll had sent but not yet recorded.
import { startLocalDynamo, type LocalDynamo } from '../../local/dynamo';
import type { Sink } from '../../local/sinks';
import type { StateStore } from '../../lib/state/store';
import {
  crashingProcess,
  MIN,
  openWorld,
  record,
  refOf,
  T0,
  TICK_MS,
  WRITE_COMMANDS,
  type Tick,
  type World,
} from './support';

let dynamo: LocalDynamo;

beforeAll(async () => {
  dynamo = await startLocalDynamo();
});
afterAll(async () => {
  await dynamo.close();
});

const FAILURES = 50;

async function seededWorld(): Promise<World> {
  // HSS itself is not under test here: four instances at once would otherwise share 5 calls/min.
  const w = await openWorld(dynamo, { emulatorRate: 0 });
  const failed = Array.from({ length: FAILURES }, (_, i) =>
    record(`host-c${String(i).padStart(2, '0')}`, 'failed', T0 - 30 * MIN - i * 1000),
  );
  w.hss.tasks.push(...failed, record('host-q00', 'running', T0 - 5 * MIN));
  return w;
}

/** Alert ids in the table for the seeded failures. */
async function alertIds(w: World): Promise<string[]> {
  const refs = w.hss.tasks.filter((t) => t.status === 'failed').map(refOf);
  return (await w.alerts(refs)).map((a) => a.alert.id);
}

/** Deliveries per alert id: the webhook by its `webhook-id` header, Slack by the id in each message. */
function perAlert(sink: Sink, ids: readonly string[], kind: 'slack' | 'webhook'): Map<string, number> {
  const counts = new Map(ids.map((id) => [id, 0]));
  for (const req of sink.received) {
    for (const id of ids) {
      const hit = kind === 'webhook' ? req.headers['webhook-id'] === id : req.body.includes(id);
      if (hit) counts.set(id, counts.get(id)! + 1);
    }
  }
  return counts;
}

async function together(w: World, make: () => ReturnType<World['app']>): Promise<Tick[]> {
  const apps = [make(), make(), make(), make()];
  return Promise.all(apps.map((app) => w.tick(app)));
}

async function finalPollIsQuiet(w: World): Promise<void> {
  const attempts = [w.slack.attempts.length, w.webhook.attempts.length];
  const writes = () => WRITE_COMMANDS.reduce((n, c) => n + (w.commands.get(c) ?? 0), 0);
  const before = writes();
  const final = await w.tick();
  expect(final.summary).toMatchObject({ alertsNew: 0, alertsSent: 0, transitions: 0, deliveriesPending: 0 });
  expect(writes() - before).toBe(0);
  expect([w.slack.attempts.length, w.webhook.attempts.length]).toEqual(attempts);
}

/**
 * Store wrappers that make four polls take turns winning the alert records: poll i records the k-th
 * alert first when k % 4 === i; the others try it (and find it recorded) only after it has.
 */
function takingTurns(): Array<(store: StateStore) => StateStore> {
  const recorded = new Map<number, { done: Promise<void>; resolve: () => void }>();
  const slot = (k: number) => {
    if (!recorded.has(k)) {
      let resolve: () => void = () => undefined;
      const done = new Promise<void>((r) => (resolve = r));
      recorded.set(k, { done, resolve });
    }
    return recorded.get(k)!;
  };
  return [0, 1, 2, 3].map((turn) => (store) => {
    let k = 0;
    return {
      ...store,
      stats: store.stats,
      async putAlert(record) {
        const mine = k++;
        if (mine % 4 !== turn) {
          await slot(mine).done;
          return store.putAlert(record);
        }
        try {
          return await store.putAlert(record);
        } finally {
          slot(mine).resolve();
        }
      },
    };
  });
}

/** Alerts Slack was told about: N per digest ("N backup/restore tasks need attention"), 1 per single message. */
function slackAlertTotal(sink: Sink): number {
  return sink.received.reduce((sum, req) => {
    const m = /(\d+) backup\/restore tasks need attention/.exec(req.body);
    return sum + (m ? Number(m[1]) : 1);
  }, 0);
}

describe('four polls of one scope at once', () => {
  it.each([
    { mode: 'one Slack digest (production settings)', digestThreshold: 5 },
    { mode: 'one Slack message per alert', digestThreshold: 100 },
    { mode: 'each poll winning some of the alert records', digestThreshold: 5, interleaved: true },
    // All four find the same 50 in the pending index: only the delivery lease keeps them from all sending.
    { mode: 'all 50 already pending (the receivers were down)', digestThreshold: 5, backlog: true },
  ])(
    'deliver exactly 50 alerts per destination over 50 new failures: $mode',
    async ({ digestThreshold, interleaved = false, backlog = false }) => {
      // Prepare
      const w = await seededWorld();
      try {
        const turns = takingTurns();
        let next = 0;
        const make = () => {
          const wrapStore = interleaved ? turns[next++ % 4] : undefined;
          return w.app({ slack: { digestThreshold }, wrapStore });
        };
        const earlier: Tick[] = [];
        if (backlog) {
          w.slack.failNext({ kind: 'status', status: 503, body: 'service_unavailable' });
          w.webhook.failNext({ kind: 'status', status: 503 });
          earlier.push(await w.tick(make()));
          expect(earlier[0]!.summary).toMatchObject({ alertsNew: FAILURES, alertsSent: 0 });
          w.time.advance(TICK_MS);
        }
        // Act: four at once, then the next tick (a poll that lost the lease leaves what it recorded
        // to the pending index), then one more to prove nothing is left.
        const first = await together(w, make);
        w.time.advance(TICK_MS);
        const second = await together(w, make);
        w.time.advance(TICK_MS);

        // Assess
        const all = [...earlier, ...first, ...second];
        expect(all.filter((t) => t.error)).toEqual([]);
        if (interleaved) expect(first.filter((t) => t.summary!.alertsNew > 0).length).toBeGreaterThan(1);
        const ids = await alertIds(w);
        expect(new Set(ids).size).toBe(FAILURES);
        const webhook = perAlert(w.webhook, ids, 'webhook');
        expect([...webhook.values()]).toEqual(ids.map(() => 1));
        expect(w.webhook.received).toHaveLength(FAILURES);
        if (digestThreshold < FAILURES) {
          expect(slackAlertTotal(w.slack)).toBe(FAILURES);
        } else {
          expect([...perAlert(w.slack, ids, 'slack').values()]).toEqual(ids.map(() => 1));
          expect(w.slack.received).toHaveLength(FAILURES);
        }
        expect(all.reduce((n, t) => n + (t.summary?.alertsSent ?? 0), 0)).toBe(2 * FAILURES);
        expect(all.reduce((n, t) => n + (t.summary?.alertsNew ?? 0), 0)).toBe(FAILURES);
        const stored = await w.alerts(w.hss.tasks.filter((t) => t.status === 'failed').map(refOf));
        expect(stored.map((a) => [a.deliveries.slack?.state, a.deliveries.webhook?.state])).toEqual(
          stored.map(() => ['done', 'done']),
        );
        await finalPollIsQuiet(w);
      } finally {
        await w.close();
      }
    },
  );

  it('finish delivery after the delivering poll dies halfway, repeating only what it sent but had not recorded', async () => {
    // Prepare: every instance would die at its 25th delivery record; only the lease holder gets there.
    const w = await seededWorld();
    try {
      const procs: Array<ReturnType<typeof crashingProcess>> = [];
      const dying = () => {
        const proc = crashingProcess(
          { method: 'saveDelivery', when: 'after', nth: 25 },
          'halfway through delivery',
        );
        procs.push(proc);
        return w.app({
          slack: { digestThreshold: 100 },
          wrapStore: proc.wrapStore,
          wrapNotifier: proc.wrapNotifier,
        });
      };
      const healthy = () => w.app({ slack: { digestThreshold: 100 } });

      // Act: four at once, one dies; a minute later (lease still held) four more; then past the lease.
      const first = await together(w, dying);
      await Promise.all(procs.map((p) => p.settle()));
      const dead = procs.filter((p) => p.crashed());
      const sentBeforeLease = [w.slack.received.length, w.webhook.received.length];
      w.time.advance(MIN);
      const blocked = await together(w, healthy);
      const sentWhileLeased = [w.slack.received.length, w.webhook.received.length];
      w.time.advance(TICK_MS);
      const after = await together(w, healthy);
      w.time.advance(TICK_MS);
      const last = await together(w, healthy);
      w.time.advance(TICK_MS);

      // Assess: exactly one poll died, mid-delivery, and its lease kept the next polls from sending.
      expect(dead).toHaveLength(1);
      expect(first.filter((t) => t.error)).toHaveLength(1);
      expect(sentWhileLeased).toEqual(sentBeforeLease);
      expect(blocked.every((t) => t.summary?.alertsSent === 0)).toBe(true);
      expect([...after, ...last].filter((t) => t.error)).toEqual([]);

      // Assess: every alert reached both destinations; repeats only within the crash window.
      const ids = await alertIds(w);
      const stored = await w.alerts(w.hss.tasks.filter((t) => t.status === 'failed').map(refOf));
      expect(stored.flatMap((s) => Object.values(s.deliveries).map((d) => d.state))).toEqual(
        stored.flatMap(() => ['done', 'done']),
      );
      for (const kind of ['slack', 'webhook'] as const) {
        const counts = perAlert(w[kind], ids, kind);
        const recorded = dead[0]!.recordedDone.get(kind) ?? new Set<string>();
        const repeated = [...counts].filter(([, n]) => n > 1).map(([id]) => id);
        expect([...counts.values()].every((n) => n === 1 || n === 2)).toBe(true);
        // A repeat is only allowed for an alert the dead poll had not recorded as delivered.
        expect(repeated.filter((id) => recorded.has(id))).toEqual([]);
      }
      expect(dead[0]!.recordedDone.size).toBeGreaterThan(0);
      await finalPollIsQuiet(w);
    } finally {
      await w.close();
    }
  });
});
