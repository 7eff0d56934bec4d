// The one place that decides what an answer (or a failure to get one) means for delivery, in the
// spirit of alertmanager notify/util.go Retrier.Check: 2xx ok; 429, 5xx and network trouble are
// retried on a later poll; any other 4xx is permanent because sending the same thing again cannot help.
import type { DeliveryOutcome } from '../model';
import type { HttpAnswer } from './http';
import { redactUrl, scrubUrls } from '../redact';

/** A delivery outcome that is not `ok`. */
export type DeliveryFailure = Exclude<DeliveryOutcome, { kind: 'ok' }>;

/** What an error word refuses: one payload, the webhook itself (every message), or nothing for good (retry). */
type WordRefuses = 'payload' | 'webhook' | 'nothing';

/** Error words and what each means. */
export type ErrorWords = Readonly<Record<string, { hint: string; refuses: WordRefuses }>>;

/**
 * The error words Slack documents for incoming webhooks (Slack-compatible receivers and some webhooks
 * answer them too): advice for the error text, and what the word refuses. The one list of them.
 */
export const ERROR_WORDS: ErrorWords = {
  invalid_payload: { hint: 'the receiver rejected the JSON payload', refuses: 'payload' },
  invalid_blocks: { hint: 'the receiver rejected the message blocks', refuses: 'payload' },
  invalid_blocks_format: { hint: 'the receiver rejected the message blocks', refuses: 'payload' },
  no_text: { hint: 'the message had no text', refuses: 'payload' },
  too_many_attachments: { hint: 'the message had too many attachments', refuses: 'payload' },
  action_prohibited: { hint: 'an admin restriction forbids posting to this channel', refuses: 'webhook' },
  channel_not_found: { hint: 'the channel no longer exists', refuses: 'webhook' },
  no_service: { hint: 'the webhook was removed or disabled', refuses: 'webhook' },
  no_active_hooks: { hint: 'the webhook is disabled', refuses: 'webhook' },
  channel_is_archived: { hint: 'the channel is archived', refuses: 'webhook' },
  posting_to_general_channel_denied: { hint: 'only admins may post to this channel', refuses: 'webhook' },
  team_disabled: { hint: 'the Slack workspace is disabled', refuses: 'webhook' },
  invalid_token: { hint: 'the webhook token is invalid', refuses: 'webhook' },
  user_not_found: { hint: 'the target user no longer exists', refuses: 'webhook' },
  rollup_error: { hint: 'Slack had an internal error', refuses: 'nothing' },
};

/** Advice by status when the body carries no known error word. */
const STATUS_HINTS: Readonly<Record<number, string>> = {
  400: 'the receiver rejected the payload',
  401: 'the receiver rejected the credentials or signature',
  403: 'the receiver forbids posting',
  404: 'the webhook does not exist (removed, or wrong URL)',
  408: 'the receiver timed out reading the request',
  410: 'endpoint gone',
  413: 'the payload is too large for the receiver',
  429: 'rate limited',
};

/**
 * Classifies one HTTP answer: 2xx ok; 429 and 5xx (and 408) retryable, with `retryAfterMs` from
 * `Retry-After` (seconds or HTTP-date, relative to `nowMs`); 3xx and other 4xx permanent. The error
 * text names the status and the body's error word (`HTTP 410 channel_is_archived: ...`), never a URL.
 */
export function classifyHttp(
  status: number,
  headers: Record<string, string | undefined>,
  bodyText: string,
  nowMs: number,
): DeliveryOutcome {
  if (status >= 200 && status < 300) return { kind: 'ok' };
  const word = errorWord(bodyText);
  const hint = (word !== undefined ? ERROR_WORDS[word]?.hint : undefined) ?? STATUS_HINTS[status];
  const error = [`HTTP ${status}`, word].filter(Boolean).join(' ') + (hint ? `: ${hint}` : '');
  if (status === 429 || status === 408 || (status >= 500 && status < 600)) {
    const retryAfterMs = parseRetryAfter(header(headers, 'retry-after'), nowMs);
    return retryAfterMs === undefined
      ? { kind: 'retryable', error }
      : { kind: 'retryable', error, retryAfterMs };
  }
  if (status >= 300 && status < 400) {
    // Redirects are not followed: a POST turned into a GET, or a signed body sent elsewhere, is worse than an error.
    return { kind: 'permanent', error: `${error}: the receiver redirects; configure its final URL` };
  }
  return { kind: 'permanent', error: status >= 400 && status < 500 ? error : `${error}: unexpected status` };
}

/** Milliseconds to wait from a `Retry-After` value (delay-seconds or HTTP-date); undefined when absent or unreadable. */
export function parseRetryAfter(value: string | undefined, nowMs: number): number | undefined {
  const v = value?.trim();
  if (!v) return undefined;
  if (/^\d+(\.\d+)?$/.test(v)) return Math.round(Number(v) * 1000);
  // Only HTTP-dates (they always say GMT): Date.parse alone would accept almost any text.
  if (!/GMT$/i.test(v)) return undefined;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}

