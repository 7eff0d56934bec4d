// Reading another writer's stamps in our clock (issue 17 #6): what each read says of its clock, and
// the offset its stamps are read with.
import {
  inOurClock,
  latestInOurClock,
  likelyOffset,
  observeClock,
  type ClockOffset,
} from '../../lib/budget/window';

const MIN = 60_000;
const T0 = Date.UTC(2026, 10, 29, 12, 0, 0);

describe('observeClock', () => {
  it.each<[string, ClockOffset | undefined, number, number, number | undefined, ClockOffset]>([
    [
      'first sight: it wrote before our read ended, nothing more',
      undefined,
      T0 + 20 * MIN,
      T0 + MIN,
      undefined,
      { lo: 19 * MIN, hi: Infinity },
    ],
    [
      'a new stamp since our previous read: it wrote after that read began',
      undefined,
      T0 - 20 * MIN,
      T0 + 2_000,
      T0,
      { lo: -20 * MIN - 2_000, hi: -20 * MIN },
    ],
    [
      'reads narrow what is known',
      { lo: -30 * MIN, hi: Infinity },
      T0 - 20 * MIN,
      T0 + 5_000,
      T0 - 1_000,
      { lo: -20 * MIN - 5_000, hi: -20 * MIN + 1_000 },
    ],
    [
      'a contradiction (its clock was stepped) starts over from this read',
      { lo: 19 * MIN, hi: 20 * MIN },
      T0,
      T0 + 1_000,
      T0 - 1_000,
      { lo: -1_000, hi: 1_000 },
    ],
  ])('%s', (_why, known, theirs, readEnd, previousStart, expected) => {
    expect(observeClock(known, theirs, readEnd, previousStart)).toEqual(expected);
  });
});

describe('reading another writer stamps', () => {
  it.each<[string, ClockOffset | undefined, number]>([
    ['an unknown writer: its stamps as written', undefined, 0],
    ['clocks that may agree: its stamps as written', { lo: -40_000, hi: Infinity }, 0],
    ['a clock surely ahead: as late as they can be', { lo: 19 * MIN, hi: Infinity }, 19 * MIN],
    [
      'a clock surely behind: as late as they can be',
      { lo: -20 * MIN - 2_000, hi: -20 * MIN },
      -20 * MIN - 2_000,
    ],
  ])('%s', (_why, known, offset) => {
    expect(likelyOffset(known)).toBe(offset);
  });

  it('counts a stamp at most one window from now, and keeps it by the latest time it may stand for', () => {
    const ahead = { lo: 0, hi: Infinity };
    expect(inOurClock(T0 + 20 * MIN, ahead, T0, MIN)).toBe(T0 + MIN);
    expect(inOurClock(T0 + 30_000, ahead, T0, MIN)).toBe(T0 + 30_000);
    expect(latestInOurClock(T0, { lo: -20 * MIN, hi: Infinity })).toBe(T0 + 20 * MIN);
    expect(latestInOurClock(T0, undefined)).toBe(T0);
  });
});
