// The query plan adapts to the size of a scope's window: while it fits one page, one unfiltered call
// is the whole check (failures, the in-flight sweep and resolutions at once); a full page switches the
// scope to the status-filtered lists in the same poll, and a probe switches it back once it fits
// again. Neither switch loses or repeats an alert.

import type { AlertMessage, Message, ResolvedMessage, Scope, Task } from '../../lib/model';
import { type PollSummary } from '../../lib/poll';
import { nextAsk } from '../../lib/poll/sweep';

import { HOUR, MIN, SCOPE, task, memoryWorld } from './support';

/** Polls every minute, as the Lambda does (5 calls a minute per credential, 35 s of reading). */
function world(order: 'newest-first' | 'oldest-first' = 'newest-first', scopes: Scope[] = [SCOPE]) {
  return memoryWorld({
    scopes,
    hss: { perMinute: 5, order },
    periodMs: MIN,
    runMs: 50_000,
    base: { callsPerPoll: 5 },
  });
}

const alertsOf = (sent: readonly Message[]) => sent.filter((m): m is AlertMessage => m.kind === 'alert');
const resolvedOf = (sent: readonly Message[]) =>
  sent.filter((m): m is ResolvedMessage => m.kind === 'resolved');

describe('poll: the query plan', () => {
  it('checks a scope of 150 tasks with one unfiltered call a poll, which sees failures, progress and successes', async () => {
    const w = world();
    const now = w.vt.clock();
    for (let i = 0; i < 140; i++) w.hss.tasks().push(task(`ok${i}`, 'success', now, HOUR + i * MIN));
    for (let i = 0; i < 8; i++) w.hss.tasks().push(task(`run${i}`, 'running', now, 10 * MIN));
    w.hss.tasks().push(task('f1', 'failed', now, 20 * MIN), task('t1', 'timeout', now, 30 * MIN));

    const polls: PollSummary[] = [];
    for (let i = 0; i < 10; i++) polls.push(await w.tick());

    expect(polls.map((p) => p.hssCalls)).toEqual(polls.map(() => 1));
    expect(w.hss.calls.every((c) => c.query.status === undefined)).toBe(true);
    expect(
      alertsOf(w.outbox.delivered)
        .map((a) => `${a.task.hostId} ${a.status}`)
        .sort(),
    ).toEqual(['f1 failed', 't1 timeout']);
    // A quiet poll reads the one page, finds it unchanged, and reads no state.
    expect(polls.at(-1)!.pagesUnchanged).toBe(1);
  });

  it.each(['newest-first', 'oldest-first'] as const)(
    'alerts every failure once while a scope grows 150 -> 260 -> 150 tasks (%s), switching to lists and back',
    async (order) => {
      const w = world(order);
      const failures: string[] = [];
      const fail = (name: string, ago: number) => {
        w.hss.tasks().push(task(name, 'failed', w.vt.clock(), ago));
        failures.push(name);
      };
      const start = w.vt.clock();
      for (let i = 0; i < 146; i++) w.hss.tasks().push(task(`a${i}`, 'success', start, 2 * HOUR + i * MIN));
      fail('f-small-1', 30 * MIN);
      fail('f-small-2', 40 * MIN);
      const plans: string[] = [];
      const planOf = async () => (await w.store.readStates([SCOPE.id])).get(SCOPE.id)!.plan ?? 'whole';
      for (let i = 0; i < 3; i++) {
        await w.tick();
        plans.push(await planOf());
      }
      // It grows past a page: 110 more tasks, 3 of them failures.
      for (let i = 0; i < 107; i++)
        w.hss.tasks().push(task(`b${i}`, 'success', w.vt.clock(), HOUR + i * 10_000));
      for (let i = 0; i < 3; i++) fail(`f-big-${i}`, 50 * MIN + i * MIN);
      for (let i = 0; i < 10; i++) {
        await w.tick();
        plans.push(await planOf());
        if (i === 4) fail('f-big-late', 5 * MIN);
      }
      // It shrinks back to 150: the b tasks leave the window; failures keep coming.
      const list = w.hss.tasks();
      for (let i = list.length - 1; i >= 0; i--) if (list[i]!.hostId.startsWith('b')) list.splice(i, 1);
      fail('f-shrunk-1', 3 * MIN);
      for (let i = 0; i < 40; i++) {
        await w.tick();
        plans.push(await planOf());
        if (i === 35) fail('f-shrunk-2', 2 * MIN);
      }

      const counts = new Map<string, number>();
      for (const a of alertsOf(w.outbox.delivered))
        counts.set(a.task.hostId, (counts.get(a.task.hostId) ?? 0) + 1);
      expect([...counts.keys()].sort()).toEqual([...failures].sort());
      expect([...counts.values()].every((n) => n === 1)).toBe(true);
      // whole, then lists as soon as the page was full, then whole again after a probe.
      expect(plans.slice(0, 3)).toEqual(['whole', 'whole', 'whole']);
      expect(plans[3]).toBe('lists');
      expect(plans.at(-1)).toBe('whole');
      expect(w.hss.maxPerMinute()).toBeLessThanOrEqual(5);
    },
  );
});

