import {
  ALERTING,
  decideFollowUp,
  earliestStuck,
  followUpQuery,
  judgeStuck,
  followUpDueAt,
  MAX_FOLLOW_UP_TRIES,
  observe,
  vanished,
  type DecideContext,
  type Decision,
} from '../../lib/diff/decide';
import { decodeEntries, encodeEntries, entryKey, type Entry } from '../../lib/state/entry';
import type { Task } from '../../lib/model';

const T0 = Date.UTC(2026, 10, 27, 12, 0, 0);
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const KEY = entryKey('proj', 'h1#b1#2026-11-27T10%3A00%3A00Z');
const ctx: DecideContext = { now: T0, alertStatuses: ['failed', 'timeout'], baseline: false };

function task(overrides: Partial<Task> = {}): Task {
  return {
    hostId: 'h1',
    hostName: 'web-01',
    backupName: 'b1',
    status: 'running',
    rawStatus: overrides.status ?? 'running',
    startedAt: '2026-11-27T10:00:00Z',
    startedMs: T0 - 2 * HOUR,
    process: 40,
    ...overrides,
  };
}

/** The entry after observing `tasks` one after the other. */
function entryAfter(...tasks: Task[]): Entry | undefined {
  let entry: Entry | undefined;
  for (const t of tasks) entry = observe(entry, t, KEY, ctx).entry;
  return entry;
}

const running = task();
const failed = task({
  status: 'failed',
  rawStatus: 'failed',
  errorCode: 'E1',
  endedAt: '2026-11-27T11:00:00Z',
});
const timedOut = task({ status: 'timeout', rawStatus: 'timeout' });

describe('observe', () => {
  const cases: Array<[string, Task[], Task, Decision, number | undefined]> = [
    ['a new running task is recorded quietly', [], running, 'first-seen', undefined],
    ['a new failed task alerts (the backlog counts)', [], failed, 'first-seen-in-alert-status', 1],
    ['the same observation again changes nothing', [running], running, 'unchanged', undefined],
    ['running -> failed alerts', [running], failed, 'moved-into-alert-status', 1],
    [
      'failed -> timeout alerts once more, same episode',
      [running, failed],
      timedOut,
      'moved-between-alert-statuses',
      1,
    ],
    [
      'timeout -> failed within one episode stays quiet',
      [failed, timedOut],
      { ...failed },
      'already-alerted',
      undefined,
    ],
    [
      'failed -> running (retried) ends the episode quietly',
      [failed],
      running,
      'left-alert-status',
      undefined,
    ],
    [
      'failed -> running -> failed alerts again as a new episode',
      [failed, running],
      failed,
      're-entered-alert-status',
      2,
    ],
    [
      'still failed with a new error means it was retried and failed unseen: a new episode',
      [failed],
      { ...failed, errorCode: 'E2', endedAt: '2026-11-27T11:30:00Z' },
      'failed-again',
      2,
    ],
    [
      'a failed task whose progress moves is not a new failure',
      [failed],
      { ...failed, process: 41 },
      'progress',
      undefined,
    ],
    ['progress of a running task is recorded', [running], { ...running, process: 55 }, 'progress', undefined],
    [
      'waiting -> running is recorded',
      [task({ status: 'waiting', rawStatus: 'waiting' })],
      running,
      'status-changed',
      undefined,
    ],
    [
      'an undocumented status is recorded, never alerted',
      [running],
      task({ status: 'unknown', rawStatus: 'paused' }),
      'status-changed',
      undefined,
    ],
  ];
  it.each(cases)('%s', (_why, before, now, decision, episode) => {
    const result = observe(entryAfter(...before), now, KEY, ctx);
    expect(result.decision).toBe(decision);
    expect(ALERTING.has(result.decision)).toBe(episode !== undefined);
    expect(result.alert?.episode).toBe(episode);
  });

  it('names the previous status and the reason of an alert', () => {
    const result = observe(entryAfter(running), failed, KEY, ctx);
    expect(result.alert).toEqual({
      status: 'failed',
      previousStatus: 'running',
      reason: 'moved',
      episode: 1,
    });
  });

  it('records but does not alert in baseline mode', () => {
    const result = observe(undefined, failed, KEY, { ...ctx, baseline: true });
    expect(result.decision).toBe('baseline');
    expect(result.alert).toBeUndefined();
    expect(result.entry.alerted).toEqual(['failed']);
    // After the baseline, the same failure is already known.
    expect(observe(result.entry, failed, KEY, ctx).decision).toBe('unchanged');
  });

  it('restarts the stuck clock only when progress moves', () => {
    const first = observe(undefined, running, KEY, ctx).entry;
    const later = { ...ctx, now: T0 + HOUR };
    expect(observe(first, { ...running, process: 40, endedAt: 'x' }, KEY, later).entry.progressSec).toBe(
      T0 / 1000,
    );
    expect(observe(first, { ...running, process: 41 }, KEY, later).entry.progressSec).toBe(
      (T0 + HOUR) / 1000,
    );
  });
});

