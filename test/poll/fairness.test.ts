// One failing scope, one spent credential: neither may cost another scope its alerts.
import { HssServerError } from '../../lib/hss/errors';

import type { AlertMessage, NoticeMessage, Scope } from '../../lib/model';
import { type PollSummary } from '../../lib/poll';
import { latencyBoundMs } from '../../lib/poll/plan';

import { fakeHss, HOUR, MIN, SCOPE, task, memoryWorld } from './support';

function scope(i: number, credential = 'default'): Scope {
  return { ...SCOPE, id: `cn-north-4/proj-${i}/0`, region: 'cn-north-4', projectId: `proj-${i}`, credential };
}

/** Polls every minute, as the Lambda does (5 calls a minute per credential, 35 s of reading). */
function world(scopes: Scope[], options: Parameters<typeof fakeHss>[1] = {}) {
  return memoryWorld({
    scopes,
    hss: { perMinute: 5, ...options },
    periodMs: MIN,
    runMs: 50_000,
    base: { callsPerPoll: 5 },
  });
}

const alertedAt = (sent: readonly unknown[], projectId: string) =>
  (sent as AlertMessage[]).find((m) => m.kind === 'alert' && m.scope.projectId === projectId)?.at;

describe('poll: a failing scope and a spent credential', () => {
  it('alerts every healthy scope within the bound while one of 6 scopes on the credential answers 503 to everything', async () => {
    const scopes = Array.from({ length: 6 }, (_, i) => scope(i));
    const w = world(scopes);
    w.hss.failProject('proj-0', new HssServerError('HTTP 503'));
    const bound = latencyBoundMs(6, 'whole', 5, MIN);
    for (let i = 0; i < 10; i++) await w.tick();

    // A new failure in each healthy scope, one a minute.
    const start = w.vt.clock();
    const appeared = new Map<string, number>();
    const polls: PollSummary[] = [];
    for (let i = 0; i < 5 + bound / MIN + 1; i++) {
      if (i < 5) {
        w.hss.tasks(`proj-${i + 1}`).push(task(`f${i + 1}`, 'failed', w.vt.clock(), MIN));
        appeared.set(`proj-${i + 1}`, w.vt.clock());
      }
      polls.push(await w.tick());
    }

    const latencies = [...appeared].map(([p, at]) => (alertedAt(w.outbox.delivered, p) ?? Infinity) - at);
    expect(Math.max(...latencies)).toBeLessThanOrEqual(bound);
    // It is still tried, once a poll at most: its retries never take the others' calls.
    const attempts = polls.map(
      (_, i) =>
        w.hss.calls.filter(
          (c) => c.target.projectId === 'proj-0' && c.at >= start + i * MIN && c.at < start + (i + 1) * MIN,
        ).length,
    );
    expect(Math.max(...attempts)).toBe(1);
    expect(attempts.filter((n) => n === 1).length).toBeGreaterThanOrEqual(polls.length / 2);
    expect(w.hss.maxPerMinute()).toBeLessThanOrEqual(5);
    const down = (w.outbox.delivered as NoticeMessage[]).filter(
      (m) => m.kind === 'notice' && m.notice === 'monitoring-down',
    );
    expect(down.map((n) => n.scope?.id)).toEqual([scopes[0]!.id]);
  });

  it('reads a scope on a second, idle credential every poll while the first credential is spent', async () => {
    // Prepare: 30 scopes on the default credential (never read whole in one poll), one on "other".
    const scopes = [...Array.from({ length: 30 }, (_, i) => scope(i)), scope(99, 'other')];
    const w = world(scopes);
    const start = w.vt.clock();

    const polls = [];
    for (let i = 0; i < 12; i++) polls.push(await w.tick());
    w.hss.tasks('proj-99').push(task('late', 'failed', w.vt.clock(), MIN));
    const appeared = w.vt.clock();
    await w.tick();

    const reads = polls.map(
      (_, i) =>
        w.hss.calls.filter(
          (c) => c.target.projectId === 'proj-99' && c.at >= start + i * MIN && c.at < start + (i + 1) * MIN,
        ).length,
    );
    expect(reads.every((n) => n >= 1)).toBe(true);
    expect((alertedAt(w.outbox.delivered, 'proj-99') ?? Infinity) - appeared).toBeLessThan(MIN);
    expect(polls.every((p) => p.outOfTime)).toBe(true);
  });

  it('is an outage when the call budget lets no call start for 3 polls in a row, said once, and over when calls start again', async () => {
    const w = world([scope(0)]);
    await w.tick();
    // Another client of the same HSS user takes every slot for 5 minutes.
    const hogUntil = w.vt.clock() + 5 * MIN;
    const acquire = w.hss.budget.acquire.bind(w.hss.budget);
    w.hss.budget.acquire = async (credential, latestStart) =>
      w.vt.clock() < hogUntil ? false : acquire(credential, latestStart);

    const starved: PollSummary[] = [];
    for (let i = 0; i < 5; i++) starved.push(await w.tick());
    const after = [await w.tick(), await w.tick()];

    expect(starved.map((p) => p.budgetStarved.length)).toEqual([0, 0, 1, 1, 1]);
    expect(after.map((p) => p.budgetStarved.length)).toEqual([0, 0]);
    const notices = (w.outbox.delivered as NoticeMessage[]).filter((m) => m.kind === 'notice');
    expect(notices.map((n) => n.notice)).toEqual(['monitoring-down', 'monitoring-recovered']);
    expect(notices[0]!.summary).toContain('credential "default"');
  });

  it('never calls itself starved in 24 hours of healthy polls, with or without work', async () => {
    const w = world([scope(0), scope(1)]);
    const polls: PollSummary[] = [];
    for (let i = 0; i < 24 * 60; i++) {
      if (i % 97 === 0) w.hss.tasks(`proj-${i % 2}`).push(task(`t${i}`, 'failed', w.vt.clock(), 10 * MIN));
      polls.push(await w.tick());
    }
    expect(polls.filter((p) => p.budgetStarved.length > 0)).toEqual([]);
    expect(polls.filter((p) => p.scopesFailed.length > 0)).toEqual([]);
    expect(w.vt.clock()).toBeGreaterThanOrEqual(24 * HOUR);
  });
});
