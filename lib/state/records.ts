// What the poll keeps between runs, as records (no DynamoDB in here): a scope's state, its digest of
// every task its lists showed, the deployment-wide markers, and the store interfaces that keep them.
// The DynamoDB stores (scope-store.ts, lifecycle-store.ts) and the in-memory ones (memory.ts)
// implement the same interfaces and pass the same contract suite.
import type { Entry } from './entry';
import type { AlertMessage, AlertStatus, ListName, Task } from '../model';

export type { ListName } from '../model';

/** An alert still needing attention: one per task (the latest alert of that task). */
export interface OpenAlert {
  /** Digest key of the task. */
  key: string;
  scopeId: string;
  /** The latest alert of the task (what a reminder or resolved notice names). */
  alert: AlertMessage;
  /** Next reminder due, epoch ms; 0 = none. */
  remindAt: number;
  /** Reminders sent so far. */
  reminders: number;
  /** Set while a silence swallowed the alert (no reminder, no resolved notice until released). */
  silencedBy?: string;
}

/** A silence: alerts matching it are recorded, not sent, until it ends. */
export interface Silence {
  id: string;
  /** Host name globs (picomatch); empty = any host. */
  hosts: string[];
  /** Backup name globs; empty = any backup. */
  backups: string[];
  /** Alert statuses; empty = any. */
  statuses: AlertStatus[];
  startsAt: number;
  endsAt: number;
  reason: string;
  createdAt: number;
  /** Set once the alerts it swallowed were released (or skipped because resolved). */
  releasedAt?: number;
}

/** Where a list's scan stands. */
export interface ListCursor {
  /** Next record offset of the current cycle; 0 = the next read starts a new cycle. */
  offset: number;
  /** When the current cycle read its first page, epoch ms; 0 = none in progress. */
  cycleStart: number;
  /** Window (days) of the current cycle. */
  lastDays: number;
  /** 32-bit hash of each page as last processed, by page number: an equal page is skipped. */
  pages: number[];
  /** Page size the offsets and `pages` are counted in. */
  pageSize: number;
  /** When the last complete cycle ended (epoch ms), and when it had started. */
  completedAt: number;
  completedStart: number;
  /** How long the last complete cycle took, ms. */
  cycleMs: number;
  /** When a page of this list was last read, epoch ms (rotation). */
  readAt: number;
  /** A row of the cycle in progress differed from the last pass (so its absentees must be judged). */
  cycleChanged?: boolean;
  /** A page of the cycle in progress held only known rows, shifted: its keys must be counted at the end. */
  shifted?: boolean;
  /** Rows of the last page read (a full page means more may follow). */
  lastRows?: number;
}

/** Consecutive failed polls of a scope. */
export interface ScopeHealth {
  failures: number;
  /** First failure of the streak, epoch ms. */
  since: number;
  lastError: string;
  /** Latest failure, epoch ms: the scope has recovered once its lists were read whole after it. */
  lastAt: number;
  /** Id of the "monitoring is NOT working" notice once enqueued. */
  downNoticeId?: string;
}

/** A follow-up to run: the task's digest key, when it is due, and where its last try stopped reading. */
export interface FollowUpRef {
  key: string;
  dueAt: number;
  /** Record offset the next try starts at (a host name matching many tasks spans tries). */
  offset: number;
}

/** Records HSS sent that could not be read, counted per UTC day (one notice a day says so). */
interface RejectedRecords {
  /** UTC day, `YYYY-MM-DD`. */
  day: string;
  count: number;
  /** Id of the day's notice once enqueued. */
  noticeId?: string;
}

/**
 * How a scope's window is read: `whole`, one unfiltered page a check (every status at once: the
 * check, the in-flight sweep and the resolution in one call), while the window fits a page; `lists`,
 * the status-filtered lists, for a window larger than a page.
 */
export type ReadPlan = 'whole' | 'lists';