describe('vanished', () => {
  const entry = (startedMs: number, status: Task['status'], zoneless = false): Entry =>
    observe(undefined, task({ status, rawStatus: status, startedMs, zoneless }), KEY, ctx).entry;
  const cases: Array<
    [string, Entry, Task['status'] & ('running' | 'waiting' | 'failed' | 'timeout'), string]
  > = [
    [
      'a running task gone well inside the window finished',
      entry(T0 - 2 * HOUR, 'running'),
      'running',
      'finished',
    ],
    [
      'a running task gone near the window edge needs a follow-up',
      entry(T0 - DAY + 5 * 60_000, 'running'),
      'running',
      'follow-up',
    ],
    [
      'a zone-less start allows 14 h either way',
      entry(T0 - DAY + 13 * HOUR, 'running', true),
      'running',
      'follow-up',
    ],
    [
      'a zone-less start well inside the window finished',
      entry(T0 - 8 * HOUR, 'running', true),
      'running',
      'finished',
    ],
    ['an unreadable start cannot prove it finished', entry(Number.NaN, 'running'), 'running', 'follow-up'],
    ['a failed task older than the window aged out', entry(T0 - DAY - HOUR, 'failed'), 'failed', 'aged-out'],
    [
      'a failed task inside the window missing once is kept (paging shift)',
      entry(T0 - HOUR, 'failed'),
      'failed',
      'kept',
    ],
  ];
  it.each(cases)('%s', (_why, e, list, expected) => {
    expect(vanished(e, list, T0, 1)).toBe(expected);
  });
});

describe('follow-ups', () => {
  const tracked: Entry = { ...entryAfter(running)!, followUp: true };

  it('alerts when the task is found failed after the window, as resolved-after-window', () => {
    const result = decideFollowUp(tracked, failed, true, ctx);
    expect(result.decision).toBe('ended');
    expect(result.observed?.alert).toMatchObject({
      status: 'failed',
      reason: 'resolved-after-window',
      episode: 1,
    });
  });

  it('forgets a task found finished without alerting', () => {
    const result = decideFollowUp(tracked, task({ status: 'success', rawStatus: 'success' }), true, ctx);
    expect(result.decision).toBe('ended');
    expect(result.observed?.alert).toBeUndefined();
  });

  it('counts a try and backs off when the task is still running or not found', () => {
    const still = decideFollowUp(tracked, running, true, ctx);
    expect(still.decision).toBe('still-running');
    expect(still.entry.tries).toBe(1);
    const missing = decideFollowUp(still.entry, undefined, true, { ...ctx, now: T0 + HOUR });
    expect(missing.decision).toBe('not-found');
    expect(missing.entry.tries).toBe(2);
    expect(followUpDueAt(missing.entry, 60_000)).toBe(T0 + HOUR + 2 * 60_000);
  });

  it('reports a task lost after the last try, or at once when there is nothing to query by', () => {
    expect(
      decideFollowUp({ ...tracked, tries: MAX_FOLLOW_UP_TRIES - 1 }, undefined, true, ctx).decision,
    ).toBe('lost-track');
    expect(decideFollowUp(tracked, undefined, false, ctx).decision).toBe('lost-track');
  });

  it('waits at most 6 h between tries', () => {
    expect(followUpDueAt({ ...tracked, tries: 11, triedSec: T0 / 1000 }, 300_000)).toBe(T0 + 6 * HOUR);
  });
});

