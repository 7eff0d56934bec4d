// CONTRACT (written first; the HSS helper implements it): what the poll needs from HSS. The poll
// drives paging itself, one page at a time, so it can record each page as it arrives, stop at its
// deadline and keep a cursor; the client only signs, sends, retries (inside the deadline) and parses.
import type { HssAuth } from '../huaweicloud/credentials';
import type { CallBudget } from '../budget/port';
import type { KnownStatus, Task } from '../task';

/** Where a query goes: one project in one region (or the endpoint override), read with one credential. */
export interface HssTarget {
  projectId: string;
  /** Region (`cn-north-4`); ignored when the client has an endpoint override. */
  region?: string;
  enterpriseProjectId: string;
  /** Credential name: the key of the client's credentials map and of the call budget. */
  credential: string;
}

/** The filters of one list. */
export interface ListQuery {
  /** Look-back window in days, 1..30. */
  lastDays: number;
  status?: KnownStatus;
  /** Server (host) name filter; non-empty. */
  resourceName?: string;
}

/** One page as HSS answered it. */
export interface Page {
  /** Records the server returned on this page (`data_list.length`), before any was dropped: a full page (`rows === limit`) means ask for the next. */
  rows: number;
  /** Records parsed into tasks (rows less the rejected ones). */
  tasks: Task[];
  /** Records that could not be read (no host_id, unreadable start time...): index on the page, why, and the start of its JSON. */
  rejected: Array<{ index: number; reason: string; sample: string }>;
  /** `total_num` as sent: a hint only (never used to stop paging). */
  totalNum: number;
}

/** The answer of `fetchPage`: a page, or no call made because none could finish before the deadline. */
export type PageResult = { kind: 'page'; page: Page } | { kind: 'out-of-time' };

/** Reads operation-log pages; every call goes through the call budget of its credential. */
export interface PageReader {
  /**
   * Fetches the page of `query` at record `offset` (`limit` 10..200, default 200). Never starts an
   * HTTP attempt (first try or retry) that could not finish before `deadline` (epoch ms, by the
   * injected clock): then it returns `out-of-time`, or throws the last failure if an attempt failed.
   * Throws HssError subclasses: HssAuthError (never retried), HssRequestError (4xx), HssServerError /
   * HssNetworkError / HssThrottledError (retried within the deadline first), HssResponseError
   * (unreadable body). `maxAttempts` (default the retry policy's) bounds the attempts: a scope that
   * keeps failing gets one, so its retries never take the calls of the others.
   */
  fetchPage(
    target: HssTarget,
    query: ListQuery,
    offset: number,
    deadline: number,
    limit?: number,
    maxAttempts?: number,
  ): Promise<PageResult>;
  /** Running totals since the reader was created. */
  readonly stats: { calls: number; throttled: number; retries: number };
}

/** Builds readers; credentials by name (Config.credentials). */
export interface PageReaderOptions {
  credentials: Record<string, HssAuth>;
  /** Endpoint override serving every target (emulators). */
  endpoint?: string;
  budget: CallBudget;
}
