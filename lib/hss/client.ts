import axios, { type AxiosInstance } from 'axios';
import { realSleep, silentLog, systemClock, type Clock, type Log, type Sleep } from '../log';
import { TASK_STATUSES, taskKey, type Task } from '../task';
import { resolveHssEndpoint } from './endpoint';
import {
  classifyHssAnswer,
  HssAuthError,
  HssNetworkError,
  HssPagingError,
  HssRequestError,
  HssResponseError,
  HssServerError,
  HssThrottledError,
  HssValidationError,
  parseHssErrorBody,
  redactSecrets,
  type HssErrorDetails,
} from './errors';
import { createRateLimiter, type RateLimiter } from './limiter';
import { parsePage, type ParsedPage } from './parse';
import { gatewayEncode, signRequest } from './signer';
import type { TaskList, TaskQuery, TaskSource } from './types';

/** Credentials: AK/SK (signed with SDK-HMAC-SHA256; `securityToken` for temporary credentials) or an IAM token. */
export type HssAuth =
  { kind: 'aksk'; ak: string; sk: string; securityToken?: string } | { kind: 'token'; token: string };

export interface HssClientOptions {
  /** Project id, 1..256 characters (letters, digits, `-`, `_`, `.`, `~`). */
  projectId: string;
  /** Enterprise project to query (`all_granted_eps` = all); omitted = the API's default (`0`). */
  enterpriseProjectId?: string;
  /** Region, e.g. `cn-north-4`; ignored when `endpoint` is given. */
  region?: string;
  /** Endpoint override, `scheme://host[:port]` (other regions, the emulator). */
  endpoint?: string;
  auth: HssAuth;
  /** Calls allowed per rolling minute (default 5, the HSS per-user limit); 0 = unlimited (emulator only). */
  ratePerMinute?: number;
  /** Records per page, 10..200 (default 200: the fewest calls). */
  pageSize?: number;
  /** Pages one `listTasks` may fetch (default 100); a bigger window throws HssPagingError. */
  maxPages?: number;
  /** Per-request timeout in ms (default 10000). */
  timeoutMs?: number;
  /** Retries of one page after 5xx, network failure or throttling (default 3); 0 = no retry. */
  maxRetries?: number;
  /** Bound on the total throttle wait (Retry-After or backoff) for one page, ms (default 120000). */
  maxThrottleWaitMs?: number;
  /** A limiter to share across clients or warm invocations; default one built from `ratePerMinute`. */
  limiter?: RateLimiter;
  clock?: Clock;
  sleep?: Sleep;
  log?: Log;
  /** Uniform in [0, 1), for backoff jitter. */
  random?: () => number;
}

/** Running totals since the client was created. */
export interface HssClientStats {
  /** Every HTTP attempt, retries included. */
  calls: number;
  /** Answers that were throttled (429 or APIGW.0308). */
  throttled: number;
  /** Attempts repeated after a throttle, 5xx or network failure. */
  retries: number;
}

/** One page of a query. */
export interface HssPage {
  totalNum: number;
  tasks: Task[];
}

/** The HSS operation-logs reader: rate-limited, retrying, validating. */
export interface HssClient extends TaskSource {
  readonly stats: HssClientStats;
  /** Fetches the page of `query` at record `offset` (`limit` 10..200, default the page size); throws an HssError. */
  listPage(query: TaskQuery, offset: number, limit?: number): Promise<HssPage>;
}

/** API limits on query parameters (hss-api.md). */
export const HSS_LIMITS = {
  pageSizeMin: 10,
  pageSizeMax: 200,
  lastDaysMin: 1,
  lastDaysMax: 30,
  idMaxLength: 256,
  offsetMax: 2_147_483_547,
} as const;

const DEFAULTS = {
  ratePerMinute: 5,
  pageSize: 200,
  maxPages: 100,
  timeoutMs: 10_000,
  maxRetries: 3,
  maxThrottleWaitMs: 120_000,
} as const;

// Backoff bases: a throttle lasts up to a rate window (12 s = one call's share of a minute at 5/min);
// a 5xx or a dropped connection is usually over within seconds.
const BACKOFF = {
  throttleBaseMs: 12_000,
  throttleCapMs: 60_000,
  failureBaseMs: 1_000,
  failureCapMs: 20_000,
} as const;

