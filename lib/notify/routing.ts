// Which messages a destination gets (statuses, host/backup globs, enterprise projects) and when quiet
// hours hold chat messages: pure decisions, the clock passed in.
import picomatch from 'picomatch';
import { GLOB_OPTIONS } from '../rules';
import type { AlertStatus, Message, Task } from '../model';

/** Glob patterns (picomatch) a name must match: any of `include` (all when empty) and none of `exclude`. */
export interface GlobFilter {
  include: string[];
  exclude: string[];
}

/** Which messages a destination gets; everything when a field is absent. Notices always go everywhere. */
export interface Routing {
  /** Alert statuses routed here (subset of the alert statuses, `stuck` included). */
  statuses?: AlertStatus[];
  hosts?: GlobFilter;
  backups?: GlobFilter;
  /** Enterprise project ids (as in the scope) routed here. */
  enterpriseProjects?: string[];
  /** Chat messages (not pages) are held during these hours and released as one digest. */
  quietHours?: { start: string; end: string; timeZone: string };
  /** The one destination that gets alerts (and their follow-ups) no destination's routing matched. */
  fallback?: true;
}

/** Matches a name against a GlobFilter: any `include` (all when empty) and no `exclude`. */
export type NameMatcher = (name: string) => boolean;

/**
 * Compiles `filter` once (picomatch; `*` does not cross `/`, dot-names included, case-insensitive
 * like silences: `db-*` matches `DB-01`).
 */
export function compileGlobFilter(filter: GlobFilter | undefined): NameMatcher {
  if (!filter) return () => true;
  const options = { ...GLOB_OPTIONS, dot: true, nocase: true };
  const include = filter.include.length > 0 ? picomatch(filter.include, options) : () => true;
  const exclude = filter.exclude.length > 0 ? picomatch(filter.exclude, options) : () => false;
  return (name) => include(name) && !exclude(name);
}

/** The routing decision of one destination, compiled once. */
export type RoutingFilter = (message: Message, destinationId: string) => boolean;

/**
 * Compiles `routing` into `accepts(message, destinationId)`: notices go everywhere except to the
 * destinations they name in `skipDestinations`; daily summaries go everywhere; alerts, resolved
 * messages and reminders must match `statuses` (the alert's status), `hosts` (host name, or the host
 * id when HSS sent no name), `backups` and `enterpriseProjects` (the scope's), each when given.
 */
export function compileRouting(routing: Routing): RoutingFilter {
  const hosts = compileGlobFilter(routing.hosts);
  const backups = compileGlobFilter(routing.backups);
  const statuses = routing.statuses ? new Set<string>(routing.statuses) : undefined;
  const projects = routing.enterpriseProjects ? new Set(routing.enterpriseProjects) : undefined;
  const taskMatches = (task: Task): boolean =>
    hosts(task.hostName || task.hostId) && backups(task.backupName);

  return function accepts(message, destinationId) {
    switch (message.kind) {
      case 'notice':
        return !(message.skipDestinations ?? []).includes(destinationId);
      case 'daily-summary':
        return true;
      default: {
        const status = message.kind === 'alert' ? message.status : message.alertStatus;
        if (statuses && !statuses.has(status)) return false;
        if (projects && !projects.has(message.scope.enterpriseProjectId)) return false;
        return taskMatches(message.task);
      }
    }
  };
}

/** Parses `HH:MM` (00:00..23:59) to minutes after midnight; undefined when malformed. */
export function parseClockTime(text: string): number | undefined {
  const m = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(text.trim());
  return m ? Number(m[1]) * 60 + Number(m[2]) : undefined;
}

// Formatters are costly to build and immutable: one per zone (a cache, not state).
const FORMATS = new Map<string, Intl.DateTimeFormat>();

/** Wall-clock parts of `ms` in `timeZone` (Intl.DateTimeFormat; DST-correct). */
function wallClock(ms: number, timeZone: string): { y: number; mo: number; d: number; minute: number } {
  let format = FORMATS.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
    });
    FORMATS.set(timeZone, format);
  }
  const parts = format.formatToParts(ms);
  const get = (type: string): number => Number(parts.find((p) => p.type === type)?.value);
  return { y: get('year'), mo: get('month'), d: get('day'), minute: get('hour') * 60 + get('minute') };
}

/** Minutes between two wall-clock readings (same or adjacent dates). */
function wallMinutes(w: { y: number; mo: number; d: number; minute: number }): number {
  return Date.UTC(w.y, w.mo - 1, w.d) / 60_000 + w.minute;
}

/**
 * When the quiet period that `now` falls in ends (epoch ms, on a whole minute), or undefined when
 * `now` is outside quiet hours (or `start` equals `end`: no quiet period). `start`/`end` are `HH:MM`
 * wall-clock times in `timeZone`; a period may cross midnight (`22:00`-`07:00`). On a day whose
 * clocks change, the end is the first instant the wall clock shows `end` or later.
 */
export function quietUntil(quietHours: Routing['quietHours'], now: number): number | undefined {
  if (!quietHours) return undefined;
  const start = parseClockTime(quietHours.start);
  const end = parseClockTime(quietHours.end);
  if (start === undefined || end === undefined || start === end) return undefined;
  const local = wallClock(now, quietHours.timeZone);
  const inQuiet =
    start < end ? local.minute >= start && local.minute < end : local.minute >= start || local.minute < end;
  if (!inQuiet) return undefined;
  // Wall minutes to go until `end`, then correct the guess by what the wall clock says there (DST).
  const ahead = (end - local.minute + 1440) % 1440;
  const target = wallMinutes(local) + ahead;
  let guess = Math.floor(now / 60_000) * 60_000 + ahead * 60_000;
  for (let i = 0; i < 3; i++) {
    const diff = target - wallMinutes(wallClock(guess, quietHours.timeZone));
    if (diff === 0) break;
    guess += diff * 60_000;
  }
  // Around a clock change the guess may oscillate: settle on the first minute whose wall clock shows
  // `end` or later (in a skipped hour, the first minute after the gap).
  const wall = (ms: number): number => wallMinutes(wallClock(ms, quietHours.timeZone));
  while (wall(guess - 60_000) >= target) guess -= 60_000;
  while (wall(guess) < target) guess += 60_000;
  return guess;
}
