import { AlertsError } from '../errors';

/** Where an HSS failure happened and what the API said; never holds headers, SK or tokens. */
export interface HssErrorDetails {
  /** HTTP status of the answer, absent when none arrived. */
  status?: number;
  /** API error code, e.g. `APIGW.0301` or `HSS.0001`. */
  errorCode?: string;
  /** API error message, with any known secret value redacted. */
  apiMessage?: string;
  /** `X-Request-Id` of the answer, for Huawei support. */
  requestId?: string;
  method?: string;
  /** Request path with query string (the query never carries credentials). */
  path?: string;
  /** Whether a later attempt (next poll) may succeed; each subclass has a default. */
  retryable?: boolean;
  cause?: unknown;
}

/** Base class of every HSS client failure; `retryable` says whether a later poll may succeed. */
export class HssError extends AlertsError {
  readonly status?: number;
  readonly errorCode?: string;
  readonly apiMessage?: string;
  readonly requestId?: string;
  readonly method?: string;
  readonly path?: string;
  readonly retryable: boolean;

  constructor(message: string, details: HssErrorDetails = {}, defaultRetryable = false) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'HssError';
    this.status = details.status;
    this.errorCode = details.errorCode;
    this.apiMessage = details.apiMessage;
    this.requestId = details.requestId;
    this.method = details.method;
    this.path = details.path;
    this.retryable = details.retryable ?? defaultRetryable;
  }
}

/** Authentication or permission refused (401/403, APIGW.0301, HSS.0010...); never retried, since 5 failures lock the AK. */
export class HssAuthError extends HssError {
  constructor(message: string, details: HssErrorDetails = {}) {
    super(message, details, false);
    this.name = 'HssAuthError';
  }
}

/** Still throttled (429 / APIGW.0308) after the retries the deadline allowed; `retryAfterMs` is the server's last hint. */
export class HssThrottledError extends HssError {
  readonly retryAfterMs?: number;

  constructor(message: string, details: HssErrorDetails & { retryAfterMs?: number } = {}) {
    super(message, details, true);
    this.name = 'HssThrottledError';
    this.retryAfterMs = details.retryAfterMs;
  }
}

/** A 4xx other than auth and throttling (e.g. HSS.0001 invalid parameter); never retried. */
export class HssRequestError extends HssError {
  constructor(message: string, details: HssErrorDetails = {}) {
    super(message, details, false);
    this.name = 'HssRequestError';
  }
}

/** A 5xx answer that persisted through the bounded retries. */
export class HssServerError extends HssError {
  constructor(message: string, details: HssErrorDetails = {}) {
    super(message, details, true);
    this.name = 'HssServerError';
  }
}

/** Connection reset, refused or timed out, through the bounded retries; `cause` is a sanitised copy of the transport error. */
export class HssNetworkError extends HssError {
  constructor(message: string, details: HssErrorDetails = {}) {
    super(message, details, true);
    this.name = 'HssNetworkError';
  }
}

/** A 2xx answer whose body is not a valid page; the message names the field and record. */
export class HssResponseError extends HssError {
  constructor(message: string, details: HssErrorDetails = {}) {
    super(message, details, false);
    this.name = 'HssResponseError';
  }
}

/** A programming error caught before any request is made (a query HSS would refuse, an unknown credential). */
export class HssValidationError extends HssError {
  /** The option or query field at fault, e.g. `projectId` or `lastDays`. */
  readonly field?: string;

  constructor(message: string, field?: string) {
    super(message, {}, false);
    this.name = 'HssValidationError';
    this.field = field;
  }
}

/** How the client treats a non-2xx answer. */
export type HssAnswerKind = 'throttled' | 'auth' | 'server' | 'request';

const THROTTLED_CODE = 'APIGW.0308';

/** Gateway and HSS codes that mean "who you are / what you may do" rather than "what you asked". */
const AUTH_CODES: ReadonlySet<string> = new Set([
  'APIGW.0301', // incorrect IAM authentication (signature, unknown AK, expired token)
  'APIGW.0302', // IAM user not allowed to call the API (black/white list)
  'APIGW.0303', // app authentication failed
  'APIGW.0307', // token must be refreshed
  'HSS.0010', // access denied
  'HSS.0013', // insufficient permissions
]);

/**
 * Classifies a non-2xx answer: throttled (429 or APIGW.0308 with any status) before everything else,
 * since the gateway reports throttling with several statuses; then auth; then 5xx; the rest is a request error.
 */
export function classifyHssAnswer(status: number, errorCode?: string): HssAnswerKind {
  if (status === 429 || errorCode === THROTTLED_CODE) return 'throttled';
  if (status === 401 || status === 403 || (errorCode !== undefined && AUTH_CODES.has(errorCode)))
    return 'auth';
  if (status >= 500) return 'server';
  return 'request';
}

/** Reads `{error_code, error_msg}` or `{error: {code, message}}` from an error body (object or JSON text); empty when neither. */
export function parseHssErrorBody(body: unknown): { code?: string; message?: string } {
  let value = body;
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value);
    } catch {
      return {};
    }
  }
  if (!isRecord(value)) return {};
  if (typeof value.error_code === 'string' || typeof value.error_msg === 'string') {
    return { code: stringOrUndefined(value.error_code), message: stringOrUndefined(value.error_msg) };
  }
  if (isRecord(value.error)) {
    return { code: stringOrUndefined(value.error.code), message: stringOrUndefined(value.error.message) };
  }
  return {};
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function stringOrUndefined(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}
