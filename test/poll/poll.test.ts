import { HssAuthError, HssServerError } from '../../lib/hss/errors';

import type { Silence } from '../../lib/state/records';
import type { AlertMessage, Message, NoticeMessage, Scope } from '../../lib/model';

import { DAY, fakeHss, HOUR, MIN, SCOPE, STUCK_LIFECYCLE, task, memoryWorld } from './support';

/** Polls every 5 minutes, each allowed 4 minutes. */
async function world(hssOptions: Parameters<typeof fakeHss>[1] = {}, scopes: Scope[] = [SCOPE]) {
  return memoryWorld({ hss: hssOptions, scopes, runMs: 4 * MIN });
}

const alerts = (messages: readonly Message[]): AlertMessage[] =>
  messages.filter((m): m is AlertMessage => m.kind === 'alert');
const notices = (messages: readonly Message[]): NoticeMessage[] =>
  messages.filter((m): m is NoticeMessage => m.kind === 'notice');
/** How many times each task (host id) was alerted with `status`. */
function alertCounts(messages: readonly Message[], status = 'failed'): Map<string, number> {
  const counts = new Map<string, number>();
  for (const a of alerts(messages))
    if (a.status === status) counts.set(a.task.hostId, (counts.get(a.task.hostId) ?? 0) + 1);
  return counts;
}