describe('poll: resolution means success', () => {
  const retryOf = (t: Task, status: Task['status'], now: number): Task =>
    task(t.hostId, status, now, MIN, { backupName: t.backupName, process: status === 'success' ? 100 : 30 });

  it('resolves a failure when a later task of its host and backup is first listed already succeeded', async () => {
    const w = world();
    const failed = task('h1', 'failed', w.vt.clock(), 30 * MIN);
    w.hss.tasks().push(failed, task('h2', 'failed', w.vt.clock(), 20 * MIN));
    await w.tick();
    await w.tick();
    w.hss.tasks().push(retryOf(failed, 'success', w.vt.clock()));

    for (let i = 0; i < 3; i++) await w.tick();

    expect(resolvedOf(w.outbox.delivered).map((r) => [r.task.hostId, r.how])).toEqual([
      ['h1', 'later-success'],
    ]);
  });

  it('resolves it in a scope too large for one page, by asking after the host, within 5 minutes', async () => {
    const w = world();
    const now = w.vt.clock();
    for (let i = 0; i < 300; i++) w.hss.tasks().push(task(`ok${i}`, 'success', now, HOUR + i * MIN));
    const failed = task('h1', 'failed', now, 30 * MIN);
    w.hss.tasks().push(failed);
    for (let i = 0; i < 3; i++) await w.tick();
    w.hss.tasks().push(retryOf(failed, 'success', w.vt.clock()));
    const retried = w.vt.clock();

    for (let i = 0; i < 8; i++) await w.tick();

    const [resolved] = resolvedOf(w.outbox.delivered);
    expect(resolved).toMatchObject({ how: 'later-success' });
    expect(resolved!.at - retried).toBeLessThanOrEqual(5 * MIN + MIN);
    expect(w.hss.calls.some((c) => c.query.resourceName === 'web-h1')).toBe(true);
  });

  it('asks after every open alert’s host in turn, so hosts that never recover do not starve the rest', async () => {
    const w = world();
    const now = w.vt.clock();
    for (let i = 0; i < 300; i++) w.hss.tasks().push(task(`ok${i}`, 'success', now, HOUR + i * MIN));
    // Two failures alerted first, whose hosts never succeed; then a third, h3, retried with success.
    w.hss.tasks().push(task('h1', 'failed', now, 60 * MIN), task('h2', 'failed', now, 50 * MIN));
    for (let i = 0; i < 3; i++) await w.tick();
    const failed = task('h3', 'failed', w.vt.clock(), 5 * MIN);
    w.hss.tasks().push(failed);
    for (let i = 0; i < 3; i++) await w.tick();
    w.hss.tasks().push(retryOf(failed, 'success', w.vt.clock()));
    const retried = w.vt.clock();

    for (let i = 0; i < 15; i++) await w.tick();

    const resolved = resolvedOf(w.outbox.delivered);
    expect(resolved.map((r) => [r.task.hostId, r.how])).toEqual([['h3', 'later-success']]);
    // Two hosts an ask, one ask every 5 minutes: h3's turn comes within two asks.
    expect(resolved[0]!.at - retried).toBeLessThanOrEqual(10 * MIN + MIN);
  });

  it.each([
    ['timed out', 'timeout'],
    ['was skipped', 'skipped'],
    ['sent an undocumented status', 'unknown'],
  ] as const)(
    'never resolves a failure whose retry %s, even with ALERT_STATUSES=failed',
    async (_case, status) => {
      const w = world();
      const failed = task('h1', 'failed', w.vt.clock(), 30 * MIN);
      w.hss.tasks().push(failed);
      await w.tick({ alertStatuses: ['failed'] });
      const retry = retryOf(failed, 'running', w.vt.clock());
      w.hss.tasks().push(retry);
      await w.tick({ alertStatuses: ['failed'] });
      Object.assign(retry, { status, rawStatus: status === 'unknown' ? 'ABORTED' : status });
      for (let i = 0; i < 4; i++) await w.tick({ alertStatuses: ['failed'] });
      const quiet = resolvedOf(w.outbox.delivered).length;
      // A later success does resolve it.
      w.hss.tasks().push(retryOf(failed, 'success', w.vt.clock() + MIN));
      w.vt.advance(MIN);
      for (let i = 0; i < 3; i++) await w.tick({ alertStatuses: ['failed'] });

      expect(quiet).toBe(0);
      expect(resolvedOf(w.outbox.delivered)).toHaveLength(1);
    },
  );
});

describe('nextAsk: the hosts an ask goes after, and where the next one goes on from', () => {
  const page = (...hosts: string[]) => hosts.map((hostName, i) => ({ place: `p${i}`, hostName }));
  it.each([
    {
      hosts: ['web-1', 'web-1', 'db-1', 'web-2'],
      next: [
        ['web-1', 'p1'],
        ['db-1', 'p2'],
      ],
    },
    // An alert of a host already asked, after the second host: covered too.
    {
      hosts: ['web-1', 'db-1', 'web-1', 'web-2'],
      next: [
        ['web-1', 'p0'],
        ['db-1', 'p2'],
      ],
    },
    // Blank host names cannot be asked by name: skipped, and gone past.
    {
      hosts: [' ', 'web-1', '', 'db-1'],
      next: [
        ['web-1', 'p2'],
        ['db-1', 'p3'],
      ],
    },
    { hosts: ['web-1'], next: [['web-1', 'p0']] },
    { hosts: ['', ' '], next: [] },
    { hosts: [], next: [] },
  ])('$hosts: $next', ({ hosts, next }) => {
    expect(nextAsk(page(...hosts), 2).map((t) => [t.host, t.through])).toEqual(next);
  });
});
