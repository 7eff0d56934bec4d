import { randomUUID, timingSafeEqual } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { parseAuthorization, parseSdkDate, signature } from '../lib/hss/signer';
import { TASK_STATUSES } from '../lib/task';

/** A raw operation-log record as the API sends it (snake_case); extra fields are served as given. */
export interface EmulatedTask {
  host_id: string;
  host_name: string;
  backup_name: string;
  process?: number;
  status: string;
  started_at: string;
  ended_at?: string;
  updated_at?: string;
  error_info?: { code: string; message: string };
  /** Emulator-only: the task's enterprise project (default `0`); a string extra field. */
  [extra: string]: unknown;
}

/** The one credential the emulator accepts. */
export type EmulatorAuth =
  { kind: 'aksk'; ak: string; sk: string; securityToken?: string } | { kind: 'token'; token: string };

/** Everything is optional; defaults are a demo project, AK/SK auth and the real 5 calls/min limit. */
export interface HssEmulatorOptions {
  /** The only project id served (default `demo-project`); any other answers 403 HSS.0010. */
  projectId?: string;
  /** Default: AK `EMULATORAK`, SK `EMULATORSK`. */
  auth?: EmulatorAuth;
  /** Accepted calls per rolling 60 s per credential (default 5); 0 or Infinity = unlimited. */
  ratePerMinute?: number;
  /** Clock (epoch ms) for last_days, X-Sdk-Date staleness and the rate window (default Date.now). */
  now?: () => number;
  /** Largest accepted distance between X-Sdk-Date and now(), in ms (default 15 min). */
  maxClockSkewMs?: number;
  /** Served tasks; the array is used as is, not copied (default empty). */
  tasks?: EmulatedTask[];
}

/** A misbehaviour to serve instead of (or on top of) the normal answer. */
export type HssFault =
  | { kind: 'status'; status: number; body?: unknown; headers?: Record<string, string> }
  | { kind: 'reset' }
  | { kind: 'hang' }
  | { kind: 'delay'; ms: number }
  | { kind: 'raw'; body: string; status?: number; contentType?: string }
  | { kind: 'mutate'; fn: (body: { total_num: unknown; data_list: unknown }) => unknown };

/** One request as received; `status` is 0 while unanswered and stays 0 for reset/hang faults. */
export interface RecordedRequest {
  method: string;
  path: string;
  /** First value of each query parameter, decoded. */
  query: Record<string, string>;
  status: number;
  /** now() when the request arrived. */
  at: number;
  /** Lowercase names, as received. */
  headers: Record<string, string>;
}

/** A running emulator; `tasks` and `useUpdatedAt` are read afresh on every request. */
export interface HssEmulator {
  /** `http://127.0.0.1:PORT`, no trailing slash. */
  url: string;
  tasks: EmulatedTask[];
  requests: RecordedRequest[];
  /** Queue a fault for the next `times` (default 1, Infinity allowed) requests to the operation-logs route. */
  injectFault(fault: HssFault, times?: number): void;
  clearFaults(): void;
  /** Changes the limit for later calls; 0 or Infinity = unlimited. */
  setRateLimit(perMinute: number): void;
  /** When true, records are served with `updated_at` instead of `ended_at` (like the doc example). */
  useUpdatedAt: boolean;
  /** Drops every open connection (hung or delayed requests included) and stops listening. */
  close(): Promise<void>;
}

const ROUTE = /^\/v5\/([^/]+)\/ransomware\/backup\/operation-logs$/;
const DAY_MS = 86_400_000;
const WINDOW_MS = 60_000;
const JSON_TYPE = 'application/json;charset=UTF-8';
/** When last_days is omitted the real default is undocumented; we assume 1 day. */
const DEFAULT_LAST_DAYS = 1;

type Answer = { status: number; body: unknown; headers?: Record<string, string> };

class ParamError extends Error {}