describe('poll: detection', () => {
  it('alerts a backlog failure on the first poll and nothing on an identical second poll, reading no state', async () => {
    const w = await world();
    w.hss.tasks().push(task('h1', 'failed', w.vt.clock()), task('h2', 'running', w.vt.clock()));

    const first = await w.tick();
    const second = await w.tick();

    expect(alerts(w.outbox.delivered).map((a) => [a.task.hostId, a.status, a.reason])).toEqual([
      ['h1', 'failed', 'first-seen'],
    ]);
    expect(first.alertsNew).toBe(1);
    expect(second.alertsNew).toBe(0);
    expect(second.pagesUnchanged).toBe(second.pagesRead);
    // The scope states, the markers and the silences; no digest read; one write, the scope's state
    // (when its check was read whole, what `status` judges it by).
    expect(second.dynamoRequests).toBe(4);
    expect(second.writeCapacity).toBe(1);
  });

  it('alerts running -> failed once, naming the previous status', async () => {
    const w = await world();
    const t = task('h1', 'running', w.vt.clock());
    w.hss.tasks().push(t);
    await w.tick();
    await w.tick(); // the in-flight sweep has seen it running by now
    Object.assign(t, {
      status: 'failed',
      rawStatus: 'failed',
      errorCode: 'E9',
      endedAt: new Date(w.vt.clock()).toISOString(),
    });

    await w.tick();
    await w.tick();

    expect(alerts(w.outbox.delivered).map((a) => [a.previousStatus, a.status, a.reason, a.episode])).toEqual([
      ['running', 'failed', 'moved', 1],
    ]);
  });

  it('alerts a task that failed, was retried and failed again, as a new episode with its own id', async () => {
    const w = await world();
    const t = task('h1', 'failed', w.vt.clock());
    w.hss.tasks().push(t);
    await w.tick();
    Object.assign(t, { status: 'running', rawStatus: 'running', endedAt: undefined });
    await w.tick();
    await w.tick();
    Object.assign(t, {
      status: 'failed',
      rawStatus: 'failed',
      errorCode: 'E2',
      endedAt: new Date(w.vt.clock()).toISOString(),
    });
    await w.tick();

    const sent = alerts(w.outbox.delivered);
    expect(sent.map((a) => [a.episode, a.reason])).toEqual([
      [1, 'first-seen'],
      [2, 're-entered'],
    ]);
    expect(new Set(sent.map((a) => a.id)).size).toBe(2);
  });

  it('alerts one failure among 4,200 in-flight tasks in the first poll, and every poll ends in time', async () => {
    const w = await world();
    const now = w.vt.clock();
    for (let i = 0; i < 2100; i++)
      w.hss.tasks().push(task(`r${i}`, 'running', now), task(`w${i}`, 'waiting', now));
    w.hss.tasks().push(task('bad', 'failed', now));

    const polls = [];
    for (let i = 0; i < 4; i++) polls.push(await w.tick());

    expect([...alertCounts(w.outbox.delivered)]).toEqual([['bad', 1]]);
    expect(polls[0]!.alertsNew).toBe(1);
    expect(polls.every((p) => p.durationMs <= 4 * MIN)).toBe(true);
    expect(w.hss.maxPerMinute()).toBeLessThanOrEqual(5);
    // The sweep could not finish in one poll: it continued where it stopped.
    expect(polls[0]!.left.length).toBeGreaterThan(0);
  });

  it.each(['newest-first', 'oldest-first'] as const)(
    'alerts 3,000 failures exactly once each within 3 polls, and 20 added deep in the list within 2 more (%s)',
    async (order) => {
      const w = await world({ order });
      const now = w.vt.clock();
      for (let i = 0; i < 3000; i++) w.hss.tasks().push(task(`f${i}`, 'failed', now, HOUR + i * 10_000));

      for (let i = 0; i < 3; i++) await w.tick();
      const firstWave = alertCounts(w.outbox.delivered);
      for (let i = 0; i < 20; i++)
        w.hss.tasks().push(task(`late${i}`, 'failed', w.vt.clock(), 10 * HOUR + i * MIN));
      for (let i = 0; i < 2; i++) await w.tick();

      const counts = alertCounts(w.outbox.delivered);
      expect(firstWave.size).toBe(3000);
      expect(counts.size).toBe(3020);
      expect([...counts.values()].every((n) => n === 1)).toBe(true);
      expect(w.hss.maxPerMinute()).toBeLessThanOrEqual(5);
    },
  );

  it('continues a list too long for one poll from its cursor, alerting every failure once', async () => {
    const w = await world();
    const now = w.vt.clock();
    for (let i = 0; i < 3000; i++) w.hss.tasks().push(task(`f${i}`, 'failed', now, HOUR + i * 10_000));

    const summaries = [];
    // 75 s of reading a poll: 5 calls at 5/min, so the 15 pages take several polls.
    for (let i = 0; i < 6; i++) summaries.push(await w.tick({ runMs: 90_000 }));

    const counts = alertCounts(w.outbox.delivered);
    expect(counts.size).toBe(3000);
    expect([...counts.values()].every((n) => n === 1)).toBe(true);
    expect(summaries[0]!.left).toEqual([expect.objectContaining({ list: 'failed' })]);
    expect(summaries[0]!.outOfTime).toBe(true);
  });

  it('reads no state once steady while a 3,000-failure list is read across polls, its pages stepping back', async () => {
    const w = await world();
    const now = w.vt.clock();
    for (let i = 0; i < 3000; i++) w.hss.tasks().push(task(`f${i}`, 'failed', now, HOUR + i * 5000));
    let digestReads = 0;
    const readDigest = w.store.readDigest.bind(w.store);
    w.store.readDigest = async (id) => {
      digestReads += 1;
      return readDigest(id);
    };
    const reads: number[] = [];
    for (let i = 0; i < 30; i++) {
      const before = digestReads;
      await w.tick({ runMs: 90_000, periodMs: MIN });
      reads.push(digestReads - before);
    }

    expect(alertCounts(w.outbox.delivered).size).toBe(3000);
    // The first cycles record the failures; once a cycle and its sketch are kept, no poll reads the digest.
    expect(reads.slice(15)).toEqual(reads.slice(15).map(() => 0));
  });

  it('finds failures inserted at the head while a long list is paged', async () => {
    const w = await world();
    const now = w.vt.clock();
    for (let i = 0; i < 1000; i++) w.hss.tasks().push(task(`f${i}`, 'failed', now, 2 * HOUR + i * 10_000));
    const original = w.hss.reader.fetchPage.bind(w.hss.reader);
    let inserted = 0;
    w.hss.reader.fetchPage = async (...args) => {
      // Newest first: each new failure pushes every record one place down.
      w.hss.tasks().push(task(`new${inserted++}`, 'failed', w.vt.clock(), MIN));
      return original(...args);
    };

    for (let i = 0; i < 4; i++) await w.tick({ runMs: 90_000 });
    w.hss.reader.fetchPage = original;
    for (let i = 0; i < 3; i++) await w.tick();

    const counts = alertCounts(w.outbox.delivered);
    expect(counts.size).toBe(1000 + inserted);
    expect([...counts.values()].every((n) => n === 1)).toBe(true);
  });
});