const MAX_BODY_BYTES = 16 * 1024 * 1024;
const PROJECT_ID_PATTERN = /^[A-Za-z0-9._~-]+$/;

/** Path of the operation-logs API for a project (the project id is validated before it gets here). */
export function operationLogsPath(projectId: string): string {
  return `/v5/${projectId}/ransomware/backup/operation-logs`;
}

/**
 * Creates a client for `GET /v5/{project_id}/ransomware/backup/operation-logs`. Throws
 * HssValidationError for a bad option and ConfigError for an unknown region or bad endpoint.
 */
export function createHssClient(options: HssClientOptions): HssClient {
  validateOptions(options);
  const endpoint = resolveHssEndpoint({ region: options.region, endpoint: options.endpoint });
  const host = new URL(endpoint).host;
  const projectId = options.projectId;
  const path = operationLogsPath(projectId);
  const auth = options.auth;
  const pageSize = options.pageSize ?? DEFAULTS.pageSize;
  const maxPages = options.maxPages ?? DEFAULTS.maxPages;
  const timeoutMs = options.timeoutMs ?? DEFAULTS.timeoutMs;
  const maxRetries = options.maxRetries ?? DEFAULTS.maxRetries;
  const maxThrottleWaitMs = options.maxThrottleWaitMs ?? DEFAULTS.maxThrottleWaitMs;
  const clock = options.clock ?? systemClock;
  const sleep = options.sleep ?? realSleep;
  const log = options.log ?? silentLog;
  const random = options.random ?? Math.random;
  const limiter =
    options.limiter ??
    createRateLimiter({ perMinute: options.ratePerMinute ?? DEFAULTS.ratePerMinute, clock, sleep });
  const secrets = auth.kind === 'aksk' ? [auth.sk, auth.securityToken ?? ''] : [auth.token];
  const redact = (text: string): string => redactSecrets(text, secrets);
  const stats: HssClientStats = { calls: 0, throttled: 0, retries: 0 };

  const http: AxiosInstance = axios.create({
    baseURL: endpoint,
    timeout: timeoutMs,
    // Raw text in, JSON parsed here: a malformed body must fail with a clear message, not pass as a string.
    responseType: 'text',
    transformResponse: [(data: unknown) => data],
    // Every status is classified below rather than thrown by axios with the request config attached.
    validateStatus: () => true,
    // A redirect would carry the signed headers to another host.
    maxRedirects: 0,
    maxContentLength: MAX_BODY_BYTES,
  });

  function headersFor(query: ReadonlyArray<readonly [string, string]>): Record<string, string> {
    // Host is set explicitly so the value signed is the value sent (host:port for emulators).
    const base = { Host: host, Accept: 'application/json', 'X-Project-Id': projectId };
    if (auth.kind === 'token') return { ...base, 'X-Auth-Token': auth.token };
    return signRequest({ method: 'GET', path, query, headers: base }, auth, clock());
  }

  async function attempt(query: ReadonlyArray<readonly [string, string]>, url: string): Promise<Attempt> {
    stats.calls += 1;
    const started = clock();
    const controller = new AbortController();
    let timedOut = false;
    // axios's own timeout only watches an idle socket; this bounds the whole exchange.
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, timeoutMs);
    let result: Attempt;
    try {
      const res = await http.request<string>({
        method: 'GET',
        url,
        headers: headersFor(query),
        signal: controller.signal,
      });
      result = {
        kind: 'answer',
        status: res.status,
        body: typeof res.data === 'string' ? res.data : String(res.data ?? ''),
        requestId: headerValue(res.headers['x-request-id']),
        retryAfter: headerValue(res.headers['retry-after']),
      };
    } catch (err) {
      result = { kind: 'transport', reason: transportReason(err, timedOut, timeoutMs, redact) };
    } finally {
      clearTimeout(timer);
    }
    const outcome =
      result.kind === 'answer'
        ? {
            status: result.status,
            ...(result.requestId === undefined ? {} : { requestId: result.requestId }),
          }
        : { error: result.reason };
    log.debug('HSS call', {
      method: 'GET',
      path,
      query: Object.fromEntries(query),
      ...outcome,
      ms: clock() - started,
    });
    return result;
  }

  function backoffMs(retry: number, baseMs: number, capMs: number): number {
    // "Equal jitter": never below half the step (so it is a real back-off), never above the cap.
    const step = Math.min(capMs, baseMs * 2 ** retry);
    return Math.round(step / 2 + (random() * step) / 2);
  }

  /** One page, retried as allowed; `tally.calls` counts this caller's HTTP attempts. */
  async function fetchPage(
    query: TaskQuery,
    offset: number,
    limit: number,
    tally: { calls: number },
  ): Promise<ParsedPage> {
    const params = queryPairs(query, offset, limit, options.enterpriseProjectId);
    const url = `${path}?${params.map(([k, v]) => `${gatewayEncode(k)}=${gatewayEncode(v)}`).join('&')}`;
    const where = { method: 'GET', path: url };
    let retries = 0;
    let throttleWaitMs = 0;
    /** Backs off before the next attempt after a 5xx or a transport failure; throws `spent()` when retries are used up. */
    const retryFailure = async (spent: () => Error, message: string, fields: Record<string, unknown>) => {
      if (retries >= maxRetries) throw spent();
      const wait = backoffMs(retries, BACKOFF.failureBaseMs, BACKOFF.failureCapMs);
      retries += 1;
      stats.retries += 1;
      log.warn(message, { path, offset, ...fields, retry: retries, waitMs: wait });
      await sleep(wait);
    };
    for (;;) {
      await limiter.acquire();
      tally.calls += 1;
      const result = await attempt(params, url);

      if (result.kind === 'transport') {
        await retryFailure(
          () =>
            new HssNetworkError(
              `HSS GET ${url} failed: ${result.reason} at ${host} (${retries + 1} attempt(s)); the next poll tries again`,
              { ...where, cause: new Error(result.reason) },
            ),
          'HSS call failed; retrying',
          { error: result.reason },
        );
        continue;
      }

      const { status, body, requestId } = result;
      if (status >= 200 && status < 300) return decodePage(body, offset, { ...where, status, requestId });

      const apiError = parseHssErrorBody(body);
      const details: HssErrorDetails = {
        ...where,
        status,
        requestId,
        errorCode: apiError.code,
        apiMessage: apiError.message === undefined ? undefined : redact(apiError.message),
      };
      const answer = describeAnswer(details);
      const kind = classifyHssAnswer(status, apiError.code);

      if (kind === 'throttled') {
        stats.throttled += 1;
        const retryAfterMs = parseRetryAfter(result.retryAfter, clock());
        const wait = retryAfterMs ?? backoffMs(retries, BACKOFF.throttleBaseMs, BACKOFF.throttleCapMs);
        if (retries >= maxRetries) {
          throw new HssThrottledError(
            `HSS GET ${url} still throttled after ${retries + 1} attempt(s): ${answer}; another client may be using this account's 5 calls/minute; the next poll tries again`,
            { ...details, retryAfterMs },
          );
        }
        if (throttleWaitMs + wait > maxThrottleWaitMs) {
          throw new HssThrottledError(
            `HSS GET ${url} throttled: ${answer}; waiting ${Math.ceil(wait / 1000)} s more would exceed the ${Math.ceil(maxThrottleWaitMs / 1000)} s bound; the next poll tries again`,
            { ...details, retryAfterMs },
          );
        }
        throttleWaitMs += wait;
        retries += 1;
        stats.retries += 1;
        log.warn('HSS throttled the call; backing off', {
          path,
          offset,
          status,
          errorCode: apiError.code,
          requestId,
          retryAfterMs,
          waitMs: wait,
          retry: retries,
        });
        // Through the limiter, so every call of this client (not just this retry) holds back.
        limiter.penalize(wait);
        continue;
      }

      if (kind === 'server') {
        await retryFailure(
          () =>
            new HssServerError(
              `HSS GET ${url} failed: ${answer} (${retries + 1} attempt(s)); the next poll tries again`,
              details,
            ),
          'HSS server error; retrying',
          { status, errorCode: apiError.code, requestId },
        );
        continue;
      }

      if (kind === 'auth') {
        const hint =
          status === 401 || apiError.code?.startsWith('APIGW.') === true
            ? 'check the AK/SK (or token) and the system clock; not retried, since 5 failures in a row lock the AK for 5 minutes'
            : 'the credentials lack permission to read HSS ransomware backup logs in this project';
        throw new HssAuthError(`HSS GET ${url} refused: ${answer}; ${hint}`, details);
      }
      throw new HssRequestError(`HSS GET ${url} rejected: ${answer}; not retried`, details);
    }
  }

  function decodePage(body: string, offset: number, details: HssErrorDetails): ParsedPage {
    let json: unknown;
    try {
      json = JSON.parse(body);
    } catch (err) {
      throw new HssResponseError(
        `HSS GET ${details.path} answered ${details.status} with a body that is not JSON (${snippet(redact(body))}) at offset ${offset}${requestIdNote(details.requestId)}`,
        { ...details, cause: err },
      );
    }
    try {
      return parsePage(json, { offset }, log);
    } catch (err) {
      if (!(err instanceof HssResponseError)) throw err;
      throw new HssResponseError(`${err.message}${requestIdNote(details.requestId)}`, {
        ...details,
        cause: err,
      });
    }
  }

  async function listTasks(query: TaskQuery): Promise<TaskList> {
    validateQuery(query);
    const tally = { calls: 0 };
    // Keyed by taskKey: a record seen on two pages (the list shifted while paging) counts once, latest copy wins.
    const byKey = new Map<string, Task>();
    let offset = 0;
    let pages = 0;
    let totalNum: number | undefined;
    let duplicates = 0;
    let totalAtStart: number | undefined;
    let shortPages = 0;
    for (;;) {
      const page = await fetchPage(query, offset, pageSize, tally);
      pages += 1;
      if (totalNum !== undefined && page.totalNum < totalNum) {
        // Records vanished mid-paging: the ones after them moved to offsets already read, so some
        // may never have been seen. Growth is harmless (new records are read now or next poll).
        throw new HssPagingError(
          `HSS window not read whole: total_num fell from ${totalNum} to ${page.totalNum} between pages (at offset ${offset}), so records may have shifted past the pages already read; the next poll reads it again`,
          { path, retryable: true },
        );
      }
      totalNum = page.totalNum;
      totalAtStart ??= totalNum;
      if (pages === 1 && Math.ceil(totalNum / pageSize) > maxPages) {
        // Fail before spending the rate budget on a window that cannot be finished anyway.
        throw pageCapError(totalNum, maxPages, pageSize, offset);
      }
      if (page.tasks.length === 0) {
        if (offset < totalNum) {
          throw new HssPagingError(
            `HSS window not read whole: the page at offset ${offset} was empty but total_num is ${totalNum}; the next poll reads it again`,
            { path, retryable: true },
          );
        }
        break;
      }
      for (const task of page.tasks) {
        const key = taskKey(task);
        if (byKey.has(key)) duplicates += 1;
        byKey.set(key, task);
      }
      if (page.tasks.length < pageSize && offset + page.tasks.length < totalNum) shortPages += 1;
      offset += page.tasks.length;
      if (offset >= totalNum) break;
      if (pages >= maxPages) throw pageCapError(totalNum, maxPages, pageSize, offset);
    }
    const { calls } = tally;
    log.debug('HSS window read', { pages, calls, tasks: byKey.size, totalNum, duplicates });
    if (duplicates > 0 || shortPages > 0 || totalNum !== totalAtStart) {
      // Harmless (records only move to later pages, and whatever a shift hid is read next poll), but
      // an operator chasing a late alert should see that the list moved under the paging.
      log.info('HSS list shifted while it was paged; anything it hid is read next poll', {
        status: query.status,
        totalNumAtStart: totalAtStart,
        totalNum,
        duplicates,
        shortPages,
      });
    }
    return { tasks: [...byKey.values()], totalNum: totalNum ?? 0, calls };
  }

  return {
    stats,
    listTasks,
    async listPage(query, offset, limit = pageSize) {
      validateQuery(query);
      if (!Number.isInteger(offset) || offset < 0 || offset > HSS_LIMITS.offsetMax) {
        throw new HssValidationError(
          `offset must be a whole number 0..${HSS_LIMITS.offsetMax}, got ${String(offset)}`,
          'offset',
        );
      }
      checkPageSize(limit, 'limit');
      const page = await fetchPage(query, offset, limit, { calls: 0 });
      return { totalNum: page.totalNum, tasks: page.tasks };
    },
  };
}

