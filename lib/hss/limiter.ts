import { realSleep, systemClock, type Clock, type Sleep } from '../log';

/** Spaces calls so that at most `perMinute` start in any rolling window. */
export interface RateLimiter {
  /** Resolves when one more call may start now (and counts it); waits first, via the injected sleep, when needed. Callers are served in order. */
  acquire(): Promise<void>;
  /** The server said "throttled": hold every call for `ms` from now (the longest of overlapping penalties wins). */
  penalize(ms: number): void;
  /** Milliseconds the next `acquire` would wait if called now (0 = immediately). */
  delayMs(): number;
}

export interface RateLimiterOptions {
  /** Calls allowed per window (default 5, the HSS per-user per-API limit); 0 disables spacing (emulator, benchmarks). */
  perMinute?: number;
  /** Length of the rolling window in ms (default 60000). */
  windowMs?: number;
  clock?: Clock;
  sleep?: Sleep;
}

/**
 * A rolling-window limiter: remembers when the last `perMinute` calls started and lets a new one
 * start only once the oldest of them is `windowMs` old. Throws RangeError on a negative or fractional limit.
 */
export function createRateLimiter(options: RateLimiterOptions = {}): RateLimiter {
  const perMinute = options.perMinute ?? 5;
  const windowMs = options.windowMs ?? 60_000;
  const clock = options.clock ?? systemClock;
  const sleep = options.sleep ?? realSleep;
  if (!Number.isInteger(perMinute) || perMinute < 0) {
    throw new RangeError(`perMinute must be a whole number >= 0 (0 = unlimited), got ${perMinute}`);
  }
  if (!Number.isFinite(windowMs) || windowMs <= 0) {
    throw new RangeError(`windowMs must be a positive number of milliseconds, got ${windowMs}`);
  }

  /** Start times of recent calls, oldest first; never longer than perMinute. */
  const starts: number[] = [];
  let blockedUntil = -Infinity;
  // One promise chain so that concurrent callers are served first come, first served.
  let queue: Promise<void> = Promise.resolve();

  function delayAt(now: number): number {
    while (starts.length > 0 && starts[0]! <= now - windowMs) starts.shift();
    const penalty = Math.max(0, blockedUntil - now);
    const window = perMinute === 0 || starts.length < perMinute ? 0 : starts[0]! + windowMs - now;
    return Math.max(penalty, window);
  }

  async function acquireInOrder(): Promise<void> {
    for (;;) {
      const wait = delayAt(clock());
      if (wait <= 0) break;
      await sleep(wait);
    }
    if (perMinute > 0) starts.push(clock());
  }

  return {
    acquire() {
      const turn = queue.then(acquireInOrder);
      // A failed sleep rejects this caller only; the next caller still gets its turn.
      queue = turn.catch(() => undefined);
      return turn;
    },
    penalize(ms) {
      if (Number.isFinite(ms) && ms > 0) blockedUntil = Math.max(blockedUntil, clock() + ms);
    },
    delayMs() {
      return delayAt(clock());
    },
  };
}