describe('poll: window edge', () => {
  it('follows up a task that left the window unfinished and alerts when it is found failed', async () => {
    const w = await world();
    const t = task('edge', 'running', w.vt.clock(), DAY - 20 * MIN);
    w.hss.tasks().push(t);
    await w.tick();
    await w.tick();
    // It fails after it has left the 1-day window: the failed list never shows it.
    w.vt.advance(30 * MIN);
    Object.assign(t, {
      status: 'failed',
      rawStatus: 'failed',
      endedAt: new Date(w.vt.clock()).toISOString(),
    });

    for (let i = 0; i < 4; i++) await w.tick();

    const sent = alerts(w.outbox.delivered);
    expect(sent.map((a) => [a.task.hostId, a.reason])).toEqual([['edge', 'resolved-after-window']]);
  });

  it('rotates follow-ups: a task stuck past the window does not starve another, and is reported lost once', async () => {
    const w = await world();
    const stuck = task('stuck', 'running', w.vt.clock(), DAY - 20 * MIN);
    const other = task('other', 'running', w.vt.clock(), DAY - 19 * MIN);
    w.hss.tasks().push(stuck, other);
    await w.tick();
    await w.tick();
    w.vt.advance(30 * MIN);
    Object.assign(other, { status: 'failed', rawStatus: 'failed' });
    // `stuck` keeps running for days; `other` failed outside the window.
    for (let i = 0; i < 12 * 24 * 3; i++) await w.tick();

    expect([...alertCounts(w.outbox.delivered)]).toEqual([['other', 1]]);
    const lost = notices(w.outbox.delivered).filter((n) => n.notice === 'lost-track');
    expect(lost).toHaveLength(1);
    expect(lost[0]!.facts).toContainEqual(['Host', 'web-stuck (stuck)']);
  });

  it('reports a task with no host name as lost at once instead of failing polls', async () => {
    const w = await world();
    const t = task('anon', 'running', w.vt.clock(), DAY - 20 * MIN, { hostName: '' });
    w.hss.tasks().push(t);
    await w.tick();
    await w.tick();
    w.vt.advance(30 * MIN);

    const polls = [];
    for (let i = 0; i < 3; i++) polls.push(await w.tick());

    expect(polls.every((p) => p.scopesFailed.length === 0)).toBe(true);
    expect(notices(w.outbox.delivered).filter((n) => n.notice === 'lost-track')).toHaveLength(1);
  });
});