type Attempt =
  | { kind: 'answer'; status: number; body: string; requestId?: string; retryAfter?: string }
  | { kind: 'transport'; reason: string };

function pageCapError(totalNum: number, maxPages: number, pageSize: number, offset: number): HssPagingError {
  const pagesNeeded = Math.ceil(totalNum / pageSize);
  const why =
    offset === 0
      ? `${totalNum} records need ${pagesNeeded} pages of ${pageSize} but the cap is ${maxPages}`
      : `stopped at the cap of ${maxPages} pages with ${offset} of ${totalNum} records read (pages were shorter than ${pageSize})`;
  return new HssPagingError(`HSS window not read whole: ${why}; shorten last_days or raise maxPages`);
}

function queryPairs(
  query: TaskQuery,
  offset: number,
  limit: number,
  defaultEnterpriseProjectId: string | undefined,
): Array<[string, string]> {
  const pairs: Array<[string, string]> = [
    ['offset', String(offset)],
    ['limit', String(limit)],
  ];
  if (query.lastDays !== undefined) pairs.push(['last_days', String(query.lastDays)]);
  const ep = query.enterpriseProjectId ?? defaultEnterpriseProjectId;
  if (ep !== undefined) pairs.push(['enterprise_project_id', ep]);
  if (query.status !== undefined) pairs.push(['status', query.status]);
  if (query.resourceName !== undefined) pairs.push(['resource_name', query.resourceName]);
  return pairs;
}

