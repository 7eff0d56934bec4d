// The HTTP leg of every notifier: one JSON POST, the answer returned whatever its status (classify.ts
// decides what it means), and network failures thrown as HttpNetworkError with the URL redacted.
import axios, { type AxiosResponse } from 'axios';
import { AlertsError } from '../errors';
import { silentLog, type Log } from '../log';
import { networkCause } from './classify';
import { redactUrl } from '../redact';

/** What a receiver answered: status, lower-case header names, and the body as text. */
export interface HttpAnswer {
  status: number;
  headers: Record<string, string | undefined>;
  bodyText: string;
}

interface PostJsonOptions {
  /** Extra request headers (content-type and user-agent are set already). */
  headers?: Record<string, string>;
  /** Deadline for the whole exchange, connect to last byte, in ms; default 10000. */
  timeoutMs?: number;
}

/** POSTs `body` (already serialised JSON, sent byte for byte) and returns the answer; throws HttpNetworkError when there is none. */
export type PostJson = (url: string, body: string, options?: PostJsonOptions) => Promise<HttpAnswer>;

export const DEFAULT_HTTP_TIMEOUT_MS = 10_000;
const USER_AGENT = 'hss-restore-alerts';
// Receivers answer `ok` or a short JSON; anything larger is not worth holding in a Lambda's memory.
const MAX_ANSWER_BYTES = 1024 * 1024;

/** No answer was received (reset, refused, timeout, DNS, TLS...); `url` is redacted, `code` is the Node/axios code. */
export class HttpNetworkError extends AlertsError {
  constructor(
    message: string,
    readonly code: string | undefined,
    readonly url: string,
    readonly timeoutMs?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'HttpNetworkError';
  }
}

/** Creates a PostJson with its own axios instance (created here, never at module scope). */
export function createPostJson(deps: { log?: Log } = {}): PostJson {
  const log = deps.log ?? silentLog;
  const client = axios.create({
    validateStatus: () => true,
    maxRedirects: 0,
    responseType: 'text',
    transformResponse: [(data: unknown) => data],
    maxContentLength: MAX_ANSWER_BYTES,
    transitional: { clarifyTimeoutError: true },
  });

  return async function postJson(url, body, options = {}) {
    const timeoutMs = options.timeoutMs ?? DEFAULT_HTTP_TIMEOUT_MS;
    const target = redactUrl(url);
    // axios' own timeout only covers socket inactivity; this one also stops a receiver that drips bytes.
    const deadline = new AbortController();
    const timer = setTimeout(() => deadline.abort(), timeoutMs);
    let response: AxiosResponse<unknown>;
    try {
      response = await client.post(url, Buffer.from(body, 'utf8'), {
        headers: { 'content-type': 'application/json', 'user-agent': USER_AGENT, ...options.headers },
        timeout: timeoutMs,
        signal: deadline.signal,
      });
    } catch (err) {
      const code = deadline.signal.aborted ? 'ETIMEDOUT' : codeOf(err);
      const cause = (code && networkCause(code)) ?? 'network error';
      const detail = cause === 'timed out' ? `timed out after ${timeoutMs} ms` : cause;
      log.debug('HTTP POST failed', { target, code });
      // The axios error is not kept as `cause`: its `config` holds the full URL and headers (secrets).
      throw new HttpNetworkError(
        `POST ${target} failed: ${detail}${code ? ` (${code})` : ''}`,
        code,
        target,
        timeoutMs,
        { cause: socketCause(err) },
      );
    } finally {
      clearTimeout(timer);
    }
    log.debug('HTTP POST answered', { target, status: response.status });
    return {
      status: response.status,
      headers: plainHeaders(response.headers as Record<string, unknown>),
      bodyText: typeof response.data === 'string' ? response.data : String(response.data ?? ''),
    };
  };
}

function codeOf(err: unknown): string | undefined {
  let e: unknown = err;
  for (let depth = 0; typeof e === 'object' && e !== null && depth < 4; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && networkCause(code)) return code;
    e = (e as { cause?: unknown }).cause;
  }
  const top = (err as { code?: unknown } | null)?.code;
  return typeof top === 'string' ? top : undefined;
}

/** The socket-level error under an axios error (code, syscall, address: no path), when there is one. */
function socketCause(err: unknown): unknown {
  const inner = (err as { cause?: unknown } | null)?.cause;
  return inner instanceof Error && !axios.isAxiosError(inner) ? inner : undefined;
}

function plainHeaders(headers: Record<string, unknown>): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(headers)) {
    if (v === undefined || v === null) continue;
    out[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : String(v);
  }
  return out;
}
