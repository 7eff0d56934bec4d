import type { TaskStatus } from '../lib/task';
import {
  durationText,
  scopeText,
  statusText,
  stuckText,
  taskTimeText,
  transitionText,
  utcMinute,
  utcTime,
} from '../lib/wording';

function alertWith(status: TaskStatus, previousStatus?: TaskStatus, rawStatus: string = status) {
  return { status, ...(previousStatus ? { previousStatus } : {}), task: { rawStatus } };
}

describe('transitionText', () => {
  it.each([
    [alertWith('failed', 'running'), 'running → failed', 'a change shows where it came from'],
    [alertWith('timeout'), 'first seen timeout', 'no earlier status: say it was first seen so'],
    [
      alertWith('unknown', 'waiting', 'paused'),
      'waiting → unknown (paused)',
      'undocumented statuses show the raw value',
    ],
  ])('%#: %s (%s)', (alert, expected) => {
    expect(transitionText(alert)).toBe(expected);
  });

  it('statusText leaves documented statuses alone', () => {
    expect(statusText('failed', 'failed')).toBe('failed');
  });
});

describe('taskTimeText', () => {
  it.each<[number | undefined, string | undefined, boolean | undefined, string, string]>([
    [
      Date.UTC(2026, 10, 29, 9, 0, 3),
      '2026-11-29T17:00:03+08:00',
      false,
      '2026-11-29 09:00:03 UTC',
      'parsed times are shown in UTC, never the raw local time',
    ],
    [
      Date.UTC(2026, 10, 29, 17, 0, 3),
      '2026-11-29 17:00:03',
      true,
      '2026-11-29 17:00:03 UTC (sent without a zone, read as UTC)',
      'a zone-less time says how it was read',
    ],
    [
      undefined,
      'yesterday-ish',
      undefined,
      'yesterday-ish (as sent)',
      'an unreadable time is shown as sent, marked so',
    ],
    [undefined, undefined, undefined, '—', 'no time at all'],
  ])('%s / %j -> %j (%s)', (ms, raw, zoneless, expected) => {
    expect(taskTimeText(ms, raw, zoneless)).toBe(expected);
  });
});

describe('durationText and stuckText', () => {
  it.each([
    [0, '0 min'],
    [41 * 60_000, '41 min'],
    [130 * 60_000, '2 h 10 min'],
    [3 * 3_600_000, '3 h'],
    [(76 * 60 + 5) * 60_000, '3 d 4 h'],
    [(59 * 60 + 50) * 1000, '1 h'],
    [29_000, '0 min'],
    [30_000, '1 min'],
    [(2 * 1440 + 23 * 60 + 40) * 60_000, '3 d'],
    [(23 * 60 + 59) * 60_000 + 45_000, '1 d'],
    [(23 * 60 + 40) * 60_000, '23 h 40 min'],
    [-5 * 60_000, '0 min'],
  ])('%d ms -> %s (rounded to the nearest unit shown)', (ms, expected) => {
    expect(durationText(ms)).toBe(expected);
  });

  it('says where a stuck task stopped and for how long', () => {
    expect(stuckText({ process: 41, stalledMs: 130 * 60_000, runningMs: 303 * 60_000 })).toBe(
      '41% for 2 h 10 min, running 5 h 3 min',
    );
    expect(stuckText({ stalledMs: 60_000, runningMs: 60_000 })).toBe(
      'no progress reported for 1 min, running 1 min',
    );
  });
});

describe('utcTime and utcMinute', () => {
  it('write epoch ms in UTC, to the second and to the minute', () => {
    const ms = Date.UTC(2026, 10, 29, 17, 0, 3, 900);
    expect([utcTime(ms), utcMinute(ms)]).toEqual(['2026-11-29 17:00:03 UTC', '2026-11-29 17:00 UTC']);
  });

  it('write a number that is no time as the number', () => {
    expect([utcTime(Number.NaN), utcMinute(Infinity)]).toEqual(['NaN', 'Infinity']);
  });
});

describe('scopeText', () => {
  it.each([
    [
      { region: 'cn-north-4', projectId: '0a1b', enterpriseProjectId: 'all_granted_eps' },
      'cn-north-4 · project 0a1b · enterprise project all_granted_eps',
    ],
    [{ projectId: '0a1b', enterpriseProjectId: '0' }, 'project 0a1b · enterprise project 0'],
  ])('%j -> %s', (scope, expected) => {
    expect(scopeText(scope)).toBe(expected);
  });
});
