import { alertCard, alertDigestCard, cardGroups, fitCard, hssConsoleUrl } from '../../lib/notify/cards';
import { alert, burst, notice, reminder, resolved, summary } from './support/messages';

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
