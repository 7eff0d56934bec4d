// Phase 4, judge: once everything this poll could read was read, judge each scope once with the
// pure rules of lib/diff: the tasks that complete cycles missed (forgotten, marked or confirmed
// gone), the stuck ones among those an in-flight cycle saw, and the tasks confirmed gone since
// before the alert lists were read whole (they ended, or get a follow-up).
import { earliestStuck, judgeStuck } from '../diff/decide';
import { toSec } from '../state/entry';
import { awaitsConfirmation, judgeGone, judgeMissed } from '../diff/gone';
import type { AlertMessage, Task } from '../model';
import { dropEntry, putEntry, SKETCH_MAX_ROWS, type Digest } from '../state/records';
import {
  alertMessage,
  checkLists,
  digestOf,
  isInFlightList,
  raiseAlerts,
  showsInFlight,
  sketchOf,
} from './read';
import type { PollRun, ScopeRun } from './run';
import type { ListScan } from './scan';

/**
 * Every row the cycle of `scan` saw, key -> row hash: this poll's and, for a cycle begun earlier,
 * those kept aside (read once per scan).
 */
async function cycleRows(run: PollRun, sr: ScopeRun, scan: ListScan): Promise<ReadonlyMap<string, string>> {
  const known = sr.cycleRows.get(scan.list);
  if (known) return known;
  const rows = new Map(
    scan.continued ? await run.deps.store.readSeen(sr.scope.id, scan.list, scan.cycleStart) : [],
  );
  for (const [key, hash] of sr.rows.get(scan.list) ?? []) rows.set(key, hash);
  sr.cycleRows.set(scan.list, rows);
  return rows;
}

/**
 * A completed cycle whose absentees must be judged: a row changed, a gone mark waits for
 * confirmation, or pages moved (a continued read stepped back) and the cycle did not see as many
 * keys as the last one. A cycle equal to the last one misses exactly what that one missed.
 */
async function missesToJudge(run: PollRun, sr: ScopeRun, scan: ListScan): Promise<boolean> {
  if (!scan.complete) return false;
  if (scan.cycleChanged || (showsInFlight(scan.list) && sr.state.goneMarked > 0)) return true;
  if (!scan.shifted) return false;
  const sketch = await sketchOf(run, sr, scan.list);
  return !sketch || (await cycleRows(run, sr, scan)).size !== sketch.keys;
}

/** Keeps the sketch of a list's cycle that completed changed (or had none): its rows and keys. */
async function keepSketch(run: PollRun, sr: ScopeRun, scan: ListScan): Promise<void> {
  if (!scan.complete || scan.list === 'all') return;
  if (!scan.cycleChanged && (await sketchOf(run, sr, scan.list))) return;
  const rows = await cycleRows(run, sr, scan);
  if (rows.size > SKETCH_MAX_ROWS) return;
  const sketch = { rows: new Set(rows.values()), keys: rows.size };
  sr.sketches.set(scan.list, sketch);
  await run.effects.writeSketch(sr.scope.id, scan.list, sketch, run.deps.clock());
}

/** A completed cycle showing in-flight tasks that started after some task should have moved. */
function stuckToJudge(sr: ScopeRun, scan: ListScan): boolean {
  const due = sr.state.stuckDueAt;
  return scan.complete && showsInFlight(scan.list) && due > 0 && due <= scan.cycleStart;
}

/** The lists of the scope's check completed a cycle this poll that started after a task was confirmed gone. */
function goneToJudge(run: PollRun, sr: ScopeRun): boolean {
  const scans = checkLists(run, sr).map((l) => sr.scans.get(l));
  if (sr.state.goneAt === 0 || !scans.every((s) => s?.complete)) return false;
  return sr.state.goneAt < Math.min(...scans.map((s) => s!.cycleStart));
}

