// Where the scan of one list (one scope, one status) stands, and which offset to read next. A
// cycle reads a list from offset 0 until a page comes back short; a list too long for one poll is
// continued by the next from the cursor, stepping back a little (records that age out shift the
// rest forward; never a whole page, so every continued poll makes progress) and re-reading the head
// once it has read on, when asked (new records may be inserted there: the API does not say in which
// order it lists; reading on first means a poll that gets one call for the list still advances).
// Nothing here trusts `total_num`: a full page always asks for the next. Pure apart from the
// object's own state.
import type { Page } from '../hss/pages';
import type { ListName } from '../model';
import type { ListCursor } from '../state/records';
import { DAY_MS } from '../time';

export interface ScanOptions {
  list: ListName;
  /** The cursor as stored, undefined for a list never read. */
  cursor: ListCursor | undefined;
  /** Window of this poll's reads, days. */
  lastDays: number;
  pageSize: number;
  /** Re-read the head once a continued cycle has read on (alert lists: new failures may be inserted there). */
  rereadHead: boolean;
  /** Schedule period, ms: sizes the step-back of a continued cycle. */
  periodMs: number;
  /**
   * Continue a cycle a little before where it stopped (alert lists: no failure may slip past the
   * cursor). In-flight lists continue exactly there: their pages stay aligned with the last pass,
   * so unchanged ones are recognised, and a task hidden once by a shift is seen by the next cycle
   * (a task is judged gone only when two cycles missed it).
   */
  stepBack: boolean;
}

/** What reading one page meant for the scan. */
interface PageStep {
  /** The page equals the one read at this offset in the last pass: nothing on it changed. */
  unchanged: boolean;
  /** This page ended the cycle (it came back short). */
  complete: boolean;
}

export interface ListScan {
  readonly list: ListName;
  /** Window of this scan's reads, days. */
  readonly lastDays: number;
  /** The cycle in progress started in an earlier poll: the keys it saw then are kept aside (seen chunks). */
  readonly continued: boolean;
  /** Offset to read next, undefined when the cycle is complete. */
  next(): number | undefined;
  /** Records the page read at `offset`, whose content hashes to `pageHash` and holds `keys`. */
  accept(offset: number, page: Page, pageHash: number, keys: readonly string[], now: number): PageStep;
  /** True once a cycle completed in this poll. */
  readonly complete: boolean;
  /** When the cycle that completed (or is in progress) started, epoch ms. */
  readonly cycleStart: number;
  /** Keys this poll saw in the cycle (the head re-read included); earlier polls' are kept aside. */
  readonly seen: ReadonlySet<string>;
  /** Pages read this poll. */
  readonly pagesRead: number;
  /**
   * Some row of this cycle differed from the last pass (the caller says so with markChanged). When
   * none did and every page matched the last pass's page at its offset, the cycle saw exactly the
   * keys of the last one (a page's hash covers its keys and its length), so nothing vanished.
   */
  readonly cycleChanged: boolean;
  /** A page that differed from the last pass at its offset held rows that did change. */
  markChanged(): void;
  /**
   * A page of this cycle differed from the last pass at its offset, but its rows all were in the last
   * cycle (a continued read stepped back): the cycle's keys must be counted to know nothing vanished.
   */
  readonly shifted: boolean;
  /** A page that differed from the last pass at its offset held only rows of the last cycle. */
  markShifted(): void;
  /** The cursor to store after this poll; `inProgress` when the cycle continues next poll. */
  save(now: number): { cursor: ListCursor; inProgress: boolean };
}