describe('poll: blind gaps and health', () => {
  it('widens the window to read a 2-day gap when the poller was stopped, and says so', async () => {
    const w = await world();
    await w.tick();
    await w.tick();
    // Stopped for 2 days; a restore fails 2 h into it.
    const stoppedAt = w.vt.clock();
    w.hss.tasks().push(task('gap', 'failed', stoppedAt + 2 * DAY, 2 * DAY - 2 * HOUR));
    w.vt.time.now = stoppedAt + 2 * DAY;

    const after = await w.tick();

    expect([...alertCounts(w.outbox.delivered)]).toEqual([['gap', 1]]);
    expect(after.widened).toEqual([expect.objectContaining({ scope: SCOPE.id, days: 3 })]);
    expect(w.hss.calls.find((c) => c.at >= stoppedAt + 2 * DAY)?.query.lastDays).toBe(3);
    // The gap read, the window is back to LAST_DAYS.
    await w.tick();
    expect(w.hss.calls.at(-1)?.query.lastDays).toBe(1);
  });

  it('tells every destination once when polls keep failing, and once when they work again, with the blind time', async () => {
    const w = await world();
    await w.tick();
    w.hss.failProject(SCOPE.projectId, new HssServerError('HTTP 503'));
    const failing = [];
    for (let i = 0; i < 5; i++) failing.push(await w.tick());
    w.hss.failProject(SCOPE.projectId, undefined);
    const back = [await w.tick(), await w.tick()];

    const sent = notices(w.outbox.delivered).map((n) => n.notice);
    expect(sent).toEqual(['monitoring-down', 'monitoring-recovered']);
    // Blind from the poll after its bound (a period, and one more for the poll under way) ran out.
    expect(failing.map((p) => p.scopesBlind)).toEqual([0, 0, 1, 1, 1]);
    expect(failing.at(-1)!.detectionLagMs).toBeGreaterThanOrEqual(5 * 5 * MIN);
    expect(back.map((p) => p.scopesBlind)).toEqual([0, 0]);
    expect(failing.every((p) => p.scopesFailed.length === 1)).toBe(true);
    const recovered = notices(w.outbox.delivered).find((n) => n.notice === 'monitoring-recovered')!;
    expect(recovered.summary).toMatch(/blind for 3\d min/);
  });

  it('announces a gap longer than 30 days as a possible loss, with the dates, once', async () => {
    const w = await world();
    await w.tick();
    w.vt.advance(40 * DAY);
    await w.tick();
    await w.tick();

    const loss = notices(w.outbox.delivered).filter((n) => n.notice === 'possible-loss');
    expect(loss).toHaveLength(1);
    expect(loss[0]!.summary).toContain('2026-11-27 12:00 UTC');
  });

  it('keeps alerting the healthy scope when another scope fails', async () => {
    const other: Scope = { ...SCOPE, id: 'cn-north-4/proj-2/0', region: 'cn-north-4', projectId: 'proj-2' };
    const w = await world({}, [SCOPE, other]);
    w.hss.tasks('proj-2').push(task('p2', 'failed', w.vt.clock()));
    w.hss.failProject(SCOPE.projectId, new HssAuthError('HTTP 401 APIGW.0301'));

    const summaries = [];
    for (let i = 0; i < 3; i++) summaries.push(await w.tick());

    expect([...alertCounts(w.outbox.delivered)]).toEqual([['p2', 1]]);
    expect(summaries[0]!.scopesFailed).toEqual([
      { scope: SCOPE.id, error: expect.stringContaining('APIGW.0301'), auth: true },
    ]);
    const down = notices(w.outbox.delivered).filter((n) => n.notice === 'monitoring-down');
    expect(down.map((n) => n.scope?.id)).toEqual([SCOPE.id]);
  });
});

describe('poll: dry run and baseline', () => {
  it('writes nothing and sends nothing on a dry run, but lists what it would send', async () => {
    const w = await world();
    w.hss.tasks().push(task('h1', 'failed', w.vt.clock()));

    const dry = await w.run({ dryRun: true });

    expect(dry.wouldSend?.map((m) => m.kind)).toEqual(['alert']);
    expect(dry.writeCapacity).toBe(0);
    expect(w.outbox.records.size).toBe(0);
  });

  it('records the window without alerting in baseline mode; later failures alert', async () => {
    const w = await world();
    w.hss.tasks().push(task('old', 'failed', w.vt.clock()));
    await w.tick({ baseline: true });
    w.hss.tasks().push(task('new', 'failed', w.vt.clock()));
    await w.tick();

    expect([...alertCounts(w.outbox.delivered)]).toEqual([['new', 1]]);
  });
});

