// The sliding-window arithmetic both call budgets share (memory and DynamoDB): when may one more
// call start, given the starts already booked, so that no window holds more than the rate allows;
// and how far another writer's clock is from ours, so that its stamps can be read in our clock.

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

/**
 * What we know of another writer's clock: its reading minus ours lies in [`lo`, `hi`] (ms). Learnt
 * from its stamps on a shared item: it wrote before our read ended (its stamp minus our time then
 * bounds it from below) and, when its stamp changed since our previous read, after that read began
 * (from above).
 */
export interface ClockOffset {
  lo: number;
  hi: number;
}

/**
 * `known` narrowed by one read of another writer's clock stamp `theirs`: our clock read `readEnd`
 * once the read was answered and, when the stamp is new since our previous read, `previousStart`
 * when that read began. A contradiction (a clock was stepped) starts over from this read alone.
 */
export function observeClock(
  known: ClockOffset | undefined,
  theirs: number,
  readEnd: number,
  previousStart?: number,
): ClockOffset {
  const seen = { lo: theirs - readEnd, hi: previousStart === undefined ? Infinity : theirs - previousStart };
  if (!known) return seen;
  const narrowed = { lo: Math.max(known.lo, seen.lo), hi: Math.min(known.hi, seen.hi) };
  return narrowed.lo <= narrowed.hi ? narrowed : seen;
}

/**
 * The offset to read another writer's stamps with: 0 while our clocks may agree (nothing says
 * otherwise, so an unknown writer's stamps count as written), else the lowest offset it may have,
 * which places its stamps as late as they can be (a call is never counted shorter than it lasts).
 */
export function likelyOffset(known: ClockOffset | undefined): number {
  if (!known || (known.lo <= 0 && known.hi >= 0)) return 0;
  return known.lo;
}

/**
 * Another writer's stamp `at` (a call start or a penalty end in its clock) in ours: shifted by
 * `likelyOffset`, and counting at most to one window from `now`, so no stamp from a clock running
 * ahead holds our calls back for longer than that.
 */
export function inOurClock(
  at: number,
  known: ClockOffset | undefined,
  now: number,
  windowMs: number,
): number {
  return Math.min(at - likelyOffset(known), now + windowMs);
}

/**
 * The latest time (our clock) another writer's stamp `at` can stand for: what to keep it by, so a
 * call is dropped from the shared record only once it is a window old whatever its writer's clock.
 */
export function latestInOurClock(at: number, known: ClockOffset | undefined): number {
  return known ? at - known.lo : at;
}
