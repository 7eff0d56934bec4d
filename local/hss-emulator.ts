// An emulator of HSS `GET /v5/{project_id}/ransomware/backup/operation-logs` on 127.0.0.1: several
// projects and credentials (one URL serves every region, as HSS_ENDPOINT does), the per-user rate
// limit, AK/SK signature checks and the AK lock, the documented filters, list orders and total_num
// quirks the docs leave open, a hook between pages, and injected faults.
import { randomUUID, timingSafeEqual } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { parseTime } from '../lib/hss/parse';
import { signature } from '../lib/huaweicloud/signer';
import { parseAuthorization, parseSdkDate } from './sdk-signature';
import { TASK_STATUSES } from '../lib/task';

/** A raw operation-log record as the API sends it (snake_case); extra fields are served as given. */
export interface EmulatedTask {
  host_id: string;
  host_name: string;
  backup_name: string;
  process?: number;
  status: string;
  /** Any format the API might use: ISO with or without zone, epoch ms or s (number or digits). */
  started_at: string | number;
  ended_at?: string | number;
  updated_at?: string | number;
  error_info?: { code: string; message: string };
  /** Emulator-only, never served: the task's project (default: the first project). */
  project_id?: string;
  /** Emulator-only, never served: the task's enterprise project (default `0`). */
  enterprise_project_id?: string;
  [extra: string]: unknown;
}

/** A credential the emulator accepts. */
type EmulatorAuth =
  { kind: 'aksk'; ak: string; sk: string; securityToken?: string } | { kind: 'token'; token: string };

/** A credential and the projects it may read (default: every served project; others answer 403 HSS.0010). */
type EmulatorCredential = EmulatorAuth & { projects?: string[] };

/** How the list is ordered: undocumented, so clients must not depend on it. */
type ListOrder = 'newest-first' | 'oldest-first' | 'as-given';

/** What `total_num` says: the true count, a count lower than the rows by `by`, or a count capped at `max`. */
export type TotalNumMode = { kind: 'true' } | { kind: 'lower'; by: number } | { kind: 'capped'; max: number };

/** A page about to be served, as the `beforePage` hook sees it. */
export interface PageRequest {
  projectId: string;
  /** Name of the credential that signed it. */
  credential: string;
  /** First value of each query parameter, decoded. */
  query: Record<string, string>;
}

/** Everything is optional; defaults are one demo project, one AK/SK and the real 5 calls/min limit. */
export interface HssEmulatorOptions {
  /** Projects served (default `['demo-project']`); any other answers 403 HSS.0010. */
  projects?: string[];
  /** Shorthand for `projects: [projectId]`. */
  projectId?: string;
  /** Credentials by name (default `{ default: AK EMULATORAK, SK EMULATORSK }`). */
  credentials?: Record<string, EmulatorCredential>;
  /** Shorthand for `credentials: { default: auth }`. */
  auth?: EmulatorAuth;
  /** Accepted calls per rolling 60 s per credential, across projects (default 5); 0 or Infinity = unlimited. */
  ratePerMinute?: number;
  /** Clock (epoch ms) for last_days, X-Sdk-Date staleness, the rate window and the AK lock (default Date.now). */
  now?: () => number;
  /** Largest accepted distance between X-Sdk-Date and now(), in ms (default 15 min). */
  maxClockSkewMs?: number;
  /** Served tasks; the array is used as is, not copied (default empty). */
  tasks?: EmulatedTask[];
  /** Default `newest-first` (by start time, ties by host_id). */
  order?: ListOrder;
  /** Default `{ kind: 'true' }`. */
  totalNum?: TotalNumMode;
  /** Called before each page is served (after auth, throttling and faults): insert or remove tasks here. */
  beforePage?: (request: PageRequest) => void | Promise<void>;
}

/** A misbehaviour to serve instead of (or on top of) the normal answer. */
type HssFault =
  | { kind: 'status'; status: number; body?: unknown; headers?: Record<string, string> }
  | { kind: 'reset' }
  | { kind: 'hang' }
  | { kind: 'delay'; ms: number }
  | { kind: 'raw'; body: string; status?: number; contentType?: string }
  | { kind: 'mutate'; fn: (body: { total_num: unknown; data_list: unknown }) => unknown };