describe('followUpQuery', () => {
  const e = entryAfter(running)!;
  const cases: Array<[string, Task | undefined, Partial<Entry>, ReturnType<typeof followUpQuery>]> = [
    [
      'asks by host name over a window reaching back to the start, and an hour',
      running,
      {},
      { queryable: true, lastDays: 1, resourceName: 'web-01' },
    ],
    [
      'reaches back further for an older start',
      { ...running, startedMs: T0 - 50 * HOUR },
      {},
      { queryable: true, lastDays: 3, resourceName: 'web-01' },
    ],
    [
      'widens by the zone margin when the start had no zone',
      { ...running, startedMs: T0 - 20 * HOUR },
      { zoneless: true },
      { queryable: true, lastDays: 2, resourceName: 'web-01' },
    ],
    [
      'cannot ask without the task details',
      undefined,
      {},
      { queryable: false, why: 'its details were not recorded' },
    ],
    [
      'cannot ask without a host name',
      { ...running, hostName: '  ' },
      {},
      { queryable: false, why: 'HSS gave it no host name to search by' },
    ],
    [
      'cannot ask about a task older than the 30 days the API covers',
      { ...running, startedMs: T0 - 31 * DAY },
      {},
      { queryable: false, why: 'it started more than 30 days ago' },
    ],
  ];
  it.each(cases)('%s', (_why, t, over, expected) => {
    expect(followUpQuery({ ...e, ...over }, t, T0)).toEqual(expected);
  });
});

describe('judgeStuck and earliestStuck', () => {
  const rules = { afterMs: HOUR, maxMs: 6 * HOUR };
  const stalled = { ...entryAfter(running)!, progressSec: (T0 - 2 * HOUR) / 1000 };
  const moving = { ...entryAfter({ ...running, hostId: 'h2' })!, progressSec: T0 / 1000 };
  const seen = new Set([stalled.key, moving.key]);

  it('alerts the task whose progress has not moved, among those the whole cycle saw', () => {
    const found = judgeStuck([stalled, moving], { list: 'running', seen, cycleStart: T0 }, rules, false);
    expect(found.map((f) => [f.entry.key, f.alert?.reason])).toEqual([[stalled.key, 'stuck-no-progress']]);
  });

  it('judges no task the cycle did not see, and no task of another list', () => {
    expect(judgeStuck([stalled], { list: 'running', seen: new Set(), cycleStart: T0 }, rules, false)).toEqual(
      [],
    );
    expect(judgeStuck([stalled], { list: 'waiting', seen, cycleStart: T0 }, rules, false)).toEqual([]);
  });

  it('records a stuck task without an alert in baseline mode', () => {
    const [f] = judgeStuck([stalled], { list: 'running', seen, cycleStart: T0 }, rules, true);
    expect(f!.alert).toBeUndefined();
    expect(f!.entry.alerted).toEqual(['stuck']);
  });

  it('gives the earliest time any task can become stuck, or 0 when none can', () => {
    expect(earliestStuck([stalled, moving], rules)).toBe(T0 - HOUR);
    expect(earliestStuck([entryAfter(failed)!], rules)).toBe(0);
  });
});

describe('entry encoding', () => {
  it('round-trips every field through the 40-byte form', () => {
    const entries = [
      entryAfter(running, failed)!,
      { ...entryAfter(running)!, key: '00ff00ff00ff00ff', followUp: true, tries: 3, triedSec: 1_800_000_000 },
    ];
    const decoded = decodeEntries(encodeEntries(entries));
    expect(decoded).toEqual([...entries].sort((a, b) => (a.key < b.key ? -1 : 1)));
  });

  it('keeps an absent progress absent', () => {
    const e = entryAfter(task({ process: undefined }))!;
    expect(decodeEntries(encodeEntries([e]))[0]).not.toHaveProperty('process');
  });

  it('refuses a digest of the wrong length', () => {
    expect(() => decodeEntries(Buffer.alloc(41))).toThrow('not a whole number');
  });
});
