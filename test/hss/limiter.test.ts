import fc from 'fast-check';
import { createRateLimiter } from '../../lib/hss/limiter';
import { virtualTime } from '../support/fakes';

describe('createRateLimiter', () => {
  it('lets 5 calls start at once and holds the 6th until the first is a minute old', async () => {
    // Prepare
    const { time, clock, sleep } = virtualTime(0);
    const limiter = createRateLimiter({ clock, sleep });
    const starts: number[] = [];
    // Act
    for (let i = 0; i < 7; i++) {
      await limiter.acquire();
      starts.push(time.now);
    }
    // Assess
    expect(starts).toEqual([0, 0, 0, 0, 0, 60_000, 60_000]);
  });

  it('rolls the window: calls spread over the minute free their slots one by one', async () => {
    // Prepare
    const { time, clock, sleep } = virtualTime(0);
    const limiter = createRateLimiter({ perMinute: 5, clock, sleep });
    const starts: number[] = [];
    for (let i = 0; i < 5; i++) {
      await limiter.acquire();
      starts.push(time.now);
      time.now += 10_000;
    }
    // Act: time is now 50 s; slots free at 60, 70, 80 s
    for (let i = 0; i < 3; i++) {
      await limiter.acquire();
      starts.push(time.now);
    }
    // Assess
    expect(starts).toEqual([0, 10_000, 20_000, 30_000, 40_000, 60_000, 70_000, 80_000]);
  });

  it('spaces calls as configured: 2 per 1-second window', async () => {
    // Prepare
    const { time, clock, sleep } = virtualTime(0);
    const limiter = createRateLimiter({ perMinute: 2, windowMs: 1_000, clock, sleep });
    const starts: number[] = [];
    // Act
    for (let i = 0; i < 6; i++) {
      await limiter.acquire();
      starts.push(time.now);
    }
    // Assess
    expect(starts).toEqual([0, 0, 1_000, 1_000, 2_000, 2_000]);
    expect(time.sleeps).toEqual([1_000, 1_000]);
  });

  it('holds every call for a penalty, and the longest overlapping penalty wins', async () => {
    // Prepare
    const { time, clock, sleep } = virtualTime(0);
    const limiter = createRateLimiter({ clock, sleep });
    // Act
    limiter.penalize(30_000);
    limiter.penalize(5_000);
    const before = limiter.delayMs();
    await limiter.acquire();
    const firstStart = time.now;
    await limiter.acquire();
    // Assess
    expect(before).toBe(30_000);
    expect(firstStart).toBe(30_000);
    expect(time.now).toBe(30_000);
  });

  it('ignores zero, negative and non-finite penalties', async () => {
    // Prepare
    const { clock, sleep } = virtualTime(0);
    const limiter = createRateLimiter({ clock, sleep });
    // Act
    limiter.penalize(0);
    limiter.penalize(-5);
    limiter.penalize(Number.NaN);
    // Assess
    expect(limiter.delayMs()).toBe(0);
  });

  it('never waits when perMinute is 0 (unlimited) unless penalised', async () => {
    // Prepare
    const { time, clock, sleep } = virtualTime(0);
    const limiter = createRateLimiter({ perMinute: 0, clock, sleep });
    // Act
    for (let i = 0; i < 50; i++) await limiter.acquire();
    limiter.penalize(2_000);
    await limiter.acquire();
    // Assess
    expect(time.sleeps).toEqual([2_000]);
  });

  it('serves concurrent callers in order without letting more than the limit through', async () => {
    // Prepare
    const { time, clock, sleep } = virtualTime(0);
    const limiter = createRateLimiter({ perMinute: 3, windowMs: 60_000, clock, sleep });
    const order: Array<[number, number]> = [];
    // Act
    await Promise.all(
      Array.from({ length: 7 }, (_, i) => limiter.acquire().then(() => order.push([i, time.now]))),
    );
    // Assess
    expect(order.map(([i]) => i)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(order.map(([, t]) => t)).toEqual([0, 0, 0, 60_000, 60_000, 60_000, 120_000]);
  });

  it('keeps serving the next caller when one caller’s sleep fails', async () => {
    // Prepare
    let now = 0;
    let failNext = true;
    const limiter = createRateLimiter({
      perMinute: 1,
      clock: () => now,
      sleep: async (ms) => {
        if (failNext) {
          failNext = false;
          throw new Error('sleep interrupted');
        }
        now += ms;
      },
    });
    await limiter.acquire();
    // Act
    const failed = limiter.acquire();
    const next = limiter.acquire();
    // Assess
    await expect(failed).rejects.toThrow('sleep interrupted');
    await expect(next).resolves.toBeUndefined();
    expect(now).toBe(60_000);
  });

  it('never lets more than perMinute calls start within any window, whatever the call pattern', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 6 }),
        fc.array(fc.integer({ min: 0, max: 30_000 }), { minLength: 1, maxLength: 30 }),
        async (perMinute, gaps) => {
          // Prepare
          const { time, clock, sleep } = virtualTime(0);
          const limiter = createRateLimiter({ perMinute, clock, sleep });
          const starts: number[] = [];
          // Act
          for (const gap of gaps) {
            time.now += gap;
            await limiter.acquire();
            starts.push(time.now);
          }
          // Assess: any perMinute+1 consecutive starts span at least a full window
          for (let i = perMinute; i < starts.length; i++) {
            expect(starts[i]! - starts[i - perMinute]!).toBeGreaterThanOrEqual(60_000);
          }
        },
      ),
    );
  });

  it.each([
    [{ perMinute: -1 }, /perMinute must be a whole number >= 0/],
    [{ perMinute: 2.5 }, /perMinute must be a whole number >= 0/],
    [{ windowMs: 0 }, /windowMs must be a positive number/],
  ])('rejects %p with a RangeError', (options, message) => {
    expect(() => createRateLimiter(options)).toThrow(message);
  });
});