/** The error word or short message of an answer body (plain `channel_is_archived`, or JSON `error`/`message`), at most 120 chars. */
export function errorWord(bodyText: string): string | undefined {
  const body = bodyText.trim();
  if (body === '') return undefined;
  let word: string | undefined;
  if (body.startsWith('{')) {
    word = jsonErrorText(body);
  } else if (!body.startsWith('<')) {
    // Plain text (Slack) rather than an HTML error page, whose first line says nothing useful.
    word = body.split(/\r?\n/, 1)[0];
  }
  if (word === undefined) return undefined;
  const clean = scrubUrls(word)
    .replace(/\p{Cc}+/gu, ' ')
    .trim();
  if (clean === '') return undefined;
  return clean.length > 120 ? `${clean.slice(0, 119)}…` : clean;
}

function jsonErrorText(body: string): string | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const o = parsed as Record<string, unknown>;
  const nested = typeof o.error === 'object' && o.error !== null ? (o.error as Record<string, unknown>) : {};
  for (const candidate of [
    o.error,
    nested.code,
    nested.message,
    o.error_code,
    o.code,
    o.message,
    o.detail,
    o.title,
  ]) {
    if (typeof candidate === 'string' && candidate.trim() !== '') return candidate;
  }
  return undefined;
}

function header(headers: Record<string, string | undefined>, name: string): string | undefined {
  for (const [k, v] of Object.entries(headers)) if (k.toLowerCase() === name) return v;
  return undefined;
}

/** What a Node / axios error code means, in words a person can act on. */
const NETWORK_CAUSES: Readonly<Record<string, string>> = {
  ECONNRESET: 'connection reset',
  EPIPE: 'connection reset',
  ECONNREFUSED: 'connection refused',
  ETIMEDOUT: 'timed out',
  ESOCKETTIMEDOUT: 'timed out',
  ECONNABORTED: 'timed out',
  ENOTFOUND: 'DNS lookup failed',
  EAI_AGAIN: 'DNS lookup failed (temporary)',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ENETDOWN: 'network down',
  ERR_CANCELED: 'request aborted',
  ERR_BAD_RESPONSE: 'unreadable response',
  ERR_SOCKET_CONNECTION_TIMEOUT: 'timed out',
};

/**
 * Classifies an error thrown instead of an answer (reset, refused, timeout, DNS, TLS...): always
 * retryable, because the next poll may well get through. The message names the cause and at most
 * the receiver's scheme and host, never the URL path.
 */
export function classifyNetworkError(err: unknown): DeliveryFailure {
  const code = errorCode(err);
  const target = errorTarget(err);
  const where = target ? ` posting to ${target}` : '';
  const timeoutMs = numberProp(err, 'timeoutMs');
  let cause = code !== undefined ? networkCause(code) : undefined;
  if (cause === 'timed out' && timeoutMs !== undefined) cause = `timed out after ${timeoutMs} ms`;
  if (cause === undefined) {
    // Unknown failure: keep its own words for debugging, but scrubbed of URLs and bounded.
    const message = err instanceof Error ? scrubUrls(err.message).slice(0, 200) : '';
    cause = [err instanceof Error ? err.name : 'error', message].filter(Boolean).join(': ');
  }
  return { kind: 'retryable', error: `network error${where}: ${cause}${code ? ` (${code})` : ''}` };
}

/** Human words for a Node / axios error code (`ECONNREFUSED` -> `connection refused`); undefined when unknown. */
export function networkCause(code: string): string | undefined {
  if (NETWORK_CAUSES[code]) return NETWORK_CAUSES[code];
  if (/CERT|TLS|SSL|SELF_SIGNED|UNABLE_TO_VERIFY/.test(code)) return 'TLS certificate rejected';
  if (code.startsWith('HPE_')) return 'malformed HTTP response';
  return undefined;
}

function errorCode(err: unknown): string | undefined {
  // axios wraps the socket error: the wrapper's code may be generic while its cause's is precise.
  let first: string | undefined;
  let e: unknown = err;
  for (let depth = 0; typeof e === 'object' && e !== null && depth < 4; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && code !== '') {
      if (networkCause(code)) return code;
      first ??= code;
    }
    e = (e as { cause?: unknown }).cause;
  }
  return first;
}

function errorTarget(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  // Our HttpNetworkError carries `url` (already redacted); axios errors carry the full `config.url`.
  const url = (err as { url?: unknown }).url ?? (err as { config?: { url?: unknown } }).config?.url;
  return typeof url === 'string' ? redactUrl(url) : undefined;
}

function numberProp(err: unknown, name: string): number | undefined {
  const v = typeof err === 'object' && err !== null ? (err as Record<string, unknown>)[name] : undefined;
  return typeof v === 'number' ? v : undefined;
}

