import { FAILURE_THRESHOLD, gapWindow, recordFailure, settleWatermark } from '../../lib/diff/health';
import type { ScopeHealth } from '../../lib/state/records';

const T0 = Date.UTC(2026, 10, 27, 12, 0, 0);
const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const PERIOD = MIN;

const state = (
  over: Partial<{ watermark: number; gapSince: number; gapFoundAt: number; lossNoticeFor: number }> = {},
) => ({
  watermark: 0,
  gapSince: 0,
  gapFoundAt: 0,
  lossNoticeFor: 0,
  ...over,
});

describe('gapWindow: how wide a scope reads this poll', () => {
  const cases: Array<
    [string, ReturnType<typeof state>, { days: number; gapSince: number; possibleLoss: boolean }]
  > = [
    ['a scope never read reads its window', state(), { days: 1, gapSince: 0, possibleLoss: false }],
    [
      'a scope read a minute ago reads its window',
      state({ watermark: T0 - MIN }),
      { days: 1, gapSince: 0, possibleLoss: false },
    ],
    [
      'a scope last read 23 h ago is still inside a 1-day window (margin of two periods and 10 minutes)',
      state({ watermark: T0 - 23 * HOUR }),
      { days: 1, gapSince: 0, possibleLoss: false },
    ],
    [
      'a scope last read 2 days ago reads 3 days (the gap and an hour)',
      state({ watermark: T0 - 2 * DAY }),
      { days: 3, gapSince: T0 - 2 * DAY, possibleLoss: false },
    ],
    [
      'a gap being read keeps its start, so the window stays wide until it is read',
      state({ watermark: T0 - MIN, gapSince: T0 - 2 * DAY, gapFoundAt: T0 - 5 * MIN }),
      { days: 3, gapSince: T0 - 2 * DAY, possibleLoss: false },
    ],
    [
      'a gap longer than 30 days reads 30 days and announces a possible loss',
      state({ watermark: T0 - 40 * DAY }),
      { days: 30, gapSince: T0 - 40 * DAY, possibleLoss: true },
    ],
    [
      'a possible loss already announced for that blind start is not announced again',
      state({ watermark: T0 - 40 * DAY, lossNoticeFor: T0 - 40 * DAY }),
      { days: 30, gapSince: T0 - 40 * DAY, possibleLoss: false },
    ],
  ];
  it.each(cases)('%s', (_why, s, expected) => {
    expect(gapWindow(s, T0, 1, PERIOD)).toMatchObject(expected);
  });

  it('remembers when a new gap was found, and keeps that time while it is read', () => {
    expect(gapWindow(state({ watermark: T0 - 2 * DAY }), T0, 1, PERIOD).gapFoundAt).toBe(T0);
    expect(
      gapWindow(
        state({ watermark: T0 - MIN, gapSince: T0 - 2 * DAY, gapFoundAt: T0 - 5 * MIN }),
        T0,
        1,
        PERIOD,
      ).gapFoundAt,
    ).toBe(T0 - 5 * MIN);
  });
});

describe('recordFailure: when failed polls make monitoring NOT working', () => {
  it.each([
    [1, false],
    [2, false],
    [FAILURE_THRESHOLD, true],
    [FAILURE_THRESHOLD + 1, true],
  ])('after %i failed polls in a row, announces: %s', (polls, announce) => {
    let health: ScopeHealth | undefined;
    let last = false;
    for (let i = 0; i < polls; i++)
      ({ health, announce: last } = recordFailure(health, 'HSS 503', T0 + i * MIN));
    expect(last).toBe(announce);
    expect(health).toMatchObject({
      failures: polls,
      since: T0,
      lastAt: T0 + (polls - 1) * MIN,
      lastError: 'HSS 503',
    });
  });

  it('announces once: a streak whose notice went out is not announced again', () => {
    const health: ScopeHealth = { failures: 5, since: T0, lastAt: T0, lastError: 'x', downNoticeId: 'n1' };
    expect(recordFailure(health, 'x', T0 + MIN).announce).toBe(false);
  });
});

describe('settleWatermark: what reading the lists whole says', () => {
  const failing: ScopeHealth = {
    failures: 4,
    since: T0 - HOUR,
    lastAt: T0 - 10 * MIN,
    lastError: 'x',
    downNoticeId: 'n1',
  };
  const cases: Array<
    [
      string,
      Parameters<typeof settleWatermark>[0],
      number[],
      Partial<ReturnType<typeof settleWatermark>>,
      boolean,
    ]
  > = [
    [
      'no list read whole yet: nothing moves',
      { watermark: 0, gapSince: 0, gapFoundAt: 0 },
      [0, T0],
      { watermark: 0 },
      false,
    ],
    [
      "the watermark is the oldest of the lists' last complete cycles",
      { watermark: 0, gapSince: 0, gapFoundAt: 0 },
      [T0 - MIN, T0 - 2 * MIN],
      { watermark: T0 - 2 * MIN },
      false,
    ],
    [
      'the watermark never moves back',
      { watermark: T0, gapSince: 0, gapFoundAt: 0 },
      [T0 - MIN, T0 - MIN],
      { watermark: T0 },
      false,
    ],
    [
      'a gap is read once every list completed a cycle started after it was found',
      { watermark: T0 - 2 * DAY, gapSince: T0 - 2 * DAY, gapFoundAt: T0 - 5 * MIN },
      [T0 - 4 * MIN, T0 - 3 * MIN],
      { gapSince: 0, gapFoundAt: 0 },
      false,
    ],
    [
      'a gap is not read by a cycle that started before it was found',
      { watermark: T0 - 2 * DAY, gapSince: T0 - 2 * DAY, gapFoundAt: T0 - 5 * MIN },
      [T0 - 6 * MIN, T0 - 3 * MIN],
      { gapSince: T0 - 2 * DAY },
      false,
    ],
    [
      'a failing scope recovers once its lists were read after its last failure, and says so',
      { watermark: T0 - HOUR, gapSince: 0, gapFoundAt: 0, health: failing },
      [T0 - 5 * MIN, T0 - 4 * MIN],
      { health: undefined },
      true,
    ],
    [
      'a failing scope has not recovered by a cycle begun before its last failure',
      { watermark: T0 - HOUR, gapSince: 0, gapFoundAt: 0, health: failing },
      [T0 - 20 * MIN, T0 - 4 * MIN],
      { health: failing },
      false,
    ],
    [
      'a scope that failed without being announced recovers quietly',
      {
        watermark: T0 - HOUR,
        gapSince: 0,
        gapFoundAt: 0,
        health: { ...failing, downNoticeId: undefined } as ScopeHealth,
      },
      [T0 - 5 * MIN, T0 - 4 * MIN],
      { health: undefined },
      false,
    ],
  ];
  it.each(cases)('%s', (_why, s, starts, expected, recovered) => {
    const j = settleWatermark(s, starts);
    expect(j).toMatchObject(expected);
    expect(j.recovered !== undefined).toBe(recovered);
  });

  it('says how long a recovered scope was blind: since its gap, else since its last complete read', () => {
    const j = settleWatermark({ watermark: T0 - HOUR, gapSince: 0, gapFoundAt: 0, health: failing }, [
      T0 - 5 * MIN,
      T0 - 4 * MIN,
    ]);
    expect(j.recovered?.blindSince).toBe(T0 - HOUR);
  });
});