/** One request as received; `status` is 0 while unanswered and stays 0 for reset/hang faults. */
interface RecordedRequest {
  method: string;
  path: string;
  /** First value of each query parameter, decoded. */
  query: Record<string, string>;
  status: number;
  /** now() when the request arrived. */
  at: number;
  /** Lowercase names, as received. */
  headers: Record<string, string>;
  /** Name of the credential it authenticated as; absent when authentication failed or never ran. */
  credential?: string;
}

/** A running emulator; `tasks`, `order`, `totalNum`, `beforePage` and `useUpdatedAt` are read afresh on every request. */
export interface HssEmulator {
  /** `http://127.0.0.1:PORT`, no trailing slash. */
  url: string;
  tasks: EmulatedTask[];
  requests: RecordedRequest[];
  order: ListOrder;
  totalNum: TotalNumMode;
  beforePage?: (request: PageRequest) => void | Promise<void>;
  /** When true, records are served with `updated_at` instead of `ended_at` (like the doc example). */
  useUpdatedAt: boolean;
  /** Queue a fault for the next `times` (default 1, Infinity allowed) requests to the operation-logs route. */
  injectFault(fault: HssFault, times?: number): void;
  clearFaults(): void;
  /** Changes the limit for later calls; 0 or Infinity = unlimited. */
  setRateLimit(perMinute: number): void;
  /**
   * Most calls (authenticated requests, throttled ones included) that `credential` started in any
   * 60 s span; without a credential, the largest figure of any credential.
   */
  maxCallsInAnyMinute(credential?: string): number;
  /** Drops every open connection (hung or delayed requests included) and stops listening. */
  close(): Promise<void>;
}

const ROUTE = /^\/v5\/([^/]+)\/ransomware\/backup\/operation-logs$/;
const DAY_MS = 86_400_000;
const WINDOW_MS = 60_000;
const JSON_TYPE = 'application/json;charset=UTF-8';
/** When last_days is omitted the real default is undocumented; we assume 1 day. */
const DEFAULT_LAST_DAYS = 1;
/** HSS locks an AK for 5 minutes after 5 authentication failures in a row. */
const AK_LOCK = { failures: 5, ms: 5 * 60_000 } as const;

type Answer = { status: number; body: unknown; headers?: Record<string, string> };

class ParamError extends Error {}

