import type { TaskStatus } from '../../lib/task';
import {
  alertCard,
  alertDigestCard,
  cardGroups,
  clip,
  durationText,
  fitCard,
  hssConsoleUrl,
  inert,
  lookalike,
  statusText,
  stuckText,
  taskTimeText,
  transitionText,
} from '../../lib/notify/format';
import { alert, burst, notice, reminder, resolved, summary } from './support/messages';

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

describe('hssConsoleUrl', () => {
  it.each([
    [
      { region: 'ap-southeast-1' },
      'https://console.huaweicloud.com/hss/?region=ap-southeast-1&locale=en-us#/hss/ransomware/backup',
    ],
    [
      { region: 'eu-west-101' },
      'https://console.eu.huaweicloud.com/hss/?region=eu-west-101&locale=en-us#/hss/ransomware/backup',
    ],
    [{}, undefined],
    [{ region: 'cn-north-4|<!channel>' }, undefined],
  ])('%j -> %s', (scope, expected) => {
    expect(hssConsoleUrl(scope)).toBe(expected);
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
  ])('%d ms -> %s', (ms, expected) => {
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

describe('inert', () => {
  it.each([
    ['https://evil.example/x', 'https[:]//evil.example/x', 'no auto-link'],
    [
      '_it_https://evil.example/x',
      '_it_https[:]//evil.example/x',
      'no auto-link after a word character either',
    ],
    ['see www.evil.example', 'see www[.]evil.example', 'no www. auto-link'],
    ['C://Users/x', 'C[:]//Users/x', 'nor after a one-letter scheme'],
    ['_www.evil.example', '_www[.]evil.example', 'nor once a channel escapes the `_` before www.'],
    ['<!channel> <at id=all>', '‹!channel› ‹at id=all›', 'no markup tag survives'],
    ['@everyone', '@\u200beveryone', 'no mention word'],
    ['a\nb\r\nc\td', 'a b c d', 'one line'],
    ['\u001b[31mred\u001b[0m', 'red', 'ANSI escapes removed'],
    ['abc\u202edef', 'abc def', 'bidi override removed'],
  ])('%j -> %j (%s)', (input, expected) => {
    expect(inert(input)).toBe(expected);
  });
});

describe('clip', () => {
  it.each<[string, number, 'chars' | 'bytes' | undefined, string, string]>([
    ['abcdef', 6, undefined, 'abcdef', 'fits'],
    ['abcdef', 4, undefined, 'abc…', 'cut with an ellipsis'],
    ['a&amp;b', 4, undefined, 'a…', 'never inside an entity'],
    ['ab\\*c', 4, undefined, 'ab…', 'never leaves a lone backslash'],
    ['a😀b', 3, undefined, 'a…', 'never splits a surrogate pair'],
    ['备份恢复', 7, 'bytes', '备…', 'bytes: 3 for each CJK character, 3 for the ellipsis'],
  ])('%j to %d %s -> %j (%s)', (text, max, unit, expected) => {
    expect(clip(text, max, unit)).toBe(expected);
  });
});

describe('cardGroups', () => {
  it('digests more than 5 alerts, always digests reminders, and keeps summaries and notices apart', () => {
    const batch = [...burst(6), reminder(1), reminder(2), notice('test'), summary(), resolved(1)];
    const groups = cardGroups(batch, { now: 0 }, 10);
    expect(groups.map((g) => g.covers)).toEqual([[0, 1, 2, 3, 4, 5], [10], [6, 7], [8], [9]]);
  });

  it('sends up to 5 alerts one by one', () => {
    expect(cardGroups(burst(5), { now: 0 }, 10).map((g) => g.covers)).toEqual([[0], [1], [2], [3], [4]]);
  });

  it('digests as few as 2 alerts when quiet hours held them, so the quiet period ends in one message', () => {
    expect(cardGroups(burst(2), { now: 0, released: true }, 10).map((g) => g.covers)).toEqual([[0, 1]]);
    expect(cardGroups(burst(1), { now: 0, released: true }, 10).map((g) => g.covers)).toEqual([[0]]);
  });

  it('names an alert with host, status change, stuck facts, times, error, scope and id', () => {
    const card = alertCard(
      alert(3, {
        status: 'stuck',
        previousStatus: 'running',
        stuck: { process: 41, stalledMs: 130 * 60_000, runningMs: 5 * 3_600_000 },
      }),
    );
    expect(card.title).toBe('Restore/backup is stuck on web-03');
    expect(card.facts.map((f) => [f.label, f.value])).toEqual([
      ['Host', 'web-03'],
      ['Host ID', 'host-id-3'],
      ['Backup', 'autobk_web-03'],
      ['Status', 'running → stuck'],
      ['Stuck', '41% for 2 h 10 min, running 5 h'],
      ['Progress', '41%'],
      ['Started', '2026-11-29 17:00:03 UTC'],
      ['Ended', '2026-11-29 17:41:10 UTC'],
      ['Scope', 'cn-north-4 · project 0a1b2c3d4e5f60718293a4b5c6d7e8f9 · enterprise project 0'],
    ]);
    expect(card.footer).toContain(`alert ${alert(3).id}`);
  });

  it('says a retried task failed again', () => {
    expect(alertCard(alert(1, { episode: 2, reason: 're-entered' })).facts[3]!.value).toBe(
      'running → failed (2nd time: it was retried and is failed again)',
    );
  });
});

describe('fitCard', () => {
  it('shrinks the error, then the list, until the body fits, keeping the count of what it left out', () => {
    const card = alertDigestCard(burst(60, 'e'.repeat(4000)), 20, { now: 0 });
    const body = fitCard(card, (c) => JSON.stringify(c), 3000);
    const fitted = JSON.parse(body) as { lines: string[]; more: number };
    expect(body.length).toBeLessThanOrEqual(3000);
    expect(fitted.lines.length + fitted.more).toBe(60);
  });
});

describe('lookalike', () => {
  it('replaces markup characters but keeps underscores inside names', () => {
    expect(lookalike('autobk_web-03 _it_ *b* [x] <y>', '[]<>*_')).toBe('autobk_web-03 ˍitˍ ∗b∗ ［x］ ‹y›');
  });
});
