// Harness of the outbox tests: a generic JSON sink (a real HTTP server on 127.0.0.1 that counts what
// it got and answers from a script, with a hook that runs on the virtual clock before it answers),
// two hand-written Destinations that render real JSON requests (a webhook: one request per message;
// a chat channel: one digest per batch), message factories, a fresh table per test in a shared
// dynalite, a DynamoDB client that fails on demand, and a process that crashes at a chosen step.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Clock, Sleep } from '../../lib/log';
import type {
  AlertMessage,
  Message,
  NoticeKind,
  NoticeMessage,
  ReminderMessage,
  Scope,
} from '../../lib/model';
import { classifyHttp } from '../../lib/notify/classify';
import type { ChannelLimits, ChannelRequest, Destination } from '../../lib/notify/destination';
import { createPostJson, type PostJson } from '../../lib/notify/http';
import { createOutbox, type OutboxDeps } from '../../lib/outbox';
import { createTableClient, type TableClient } from '../../lib/state/table-client';
import { recordingLog } from '../support/log';

export const T0 = Date.UTC(2026, 10, 27, 12, 0, 0);
export const SEC = 1_000;
export const MIN = 60_000;
export const HOUR = 3_600_000;

const SCOPE: Scope = {
  id: 'ap-southeast-1/proj-1/0',
  region: 'ap-southeast-1',
  projectId: 'proj-1',
  enterpriseProjectId: '0',
  credential: 'default',
};

/** A clock tests move; `sleep` advances it instead of waiting (and yields so sockets progress). */
export interface VirtualTime {
  now: Clock;
  sleep: Sleep;
  advance(ms: number): void;
  /** Every sleep asked for, in order. */
  sleeps: number[];
}

export function virtualTime(start = T0): VirtualTime {
  let t = start;
  const sleeps: number[] = [];
  return {
    now: () => t,
    advance: (ms) => void (t += ms),
    sleeps,
    async sleep(ms) {
      sleeps.push(ms);
      t += Math.max(0, ms);
      await new Promise<void>((resolve) => setImmediate(resolve));
    },
  };
}

/** An alert of host `host-{n}` detected at `at` (default T0 + n ms, so n orders them). */
export function alert(n: number, overrides: Partial<AlertMessage> = {}): AlertMessage {
  const host = `host-${String(n).padStart(4, '0')}`;
  const startedAt = new Date(T0 - HOUR).toISOString();
  return {
    kind: 'alert',
    id: `alert-${String(n).padStart(4, '0')}`,
    at: T0 + n,
    scope: SCOPE,
    task: {
      hostId: `${host}-id`,
      hostName: host,
      backupName: 'bk',
      status: 'failed',
      rawStatus: 'failed',
      startedAt,
      startedMs: T0 - HOUR,
      errorCode: 'BACKUP.0002',
      errorMessage: 'the HSS agent is offline',
    },
    status: 'failed',
    reason: 'first-seen',
    episode: 1,
    taskRef: `ref-${host}`,
    ...overrides,
  };
}

/** The first reminder of alert `n`. */
export function reminder(n: number): ReminderMessage {
  const a = alert(n);
  return {
    kind: 'reminder',
    id: `${a.id}.r1`,
    at: a.at,
    n: 1,
    scope: a.scope,
    alertId: a.id,
    alertStatus: a.status,
    alertAt: a.at,
    task: a.task,
    taskRef: a.taskRef,
  };
}

export function alerts(count: number, from = 0): AlertMessage[] {
  return Array.from({ length: count }, (_, i) => alert(from + i));
}

export function notice(kind: NoticeKind, id: string, overrides: Partial<NoticeMessage> = {}): NoticeMessage {
  return { kind: 'notice', notice: kind, id, at: T0, scope: SCOPE, summary: `${kind} notice`, ...overrides };
}

/** One request as the sink got it. */
export interface SinkRequest {
  /** Virtual time when it arrived. */
  at: number;
  path: string;
  headers: Record<string, string>;
  body: string;
  json: { id?: string; ids?: string[]; text?: string; kind?: string; notice?: string; summary?: string };
}

interface SinkAnswer {
  status: number;
  body?: string;
  headers?: Record<string, string>;
}

export interface Sink {
  url: string;
  /** Requests answered 2xx, in order. */
  received: SinkRequest[];
  /** Every request, in order. */
  attempts: SinkRequest[];
  /** The next `times` requests get `answer` instead of 200. */
  answerNext(answer: SinkAnswer, times?: number): void;
  /** Every request gets `answer` until `answerNext` or `answerAlways(undefined)`. */
  answerAlways(answer: SinkAnswer | undefined): void;
  /** Runs before each answer (on the virtual clock: advance it to make the receiver slow). */
  beforeAnswer?: (request: SinkRequest) => Promise<void> | void;
  /** Message ids delivered (2xx), counted: `webhook-id` header or the digest's `ids`. */
  deliveredIds(): Map<string, number>;
  close(): Promise<void>;
}