/** Starts an emulator of the HSS operation-logs API on 127.0.0.1 (random port). */
export async function startHssEmulator(options: HssEmulatorOptions = {}): Promise<HssEmulator> {
  const projects = options.projects ?? [options.projectId ?? 'demo-project'];
  const credentials: Record<string, EmulatorCredential> = options.credentials ?? {
    default: options.auth ?? { kind: 'aksk', ak: 'EMULATORAK', sk: 'EMULATORSK' },
  };
  const now = options.now ?? Date.now;
  const maxSkew = options.maxClockSkewMs ?? 15 * 60_000;
  let ratePerMinute = checkRate(options.ratePerMinute ?? 5);
  const faults: Array<{ fault: HssFault; left: number }> = [];
  /** Accepted call times per credential name (the rate window). */
  const windows = new Map<string, number[]>();
  /** Consecutive authentication failures and lock expiry per access key. */
  const akFailures = new Map<string, { count: number; lockedUntil: number }>();
  const sockets = new Set<Socket>();
  const sleepers = new Map<NodeJS.Timeout, () => void>();
  let closing: Promise<void> | undefined;

  const emulator: HssEmulator = {
    url: '',
    tasks: options.tasks ?? [],
    requests: [],
    order: options.order ?? 'newest-first',
    totalNum: options.totalNum ?? { kind: 'true' },
    beforePage: options.beforePage,
    useUpdatedAt: false,
    injectFault(fault, times = 1) {
      if (!(times >= 1) || !(Number.isInteger(times) || times === Infinity)) {
        throw new RangeError(`injectFault: times must be a whole number >= 1, got ${times}`);
      }
      faults.push({ fault, left: times });
    },
    clearFaults: () => void faults.splice(0),
    setRateLimit: (perMinute) => void (ratePerMinute = checkRate(perMinute)),
    maxCallsInAnyMinute(credential) {
      const names = credential === undefined ? Object.keys(credentials) : [credential];
      return Math.max(
        0,
        ...names.map((name) =>
          maxInWindow(
            emulator.requests.filter((r) => r.credential === name).map((r) => r.at),
            WINDOW_MS,
          ),
        ),
      );
    },
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

  /** Seconds until a slot frees when `name` is over the limit, else undefined (and the call is counted). */
  function throttle(name: string, at: number): number | undefined {
    if (ratePerMinute === 0 || ratePerMinute === Infinity) return undefined;
    const recent = (windows.get(name) ?? []).filter((t) => t > at - WINDOW_MS).sort((a, b) => a - b);
    windows.set(name, recent);
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
    record.credential = who.name;
    const retryAfter = throttle(who.name, now());
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

    const answer = await operationLogs(safeDecode(route[1]!), req.headers['x-project-id'], pairs, who.name);
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
  ): { failure: string; name?: undefined } | { failure?: undefined; name: string } {
    const headers = flatHeaders(req);
    const entries = Object.entries(credentials);
    const token = headers['x-auth-token'];
    if (token !== undefined) {
      const match = entries.find(([, c]) => c.kind === 'token' && safeEqual(token, c.token));
      return match ? { name: match[0] } : { failure: 'decrypt token fail' };
    }
    const parsed = parseAuthorization(headers.authorization ?? '');
    if (!parsed) {
      return entries.every(([, c]) => c.kind === 'token')
        ? { failure: 'X-Auth-Token header is missing' }
        : { failure: 'Authorization header is missing or not SDK-HMAC-SHA256' };
    }
    const match = entries.find(([, c]) => c.kind === 'aksk' && safeEqual(parsed.access, c.ak));
    if (!match) return { failure: 'access key does not exist' };
    const [name, auth] = match as [string, Extract<EmulatorCredential, { kind: 'aksk' }>];
    const lock = akFailures.get(auth.ak) ?? { count: 0, lockedUntil: -Infinity };
    akFailures.set(auth.ak, lock);
    if (lock.lockedUntil > now()) return { failure: 'the access key is locked after repeated failures' };
    const failure = checkSignature(req, path, query, body, headers, parsed, auth);
    if (failure === undefined) {
      lock.count = 0;
      return { name };
    }
    lock.count += 1;
    if (lock.count >= AK_LOCK.failures) {
      lock.count = 0;
      lock.lockedUntil = now() + AK_LOCK.ms;
    }
    return { failure };
  }

  function checkSignature(
    req: IncomingMessage,
    path: string,
    query: Array<[string, string]>,
    body: Buffer,
    headers: Record<string, string>,
    parsed: { signedHeaders: string[]; signature: string },
    auth: Extract<EmulatorAuth, { kind: 'aksk' }>,
  ): string | undefined {
    const signed = parsed.signedHeaders.map((h) => h.toLowerCase());
    const mustSign = ['host', 'x-sdk-date'];
    // Sent but unsigned, these could be changed in transit without breaking the signature.
    for (const h of ['x-project-id', 'x-security-token']) if (h in headers) mustSign.push(h);
    if (auth.securityToken) mustSign.push('x-security-token');
    const unsigned = mustSign.find((h) => !signed.includes(h));
    if (unsigned) return `header ${unsigned} must be signed`;
    const absent = signed.find((h) => headers[h] === undefined);
    if (absent) return `signed header ${absent} is missing`;
    const token = headers['x-security-token'];
    if (token !== undefined && !(auth.securityToken && safeEqual(token, auth.securityToken))) {
      return 'security token is invalid';
    }
    const date = headers['x-sdk-date']!;
    const dateMs = parseSdkDate(date);
    if (Number.isNaN(dateMs)) return 'X-Sdk-Date is not YYYYMMDDTHHMMSSZ';
    if (Math.abs(dateMs - now()) > maxSkew) return 'X-Sdk-Date is expired or in the future';
    const expected = signature(
      { method: req.method ?? 'GET', path, query, headers, body },
      signed,
      date,
      auth.sk,
    );
    return safeEqual(expected, parsed.signature) ? undefined : 'verify aksk signature fail';
  }

  async function operationLogs(
    pathProject: string,
    headerProject: unknown,
    pairs: Array<[string, string]>,
    credential: string,
  ): Promise<Answer> {
    const allowed = credentials[credential]?.projects ?? projects;
    if (
      !projects.includes(pathProject) ||
      !allowed.includes(pathProject) ||
      (headerProject !== undefined && headerProject !== pathProject)
    ) {
      return { status: 403, body: { error_code: 'HSS.0010', error_msg: 'access denied' } };
    }
    let params: Params;
    try {
      params = parseParams(pairs);
    } catch (err) {
      if (!(err instanceof ParamError)) throw err;
      return { status: 400, body: { error_code: 'HSS.0001', error_msg: err.message } };
    }
    await emulator.beforePage?.({ projectId: pathProject, credential, query: Object.fromEntries(pairs) });
    const body = selectTasks(emulator.tasks, {
      ...params,
      projectId: pathProject,
      defaultProject: projects[0]!,
      now: now(),
      order: emulator.order,
      totalNum: emulator.totalNum,
      useUpdatedAt: emulator.useUpdatedAt,
    });
    return { status: 200, body };
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
      // A throwing mutate fn or hook (a test bug) should be visible, not a hung request.
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

interface Selection extends Params {
  projectId: string;
  defaultProject: string;
  now: number;
  order: ListOrder;
  totalNum: TotalNumMode;
  useUpdatedAt: boolean;
}

/** Filters (project, status, resource_name substring, enterprise project, last_days on the start time), orders and pages the tasks into a body. */
function selectTasks(tasks: EmulatedTask[], p: Selection): { total_num: number; data_list: EmulatedTask[] } {
  const since = p.now - p.lastDays * DAY_MS;
  const hits = tasks.filter(
    (t) =>
      (t.project_id ?? p.defaultProject) === p.projectId &&
      (p.status === undefined || t.status === p.status) &&
      (p.resourceName === undefined || String(t.host_name).includes(p.resourceName)) &&
      (p.enterpriseProjectId === 'all_granted_eps' ||
        (t.enterprise_project_id ?? '0') === p.enterpriseProjectId) &&
      // Unreadable start times are kept so clients get to see (and survive) them.
      !(startOf(t) < since),
  );
  if (p.order !== 'as-given') {
    const sign = p.order === 'newest-first' ? 1 : -1;
    hits.sort((a, b) => sign * byStartDesc(a, b) || compare(a.host_id, b.host_id));
  }
  const page = hits.slice(p.offset, p.offset + p.limit).map((t) => serveTask(t, p.useUpdatedAt));
  return { total_num: reportedTotal(hits.length, p.totalNum), data_list: page };
}

function reportedTotal(count: number, mode: TotalNumMode): number {
  if (mode.kind === 'lower') return Math.max(0, count - mode.by);
  if (mode.kind === 'capped') return Math.min(count, mode.max);
  return count;
}

/** Parsed start times, cached per task object and value (lists of thousands are re-sorted on every page). */
const startCache = new WeakMap<EmulatedTask, { value: unknown; ms: number }>();

function startOf(task: EmulatedTask): number {
  const cached = startCache.get(task);
  if (cached && cached.value === task.started_at) return cached.ms;
  const ms = parseTime(task.started_at)?.ms ?? NaN;
  startCache.set(task, { value: task.started_at, ms });
  return ms;
}

function serveTask(task: EmulatedTask, useUpdatedAt: boolean): EmulatedTask {
  // A copy, so mutate faults and clients cannot edit the live tasks; emulator-only fields stay here.
  const { project_id: _p, enterprise_project_id: _ep, ...served } = task;
  const out = structuredClone(served) as EmulatedTask;
  out.error_info ??= { code: '', message: '' };
  if (useUpdatedAt) {
    out.updated_at ??= out.ended_at;
    delete out.ended_at;
    if (out.updated_at === undefined) delete out.updated_at;
  }
  return out;
}

/** Newest start first; unreadable start times last. */
function byStartDesc(a: EmulatedTask, b: EmulatedTask): number {
  const ta = startOf(a);
  const tb = startOf(b);
  if (Number.isNaN(ta) || Number.isNaN(tb)) return Number(Number.isNaN(ta)) - Number(Number.isNaN(tb));
  return tb - ta;
}

/** Most of `times` inside any span [t, t + windowMs). */
function maxInWindow(times: number[], windowMs: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let best = 0;
  for (let lo = 0, hi = 0; hi < sorted.length; hi++) {
    while (sorted[hi]! - sorted[lo]! >= windowMs) lo++;
    best = Math.max(best, hi - lo + 1);
  }
  return best;
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

/** How makeTasks writes times: ISO UTC (the doc's form), epoch ms (number or digits), epoch seconds, with an offset, or zone-less. */
export type TimeFormat = 'iso' | 'epoch-ms' | 'epoch-ms-text' | 'epoch-s' | 'offset+08' | 'zoneless';

export interface MakeTasksOptions {
  now?: number;
  status?: string | ((i: number) => string);
  hostPrefix?: string;
  /** Same seed = same tasks (host ids included): give each batch of one list its own seed. */
  seed?: number;
  /** Start times spread over this span before `now` (default 20 h, inside the default 1-day window). */
  spanMs?: number;
  /** Emulator-only project of every task (default: the emulator's first project). */
  projectId?: string;
  /** Emulator-only enterprise project of every task (default `0`). */
  enterpriseProjectId?: string;
  timeFormat?: TimeFormat;
}

/** Makes `n` realistic tasks, newest first, started within `spanMs` before `now`; cheap for tens of thousands. */
export function makeTasks(n: number, opts: MakeTasksOptions = {}): EmulatedTask[] {
  const now = opts.now ?? Date.now();
  const rand = mulberry32(opts.seed ?? 1);
  const format = opts.timeFormat ?? 'iso';
  // Whole seconds like the API.
  const spacing = Math.max(1000, Math.floor((opts.spanMs ?? 20 * 3_600_000) / Math.max(n, 1)));
  return Array.from({ length: n }, (_, i) => {
    // Always draw the same randoms per task so a status choice never shifts later tasks.
    const [rStatus, rJitter, rDuration, rProcess, rError] = [rand(), rand(), rand(), rand(), rand()];
    const hostId = [8, 4, 4, 4, 12].map((len) => hex(rand, len)).join('-');
    const status = typeof opts.status === 'function' ? opts.status(i) : (opts.status ?? pickStatus(rStatus!));
    const started = Math.floor((now - 60_000 - i * spacing - rJitter! * spacing * 0.5) / 1000) * 1000;
    const ended = Math.min(now, started + 30_000 + Math.floor(rDuration! * 1_170) * 1000);
    const finished = !['running', 'waiting'].includes(status);
    const failure = FAILURES[Math.floor(rError! * FAILURES.length)]!;
    const task: EmulatedTask = {
      host_id: hostId,
      host_name: `${opts.hostPrefix ?? 'ecs-demo-'}${i}`,
      backup_name: `autobk_${i}`,
      process: ['success', 'skipped'].includes(status)
        ? 100
        : status === 'waiting'
          ? 0
          : 1 + Math.floor(rProcess! * 98),
      status,
      started_at: formatTime(started, format),
      ...(finished ? { ended_at: formatTime(ended, format) } : {}),
      error_info:
        status === 'failed'
          ? { ...failure }
          : status === 'timeout'
            ? { ...TIMEOUT }
            : { code: '', message: '' },
    };
    if (opts.projectId !== undefined) task.project_id = opts.projectId;
    if (opts.enterpriseProjectId !== undefined) task.enterprise_project_id = opts.enterpriseProjectId;
    return task;
  });
}

/** `ms` written the way `format` says (every form the client must read). */
export function formatTime(ms: number, format: TimeFormat): string | number {
  const iso = new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
  switch (format) {
    case 'iso':
      return iso;
    case 'epoch-ms':
      return ms;
    case 'epoch-ms-text':
      return String(ms);
    case 'epoch-s':
      return String(Math.floor(ms / 1000));
    case 'offset+08':
      return `${new Date(ms + 8 * 3_600_000).toISOString().slice(0, 19)}+08:00`;
    case 'zoneless':
      return iso.slice(0, 19).replace('T', ' ');
  }
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
