// A bad record never costs another record its alert: duplicated rows collapse into one task,
// unreadable records are skipped and reported once a day, and every other row is alerted on.

import type { AlertMessage, Message, NoticeMessage } from '../../lib/model';

import { DAY, HOUR, MIN, task, memoryWorld } from './support';

/** Polls every 5 minutes, pages of `pageSize`, no call limit to speak of. */
function world(pageSize = 200) {
  return memoryWorld({ hss: { perMinute: 1000 }, runMs: 5 * MIN, base: { pageSize } });
}

const alertsOf = (sent: readonly Message[]) => sent.filter((m): m is AlertMessage => m.kind === 'alert');
const noticesOf = (sent: readonly Message[], kind: string) =>
  sent.filter((m): m is NoticeMessage => m.kind === 'notice' && m.notice === kind);

describe('poll: duplicated rows', () => {
  it.each([
    ['identical, side by side', 0, 'disk full'],
    ['with a different error text, side by side', 0, 'vault busy'],
    ['identical, on two pages', 12, 'disk full'],
    ['with a different error text, on two pages', 12, 'vault busy'],
  ])(
    'alert a task listed twice (%s) once, and its healthy neighbour once, poll after poll',
    async (_case, gap, otherError) => {
      const w = world(10);
      const now = w.vt.clock();
      const twice = task('dup', 'failed', now, 30 * MIN);
      const filler = Array.from({ length: gap }, (_, i) =>
        task(`fill${i}`, 'failed', now, 31 * MIN + i * MIN),
      );
      w.hss
        .tasks()
        .push(twice, ...filler, { ...twice, errorMessage: otherError }, task('ok', 'failed', now, 20 * MIN));

      const polls = [];
      for (let i = 0; i < 6; i++) polls.push(await w.tick());

      const byHost = new Map<string, number>();
      for (const a of alertsOf(w.outbox.delivered))
        byHost.set(a.task.hostId, (byHost.get(a.task.hostId) ?? 0) + 1);
      expect(byHost.get('dup')).toBe(1);
      expect(byHost.get('ok')).toBe(1);
      expect(byHost.size).toBe(gap + 2);
      expect(polls.every((p) => p.scopesFailed.length === 0)).toBe(true);
      expect(polls[0]!.recordsDuplicated).toBeGreaterThan(0);
      // Once collapsed, the task stops changing: later polls write nothing about it.
      expect(polls.slice(2).every((p) => p.changes === 0)).toBe(true);
    },
  );
});

describe('poll: unreadable records', () => {
  it('skips them, alerts the readable failure on the same page, and tells every destination once a day', async () => {
    const w = world();
    w.hss.tasks().push(task('ok', 'failed', w.vt.clock(), 20 * MIN));
    const original = w.hss.reader.fetchPage.bind(w.hss.reader);
    w.hss.reader.fetchPage = async (...args) => {
      const result = await original(...args);
      if (result.kind === 'page')
        result.page.rejected.push({
          index: 1,
          reason: 'host_id is missing or empty',
          sample: '{"host_name":"web-9"}',
        });
      return result;
    };

    const polls = [];
    for (let i = 0; i < (2 * DAY) / (5 * MIN); i++) polls.push(await w.tick());

    expect(alertsOf(w.outbox.delivered).map((a) => a.task.hostId)).toEqual(['ok']);
    // Two days from noon UTC span three UTC days: one notice each.
    const notices = noticesOf(w.outbox.delivered, 'records-rejected');
    expect(notices.map((n) => n.facts?.[0]?.[1])).toEqual(['2026-11-27', '2026-11-28', '2026-11-29']);
    expect(notices[0]!.facts).toContainEqual(['First', 'record 1: host_id is missing or empty']);
    expect(notices[0]!.detail).toBe('{"host_name":"web-9"}');
    expect(polls.every((p) => p.recordsRejected >= 1 && p.scopesFailed.length === 0)).toBe(true);
    expect(polls.at(-1)!.durationMs).toBeLessThan(HOUR);
  });
});