/**
 * What a vendor's body code means: retryable (optionally after `afterMs`) or permanent, with a hint;
 * `endpoint` when the code refuses the endpoint itself (gone, wrong secret, IP allow-list), so that
 * every message to it fails and the destination is reported as failing.
 */
type CodeMeaning =
  | { kind: 'retryable'; hint: string; afterMs?: number }
  | { kind: 'permanent'; hint: string; endpoint?: true };

/** Vendors that answer HTTP 200 with an error code in a JSON body (Feishu `code`, DingTalk/WeCom `errcode`). */
export interface BodyCodeRules {
  /** Vendor name for the error text (`Feishu`). */
  vendor: string;
  /** JSON fields holding the code, first present wins (`code`, `StatusCode`). */
  fields: readonly string[];
  /** JSON fields holding the vendor's message (`msg`, `errmsg`). */
  messageFields: readonly string[];
  /** Known codes; `0` is success and never listed. */
  codes: Readonly<Record<number, CodeMeaning>>;
}

/**
 * Classifies an answer from a vendor that reports errors as a code in the body: a JSON body with a
 * non-zero code is a failure whatever the HTTP status (known codes as listed; unknown codes
 * retryable, preferring a late alert to a lost one); otherwise `classifyHttp` decides. The error text
 * names the vendor, the code and the vendor's message (URLs scrubbed, bounded).
 */
export function classifyBodyCode(answer: HttpAnswer, nowMs: number, rules: BodyCodeRules): DeliveryOutcome {
  const body = parseObject(answer.bodyText);
  const code = body ? firstNumber(body, rules.fields) : undefined;
  if (code === undefined || code === 0) {
    if (code === 0 && answer.status >= 200 && answer.status < 300) return { kind: 'ok' };
    return classifyHttp(answer.status, answer.headers, answer.bodyText, nowMs);
  }
  const vendorMessage = body ? firstString(body, rules.messageFields) : undefined;
  const meaning = rules.codes[code];
  const said = vendorMessage ? ` "${bounded(vendorMessage, 100)}"` : '';
  const error = `HTTP ${answer.status}, ${rules.vendor} code ${code}${said}: ${meaning?.hint ?? 'unknown code, retried'}`;
  if (meaning?.kind === 'permanent')
    return meaning.endpoint ? { kind: 'permanent', error, endpoint: true } : { kind: 'permanent', error };
  const afterMs = meaning?.afterMs ?? parseRetryAfter(header(answer.headers, 'retry-after'), nowMs);
  return afterMs === undefined
    ? { kind: 'retryable', error }
    : { kind: 'retryable', error, retryAfterMs: afterMs };
}

/** The body parsed as a JSON object; undefined for anything else. */
export function parseObject(text: string): Record<string, unknown> | undefined {
  const t = text.trim();
  if (!t.startsWith('{')) return undefined;
  try {
    const parsed: unknown = JSON.parse(t);
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)
      ? (parsed as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

function firstNumber(o: Record<string, unknown>, fields: readonly string[]): number | undefined {
  for (const f of fields) {
    const v = o[f];
    if (typeof v === 'number' && Number.isFinite(v)) return v;
    if (typeof v === 'string' && /^-?\d+$/.test(v.trim())) return Number(v);
  }
  return undefined;
}

function firstString(o: Record<string, unknown>, fields: readonly string[]): string | undefined {
  for (const f of fields) {
    const v = o[f];
    if (typeof v === 'string' && v.trim() !== '') return v;
  }
  return undefined;
}

/** `text` without URLs or control characters, at most `max` characters. */
function bounded(text: string, max: number): string {
  const clean = scrubUrls(text)
    .replace(/\p{Cc}+/gu, ' ')
    .trim();
  return clean.length > max ? `${clean.slice(0, max - 1)}…` : clean;
}

/** Statuses that condemn the endpoint rather than one message: gone, removed, forbidden, unauthorised. */
const ENDPOINT_WIDE_STATUSES: ReadonlySet<number> = new Set([401, 403, 404, 410]);

/** The result of sending one message: its outcome and, when it got one, the HTTP status. */
export interface SendResult {
  outcome: DeliveryOutcome;
  status?: number;
}

/**
 * True when later messages to the same endpoint should not be tried in this batch: every retryable
 * failure (do not hammer a throttled or failing receiver) and permanent failures of the endpoint
 * itself (401/403/404/410, or a vendor's code or word saying so in any status). A 400 concerns one
 * payload only, so the batch goes on.
 */
export function haltsBatch(result: SendResult): boolean {
  if (result.outcome.kind === 'ok') return false;
  if (result.outcome.kind === 'retryable') return true;
  if (result.outcome.endpoint) return true;
  return result.status !== undefined && ENDPOINT_WIDE_STATUSES.has(result.status);
}
