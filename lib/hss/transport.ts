// One HSS GET: sign, send, bound the whole exchange by the timeout, and classify the answer. No
// retry, no budget, no paging (reader.ts); no secret in anything it returns or logs.
import axios, { type AxiosInstance } from 'axios';
import type { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { authHeaders, credentialSecrets, type HssAuth } from '../huaweicloud/credentials';
import type { Clock, Log } from '../log';
import { redactValues } from '../redact';
import {
  classifyHssAnswer,
  HssAuthError,
  HssNetworkError,
  HssRequestError,
  HssResponseError,
  HssServerError,
  HssThrottledError,
  parseHssErrorBody,
  type HssError,
  type HssErrorDetails,
} from './errors';
import type { FailureKind } from './retry';
import { gatewayEncode } from '../huaweicloud/signer';
import { createJsonClipper } from './clip-json';

/** One GET of a project-scoped HSS API. */
export interface HssCall {
  /** `scheme://host[:port]`, no trailing slash. */
  endpoint: string;
  projectId: string;
  /** Path under `/v5/{project_id}`, e.g. `/ransomware/backup/operation-logs`. */
  route: string;
  /** Query parameters in the order sent (never credentials). */
  query: ReadonlyArray<readonly [string, string]>;
  auth: HssAuth;
}

/** Why an attempt failed, with what the API said; turned into an error by `failureError`. */
export interface CallFailure {
  kind: FailureKind;
  /** Status, error code, API message (redacted), request id, method and path with query. */
  details: HssErrorDetails;
  /** `HTTP 401 APIGW.0301 "..." (request id x)`, or the network reason. */
  summary: string;
  /** Retry-After of the answer, ms. */
  retryAfterMs?: number;
}

/** A 2xx answer with a JSON body, or a classified failure. */
type CallResult = { ok: true; json: unknown; details: HssErrorDetails } | { ok: false; failure: CallFailure };

export interface Transport {
  /** Sends `call` once; never throws for an HTTP or network failure (see CallResult). */
  get(call: HssCall): Promise<CallResult>;
}

export interface TransportOptions {
  /** Bound on the whole exchange (connect, send, wait, read), ms. */
  timeoutMs: number;
  /** Signing time (X-Sdk-Date) and the logged duration. */
  clock: Clock;
  log: Log;
}

/**
 * Longest body kept, characters, after every string in it was clipped on arrival (clip-json.ts):
 * a page of 200 records whose every field is clipped fits; only a body that is not JSON or holds
 * absurdly many values can exceed it, and then the attempt fails as a network failure.
 */
const MAX_CLIPPED_BODY_CHARS = 32 * 1024 * 1024;

/** The URL path of a project-scoped call; the project id is encoded as a path segment. */
function projectPath(projectId: string, route: string): string {
  return `/v5/${gatewayEncode(projectId)}${route}`;
}

export function createTransport(options: TransportOptions): Transport {
  const { timeoutMs, clock, log } = options;
  const http: AxiosInstance = axios.create({
    timeout: timeoutMs,
    // A stream in, clipped and parsed here: megabytes of text in one field must not make the page
    // too big to read, and a malformed body must fail with a clear message, not pass as a string.
    responseType: 'stream',
    transformResponse: [(data: unknown) => data],
    // Every status is classified below rather than thrown by axios with the request config attached.
    validateStatus: () => true,
    // A redirect would carry the signed headers to another host.
    maxRedirects: 0,
  });

  async function get(call: HssCall): Promise<CallResult> {
    const { endpoint, projectId, route, query, auth } = call;
    const redact = (s: string): string => redactValues(s, credentialSecrets(auth));
    const path = projectPath(projectId, route);
    const url = `${path}?${query.map(([k, v]) => `${gatewayEncode(k)}=${gatewayEncode(v)}`).join('&')}`;
    const where: HssErrorDetails = { method: 'GET', path: url };
    // Host is set explicitly so the value signed is the value sent (host:port for emulators).
    const base = { Host: new URL(endpoint).host, Accept: 'application/json', 'X-Project-Id': projectId };
    const headers = authHeaders(
      { method: 'GET', path: `/v5/${projectId}${route}`, query, headers: base },
      auth,
      clock(),
    );

    const started = clock();
    const controller = new AbortController();
    let timedOut = false;
    // axios's own timeout only watches an idle socket; this bounds the whole exchange.
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, timeoutMs);
    let result: CallResult;
    try {
      const res = await http.request<Readable>({
        method: 'GET',
        url: `${endpoint}${url}`,
        headers,
        signal: controller.signal,
      });
      const body = await readClipped(res.data);
      const requestId = headerValue(res.headers['x-request-id']);
      result = classify(res.status, body, requestId, headerValue(res.headers['retry-after']));
    } catch (err) {
      const reason = transportReason(err, timedOut, timeoutMs, redact);
      result = {
        ok: false,
        failure: {
          kind: 'network',
          details: { ...where, cause: new Error(reason) },
          summary: `${reason} at ${new URL(endpoint).host}`,
        },
      };
    } finally {
      clearTimeout(timer);
    }
    const { status, requestId } = result.ok ? result.details : result.failure.details;
    log.debug('HSS call', {
      method: 'GET',
      path,
      query: Object.fromEntries(query),
      ...(status === undefined && !result.ok ? { error: result.failure.summary } : { status }),
      ...(requestId === undefined ? {} : { requestId }),
      ms: clock() - started,
    });
    return result;

    function classify(
      status: number,
      body: string,
      requestId: string | undefined,
      retryAfter: string | undefined,
    ): CallResult {
      const details: HssErrorDetails = { ...where, status, requestId };
      if (status >= 200 && status < 300) {
        try {
          return { ok: true, json: JSON.parse(body), details };
        } catch (err) {
          return {
            ok: false,
            failure: {
              kind: 'response',
              details: { ...details, cause: new Error((err as Error).message) },
              summary: `HTTP ${status} with a body that is not JSON (${snippet(redact(body))})${requestIdNote(requestId)}`,
            },
          };
        }
      }
      const apiError = parseHssErrorBody(body);
      const full: HssErrorDetails = {
        ...details,
        errorCode: apiError.code,
        apiMessage: apiError.message === undefined ? undefined : redact(apiError.message),
      };
      return {
        ok: false,
        failure: {
          kind: classifyHssAnswer(status, apiError.code),
          details: full,
          summary: describeAnswer(full),
          retryAfterMs: parseRetryAfter(retryAfter, clock()),
        },
      };
    }
  }

  return { get };
}

