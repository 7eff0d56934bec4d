// Huawei Cloud's API signature, SDK-HMAC-SHA256 (HSS reads and SMN publishes use it), pinned to the
// published vectors (test/huaweicloud/signer.test.ts).
import { createHash, createHmac } from 'node:crypto';

/** AK/SK credentials; `securityToken` is present for temporary (agency) credentials. */
export interface AkSkCredentials {
  ak: string;
  sk: string;
  securityToken?: string;
}

const SIGNING_ALGORITHM = 'SDK-HMAC-SHA256';

/** A request as the signer sees it: header names in any case, query as ordered pairs. */
export interface SignableRequest {
  method: string;
  /** Path without query, e.g. `/v5/abc/ransomware/backup/operation-logs`. */
  path: string;
  query: ReadonlyArray<readonly [string, string]>;
  headers: Record<string, string>;
  body?: string | Buffer;
}

/** Percent-encodes as the gateway does: keeps `A-Z a-z 0-9 - _ . ~`, everything else `%XX` uppercase. */
export function gatewayEncode(value: string): string {
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/** `YYYYMMDDTHHMMSSZ` in UTC, the `X-Sdk-Date` format. */
export function sdkDate(ms: number): string {
  return new Date(ms)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
}

function canonicalUri(path: string): string {
  const encoded = path.split('/').map(gatewayEncode).join('/');
  return encoded.endsWith('/') ? encoded : `${encoded}/`;
}

export function canonicalQuery(query: ReadonlyArray<readonly [string, string]>): string {
  return query
    .map(([k, v]) => [gatewayEncode(k), gatewayEncode(v)] as const)
    .sort(([ka, va], [kb, vb]) => (ka === kb ? compare(va, vb) : compare(ka, kb)))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function lowerHeaders(headers: Record<string, string>): Map<string, string> {
  return new Map(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v.trim()]));
}

/** Builds the canonical request for the given signed header names (lowercase). */
export function canonicalRequest(req: SignableRequest, signedHeaders: readonly string[]): string {
  const headers = lowerHeaders(req.headers);
  const names = [...signedHeaders].map((h) => h.toLowerCase()).sort();
  const canonicalHeaders = names.map((n) => `${n}:${headers.get(n) ?? ''}\n`).join('');
  const bodyHash = sha256Hex(req.body ?? '');
  return [
    req.method.toUpperCase(),
    canonicalUri(req.path),
    canonicalQuery(req.query),
    canonicalHeaders,
    names.join(';'),
    bodyHash,
  ].join('\n');
}

export function sha256Hex(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Signature of a request, given its `X-Sdk-Date` value, the signed header names and the SK. */
export function signature(
  req: SignableRequest,
  signedHeaders: readonly string[],
  date: string,
  sk: string,
): string {
  const stringToSign = `${SIGNING_ALGORITHM}\n${date}\n${sha256Hex(canonicalRequest(req, signedHeaders))}`;
  return createHmac('sha256', sk).update(stringToSign).digest('hex');
}

/** The headers HSS signs when present: `host`, `x-sdk-date`, `x-project-id`, `x-security-token`. */
const HSS_SIGNED = ['host', 'x-sdk-date', 'x-project-id', 'x-security-token'];

/**
 * Returns the headers to send: the request's own plus `X-Sdk-Date`, `X-Security-Token` (when the
 * credentials carry one) and `Authorization`. Signs those of `signable` (lowercase names; default
 * `host`, `x-sdk-date`, `x-project-id`, `x-security-token`) that the headers hold.
 */
export function signRequest(
  req: SignableRequest,
  credentials: AkSkCredentials,
  nowMs: number,
  signable: readonly string[] = HSS_SIGNED,
): Record<string, string> {
  const date = sdkDate(nowMs);
  const headers: Record<string, string> = { ...req.headers, 'X-Sdk-Date': date };
  if (credentials.securityToken) headers['X-Security-Token'] = credentials.securityToken;
  const present = new Set(Object.keys(headers).map((h) => h.toLowerCase()));
  const signed = signable.filter((h) => present.has(h)).sort();
  const sig = signature({ ...req, headers }, signed, date, credentials.sk);
  headers.Authorization = `${SIGNING_ALGORITHM} Access=${credentials.ak}, SignedHeaders=${signed.join(';')}, Signature=${sig}`;
  return headers;
}
