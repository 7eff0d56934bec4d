import type { AlertMessage, Scope } from '../../lib/model';
import { latencyBoundMs } from '../../lib/poll/plan';
import { memoryWorld, MIN, SCOPE, task } from './support';

function scopes(n: number): Scope[] {
  return Array.from({ length: n }, (_, i) => ({
    ...SCOPE,
    id: `cn-north-4/proj-${i}/0`,
    region: 'cn-north-4',
    projectId: `proj-${i}`,
  }));
}

describe('scheduler: many scopes on one 5 calls/minute budget, polled every minute', () => {
  it.each([1, 3, 10, 30])(
    'alerts a new failure in any of %i scopes within the promised bound, and HSS never throttles',
    async (n) => {
      const { vt, hss, outbox, tick } = memoryWorld({
        scopes: scopes(n),
        hss: { perMinute: 5 },
        periodMs: MIN,
        runMs: 50_000,
      });
      const watched = scopes(n);
      const bound = latencyBoundMs(n, 'whole', 5, MIN);
      // Let every scope's lists be read once, then drop a failure into every third scope, one a minute.
      for (let i = 0; i < bound / MIN; i++) await tick();
      const appeared = new Map<string, number>();
      const targets = watched.filter((_, i) => i % 3 === 0);
      for (let i = 0; i < targets.length + bound / MIN + 1; i++) {
        const target = targets[i];
        if (target) {
          hss.tasks(target.projectId).push(task(`fail-${target.projectId}`, 'failed', vt.clock(), MIN));
          appeared.set(target.projectId, vt.clock());
        }
        await tick();
      }

      const alerted = outbox.delivered.filter((m): m is AlertMessage => m.kind === 'alert');
      const latencies = targets.map((s) => {
        const alert = alerted.find((a) => a.scope.id === s.id);
        return alert ? alert.at - appeared.get(s.projectId)! : Infinity;
      });
      expect(Math.max(...latencies)).toBeLessThanOrEqual(bound);
      expect(hss.maxPerMinute()).toBeLessThanOrEqual(5);
    },
  );

  it('promises a minute for 1 small scope, 3 for 10 and 7 for 30; 2 and 14 when every scope is large', () => {
    expect([1, 10, 30].map((n) => latencyBoundMs(n, 'whole', 5, MIN) / MIN)).toEqual([1, 3, 7]);
    expect([1, 30].map((n) => latencyBoundMs(n, { alertLists: 2 }, 5, MIN) / MIN)).toEqual([2, 14]);
  });
});