describe('poll: stuck tasks', () => {
  const stuck = { lifecycle: STUCK_LIFECYCLE };

  it('alerts once when progress stays at 41% for an hour, then says it was stuck when it fails', async () => {
    const w = await world();
    const t = task('slow', 'running', w.vt.clock(), 10 * MIN, { process: 41 });
    w.hss.tasks().push(t);

    const early = [];
    for (let i = 0; i < 12; i++) early.push(await w.tick(stuck));
    for (let i = 0; i < 12; i++) await w.tick(stuck);
    Object.assign(t, {
      status: 'failed',
      rawStatus: 'failed',
      endedAt: new Date(w.vt.clock()).toISOString(),
    });
    await w.tick(stuck);

    const sent = alerts(w.outbox.delivered);
    expect(sent.map((a) => [a.status, a.reason, a.episode])).toEqual([
      ['stuck', 'stuck-no-progress', 1],
      ['failed', 'moved', 1],
    ]);
    expect(sent[0]!.stuck).toMatchObject({ process: 41 });
    expect(sent[0]!.stuck!.stalledMs).toBeGreaterThanOrEqual(60 * MIN);
    expect(sent[1]!.wasStuck).toMatchObject({ process: 41 });
    // Nothing before the hour was up.
    expect(early.slice(0, 11).every((p) => p.alertsNew === 0)).toBe(true);
  });

  it('does not call a task stuck while its progress moves, but does after 6 hours of running', async () => {
    const w = await world();
    const t = task('long', 'running', w.vt.clock(), 0, { process: 1 });
    w.hss.tasks().push(t);
    for (let i = 0; i < 12 * 7; i++) {
      t.process = Math.min(99, 1 + i);
      await w.tick(stuck);
    }

    const sent = alerts(w.outbox.delivered);
    expect(sent.map((a) => [a.status, a.reason])).toEqual([['stuck', 'stuck-too-long']]);
    expect(sent[0]!.stuck!.runningMs).toBeGreaterThanOrEqual(6 * HOUR);
  });
});