function validateOptions(options: HssClientOptions): void {
  const { projectId } = options;
  if (
    typeof projectId !== 'string' ||
    projectId.length < 1 ||
    projectId.length > HSS_LIMITS.idMaxLength ||
    !PROJECT_ID_PATTERN.test(projectId) ||
    /^\.+$/.test(projectId)
  ) {
    throw new HssValidationError(
      `projectId must be 1..${HSS_LIMITS.idMaxLength} characters of letters, digits, '-', '_', '.', '~' (a Huawei project id is 32 hex digits), got ${typeof projectId === 'string' ? `${projectId.length} character(s)` : typeof projectId}`,
      'projectId',
    );
  }
  if (options.enterpriseProjectId !== undefined) checkId(options.enterpriseProjectId, 'enterpriseProjectId');
  checkAuth(options.auth);
  checkWhole(options.ratePerMinute, 'ratePerMinute', 0);
  if (options.pageSize !== undefined) checkPageSize(options.pageSize, 'pageSize');
  checkWhole(options.maxPages, 'maxPages', 1);
  checkWhole(options.maxRetries, 'maxRetries', 0);
  if (options.timeoutMs !== undefined && !(Number.isFinite(options.timeoutMs) && options.timeoutMs > 0)) {
    throw new HssValidationError(
      `timeoutMs must be a positive number of milliseconds, got ${String(options.timeoutMs)}`,
      'timeoutMs',
    );
  }
  if (
    options.maxThrottleWaitMs !== undefined &&
    !(Number.isFinite(options.maxThrottleWaitMs) && options.maxThrottleWaitMs >= 0)
  ) {
    throw new HssValidationError(
      `maxThrottleWaitMs must be a number of milliseconds >= 0, got ${String(options.maxThrottleWaitMs)}`,
      'maxThrottleWaitMs',
    );
  }
}