/** Everything a poll keeps of one scope between runs, but the digest. */
export interface ScopeState {
  scopeId: string;
  /** How the window is read (absent: `whole`, until a full page says otherwise). */
  plan?: ReadPlan;
  /** A `lists` scope last tried one unfiltered page to see whether its window fits again, epoch ms. */
  probedAt?: number;
  /** A `lists` scope last asked HSS by host name about its open alerts' hosts, epoch ms. */
  askedAt?: number;
  /** The place of the last open alert asked after: the next ask goes on after it, round the list. */
  askedAfter?: string;
  /** The scope may have open alerts (set when one is raised; cleared when a look finds none). */
  mayHaveOpen?: boolean;
  cursors: Partial<Record<ListName, ListCursor>>;
  /** Start of the last cycle pair that read every alert list whole (epoch ms); 0 = never. */
  watermark: number;
  health?: ScopeHealth;
  /** Blind since (the watermark when a gap was found), while the gap is being read; 0 = none. */
  gapSince: number;
  /** When the gap was found (the widened cycles start after it); 0 = none. */
  gapFoundAt: number;
  /** The watermark a "possible loss" (gap > 30 days) was announced for. */
  lossNoticeFor: number;
  /** When this scope last raised an alert, epoch ms (scopes with recent failures are read first). */
  lastAlertAt: number;
  /** Tasks that left their in-flight list near the window edge: follow-ups due (least recently tried first). */
  followUps: FollowUpRef[];
  /** Earliest time an in-flight task can count as stuck (epoch ms); 0 = none can. */
  stuckDueAt: number;
  /** When this scope was first polled, epoch ms (0 = never). */
  firstPollAt: number;
  /** Earliest time an in-flight task was marked gone and is not judged yet, epoch ms (0 = none). */
  goneAt: number;
  /** Some in-flight task was missed by one cycle and waits for the next to confirm it (0 = none). */
  goneMarked: number;
  /** Unreadable records today. */
  rejected?: RejectedRecords;
  /**
   * Tasks HSS lists twice with different details (same host, backup and start), by digest key: the
   * status and the hashes of the rows known to name it. A row of that status with a known hash
   * other than the one the digest holds is the duplicate: it is skipped, so the task never flips.
   */
  duplicates?: Record<string, { status: string; hashes: number[] }>;
}

/** Duplicated tasks remembered per scope, at most (the oldest is forgotten first). */
export const DUPLICATES_KEPT = 200;

/** A credential whose call budget let no call start, poll after poll. */
export interface Starvation {
  /** Consecutive polls that wanted to call HSS with it and could not start one call. */
  polls: number;
  /** First poll of the streak, epoch ms. */
  since: number;
  /** Id of the "monitoring is NOT working" notice once enqueued. */
  noticeId?: string;
}

/** Deployment-wide markers, in one item of their own. */
export interface Markers {
  /** Day (`YYYY-MM-DD`, in the summary's zone) of the last daily summary sent; '' = none. */
  summaryDay: string;
  /** When this deployment first polled, epoch ms (0 = never): days before it have nothing to summarise. */
  since: number;
  /** Credentials whose budget starves the poll, by credential name. */
  starved: Record<string, Starvation>;
}

/** A scope's digest as read, with what changed since. */
export interface Digest {
  scopeId: string;
  entries: Map<string, Entry>;
  /** Version of each shard as read (0 = absent). */
  versions: number[];
  dirty: Set<number>;
  /** Keys removed this run, with when (epoch s): a concurrent writer's newer entry survives the merge. */
  removed: Map<string, number>;
}

/** Digest items per scope: a scope of 50,000 tasks keeps each under 130 KB (the item limit is 400 KB). */
export const DIGEST_SHARDS = 16;

export function emptyScopeState(scopeId: string): ScopeState {
  return {
    scopeId,
    cursors: {},
    watermark: 0,
    gapSince: 0,
    gapFoundAt: 0,
    lossNoticeFor: 0,
    lastAlertAt: 0,
    followUps: [],
    stuckDueAt: 0,
    firstPollAt: 0,
    goneAt: 0,
    goneMarked: 0,
  };
}

