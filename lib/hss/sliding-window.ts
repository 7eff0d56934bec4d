// The sliding-window arithmetic both call budgets share (memory and DynamoDB): when may one more
// call start, given the starts already booked, so that no window holds more than the rate allows.

/** HSS counts calls per user per minute. */
export const RATE_WINDOW_MS = 60_000;

/**
 * Earliest time >= max(`now`, `blockedUntil`) at which one more call may start so that no span of
 * `windowMs` holds more than `rate` starts, given `starts` (booked start times, ascending; entries
 * at or before `now - windowMs` are ignored). Never earlier than the last booked start once the
 * window is full, so a new booking only ever goes after the others. `rate` Infinity = no limit.
 */
export function earliestStart(
  starts: readonly number[],
  now: number,
  blockedUntil: number,
  rate: number,
  windowMs: number,
): number {
  const at = Math.max(now, blockedUntil);
  if (rate === Infinity) return at;
  const live = starts.filter((t) => t > now - windowMs);
  if (live.length < rate) return at;
  return Math.max(at, live[live.length - rate]! + windowMs, live[live.length - 1]!);
}

/** `starts` with `at` inserted in order (a new array). */
export function insertSorted(starts: readonly number[], at: number): number[] {
  const i = starts.findIndex((t) => t > at);
  return i < 0 ? [...starts, at] : [...starts.slice(0, i), at, ...starts.slice(i)];
}