function checkAuth(auth: HssAuth | undefined): void {
  // Messages say which part is missing and never echo a value.
  if (auth === undefined || auth === null || typeof auth !== 'object') {
    throw new HssValidationError(
      "auth is required: { kind: 'aksk', ak, sk } or { kind: 'token', token }",
      'auth',
    );
  }
  if (auth.kind === 'aksk') {
    if (typeof auth.ak !== 'string' || auth.ak.trim() === '') {
      throw new HssValidationError('auth.ak (access key id) is empty', 'auth.ak');
    }
    if (typeof auth.sk !== 'string' || auth.sk.trim() === '') {
      throw new HssValidationError('auth.sk (secret access key) is empty', 'auth.sk');
    }
    if (
      auth.securityToken !== undefined &&
      (typeof auth.securityToken !== 'string' || auth.securityToken === '')
    ) {
      throw new HssValidationError(
        'auth.securityToken is empty; omit it for permanent AK/SK',
        'auth.securityToken',
      );
    }
    return;
  }
  if (auth.kind === 'token') {
    if (typeof auth.token !== 'string' || auth.token.trim() === '') {
      throw new HssValidationError('auth.token (IAM token) is empty', 'auth.token');
    }
    return;
  }
  throw new HssValidationError("auth.kind must be 'aksk' or 'token'", 'auth.kind');
}