describe('poll: alert lifecycle', () => {
  const lifecycle = { ...STUCK_LIFECYCLE, remindAfterHours: 24 };
  const of = <K extends Message['kind']>(messages: readonly Message[], kind: K) =>
    messages.filter((m): m is Extract<Message, { kind: K }> => m.kind === kind);

  it('stuck at 41% -> one stuck alert; then failed -> one failed alert; a later success -> one resolved notice', async () => {
    const w = await world();
    const t = task('db-1', 'running', w.vt.clock(), 10 * MIN, { process: 41, backupName: 'nightly' });
    w.hss.tasks().push(t);
    for (let i = 0; i < 14; i++) await w.tick({ lifecycle });
    Object.assign(t, {
      status: 'failed',
      rawStatus: 'failed',
      endedAt: new Date(w.vt.clock()).toISOString(),
    });
    await w.tick({ lifecycle });
    // A new run of the same host and backup starts, runs, and succeeds.
    const retry = task('db-1', 'running', w.vt.clock(), 0, { backupName: 'nightly', process: 10 });
    w.hss.tasks().push(retry);
    await w.tick({ lifecycle });
    await w.tick({ lifecycle });
    Object.assign(retry, { status: 'success', rawStatus: 'success', process: 100 });
    for (let i = 0; i < 3; i++) await w.tick({ lifecycle });

    const sent = w.outbox.delivered;
    expect(alerts(sent).map((a) => a.status)).toEqual(['stuck', 'failed']);
    const resolved = of(sent, 'resolved');
    expect(resolved).toHaveLength(1);
    expect(resolved[0]).toMatchObject({
      how: 'later-success',
      alertStatus: 'failed',
      taskRef: alerts(sent)[1]!.taskRef,
    });
    expect(resolved[0]!.alertId).toBe(alerts(sent)[1]!.id);
  });

  it('resolves a stuck task that finishes', async () => {
    const w = await world();
    const t = task('slow', 'running', w.vt.clock(), 10 * MIN, { process: 5 });
    w.hss.tasks().push(t);
    for (let i = 0; i < 14; i++) await w.tick({ lifecycle });
    Object.assign(t, { status: 'success', rawStatus: 'success', process: 100 });
    for (let i = 0; i < 3; i++) await w.tick({ lifecycle });

    expect(of(w.outbox.delivered, 'resolved').map((r) => [r.alertStatus, r.how])).toEqual([
      ['stuck', 'finished'],
    ]);
  });

  it('reminds exactly twice of a failure left unresolved for 50 h (REMIND_AFTER_HOURS=24)', async () => {
    const w = await world();
    w.hss.tasks().push(task('h1', 'failed', w.vt.clock(), 10 * MIN));
    for (let i = 0; i < 12 * 50; i++) await w.tick({ lifecycle, runMs: 60_000, periodMs: 5 * MIN });

    const reminders = of(w.outbox.delivered, 'reminder');
    expect(reminders.map((r) => r.n)).toEqual([1, 2]);
  });

  it('sends no resolved notice when NOTIFY_RESOLVED is off', async () => {
    const w = await world();
    const t = task('slow', 'running', w.vt.clock(), 10 * MIN, { process: 5 });
    w.hss.tasks().push(t);
    for (let i = 0; i < 14; i++) await w.tick({ lifecycle: { ...lifecycle, notifyResolved: false } });
    Object.assign(t, { status: 'success', rawStatus: 'success' });
    for (let i = 0; i < 3; i++) await w.tick({ lifecycle: { ...lifecycle, notifyResolved: false } });

    expect(of(w.outbox.delivered, 'resolved')).toHaveLength(0);
  });

  it('holds a web-03 failure inside a 4 h silence on web-*, sends db-01 at once, and releases web-03 when the silence ends', async () => {
    const w = await world();
    const now = w.vt.clock();
    await w.lifecycle.putSilence(
      {
        id: 's1',
        hosts: ['web-*'],
        backups: [],
        statuses: [],
        startsAt: now,
        endsAt: now + 4 * HOUR,
        reason: 'maintenance',
        createdAt: now,
      },
      now,
    );
    w.hss
      .tasks()
      .push(task('03', 'failed', now, 10 * MIN), task('db', 'failed', now, 10 * MIN, { hostName: 'db-01' }));

    await w.tick({ lifecycle });
    const during = alerts(w.outbox.delivered).map((a) => a.task.hostName);
    const swallowed = await w.lifecycle.swallowed('s1');
    for (let i = 0; i < 12 * 4 + 1; i++) await w.tick({ lifecycle });

    expect(during).toEqual(['db-01']);
    expect(swallowed.map((a) => a.task.hostName)).toEqual(['web-03']);
    expect([...alertCounts(w.outbox.delivered)].sort()).toEqual([
      ['03', 1],
      ['db', 1],
    ]);
  });

  it.each([
    ['the 1 h silence swallowed it', 'a-1h', 'b-6h'],
    ['the 6 h silence swallowed it', 'b-6h', 'a-1h'],
  ])(
    'holds a web-01 failure under web-* for 6 h and web-01 for 1 h until the last one ends (%s)',
    async (_case, shortId, longId) => {
      const w = await world();
      const now = w.vt.clock();
      const silence = (id: string, hosts: string[], hours: number): Silence => ({
        id,
        hosts,
        backups: [],
        statuses: [],
        startsAt: now,
        endsAt: now + hours * HOUR,
        reason: 'maintenance',
        createdAt: now,
      });
      await w.lifecycle.putSilence(silence(shortId, ['web-01'], 1), now);
      await w.lifecycle.putSilence(silence(longId, ['web-*'], 6), now);
      w.hss.tasks().push(task('01', 'failed', now, 10 * MIN));

      const sentAt: number[] = [];
      for (let i = 0; i < 12 * 7; i++) {
        const before = alerts(w.outbox.delivered).length;
        await w.tick({ lifecycle });
        if (alerts(w.outbox.delivered).length > before) sentAt.push(w.vt.clock() - now);
      }

      expect([...alertCounts(w.outbox.delivered)]).toEqual([['01', 1]]);
      expect(sentAt).toHaveLength(1);
      expect(sentAt[0]).toBeGreaterThan(6 * HOUR);
      expect(sentAt[0]).toBeLessThanOrEqual(6 * HOUR + 10 * MIN);
    },
  );

  it('releases a held alert when the last matching silence is expired early', async () => {
    const w = await world();
    const now = w.vt.clock();
    const base = { backups: [], statuses: [], startsAt: now, reason: 'x', createdAt: now };
    await w.lifecycle.putSilence({ ...base, id: 's1', hosts: ['web-*'], endsAt: now + 6 * HOUR }, now);
    await w.lifecycle.putSilence({ ...base, id: 's2', hosts: ['web-01'], endsAt: now + 6 * HOUR }, now);
    w.hss.tasks().push(task('01', 'failed', now, 10 * MIN));
    await w.tick({ lifecycle });
    // `silence expire` ends them now: one, then the other two polls later.
    const expire = async (id: string) => {
      const [s] = (await w.lifecycle.listSilences()).filter((x) => x.id === id);
      await w.lifecycle.putSilence({ ...s!, endsAt: w.vt.clock() }, w.vt.clock());
      await w.tick({ lifecycle });
      await w.tick({ lifecycle });
    };
    await expire('s1');
    const afterFirst = alerts(w.outbox.delivered).length;
    await expire('s2');

    expect(afterFirst).toBe(0);
    expect([...alertCounts(w.outbox.delivered)]).toEqual([['01', 1]]);
  });

  it('drops a silenced failure that was resolved before the silence ended', async () => {
    const w = await world();
    const now = w.vt.clock();
    await w.lifecycle.putSilence(
      {
        id: 's1',
        hosts: ['web-*'],
        backups: [],
        statuses: [],
        startsAt: now,
        endsAt: now + HOUR,
        reason: 'x',
        createdAt: now,
      },
      now,
    );
    w.hss.tasks().push(task('03', 'failed', now, 10 * MIN));
    await w.tick({ lifecycle });
    const later = task('03', 'running', w.vt.clock(), 0);
    w.hss.tasks().push(later);
    await w.tick({ lifecycle });
    await w.tick({ lifecycle });
    Object.assign(later, { status: 'success', rawStatus: 'success' });
    for (let i = 0; i < 14; i++) await w.tick({ lifecycle });

    expect(alerts(w.outbox.delivered)).toHaveLength(0);
    expect(of(w.outbox.delivered, 'resolved')).toHaveLength(0);
  });

  it('sends one daily summary whose counts match the tasks HSS served that day', async () => {
    const w = await world();
    const config = { ...lifecycle, dailySummary: { at: '09:00', timeZone: 'Asia/Shanghai' } };
    const shanghaiDay = (ms: number) => new Date(ms + 8 * HOUR).toISOString().slice(0, 10);
    // Start at 00:05 Shanghai time on 2026-11-28 (16:05 UTC the day before).
    w.vt.time.now = Date.UTC(2026, 10, 27, 16, 5);
    const served = { success: 0, failed: 0, timeout: 0 };
    const started: ReturnType<typeof task>[] = [];
    for (let i = 0; i < 12 * 34; i++) {
      const now = w.vt.clock();
      // From 01:00 to 22:00 (Shanghai) a task starts every 30 min, runs 20 min and ends.
      const hour = new Date(now + 8 * HOUR).getUTCHours();
      if (i % 6 === 0 && shanghaiDay(now) === '2026-11-28' && hour >= 1 && hour < 22) {
        const t = task(`t${i}`, 'running', now, 0, { process: 10 });
        started.push(t);
        w.hss.tasks().push(t);
      }
      for (const t of started) {
        if (t.status !== 'running' || now - t.startedMs! < 20 * MIN) continue;
        const n = started.indexOf(t);
        const end = n % 5 === 0 ? 'failed' : n % 7 === 0 ? 'timeout' : 'success';
        Object.assign(t, { status: end, rawStatus: end, endedAt: new Date(now).toISOString() });
        served[end] += 1;
      }
      await w.tick({ lifecycle: config });
    }

    const summaries = of(w.outbox.delivered, 'daily-summary');
    expect(summaries.map((s) => s.day)).toEqual(['2026-11-28']);
    expect(served.success).toBeGreaterThan(20);
    expect(summaries[0]!.scopes[0]).toMatchObject({
      succeeded: served.success,
      failed: served.failed,
      timedOut: served.timeout,
      stillOpen: served.failed + served.timeout,
    });
    expect(summaries[0]!.slowest.length).toBeGreaterThan(0);
  });
});