/** A JSON receiver on 127.0.0.1 answering 200 `ok` unless scripted otherwise. */
export async function startSink(clock: Clock): Promise<Sink> {
  const received: SinkRequest[] = [];
  const attempts: SinkRequest[] = [];
  const script: SinkAnswer[] = [];
  let always: SinkAnswer | undefined;
  const sink: Sink = {
    url: '',
    received,
    attempts,
    answerNext(answer, times = 1) {
      for (let i = 0; i < times; i++) script.push(answer);
    },
    answerAlways(answer) {
      always = answer;
    },
    deliveredIds() {
      const counts = new Map<string, number>();
      for (const req of received) {
        for (const id of idsOf(req)) counts.set(id, (counts.get(id) ?? 0) + 1);
      }
      return counts;
    },
    close: async () => undefined,
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers[k] = v;
    let json: SinkRequest['json'] = {};
    try {
      json = JSON.parse(body) as SinkRequest['json'];
    } catch {
      // Not JSON: answered 400 below, as a real receiver would.
    }
    const request: SinkRequest = { at: clock(), path: req.url ?? '/', headers, body, json };
    attempts.push(request);
    await sink.beforeAnswer?.(request);
    const answer = script.shift() ?? always ?? { status: 200, body: 'ok' };
    const status = body.startsWith('{') ? answer.status : 400;
    if (status >= 200 && status < 300) received.push(request);
    res.writeHead(status, { 'content-type': 'text/plain', ...answer.headers });
    res.end(answer.body ?? '');
  }

  const server = createServer((req, res) => {
    handle(req, res).catch(() => res.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  sink.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/secret-path`;
  sink.close = async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return sink;
}

/** The message ids a request carried: a webhook's `webhook-id`, or a digest's `ids`. */
export function idsOf(req: SinkRequest): string[] {
  if (req.headers['webhook-id']) return [req.headers['webhook-id']];
  return req.json.ids ?? [];
}

const NO_LIMITS: ChannelLimits = { minIntervalMs: 0, perMinute: 0 };

export interface FakeDestinationOptions {
  id?: string;
  url: string;
  limits?: ChannelLimits;
  accepts?: (message: Message) => boolean;
}

/** A webhook-like destination: one signed JSON request per message, `webhook-id` = message id. */
export function webhookDestination(options: FakeDestinationOptions): Destination & { url: string } {
  const id = options.id ?? 'webhook';
  return {
    id,
    type: 'webhook',
    description: `webhook http://127.0.0.1/…`,
    limits: options.limits ?? NO_LIMITS,
    url: options.url,
    accepts: options.accepts ?? (() => true),
    render(batch) {
      return batch.map((m, i): ChannelRequest => ({
        covers: [i],
        url: this.url,
        body: JSON.stringify({ id: m.id, kind: m.kind, ...(m.kind === 'notice' ? noticeFields(m) : {}) }),
        headers: { 'webhook-id': m.id },
      }));
    },
    sign(request, now) {
      return {
        ...request,
        headers: { ...request.headers, 'webhook-timestamp': String(Math.floor(now / 1000)) },
      };
    },
    classify: (answer, now) => classifyHttp(answer.status, answer.headers, answer.bodyText, now),
  };
}

/** A chat-like destination: one digest request per `perRequest` messages (`text` says how many; `ids` lists them). */
export function chatDestination(
  options: FakeDestinationOptions & { perRequest?: number },
): Destination & { url: string } {
  const id = options.id ?? 'slack';
  const perRequest = options.perRequest ?? 50;
  return {
    id,
    type: 'slack',
    description: `slack http://127.0.0.1/…`,
    limits: options.limits ?? NO_LIMITS,
    url: options.url,
    accepts: options.accepts ?? (() => true),
    render(batch, context) {
      const requests: ChannelRequest[] = [];
      for (let from = 0; from < batch.length; from += perRequest) {
        const part = batch.slice(from, from + perRequest);
        const notices = part.filter((m): m is NoticeMessage => m.kind === 'notice').map((m) => m.summary);
        requests.push({
          covers: part.map((_, i) => from + i),
          url: this.url,
          body: JSON.stringify({
            text: `${part.length} message(s)${context.listsIncomplete ? '; more may follow' : ''}`,
            ids: part.map((m) => m.id),
            notices,
          }),
        });
      }
      return requests;
    },
    classify: (answer, now) => classifyHttp(answer.status, answer.headers, answer.bodyText, now),
  };
}

function noticeFields(m: NoticeMessage) {
  return { notice: m.notice, summary: m.summary, skip: m.skipDestinations ?? [] };
}

/** A TableClient on a fresh table (from `useLocalDynamo`), sleeping on the virtual clock. */
export async function freshTable(
  create: () => Promise<string>,
  client: DynamoDBClient,
  sleep: Sleep,
): Promise<TableClient> {
  return createTableClient({ client, tableName: await create(), sleep });
}

/** A log that keeps every line (from the shared fakes). */

export const LEASE_MS = 60_000;
/** Real network deadline of the test HTTP leg: generous for a loaded machine, never hit by a healthy sink. */
const NET_TIMEOUT_MS = 5_000;

/** An outbox wired as production wires it, on the virtual clock, with jitter fixed at its midpoint. */
export function outboxFor(
  table: TableClient,
  destinations: readonly Destination[],
  time: VirtualTime,
  overrides: Partial<OutboxDeps> = {},
) {
  const log = recordingLog();
  const post: PostJson = createPostJson();
  const outbox = createOutbox({
    table,
    namespace: 'test',
    destinations,
    post,
    clock: time.now,
    sleep: time.sleep,
    log,
    random: () => 0.5,
    leaseMs: LEASE_MS,
    requestTimeoutMs: NET_TIMEOUT_MS,
    recordMarginMs: 5_000,
    ...overrides,
  });
  return { outbox, log };
}

/** Plenty of time: the deadline of a run that is not about deadlines. */
export const FAR = T0 + 365 * 24 * HOUR;

/**
 * Adds a step to `client` that runs `fault` before every command (by name, e.g. `UpdateItemCommand`,
 * with its input and the count of that command so far); a throw there is what the SDK would surface
 * once its own retries are spent.
 */
export function failOn(
  client: DynamoDBClient,
  fault: (command: string, input: Record<string, unknown>, n: number) => void,
): DynamoDBClient {
  const counts = new Map<string, number>();
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const name = context.commandName ?? 'unknown';
      const n = (counts.get(name) ?? 0) + 1;
      counts.set(name, n);
      fault(name, args.input as Record<string, unknown>, n);
      return next(args);
    },
    { step: 'initialize', name: 'outboxTestFault' },
  );
  return client;
}

