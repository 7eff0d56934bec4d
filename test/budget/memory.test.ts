import { createMemoryBudget } from '../../lib/budget/memory';
import { virtualTime } from './virtual-time';

const T0 = Date.UTC(2026, 10, 29, 12, 0, 0);
const MIN = 60_000;

/** Most of `times` inside any span [t, t + 60 s). */
function maxInAnyMinute(times: number[]): number {
  const sorted = [...times].sort((a, b) => a - b);
  return Math.max(0, ...sorted.map((t) => sorted.filter((u) => u >= t && u < t + MIN).length));
}

function setup(ratePerMinute = 5) {
  const time = virtualTime(T0);
  const budget = createMemoryBudget({ ratePerMinute, clock: time.clock, sleep: time.sleep });
  return { time, budget };
}

describe('createMemoryBudget', () => {
  it('lets 5 calls start at once and holds the 6th until the first is a minute old', async () => {
    // Prepare
    const { time, budget } = setup();
    const starts: number[] = [];
    // Act
    for (let i = 0; i < 6; i++) {
      await budget.acquire('default', Infinity);
      starts.push(time.clock() - T0);
    }
    // Assess
    expect(starts).toEqual([0, 0, 0, 0, 0, MIN]);
    expect(time.sleeps).toEqual([MIN]);
  });

  it('rolls the window: calls spread over the minute free their slots one by one', async () => {
    // Prepare
    const { time, budget } = setup();
    const starts: number[] = [];
    for (let i = 0; i < 5; i++) {
      await budget.acquire('default', Infinity);
      starts.push(time.clock() - T0);
      await time.sleep(10_000);
    }
    // Act: the 6th and 7th wait for the 1st and 2nd call to leave the window.
    for (let i = 0; i < 2; i++) {
      await budget.acquire('default', Infinity);
      starts.push(time.clock() - T0);
    }
    // Assess
    expect(starts).toEqual([0, 10_000, 20_000, 30_000, 40_000, 60_000, 70_000]);
  });

  it('keeps credentials apart: another credential starts at once while the first waits', async () => {
    // Prepare
    const { time, budget } = setup(1);
    await budget.acquire('a', Infinity);
    // Act
    const otherAt = (await budget.acquire('b', Infinity), time.clock());
    const nextA = await budget.nextSlot('a');
    // Assess
    expect(otherAt).toBe(T0);
    expect(nextA).toBe(T0 + MIN);
  });

  it('answers false without claiming when the earliest slot is after latestStart', async () => {
    // Prepare
    const { time, budget } = setup(1);
    await budget.acquire('default', Infinity);
    // Act
    const tooLate = await budget.acquire('default', T0 + MIN - 1);
    const sleptMeanwhile = [...time.sleeps];
    const fits = await budget.acquire('default', T0 + MIN);
    // Assess
    expect(tooLate).toBe(false);
    expect(sleptMeanwhile).toEqual([]);
    expect(fits).toBe(true);
    expect(time.clock()).toBe(T0 + MIN);
  });

  it('holds every call of the penalised credential, longest penalty winning, and no other credential', async () => {
    // Prepare
    const { time, budget } = setup();
    // Act
    await budget.penalize('default', 30_000);
    await budget.penalize('default', 10_000);
    await budget.penalize('default', 0);
    await budget.penalize('default', -5);
    await budget.penalize('default', Number.NaN);
    const next = await budget.nextSlot('default');
    const other = await budget.nextSlot('other');
    await budget.acquire('default', Infinity);
    // Assess
    expect(next).toBe(T0 + 30_000);
    expect(other).toBe(T0);
    expect(time.clock()).toBe(T0 + 30_000);
  });

  it('moves a caller already waiting for its slot behind a penalty set meanwhile', async () => {
    // Prepare: the one slot a minute is taken, so the second caller sleeps until +60 s.
    const { time, budget } = setup(1);
    await budget.acquire('default', Infinity);
    const starts: number[] = [];
    // Act: 10 s later another caller is throttled by HSS and penalises the credential for 90 s.
    await time.run(
      async () => {
        await budget.acquire('default', Infinity);
        starts.push(time.clock() - T0);
      },
      async () => {
        await time.sleep(10_000);
        await budget.penalize('default', 90_000);
      },
    );
    // Assess
    expect(starts).toEqual([100_000]);
  });

  const caller =
    (budget: ReturnType<typeof setup>['budget'], time: ReturnType<typeof setup>['time'], starts: number[]) =>
    (pause: number) =>
    async () => {
      for (let i = 0; i < 10; i++) {
        await budget.acquire('default', Infinity);
        starts.push(time.clock());
        await time.sleep(pause);
      }
    };

  it('never lets more than 5 calls start in any minute among concurrent callers that pause between calls', async () => {
    // Prepare
    const { time, budget } = setup();
    const starts: number[] = [];
    const callerWith = caller(budget, time, starts);
    // Act
    await time.run(callerWith(0), callerWith(1_500), callerWith(7_000), callerWith(25_000));
    // Assess
    expect(starts).toHaveLength(40);
    expect(maxInAnyMinute(starts)).toBe(5);
  });

  it('leaves no slot unused while callers wait: 40 calls from 4 eager callers end 7 minutes in', async () => {
    // Prepare
    const { time, budget } = setup();
    const starts: number[] = [];
    const callerWith = caller(budget, time, starts);
    // Act
    await time.run(callerWith(0), callerWith(0), callerWith(0), callerWith(0));
    // Assess
    expect(maxInAnyMinute(starts)).toBe(5);
    expect(Math.max(...starts) - T0).toBe(7 * MIN);
  });

  it('never waits when the rate is Infinity, unless penalised', async () => {
    // Prepare
    const { time, budget } = setup(Infinity);
    // Act
    for (let i = 0; i < 100; i++) await budget.acquire('default', T0);
    await budget.penalize('default', 5_000);
    const late = await budget.acquire('default', T0 + 4_999);
    // Assess
    expect(time.sleeps).toEqual([]);
    expect(late).toBe(false);
  });
});

describe('createMemoryBudget when the clock is stepped back', () => {
  it('holds the next call for what is left of the window, not for the 20 minutes the clock went back', async () => {
    // Prepare: 5 calls at T0, then NTP steps this machine's clock back 20 minutes.
    const time = virtualTime(T0);
    let step = 0;
    const clock = () => time.clock() + step;
    const budget = createMemoryBudget({ ratePerMinute: 5, clock, sleep: time.sleep });
    for (let i = 0; i < 5; i++) await budget.acquire('default', Infinity);
    await time.sleep(10_000);
    step = -20 * MIN;
    // Act
    const next = await budget.nextSlot('default');
    await budget.acquire('default', Infinity);
    // Assess: about one window after the 5 calls in real time (HSS's), never before; at most the
    // 10 s that passed unseen before the step later (they look like part of the step).
    expect(next - step).toBeGreaterThanOrEqual(T0 + MIN);
    expect(next - step).toBeLessThanOrEqual(T0 + MIN + 10_000);
    expect(time.clock()).toBe(next - step);
  });
});