export function emptyMarkers(): Markers {
  return { summaryDay: '', since: 0, starved: {} };
}

export function emptyDigest(scopeId: string): Digest {
  return {
    scopeId,
    entries: new Map(),
    versions: new Array<number>(DIGEST_SHARDS).fill(0),
    dirty: new Set(),
    removed: new Map(),
  };
}

export function shardOf(key: string): number {
  return parseInt(key.slice(0, 2), 16) % DIGEST_SHARDS;
}

/** Sets (or replaces) an entry, marking its shard for writing. */
export function putEntry(digest: Digest, entry: Entry): void {
  digest.entries.set(entry.key, entry);
  digest.removed.delete(entry.key);
  digest.dirty.add(shardOf(entry.key));
}

/** Forgets an entry at `nowSec`. */
export function dropEntry(digest: Digest, key: string, nowSec: number): void {
  if (!digest.entries.delete(key)) return;
  digest.removed.set(key, nowSec);
  digest.dirty.add(shardOf(key));
}

/**
 * Merges `theirs` (an entry another run wrote) into `digest`: per key, the newer entry wins, and a
 * key this run removed stays removed unless theirs changed after the removal.
 */
export function mergeEntry(digest: Digest, theirs: Entry): void {
  const ours = digest.entries.get(theirs.key);
  const removedAt = digest.removed.get(theirs.key);
  if (ours ? theirs.changedSec > ours.changedSec : removedAt === undefined || theirs.changedSec > removedAt)
    digest.entries.set(theirs.key, theirs);
}

/** A list's last complete cycle, as row hashes (16 hex digits each) and its number of keys. */
export interface ListSketch {
  rows: Set<string>;
  keys: number;
}

/** Rows a sketch holds at most (8 bytes each: the item stays under DynamoDB's 400 KB). */
export const SKETCH_MAX_ROWS = 40_000;

/** The poll's state: scope states, digests, seen keys, task details and the deployment markers. */
export interface ScopeStore {
  /** Reads the state items of `scopeIds` (strongly consistent); absent ones come back empty. */
  readStates(scopeIds: readonly string[]): Promise<Map<string, ScopeState>>;
  /** Writes a state item (whole); a no-op when it equals `previous`. */
  writeState(state: ScopeState, previous: ScopeState | undefined, now: number): Promise<void>;
  /** Reads a scope's digest (one consistent Query). */
  readDigest(scopeId: string): Promise<Digest>;
  /**
   * Writes the dirty shards, each conditional on the version read; a shard another run wrote
   * meanwhile is read again and merged (the newer entry of a key wins), then written again.
   */
  writeDigest(digest: Digest, now: number): Promise<void>;
  /** Adds keys (with their row hashes) seen by the cycle of `list` that started at `cycleStart` (one chunk per `chunk` id). */
  addSeen(
    scopeId: string,
    list: ListName,
    cycleStart: number,
    chunk: string,
    rows: ReadonlyMap<string, string>,
    now: number,
  ): Promise<void>;
  /** Every key added for the cycle of `list` that started at `cycleStart`, with its row hash. */
  readSeen(scopeId: string, list: ListName, cycleStart: number): Promise<Map<string, string>>;
  /**
   * The row hashes (16 hex digits of each row's key and content) of the last complete cycle of a
   * list, and how many keys it held: a page whose rows are all in it changed nothing.
   */
  readSketch(scopeId: string, list: ListName): Promise<ListSketch | undefined>;
  writeSketch(scopeId: string, list: ListName, sketch: ListSketch, now: number): Promise<void>;
  /** Writes task details, keyed by digest key (one item per key: the last one given wins). */
  putTasks(projectId: string, tasks: ReadonlyArray<{ key: string; task: Task }>, now: number): Promise<void>;
  /** Reads task details by digest key; missing keys are absent. */
  getTasks(projectId: string, keys: readonly string[]): Promise<Map<string, Task>>;
  readMarkers(): Promise<Markers>;
  /** Writes the markers; a no-op when they equal `previous`. */
  writeMarkers(markers: Markers, previous: Markers, now: number): Promise<void>;
}

