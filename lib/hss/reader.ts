// PageReader over many targets and credentials: every HTTP attempt (first try and retries) goes
// through the call budget of its credential and starts only if it can finish before the deadline;
// retries follow retry.ts; the poll drives paging.
import type { Clock, Log, Sleep } from '../log';
import { hssEndpoint } from './endpoint';
import { HssResponseError, HssValidationError, type HssError } from './errors';
import type { HssTarget, ListQuery, PageReader, PageReaderOptions, PageResult } from './pages';
import { parsePage } from './parse';
import { decideRetry, RETRY_POLICY } from './retry';
import {
  createTransport,
  failureError,
  refusesCredential,
  requestIdNote,
  type CallFailure,
  type Transport,
} from './transport';

const OPERATION_LOGS_ROUTE = '/ransomware/backup/operation-logs';

/** Query limits of the operation-logs API (hss-api.md). */
export const HSS_LIMITS = {
  pageSizeMin: 10,
  pageSizeMax: 200,
  lastDaysMin: 1,
  lastDaysMax: 30,
  offsetMax: 2_147_483_547,
} as const;

export interface PageReaderSettings extends PageReaderOptions {
  /** Bound on one HTTP attempt, ms (default 10000); no attempt starts later than `deadline - timeoutMs`. */
  timeoutMs?: number;
  /** Records per page when `fetchPage` is given no limit (default 200: the fewest calls). */
  pageSize?: number;
  clock: Clock;
  sleep: Sleep;
  log: Log;
  /** Uniform in [0, 1), for back-off jitter. */
  random: () => number;
  /** Sends the calls (default: axios, see transport.ts). */
  transport?: Transport;
}

const DEFAULTS = { timeoutMs: 10_000, pageSize: 200 } as const;

/**
 * Creates the reader. Options come from the parsed Config and are trusted; `fetchPage` only guards
 * the query against a programming error that would cost a call (offset, limit, last_days, empty
 * resource name, unknown credential, a target with neither region nor endpoint): HssValidationError.
 * An unknown region throws ConfigError. After a credential is refused (401, APIGW.0301...), later
 * calls with it until that call's deadline (the rest of the run) throw HssAuthError without calling:
 * 5 refusals in a row lock the AK for 5 minutes. The next run tries it again.
 */
