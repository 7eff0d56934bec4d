import type { Routing } from '../../lib/notify/routing';
import type { Message } from '../../lib/model';
import { channelOf } from '../../lib/notify/channels';
import { compileGlobFilter, compileRouting, parseClockTime, quietUntil } from '../../lib/notify/routing';
import { alert, notice, reminder, resolved, SCOPE, summary } from './support/messages';

/** `routing`'s decision on one message, compiled for the one call. */
const accepts = (routing: Routing, message: Message, destinationId: string): boolean =>
  compileRouting(routing)(message, destinationId);

describe('accepts', () => {
  const web = alert(1, {}, { hostName: 'web-01', backupName: 'nightly-web' });
  const db = alert(
    2,
    { status: 'timeout' },
    { hostName: 'db-01', backupName: 'nightly-db', status: 'timeout' },
  );
  const other = alert(3, { scope: { ...SCOPE, enterpriseProjectId: 'ep-finance' } });
  it.each<[string, Routing, Parameters<typeof accepts>[1], boolean]>([
    ['no routing: everything', {}, web, true],
    ['status listed', { statuses: ['failed'] }, web, true],
    ['status not listed', { statuses: ['failed'] }, db, false],
    ['resolved follow the status of their alert', { statuses: ['timeout'] }, resolved(1), false],
    ['reminders follow the status of their alert', { statuses: ['failed'] }, reminder(1), true],
    ['host glob includes', { hosts: { include: ['web-*'], exclude: [] } }, web, true],
    ['host glob leaves others out', { hosts: { include: ['web-*'], exclude: [] } }, db, false],
    ['exclude wins over include', { hosts: { include: ['*'], exclude: ['web-0?'] } }, web, false],
    ['backup globs', { backups: { include: ['nightly-{db,files}'], exclude: [] } }, db, true],
    [
      'host globs ignore case, as silences do: db-* takes DB-01',
      { hosts: { include: ['db-*'], exclude: [] } },
      alert(4, {}, { hostName: 'DB-01' }),
      true,
    ],
    ['an exclude ignores case too', { hosts: { include: ['*'], exclude: ['WEB-*'] } }, web, false],
    ['backup globs ignore case', { backups: { include: ['NIGHTLY-*'], exclude: [] } }, db, true],
    ['enterprise projects listed', { enterpriseProjects: ['ep-finance'] }, other, true],
    ['enterprise projects not listed', { enterpriseProjects: ['ep-finance'] }, web, false],
    [
      'notices go everywhere, whatever the filters',
      { statuses: ['stuck'], hosts: { include: ['none'], exclude: [] } },
      notice('monitoring-down'),
      true,
    ],
    ['daily summaries go everywhere', { enterpriseProjects: ['x'] }, summary(), true],
  ])('%s', (_why, routing, message, expected) => {
    expect(accepts(routing, message, 'slack')).toBe(expected);
  });

  it('keeps a notice from the destination it names in skipDestinations', () => {
    const failing = notice('destination-failing', { skipDestinations: ['slack'] });
    expect([accepts({}, failing, 'slack'), accepts({}, failing, 'teams')]).toEqual([false, true]);
  });

  it('matches the host id when HSS sent no host name', () => {
    const nameless = alert(1, {}, { hostName: '', hostId: 'web-id-1' });
    expect(accepts({ hosts: { include: ['web-id-*'], exclude: [] } }, nameless, 'slack')).toBe(true);
  });

  it('matches dot-names with * (picomatch dot: true)', () => {
    expect(compileGlobFilter({ include: ['*'], exclude: [] })('.hidden')).toBe(true);
  });
});

describe('quietUntil', () => {
  const utc = (d: number, h: number, m = 0) => Date.UTC(2026, 10, d, h, m);
  it.each<[string, Routing['quietHours'], number, number | undefined]>([
    ['no quiet hours', undefined, utc(29, 23), undefined],
    [
      'outside a same-day period',
      { start: '12:00', end: '14:00', timeZone: 'UTC' },
      utc(29, 11, 59),
      undefined,
    ],
    [
      'inside a same-day period',
      { start: '12:00', end: '14:00', timeZone: 'UTC' },
      utc(29, 12, 30),
      utc(29, 14),
    ],
    [
      'the end minute is no longer quiet',
      { start: '12:00', end: '14:00', timeZone: 'UTC' },
      utc(29, 14),
      undefined,
    ],
    [
      'across midnight, before it',
      { start: '22:00', end: '07:00', timeZone: 'UTC' },
      utc(29, 23, 15),
      utc(30, 7),
    ],
    ['across midnight, after it', { start: '22:00', end: '07:00', timeZone: 'UTC' }, utc(30, 3), utc(30, 7)],
    // Shanghai is UTC+8: 22:00-07:00 there is 14:00-23:00 UTC.
    [
      'in the configured time zone',
      { start: '22:00', end: '07:00', timeZone: 'Asia/Shanghai' },
      utc(29, 15),
      utc(29, 23),
    ],
    [
      'outside, in the configured time zone',
      { start: '22:00', end: '07:00', timeZone: 'Asia/Shanghai' },
      utc(29, 23, 30),
      undefined,
    ],
    [
      'start equal to end: no quiet period',
      { start: '08:00', end: '08:00', timeZone: 'UTC' },
      utc(29, 8),
      undefined,
    ],
    ['a half-hour zone', { start: '00:00', end: '06:30', timeZone: 'Asia/Kolkata' }, utc(29, 0), utc(29, 1)],
  ])('%s', (_why, quietHours, now, expected) => {
    expect(quietUntil(quietHours, now)).toBe(expected);
  });

  it('ends at the first minute after a skipped hour when the end falls in it (Berlin, spring forward)', () => {
    // 2026-03-29: Berlin clocks jump from 02:00 (UTC+1) to 03:00 (UTC+2); 02:30 never happens.
    const quiet = { start: '22:00', end: '02:30', timeZone: 'Europe/Berlin' };
    expect(quietUntil(quiet, Date.UTC(2026, 2, 28, 22, 0))).toBe(Date.UTC(2026, 2, 29, 1, 0));
  });

  it('counts wall-clock hours across the autumn change (Berlin)', () => {
    // 2026-10-25: 03:00 UTC+2 becomes 02:00 UTC+1; 07:00 local is then 06:00 UTC.
    const quiet = { start: '22:00', end: '07:00', timeZone: 'Europe/Berlin' };
    expect(quietUntil(quiet, Date.UTC(2026, 9, 24, 21, 0))).toBe(Date.UTC(2026, 9, 25, 6, 0));
  });

  it('reads HH:MM and nothing else', () => {
    expect(['07:00', '23:59', '24:00', '7:00', 'x'].map(parseClockTime)).toEqual([
      420,
      1439,
      undefined,
      undefined,
      undefined,
    ]);
  });

  it('holds chat channels only', () => {
    expect(
      ['slack', 'teams', 'pagerduty', 'webhook', 'smn'].map((t) => channelOf(t).heldByQuietHours),
    ).toEqual([true, true, false, false, false]);
  });
});