/** Judges what the completed cycles of a scope's lists missed, and which tasks they saw are stuck. */
async function judgeCycles(run: PollRun, sr: ScopeRun, digest: Digest): Promise<void> {
  const now = run.deps.clock();
  for (const scan of sr.scans.values()) {
    const misses = await missesToJudge(run, sr, scan);
    const stuck = stuckToJudge(sr, scan);
    if (!misses && !stuck) continue;
    const seen = new Set((await cycleRows(run, sr, scan)).keys());
    if (stuck) await judgeStuckOf(run, sr, scan, seen, digest);
    if (!misses) continue;
    const inFlight = showsInFlight(scan.list);
    const windowDays = isInFlightList(scan.list) ? run.options.lastDays : sr.windowDays;
    const missed = judgeMissed(digest.entries.values(), {
      list: scan.list,
      seen,
      inFlightSeen: sr.inFlightSeen,
      windowDays,
      now,
    });
    for (const entry of missed.put) putEntry(digest, entry);
    for (const key of missed.drop) dropEntry(digest, key, toSec(now));
    if (missed.confirmedSince > 0 && inFlight)
      sr.state.goneAt =
        sr.state.goneAt === 0 ? missed.confirmedSince : Math.min(sr.state.goneAt, missed.confirmedSince);
  }
}

/** Stuck: seen by a whole in-flight cycle that started after its progress should have moved. */
async function judgeStuckOf(
  run: PollRun,
  sr: ScopeRun,
  scan: ListScan,
  seen: ReadonlySet<string>,
  digest: Digest,
): Promise<void> {
  const found = judgeStuck(
    digest.entries.values(),
    { list: scan.list, seen, cycleStart: scan.cycleStart },
    run.stuck,
    run.options.baseline,
  );
  if (found.length === 0) return;
  const details = await run.deps.store.getTasks(
    sr.scope.projectId,
    found.map((f) => f.entry.key),
  );
  const now = run.deps.clock();
  const alerts: Array<{ alert: AlertMessage; key: string }> = [];
  for (const { entry, alert } of found) {
    const task = details.get(entry.key);
    if (alert && task) {
      const current: Task = { ...task, status: entry.status, rawStatus: entry.status };
      if (entry.process === undefined) delete current.process;
      else current.process = entry.process;
      alerts.push({ alert: alertMessage(sr.scope, current, entry.key, alert, now), key: entry.key });
    }
  }
  await raiseAlerts(run, sr, alerts, now);
  for (const { entry } of found) putEntry(digest, entry);
}

/** Tasks confirmed gone before the alert lists' cycles that completed this poll started. */
function judgeGoneOf(run: PollRun, sr: ScopeRun, digest: Digest): void {
  if (!goneToJudge(run, sr)) return;
  const readSince = Math.min(...checkLists(run, sr).map((l) => sr.scans.get(l)!.cycleStart));
  const now = run.deps.clock();
  const gone = judgeGone(digest.entries.values(), readSince, now, run.options.lastDays);
  if (gone.ended.length > 0) {
    const ended = run.life.ended.get(sr.scope.id) ?? new Set<string>();
    for (const key of gone.ended) ended.add(key);
    run.life.ended.set(sr.scope.id, ended);
  }
  for (const key of gone.ended) dropEntry(digest, key, toSec(now));
  for (const entry of gone.followUp) {
    putEntry(digest, entry);
    sr.state.followUps.push({ key: entry.key, dueAt: now, offset: 0 });
  }
  sr.state.goneAt = gone.pendingSince;
}

/** Judges every scope read this poll; a scope whose lists failed is left as it was. */
export async function judge(run: PollRun): Promise<void> {
  for (const sr of run.scopes) {
    if (sr.failed) continue;
    let needed = goneToJudge(run, sr);
    for (const scan of sr.scans.values())
      needed ||= stuckToJudge(sr, scan) || (await missesToJudge(run, sr, scan));
    for (const scan of sr.scans.values()) await keepSketch(run, sr, scan);
    // Nothing changed and nothing waits: the digest is not even read.
    if (!needed && !sr.digest) continue;
    const digest = await digestOf(run, sr);
    await judgeCycles(run, sr, digest);
    judgeGoneOf(run, sr, digest);
    sr.state.goneMarked = [...digest.entries.values()].some(awaitsConfirmation) ? run.deps.clock() : 0;
    sr.state.stuckDueAt = earliestStuck(digest.entries.values(), run.stuck);
  }
}