function checkWhole(value: number | undefined, field: string, min: number): void {
  if (value !== undefined && !(Number.isInteger(value) && value >= min)) {
    throw new HssValidationError(`${field} must be a whole number >= ${min}, got ${String(value)}`, field);
  }
}

function checkPageSize(value: number, field: string): void {
  if (!Number.isInteger(value) || value < HSS_LIMITS.pageSizeMin || value > HSS_LIMITS.pageSizeMax) {
    throw new HssValidationError(
      `${field} must be a whole number ${HSS_LIMITS.pageSizeMin}..${HSS_LIMITS.pageSizeMax}, got ${String(value)}`,
      field,
    );
  }
}

function checkId(value: unknown, field: string): void {
  if (typeof value !== 'string' || value.length < 1 || value.length > HSS_LIMITS.idMaxLength) {
    throw new HssValidationError(
      `${field} must be 1..${HSS_LIMITS.idMaxLength} characters (all_granted_eps = every enterprise project), got ${typeof value === 'string' ? `${value.length} character(s)` : typeof value}`,
      field,
    );
  }
}

/** Rejects a query the API would refuse, before any request (a refused call still costs rate budget). */
function validateQuery(query: TaskQuery): void {
  if (typeof query !== 'object' || query === null) {
    throw new HssValidationError('query must be an object', 'query');
  }
  const { lastDays, status, resourceName, enterpriseProjectId } = query;
  if (
    lastDays !== undefined &&
    !(Number.isInteger(lastDays) && lastDays >= HSS_LIMITS.lastDaysMin && lastDays <= HSS_LIMITS.lastDaysMax)
  ) {
    throw new HssValidationError(
      `lastDays must be a whole number of days ${HSS_LIMITS.lastDaysMin}..${HSS_LIMITS.lastDaysMax}, got ${String(lastDays)}`,
      'lastDays',
    );
  }
  if (status !== undefined && !(TASK_STATUSES as readonly string[]).includes(status)) {
    throw new HssValidationError(
      `status must be one of ${TASK_STATUSES.join(', ')}, got ${JSON.stringify(String(status))}`,
      'status',
    );
  }
  if (resourceName !== undefined && (typeof resourceName !== 'string' || resourceName === '')) {
    throw new HssValidationError(
      'resourceName must be a non-empty server name (omit it for all servers)',
      'resourceName',
    );
  }
  if (enterpriseProjectId !== undefined) checkId(enterpriseProjectId, 'enterpriseProjectId');
}

/** `HTTP 401 APIGW.0301 "message" (request id x)`, for error messages. */
function describeAnswer(details: HssErrorDetails): string {
  const parts = [`HTTP ${details.status}`];
  if (details.errorCode !== undefined) parts.push(details.errorCode);
  if (details.apiMessage !== undefined) parts.push(JSON.stringify(details.apiMessage));
  return `${parts.join(' ')}${requestIdNote(details.requestId)}`;
}

function requestIdNote(requestId: string | undefined): string {
  return requestId === undefined ? '' : ` (request id ${requestId})`;
}

function headerValue(value: unknown): string | undefined {
  if (Array.isArray(value)) return headerValue(value[0]);
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** Retry-After as ms from `now`: delta seconds or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | undefined, now: number): number | undefined {
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** A one-phrase reason for a transport failure; built from the error's code and message only (never its config/headers). */
function transportReason(
  err: unknown,
  timedOut: boolean,
  timeoutMs: number,
  redact: (s: string) => string,
): string {
  if (timedOut) return `timed out after ${timeoutMs} ms`;
  if (axios.isAxiosError(err)) {
    if (err.code === 'ECONNABORTED' || err.code === 'ETIMEDOUT') return `timed out after ${timeoutMs} ms`;
    const code = err.code ?? 'network error';
    return redact(err.message && err.message !== code ? `${code}: ${err.message}` : code);
  }
  return redact(err instanceof Error ? err.message : String(err));
}

function snippet(body: string): string {
  const flat = body.replace(/\s+/g, ' ').trim();
  if (flat === '') return 'empty body';
  return `starts ${JSON.stringify(flat.length > 60 ? `${flat.slice(0, 60)}...` : flat)}`;
}