/** Starts an emulator of the HSS operation-logs API on 127.0.0.1 (random port). */
export async function startHssEmulator(options: HssEmulatorOptions = {}): Promise<HssEmulator> {
  const projectId = options.projectId ?? 'demo-project';
  const auth: EmulatorAuth = options.auth ?? { kind: 'aksk', ak: 'EMULATORAK', sk: 'EMULATORSK' };
  const now = options.now ?? Date.now;
  const maxSkew = options.maxClockSkewMs ?? 15 * 60_000;
  let ratePerMinute = checkRate(options.ratePerMinute ?? 5);
  const faults: Array<{ fault: HssFault; left: number }> = [];
  const windows = new Map<string, number[]>();
  const sockets = new Set<Socket>();
  const sleepers = new Map<NodeJS.Timeout, () => void>();
  let closing: Promise<void> | undefined;

  const emulator: HssEmulator = {
    url: '',
    tasks: options.tasks ?? [],
    requests: [],
    useUpdatedAt: false,
    injectFault(fault, times = 1) {
      if (!(times >= 1) || !(Number.isInteger(times) || times === Infinity)) {
        throw new RangeError(`injectFault: times must be a whole number >= 1, got ${times}`);
      }
      faults.push({ fault, left: times });
    },
    clearFaults: () => void faults.splice(0),
    setRateLimit: (perMinute) => void (ratePerMinute = checkRate(perMinute)),
    close() {
      closing ??= new Promise<void>((resolve) => {
        for (const [timer, wake] of sleepers) {
          clearTimeout(timer);
          wake();
        }
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      });
      return closing;
    },
  };

  function takeFault(): HssFault | undefined {
    const head = faults[0];
    if (!head) return undefined;
    if (--head.left <= 0) faults.shift();
    return head.fault;
  }

  function sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => (sleepers.delete(timer), resolve()), ms);
      sleepers.set(timer, resolve);
    });
  }

  /** Seconds until a slot frees when `key` is over the limit, else undefined (and the call is counted). */
  function throttle(key: string, at: number): number | undefined {
    if (ratePerMinute === 0 || ratePerMinute === Infinity) return undefined;
    const recent = (windows.get(key) ?? []).filter((t) => t > at - WINDOW_MS).sort((a, b) => a - b);
    windows.set(key, recent);
    if (recent.length >= ratePerMinute) {
      // The call that must leave the window before one more fits.
      const freesAt = recent[recent.length - ratePerMinute]! + WINDOW_MS;
      return Math.max(1, Math.ceil((freesAt - at) / 1000));
    }
    recent.push(at);
    return undefined;
  }

  async function handle(req: IncomingMessage, res: ServerResponse, record: RecordedRequest): Promise<void> {
    const send = ({ status, body, headers }: Answer, contentType = JSON_TYPE): void => {
      if (res.writableEnded || res.destroyed) return;
      record.status = status;
      const text = typeof body === 'string' ? body : JSON.stringify(body);
      res.writeHead(status, { 'Content-Type': contentType, 'X-Request-Id': requestId(), ...headers });
      res.end(text);
    };
    const [rawPath = '/', rawQuery = ''] = splitOnce(req.url ?? '/', '?');
    const route = req.method === 'GET' ? ROUTE.exec(rawPath) : null;
    if (!route) {
      return send(gatewayError(404, 'APIGW.0101', 'The API does not exist or has not been published'));
    }
    // reset and hang model a dead network, so they strike before the gateway looks at anything.
    const head = faults[0]?.fault;
    if (head?.kind === 'reset') return void (takeFault(), req.socket.destroy());
    if (head?.kind === 'hang') return void takeFault();

    const body = await readBody(req);
    const pairs = [...new URLSearchParams(rawQuery)];
    const path = rawPath.split('/').map(safeDecode).join('/');
    const who = authenticate(req, path, pairs, body);
    if (who.failure !== undefined) {
      const msg = `Incorrect IAM authentication information: ${who.failure}`;
      return send(gatewayError(401, 'APIGW.0301', msg));
    }
    const retryAfter = throttle(who.key, now());
    if (retryAfter !== undefined) {
      const msg = `The throttling threshold has been reached: policy user over ratelimit,limit:${ratePerMinute},time:1 minute`;
      return send({
        ...gatewayError(429, 'APIGW.0308', msg),
        headers: { 'Retry-After': String(retryAfter) },
      });
    }

    const fault = takeFault();
    if (fault?.kind === 'status') {
      const fallback = { error_code: 'EMULATOR.FAULT', error_msg: `Injected HTTP ${fault.status}` };
      return send({ status: fault.status, body: fault.body ?? fallback, headers: fault.headers });
    }
    if (fault?.kind === 'raw')
      return send({ status: fault.status ?? 200, body: fault.body }, fault.contentType);
    if (fault?.kind === 'delay') await sleep(fault.ms);
    if (closing) return;

    const answer = operationLogs(safeDecode(route[1]!), req.headers['x-project-id'], pairs);
    if (fault?.kind === 'mutate' && answer.status === 200) {
      const body = answer.body as { total_num: unknown; data_list: unknown };
      // A mutator that edits in place and returns nothing still has its edits served.
      answer.body = fault.fn(body) ?? body;
    }
    send(answer);
  }

  function authenticate(
    req: IncomingMessage,
    path: string,
    query: Array<[string, string]>,
    body: Buffer,
  ): { failure: string; key?: undefined } | { failure?: undefined; key: string } {
    const headers = flatHeaders(req);
    if (auth.kind === 'token') {
      const token = headers['x-auth-token'];
      if (token === undefined) return { failure: 'X-Auth-Token header is missing' };
      return safeEqual(token, auth.token) ? { key: 'token' } : { failure: 'decrypt token fail' };
    }
    const parsed = parseAuthorization(headers.authorization ?? '');
    if (!parsed) return { failure: 'Authorization header is missing or not SDK-HMAC-SHA256' };
    if (!safeEqual(parsed.access, auth.ak)) return { failure: 'access key does not exist' };
    const signed = parsed.signedHeaders.map((h) => h.toLowerCase());
    const mustSign = ['host', 'x-sdk-date'];
    // Sent but unsigned, these could be changed in transit without breaking the signature.
    for (const h of ['x-project-id', 'x-security-token']) if (h in headers) mustSign.push(h);
    if (auth.securityToken) mustSign.push('x-security-token');
    const unsigned = mustSign.find((h) => !signed.includes(h));
    if (unsigned) return { failure: `header ${unsigned} must be signed` };
    const absent = signed.find((h) => headers[h] === undefined);
    if (absent) return { failure: `signed header ${absent} is missing` };
    const token = headers['x-security-token'];
    if (token !== undefined && !(auth.securityToken && safeEqual(token, auth.securityToken))) {
      return { failure: 'security token is invalid' };
    }
    const date = headers['x-sdk-date']!;
    const dateMs = parseSdkDate(date);
    if (Number.isNaN(dateMs)) return { failure: 'X-Sdk-Date is not YYYYMMDDTHHMMSSZ' };
    if (Math.abs(dateMs - now()) > maxSkew) return { failure: 'X-Sdk-Date is expired or in the future' };
    const expected = signature(
      { method: req.method ?? 'GET', path, query, headers, body },
      signed,
      date,
      auth.sk,
    );
    return safeEqual(expected, parsed.signature)
      ? { key: `ak:${auth.ak}` }
      : { failure: 'verify aksk signature fail' };
  }

  function operationLogs(
    pathProject: string,
    headerProject: unknown,
    pairs: Array<[string, string]>,
  ): Answer {
    if (pathProject !== projectId || (headerProject !== undefined && headerProject !== projectId)) {
      return { status: 403, body: { error_code: 'HSS.0010', error_msg: 'access denied' } };
    }
    let params: Params;
    try {
      params = parseParams(pairs);
    } catch (err) {
      if (!(err instanceof ParamError)) throw err;
      return { status: 400, body: { error_code: 'HSS.0001', error_msg: err.message } };
    }
    return { status: 200, body: selectTasks(emulator.tasks, params, now(), emulator.useUpdatedAt) };
  }

  const server = createServer((req, res) => {
    const [path = '/', rawQuery = ''] = splitOnce(req.url ?? '/', '?');
    const query: Record<string, string> = {};
    for (const [k, v] of new URLSearchParams(rawQuery)) query[k] ??= v;
    const record: RecordedRequest = {
      method: req.method ?? '',
      path,
      query,
      status: 0,
      at: now(),
      headers: flatHeaders(req),
    };
    emulator.requests.push(record);
    handle(req, res, record).catch((err: unknown) => {
      // A throwing mutate fn (a test bug) should be visible, not a hung request.
      if (res.headersSent) return void res.destroy();
      record.status = 500;
      res.writeHead(500, { 'Content-Type': JSON_TYPE, 'X-Request-Id': requestId() });
      res.end(JSON.stringify({ error_code: 'EMULATOR.ERROR', error_msg: String(err) }));
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  emulator.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return emulator;
}

interface Params {
  offset: number;
  limit: number;
  lastDays: number;
  status?: string;
  resourceName?: string;
  enterpriseProjectId: string;
}

/** Validates the query like HSS does; repeated parameters use their first value. */
function parseParams(pairs: Array<[string, string]>): Params {
  const q = new Map<string, string>();
  for (const [k, v] of pairs) if (!q.has(k)) q.set(k, v);
  const int = (name: string, min: number, max: number): number | undefined => {
    const raw = q.get(name);
    if (raw === undefined) return undefined;
    const n = /^-?\d+$/.test(raw) ? Number(raw) : NaN;
    if (!(n >= min && n <= max))
      throw new ParamError(`Invalid parameter: ${name} must be an integer in ${min}..${max}`);
    return n;
  };
  const required = (name: string, n: number | undefined): number => {
    if (n === undefined) throw new ParamError(`Invalid parameter: ${name} is required`);
    return n;
  };
  const offset = required('offset', int('offset', 0, 2_147_483_547));
  const limit = required('limit', int('limit', 10, 200));
  const lastDays = int('last_days', 1, 30) ?? DEFAULT_LAST_DAYS;
  const status = q.get('status');
  if (status !== undefined && !(TASK_STATUSES as readonly string[]).includes(status)) {
    throw new ParamError(`Invalid parameter: status must be one of ${TASK_STATUSES.join(', ')}`);
  }
  const ep = q.get('enterprise_project_id');
  if (ep !== undefined && (ep.length < 1 || ep.length > 256)) {
    throw new ParamError('Invalid parameter: enterprise_project_id must be 1..256 characters');
  }
  return {
    offset,
    limit,
    lastDays,
    status,
    resourceName: q.get('resource_name'),
    enterpriseProjectId: ep ?? '0',
  };
}

/** Filters, orders (newest start first, ties by host_id) and pages the tasks into a response body. */
function selectTasks(tasks: EmulatedTask[], p: Params, nowMs: number, useUpdatedAt: boolean) {
  const since = nowMs - p.lastDays * DAY_MS;
  const hits = tasks
    .filter((t) => p.status === undefined || t.status === p.status)
    .filter((t) => p.resourceName === undefined || t.host_name === p.resourceName)
    .filter((t) => {
      const ep = typeof t.enterprise_project_id === 'string' ? t.enterprise_project_id : '0';
      return p.enterpriseProjectId === 'all_granted_eps' || ep === p.enterpriseProjectId;
    })
    // Unparseable start times are kept so clients get to see (and survive) them.
    .filter((t) => !(timeOf(t.started_at) < since))
    .sort((a, b) => byStartDesc(a, b) || compare(a.host_id, b.host_id));
  const page = hits.slice(p.offset, p.offset + p.limit).map((t) => serveTask(t, useUpdatedAt));
  return { total_num: hits.length, data_list: page };
}

function serveTask(task: EmulatedTask, useUpdatedAt: boolean): EmulatedTask {
  // A copy, so mutate faults and clients cannot edit the live tasks.
  const out = structuredClone(task);
  out.error_info ??= { code: '', message: '' };
  if (useUpdatedAt) {
    out.updated_at ??= out.ended_at;
    delete out.ended_at;
    if (out.updated_at === undefined) delete out.updated_at;
  }
  return out;
}

function timeOf(value: unknown): number {
  if (typeof value !== 'string') return NaN;
  const ms = Date.parse(value);
  return Number.isNaN(ms) && /^\d+$/.test(value) ? Number(value) : ms;
}

function byStartDesc(a: EmulatedTask, b: EmulatedTask): number {
  const ta = timeOf(a.started_at);
  const tb = timeOf(b.started_at);
  if (Number.isNaN(ta) || Number.isNaN(tb)) return Number(Number.isNaN(ta)) - Number(Number.isNaN(tb));
  return tb - ta;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function checkRate(perMinute: number): number {
  if (!(perMinute >= 0)) throw new RangeError(`ratePerMinute must be >= 0, got ${perMinute}`);
  return perMinute;
}

function gatewayError(status: number, code: string, message: string): Answer {
  return { status, body: { error_code: code, error_msg: message } };
}

function requestId(): string {
  return randomUUID().replace(/-/g, '');
}

function splitOnce(value: string, separator: string): [string, string] {
  const i = value.indexOf(separator);
  return i < 0 ? [value, ''] : [value.slice(0, i), value.slice(i + 1)];
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

function flatHeaders(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers))
    if (v !== undefined) out[k] = Array.isArray(v) ? v.join(',') : v;
  return out;
}

function safeEqual(a: string, b: string): boolean {
  const ba = Buffer.from(a);
  const bb = Buffer.from(b);
  return ba.length === bb.length && timingSafeEqual(ba, bb);
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Makes `n` realistic tasks, newest first, all within the last 20 h of `now` (for n <= 72,000), same seed = same tasks. */
export function makeTasks(
  n: number,
  opts: { now?: number; status?: string | ((i: number) => string); hostPrefix?: string; seed?: number } = {},
): EmulatedTask[] {
  const now = opts.now ?? Date.now();
  const rand = mulberry32(opts.seed ?? 1);
  // Spread over 20 h so the default 1-day window holds them all; whole seconds like the API.
  const spacing = Math.max(1000, Math.floor((20 * 3_600_000) / Math.max(n, 1)));
  return Array.from({ length: n }, (_, i) => {
    // Always draw the same randoms per task so a status choice never shifts later tasks.
    const [rStatus, rJitter, rDuration, rProcess, rError] = [rand(), rand(), rand(), rand(), rand()];
    const hostId = [8, 4, 4, 4, 12].map((len) => hex(rand, len)).join('-');
    const status = typeof opts.status === 'function' ? opts.status(i) : (opts.status ?? pickStatus(rStatus!));
    const started = Math.floor((now - 60_000 - i * spacing - rJitter! * spacing * 0.5) / 1000) * 1000;
    const ended = Math.min(now, started + 30_000 + Math.floor(rDuration! * 1_170) * 1000);
    const finished = !['running', 'waiting'].includes(status);
    const failure = FAILURES[Math.floor(rError! * FAILURES.length)]!;
    return {
      host_id: hostId,
      host_name: `${opts.hostPrefix ?? 'ecs-demo-'}${i}`,
      backup_name: `autobk_${i}`,
      process: ['success', 'skipped'].includes(status)
        ? 100
        : status === 'waiting'
          ? 0
          : 1 + Math.floor(rProcess! * 98),
      status,
      started_at: iso(started),
      ...(finished ? { ended_at: iso(ended) } : {}),
      error_info:
        status === 'failed'
          ? { ...failure }
          : status === 'timeout'
            ? { ...TIMEOUT }
            : { code: '', message: '' },
    };
  });
}

const FAILURES = [
  { code: 'BACKUP.0001', message: 'Backup failed: the vault does not have enough capacity' },
  { code: 'BACKUP.0002', message: 'Backup failed: the HSS agent is offline' },
  { code: 'RESTORE.0001', message: 'Restore failed: the target disk is read-only' },
] as const;
const TIMEOUT = { code: 'BACKUP.0099', message: 'The task did not finish within the time limit' } as const;

function pickStatus(r: number): string {
  // 70% success, then 6% each of the others.
  const mix = [0.7, 0.76, 0.82, 0.88, 0.94, 1];
  return (
    ['success', 'failed', 'timeout', 'running', 'waiting', 'skipped'][mix.findIndex((m) => r < m)] ??
    'success'
  );
}

function iso(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function hex(rand: () => number, length: number): string {
  return Array.from({ length }, () => Math.floor(rand() * 16).toString(16)).join('');
}

/** Small seeded PRNG (mulberry32): deterministic and good enough for test data. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