export function createPageReader(settings: PageReaderSettings): PageReader {
  const { credentials, budget, clock, sleep, log, random } = settings;
  const timeoutMs = settings.timeoutMs ?? DEFAULTS.timeoutMs;
  const pageSize = settings.pageSize ?? DEFAULTS.pageSize;
  const transport = settings.transport ?? createTransport({ timeoutMs, clock, log });
  const stats = { calls: 0, throttled: 0, retries: 0 };
  // A refused credential is not called again until the deadline of the run that was refused: the
  // reader outlives runs (a warm container), and the next run must try again (the AK may be fixed).
  const refused = new Map<string, { failure: CallFailure; until: number }>();
  const warned = { zoneless: false, unreadable: false };

  function endpointOf(target: HssTarget): string {
    if (settings.endpoint !== undefined) return settings.endpoint;
    if (target.region === undefined) {
      throw new HssValidationError(
        `target ${target.projectId} has no region and the reader no endpoint override`,
        'region',
      );
    }
    return hssEndpoint(target.region);
  }

  async function fetchPage(
    target: HssTarget,
    query: ListQuery,
    offset: number,
    deadline: number,
    limit = pageSize,
    maxAttempts: number = RETRY_POLICY.maxAttempts,
  ): Promise<PageResult> {
    guard(query, offset, limit);
    const auth = credentials[target.credential];
    if (auth === undefined) {
      throw new HssValidationError(`no credential named "${target.credential}"`, 'credential');
    }
    const endpoint = endpointOf(target);
    const earlier = refused.get(target.credential);
    if (earlier !== undefined && clock() <= earlier.until) {
      throw failureError(
        earlier.failure,
        `not called again: credential "${target.credential}" was refused earlier in this run`,
      );
    }
    const params = queryPairs(target, query, offset, limit);
    const latestStart = deadline - timeoutMs;
    let last: CallFailure | undefined;
    for (let attempt = 1; ; attempt++) {
      if (!(await budget.acquire(target.credential, latestStart))) {
        if (last === undefined) return { kind: 'out-of-time' };
        throw giveUp(last, attempt - 1, 'no retry could finish before the deadline');
      }
      stats.calls += 1;
      if (attempt > 1) stats.retries += 1;
      const result = await transport.get({
        endpoint,
        projectId: target.projectId,
        route: OPERATION_LOGS_ROUTE,
        query: params,
        auth,
      });
      if (result.ok) return { kind: 'page', page: read(result.json, offset, result.details) };

      const failure = result.failure;
      if (failure.kind === 'throttled') stats.throttled += 1;
      const decision = decideRetry(
        {
          kind: failure.kind,
          status: failure.details.status,
          attempt,
          retryAfterMs: failure.retryAfterMs,
        },
        random,
      );
      if (failure.kind === 'throttled') {
        // Through the budget, so every caller of this credential holds back, not just this retry.
        const holdMs = decision.retry
          ? decision.afterMs
          : (failure.retryAfterMs ?? RETRY_POLICY.throttleBaseMs);
        await budget.penalize(target.credential, holdMs);
      }
      if (!decision.retry || attempt >= maxAttempts) {
        if (refusesCredential(failure)) refused.set(target.credential, { failure, until: deadline });
        throw giveUp(failure, attempt);
      }
      if (clock() + decision.afterMs > latestStart) {
        throw giveUp(
          failure,
          attempt,
          `a retry in ${Math.ceil(decision.afterMs / 1000)} s could not finish before the deadline`,
        );
      }
      log.warn('HSS call failed; retrying', {
        path: failure.details.path,
        kind: failure.kind,
        status: failure.details.status,
        errorCode: failure.details.errorCode,
        requestId: failure.details.requestId,
        attempt,
        afterMs: decision.afterMs,
      });
      // A throttled retry waits in the budget (it holds the penalty); other failures wait here.
      if (failure.kind !== 'throttled') await sleep(decision.afterMs);
      last = failure;
    }
  }

  /** The error to throw for the last failure, saying how many attempts were made and why no more. */
  function giveUp(failure: CallFailure, attempts: number, why?: string): HssError {
    if (failure.kind === 'auth') return failureError(failure);
    if (failure.kind === 'request' || failure.kind === 'response')
      return failureError(failure, 'not retried');
    const tried = `${attempts} attempt${attempts === 1 ? '' : 's'}`;
    return failureError(failure, `${tried}${why === undefined ? '' : `; ${why}`}; the next poll tries again`);
  }

  function read(json: unknown, offset: number, details: CallFailure['details']) {
    let reading;
    try {
      reading = parsePage(json, offset);
    } catch (err) {
      if (!(err instanceof HssResponseError)) throw err;
      throw new HssResponseError(
        `${err.message} (HSS GET ${details.path ?? ''}${requestIdNote(details.requestId)})`,
        { ...details, cause: err },
      );
    }
    const { page, unknownStatuses, zonelessExample, unreadableTimeExample } = reading;
    if (page.rejected.length > 0) {
      log.warn('HSS records that cannot be identified were set aside', {
        path: details.path,
        requestId: details.requestId,
        rejected: page.rejected.map(({ index, reason }) => ({ record: offset + index, reason })),
      });
    }
    if (unknownStatuses.length > 0) {
      log.warn('HSS sent task statuses it does not document; those tasks are kept with status "unknown"', {
        statuses: unknownStatuses,
        offset,
      });
    }
    if (zonelessExample !== undefined && !warned.zoneless) {
      warned.zoneless = true;
      log.warn(
        'HSS sent times without a time zone; they are read as UTC and window-edge decisions allow +-14 h for them',
        { example: zonelessExample },
      );
    }
    if (unreadableTimeExample !== undefined && !warned.unreadable) {
      warned.unreadable = true;
      log.warn('HSS sent times in no known format; their tasks are kept without a parsed time', {
        example: unreadableTimeExample,
      });
    }
    return page;
  }

  return { fetchPage, stats };
}

/** Rejects a query HSS would refuse (400 costs a call of the budget): a programming error, not an input one. */
function guard(query: ListQuery, offset: number, limit: number): void {
  const whole = (value: number, min: number, max: number, field: string): void => {
    if (!(Number.isInteger(value) && value >= min && value <= max)) {
      throw new HssValidationError(
        `${field} must be a whole number ${min}..${max}, got ${String(value)}`,
        field,
      );
    }
  };
  whole(offset, 0, HSS_LIMITS.offsetMax, 'offset');
  whole(limit, HSS_LIMITS.pageSizeMin, HSS_LIMITS.pageSizeMax, 'limit');
  whole(query.lastDays, HSS_LIMITS.lastDaysMin, HSS_LIMITS.lastDaysMax, 'lastDays');
  if (query.resourceName !== undefined && query.resourceName.trim() === '') {
    throw new HssValidationError(
      'resourceName must be a non-empty server name (omit it for all servers)',
      'resourceName',
    );
  }
}

function queryPairs(
  target: HssTarget,
  query: ListQuery,
  offset: number,
  limit: number,
): Array<[string, string]> {
  const pairs: Array<[string, string]> = [
    ['offset', String(offset)],
    ['limit', String(limit)],
    ['last_days', String(query.lastDays)],
    ['enterprise_project_id', target.enterpriseProjectId],
  ];
  if (query.status !== undefined) pairs.push(['status', query.status]);
  if (query.resourceName !== undefined) pairs.push(['resource_name', query.resourceName]);
  return pairs;
}