/** Adds a step to `client` that may hold a command (by name and input) until `wait` resolves. */
export function holdOn(
  client: DynamoDBClient,
  wait: (command: string, input: Record<string, unknown>) => Promise<void> | undefined,
): DynamoDBClient {
  client.middlewareStack.add(
    (next, context) => async (args) => {
      await wait(context.commandName ?? 'unknown', args.input as Record<string, unknown>);
      return next(args);
    },
    { step: 'initialize', name: 'outboxTestHold' },
  );
  return client;
}

/** An error named like DynamoDB's throttling answer. */
export function throttled(): Error {
  const err = new Error('Rate of requests exceeds the allowed throughput');
  err.name = 'ProvisionedThroughputExceededException';
  return err;
}

/** Counts DynamoDB commands by name and the most in flight at once. */
export function countCommands(client: DynamoDBClient): {
  counts: Map<string, number>;
  maxInFlight: () => number;
} {
  const counts = new Map<string, number>();
  let inFlight = 0;
  let max = 0;
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const name = context.commandName ?? 'unknown';
      counts.set(name, (counts.get(name) ?? 0) + 1);
      inFlight += 1;
      max = Math.max(max, inFlight);
      try {
        return await next(args);
      } finally {
        inFlight -= 1;
      }
    },
    { step: 'initialize', name: 'outboxTestCounter' },
  );
  return { counts, maxInFlight: () => max };
}

/** Thrown by a crashing process: it stops dead at the chosen step. */
export class ProcessCrash extends Error {
  constructor(where: string) {
    super(`injected process crash ${where}`);
    this.name = 'ProcessCrash';
  }
}

/** A step of a run: a DynamoDB operation through the table client, or an HTTP post. */
export type Step = 'Query' | 'BatchGetItem' | 'PutItem' | 'UpdateItem' | 'DeleteItem' | 'post';

export interface CrashPoint {
  step: Step;
  when: 'before' | 'after';
  nth: number;
}

/**
 * A process that dies at `point` (never, without one): from then on every table call and post it
 * makes throws, as if it were gone. `steps` counts what it did (a clean run's counts give the crash
 * points to try); `settle()` waits for posts already on the wire.
 */
export function crashingProcess(point?: CrashPoint) {
  let dead = false;
  const steps = new Map<Step, number>();
  const inflight: Promise<unknown>[] = [];
  const guard = (): void => {
    if (dead) throw new ProcessCrash('(process already dead)');
  };
  async function around<T>(step: Step, run: () => Promise<T>): Promise<T> {
    guard();
    const n = (steps.get(step) ?? 0) + 1;
    steps.set(step, n);
    const hit = point?.step === step && point.nth === n;
    if (hit && point.when === 'before') {
      dead = true;
      throw new ProcessCrash(`before ${step} #${n}`);
    }
    const running = run();
    inflight.push(running.catch(() => undefined));
    try {
      return await running;
    } finally {
      // After the step, whatever it answered (a failed condition is an answer too).
      if (hit && point.when === 'after') dead = true;
      guard();
    }
  }
  return {
    steps,
    crashed: () => dead,
    settle: () => Promise.allSettled(inflight),
    wrapTable(table: TableClient): TableClient {
      return {
        tableName: table.tableName,
        stats: table.stats,
        send: (operation, kind, run) => around(operation as Step, () => table.send(operation, kind, run)),
        conditionally: (write) => table.conditionally(write),
        batchGet: (k, consistent) => around('BatchGetItem', () => table.batchGet(k, consistent)),
        batchWrite: (requests) => table.batchWrite(requests),
      };
    },
    wrapPost(post: PostJson): PostJson {
      return (url, body, options) => around('post', () => post(url, body, options));
    },
  };
}