/** Per-day, per-scope counts for the daily summary. */
interface DayCounts {
  succeeded: number;
  failed: number;
  timedOut: number;
  stuck: number;
  resolved: number;
}

/**
 * What a poll adds to a scope's day: alerts by id (sets: a poll repeated after a crash counts
 * nothing twice) and the number of tasks seen to finish.
 */
export interface DayAdd {
  failed: readonly string[];
  timedOut: readonly string[];
  stuck: readonly string[];
  resolved: readonly string[];
  succeeded: number;
}

/** One of the slowest tasks of a day. */
export interface SlowTask {
  task: Task;
  durationMs: number;
}

/** Slowest tasks kept per scope and day. */
const SLOWEST_KEPT = 5;

/** The day's slowest tasks after adding `more`: each task once (the later figure), slowest first. */
export function mergeSlowest(kept: readonly SlowTask[], more: readonly SlowTask[]): SlowTask[] {
  const byTask = new Map<string, SlowTask>();
  for (const s of [...kept, ...more])
    byTask.set(`${s.task.hostId}\n${s.task.backupName}\n${s.task.startedAt}`, s);
  return [...byTask.values()].sort((a, b) => b.durationMs - a.durationMs).slice(0, SLOWEST_KEPT);
}

/** An open alert and its place in its scope (see LifecycleStore.openAfter). */
interface PlacedOpenAlert {
  place: string;
  open: OpenAlert;
}

/** Open alerts, silences and what they swallowed, day counters. */
export interface LifecycleStore {
  /** Writes open alerts (replacing the task's earlier one). */
  putOpen(open: readonly OpenAlert[], now: number): Promise<void>;
  /**
   * Opens alerts just raised: each written unless its task's open alert already is this alert (a
   * run repeated after a crash does not reset its reminders). Safe to repeat.
   */
  openRaised(open: readonly OpenAlert[], now: number): Promise<void>;
  /** True when the scope has at least one open alert (one small read). */
  anyOpen(scopeId: string): Promise<boolean>;
  /** Open alerts of `hostId` + `backupName` in a scope. */
  openFor(scopeId: string, hostId: string, backupName: string): Promise<OpenAlert[]>;
  /** Every open alert of a scope (the daily summary's "still open", `status`). */
  allOpen(scopeId: string): Promise<OpenAlert[]>;
  /**
   * Up to `limit` open alerts of a scope in the order of their place in the scope (an opaque string:
   * host and backup hash, then task), from just after the place `after` (the start when undefined):
   * one bounded read, for going round a scope's open alerts a few at a time.
   */
  openAfter(scopeId: string, after: string | undefined, limit: number): Promise<PlacedOpenAlert[]>;
  deleteOpen(open: readonly OpenAlert[]): Promise<void>;
  /** Open alerts whose reminder is due (one Query of the sparse index). */
  dueReminders(now: number): Promise<OpenAlert[]>;
  listSilences(): Promise<Silence[]>;
  putSilence(silence: Silence, now: number): Promise<void>;
  /** Records an alert a silence swallowed; false when it was already. */
  swallow(silenceId: string, alert: AlertMessage, now: number): Promise<boolean>;
  swallowed(silenceId: string): Promise<AlertMessage[]>;
  /** Adds to a scope's counts of `day`, keeping the slowest tasks (each task once). */
  addDay(scopeId: string, day: string, add: DayAdd, slow: readonly SlowTask[], now: number): Promise<void>;
  readDay(scopeId: string, day: string): Promise<{ counts: DayCounts; slowest: SlowTask[] }>;
}
