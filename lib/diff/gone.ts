// Pure judgments of tasks a list no longer shows, clock passed in: what a whole cycle of a list
// that missed a task means (forget it, mark it gone, confirm it gone), and what a task confirmed
// gone means once the alert lists were read after it left (it finished, or ask HSS how it ended).
// Table-tested in test/diff/gone.test.ts.
import type { KnownStatus, ListName } from '../model';
import { IN_FLIGHT_STATUSES } from '../task';
import { vanished } from './decide';
import { toSec, type Entry } from '../state/entry';

const isInFlight = (s: string): boolean => (IN_FLIGHT_STATUSES as readonly string[]).includes(s);

/** A list's cycle that just completed. */
export interface CompletedCycle {
  /** The status the list shows, or `all` (every status: the scope's whole window). */
  list: ListName;
  /** Every key the cycle saw. */
  seen: ReadonlySet<string>;
  /** Keys seen by any in-flight list this poll (a task moving from waiting to running is not gone). */
  inFlightSeen: ReadonlySet<string>;
  /** The window (days) the cycle read. */
  windowDays: number;
  now: number;
}

/** What a completed cycle says about the tasks it missed. */
export interface MissedJudgment {
  /** Entries to keep changed: marked gone (first miss) or confirmed gone (second miss). */
  put: Entry[];
  /** Alert-status tasks older than the window: forgotten. */
  drop: string[];
  /** Earliest first miss among the entries confirmed gone now, epoch ms (0 = none). */
  confirmedSince: number;
}

/**
 * Judges the entries of `cycle.list` (every entry, for `all`) that the cycle missed. An in-flight
 * task missed once is marked (records shifting between pages can hide a task from one cycle); missed
 * by a second cycle, it is confirmed gone. A finished task (an alert status, a success) older than
 * the window is forgotten; one inside it is kept. Tasks waiting for a follow-up are left alone. Pure.
 */
export function judgeMissed(entries: Iterable<Entry>, cycle: CompletedCycle): MissedJudgment {
  const out: MissedJudgment = { put: [], drop: [], confirmedSince: 0 };
  const nowSec = toSec(cycle.now);
  for (const entry of entries) {
    if ((cycle.list !== 'all' && entry.status !== cycle.list) || entry.followUp) continue;
    if (cycle.seen.has(entry.key)) continue;
    if (!isInFlight(entry.status)) {
      const shown = entry.status === 'unknown' ? 'success' : entry.status;
      if (vanished(entry, shown, cycle.now, cycle.windowDays) === 'aged-out') out.drop.push(entry.key);
      continue;
    }
    if (cycle.inFlightSeen.has(entry.key) || entry.goneConfirmed) continue;
    if (entry.goneSec === 0) {
      out.put.push({ ...entry, goneSec: nowSec });
      continue;
    }
    out.put.push({ ...entry, goneConfirmed: true });
    const since = entry.goneSec * 1000;
    out.confirmedSince = out.confirmedSince === 0 ? since : Math.min(out.confirmedSince, since);
  }
  return out;
}

/** An in-flight task missed by one cycle that waits for the next to confirm it gone. */
export function awaitsConfirmation(entry: Entry): boolean {
  return entry.goneSec > 0 && !entry.goneConfirmed && !entry.followUp;
}

/** What tasks confirmed gone mean, once the alert lists were read whole after they left. */
export interface GoneJudgment {
  /** Left well inside the window without entering an alert list: they ended quietly; forgotten. */
  ended: string[];
  /** Left near the window edge: HSS is asked how they ended. */
  followUp: Entry[];
  /** Earliest first miss among confirmed entries not judged yet (the alert lists were read before it), epoch ms; 0 = none. */
  pendingSince: number;
}

/**
 * Judges in-flight tasks confirmed gone before `readSince` (when the alert-list cycles that just
 * completed started): had they failed or timed out, those lists would have shown them. One well
 * inside the window ended quietly; one near its edge may have aged out unfinished: it gets a
 * follow-up. Pure.
 */
export function judgeGone(
  entries: Iterable<Entry>,
  readSince: number,
  now: number,
  lastDays: number,
): GoneJudgment {
  const out: GoneJudgment = { ended: [], followUp: [], pendingSince: 0 };
  for (const entry of entries) {
    if (!entry.goneConfirmed || entry.followUp || !isInFlight(entry.status)) continue;
    const since = entry.goneSec * 1000;
    if (since >= readSince) {
      out.pendingSince = out.pendingSince === 0 ? since : Math.min(out.pendingSince, since);
      continue;
    }
    const outcome = vanished(entry, entry.status as KnownStatus, since, lastDays);
    if (outcome === 'finished') {
      out.ended.push(entry.key);
      continue;
    }
    out.followUp.push({
      ...entry,
      followUp: true,
      goneSec: 0,
      goneConfirmed: false,
      changedSec: toSec(now),
    });
  }
  return out;
}