/**
 * The body as text with every JSON string clipped on arrival (clip-json.ts); rejects when even the
 * clipped text exceeds MAX_CLIPPED_BODY_CHARS, or when the stream fails (an abort by the timeout).
 */
async function readClipped(stream: Readable): Promise<string> {
  const decoder = new StringDecoder('utf8');
  const clipper = createJsonClipper();
  const parts: string[] = [];
  let length = 0;
  const add = (text: string): void => {
    const clipped = clipper.push(text);
    length += clipped.length;
    if (length > MAX_CLIPPED_BODY_CHARS) {
      stream.destroy();
      throw new Error(
        `the body exceeds ${MAX_CLIPPED_BODY_CHARS} characters even with every text clipped to its first characters`,
      );
    }
    parts.push(clipped);
  };
  for await (const chunk of stream) {
    add(typeof chunk === 'string' ? chunk : decoder.write(chunk as Buffer));
  }
  add(decoder.end());
  return parts.join('');
}

/** Gateway codes that say the credential itself was refused (not a permission in one project). */
const CREDENTIAL_CODES = /^APIGW\.030[1237]$/;

/** True when `failure` refuses the credential everywhere (401, APIGW.0301...): calling again with it can only lock the AK. */
export function refusesCredential(failure: CallFailure): boolean {
  const { status, errorCode } = failure.details;
  return failure.kind === 'auth' && (status === 401 || CREDENTIAL_CODES.test(errorCode ?? ''));
}

/**
 * The typed error for `failure`: `HSS GET {path} {verb}: {summary}; {hint}{; note}`. Naming path,
 * status, code and request id, never a secret (the summary was redacted when it was made).
 */
export function failureError(failure: CallFailure, note?: string): HssError {
  const { kind, details, summary } = failure;
  const head = `HSS ${details.method ?? 'GET'} ${details.path ?? ''}`;
  const tail = note === undefined ? '' : `; ${note}`;
  switch (kind) {
    case 'throttled':
      return new HssThrottledError(
        `${head} throttled: ${summary}; another client may be using this account's calls per minute${tail}`,
        { ...details, retryAfterMs: failure.retryAfterMs },
      );
    case 'server':
      return new HssServerError(`${head} failed: ${summary}${tail}`, details);
    case 'network':
      return new HssNetworkError(`${head} failed: ${summary}${tail}`, details);
    case 'auth': {
      const hint = refusesCredential(failure)
        ? 'check the AK/SK (or token) and the system clock; not retried, since 5 failures in a row lock the AK for 5 minutes'
        : 'the credentials lack permission to read HSS ransomware backup logs in this project';
      return new HssAuthError(`${head} refused: ${summary}; ${hint}${tail}`, details);
    }
    case 'response':
      return new HssResponseError(`${head} answered ${summary}${tail}`, details);
    case 'request':
      return new HssRequestError(`${head} rejected: ${summary}${tail}`, details);
  }
}

/** Every value of `auth` that must never reach a message: the AK too (HSS may echo it). */
/** `HTTP 401 APIGW.0301 "message" (request id x)`, for error messages. */
function describeAnswer(details: HssErrorDetails): string {
  const parts = [`HTTP ${details.status}`];
  if (details.errorCode !== undefined) parts.push(details.errorCode);
  if (details.apiMessage !== undefined) parts.push(JSON.stringify(details.apiMessage));
  return `${parts.join(' ')}${requestIdNote(details.requestId)}`;
}

export function requestIdNote(requestId: string | undefined): string {
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