export function createScan(o: ScanOptions): ListScan {
  const prev = o.cursor;
  const continuing =
    prev !== undefined &&
    prev.offset > 0 &&
    prev.cycleStart > 0 &&
    prev.lastDays === o.lastDays &&
    prev.pageSize === o.pageSize;
  let offset = continuing ? prev.offset : 0;
  let cycleStart = continuing ? prev.cycleStart : 0;
  let headPending = continuing && o.rereadHead;
  // The head waits until the continued cycle has read one page on: a poll that can afford a single
  // call for this list must advance it, or a list longer than a page is never read to its end.
  let readOn = false;
  let complete = false;
  let lastTotal = 0;
  let lastRows = prev?.lastRows ?? 0;
  let pagesRead = 0;
  let cycleChanged = continuing ? prev.cycleChanged === true : false;
  let shifted = continuing ? prev.shifted === true : false;
  const seen = new Set<string>();
  const oldPages = new Map<number, number>((prev?.pages ?? []).map((h, i) => [i * o.pageSize, h]));
  // The last hash of every page by offset: this pass's where it read them, the last pass's beyond,
  // so a cycle spanning polls still compares its later pages with the pass before.
  const pages = new Map<number, number>(oldPages);
  let completed = {
    at: prev?.completedAt ?? 0,
    start: prev?.completedStart ?? 0,
    ms: prev?.cycleMs ?? 0,
  };
  let readAt = prev?.readAt ?? 0;

  return {
    list: o.list,
    lastDays: o.lastDays,
    continued: continuing,
    next: () => (complete ? undefined : headPending && readOn ? 0 : offset),
    accept(at, page, pageHash, keys, now) {
      pagesRead += 1;
      readAt = now;
      if (cycleStart === 0) cycleStart = now;
      lastTotal = page.totalNum;
      lastRows = page.rows;
      for (const key of keys) seen.add(key);
      const unchanged = oldPages.get(at) === pageHash;
      pages.set(at, pageHash);
      const short = page.rows < o.pageSize;
      if (headPending && at === 0) {
        headPending = false;
        // The whole list fits on the head page now: that read is a complete cycle of its own.
        if (short) finish(now);
        return { unchanged, complete };
      }
      readOn = true;
      if (short) finish(now);
      else offset = at + page.rows;
      return { unchanged, complete };
    },
    get complete() {
      return complete;
    },
    get cycleStart() {
      return cycleStart;
    },
    seen,
    get pagesRead() {
      return pagesRead;
    },
    get cycleChanged() {
      return cycleChanged;
    },
    markChanged() {
      cycleChanged = true;
    },
    get shifted() {
      return shifted;
    },
    markShifted() {
      shifted = true;
    },
    save() {
      const aligned = [...pages].filter(([at]) => at % o.pageSize === 0).sort((a, b) => a[0] - b[0]);
      const pageHashes: number[] = [];
      for (const [at, h] of aligned) pageHashes[at / o.pageSize] = h;
      const base = {
        lastDays: o.lastDays,
        pageSize: o.pageSize,
        // Unknown slots (a page never read at that offset) are 0: a hash that never matches.
        pages: Array.from(pageHashes, (h) => h ?? 0),
        completedAt: completed.at,
        completedStart: completed.start,
        cycleMs: completed.ms,
        readAt,
        lastRows,
      };
      if (complete || cycleStart === 0 || offset === 0) {
        return { cursor: { ...base, offset: 0, cycleStart: 0 }, inProgress: false };
      }
      // Records that age out of the window before the next poll shift the rest forward: step back
      // by about that many (estimated from the list's size), so none slips past the cursor; at most
      // half a page, so a poll that reads one page still advances (a record skipped by a list that
      // ages faster than that is read by the next cycle).
      const agingPerPeriod = Math.ceil((lastTotal * o.periodMs) / (o.lastDays * DAY_MS));
      const stepBack = o.stepBack ? Math.min(Math.floor(o.pageSize / 2), agingPerPeriod + 10) : 0;
      return {
        cursor: { ...base, offset: Math.max(1, offset - stepBack), cycleStart, cycleChanged, shifted },
        inProgress: true,
      };
    },
  };

  function finish(now: number): void {
    complete = true;
    completed = { at: now, start: cycleStart, ms: now - cycleStart };
  }
}
