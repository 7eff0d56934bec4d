// Shared harness of the reliability suite: one "world" per case (HSS emulator, Slack and webhook
// sinks on 127.0.0.1, a fresh table in a shared dynalite) wired the way the entry points wire it
// (parseConfig -> createApp -> runPoll), with virtual time so that backoff, Retry-After, leases and
// rate windows cost no wall-clock time. Only network timeouts are real, and they are kept short.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  BatchGetItemCommand,
  BatchWriteItemCommand,
  DynamoDBClient,
  PutItemCommand,
  QueryCommand,
  UpdateItemCommand,
  type BatchGetItemCommandInput,
  type BatchWriteItemCommandInput,
  type PutItemCommandInput,
  type QueryCommandInput,
  type UpdateItemCommandInput,
} from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { createApp, runPoll, type App } from '../../lib/app';
import { parseConfig, type Config } from '../../lib/config';
import { oneLine } from '../../lib/errors';
import type { HssClientOptions } from '../../lib/hss/client';
import type { Clock, Sleep } from '../../lib/log';
import type { SlackNotifierOptions } from '../../lib/notify/slack';
import type { Notifier } from '../../lib/notify/types';
import type { PollSummary } from '../../lib/poll';
import type { AlertRef, StateStore, StoredAlert, WorkingSet } from '../../lib/state/store';
import { taskKey, type Scope, type TaskStatus } from '../../lib/task';
import { createStateTable, LOCAL_AWS, type LocalDynamo } from '../../local/dynamo';
import { startHssEmulator, type EmulatedTask, type HssEmulator } from '../../local/hss-emulator';
import { startSlackSink, startWebhookSink, type Sink } from '../../local/sinks';
import { recordingLog, type LogLine } from '../support/fakes';

export const T0 = Date.UTC(2026, 10, 27, 12, 0, 0);
export const MIN = 60_000;
/** The schedule period: one tick every five minutes, as deployed. */
export const TICK_MS = 5 * MIN;
export const PROJECT_ID = 'demo-project';
export const AK = 'EMULATORAK';
export const SK = 'EMULATORSK';
export const WEBHOOK_SECRET = 'whsec_c2VjcmV0LWZvci10ZXN0cy1vbmx5LTEyMzQ1Njc4';
/** Real network deadline for HSS and the notifiers: the only wall-clock cost of a hung peer, and
 * generous enough that a loaded CI machine never times out a healthy local server. */
export const NET_TIMEOUT_MS = 1000;

/** A clock tests move; `sleep` advances it instead of waiting (and yields once so sockets progress). */
export interface VirtualTime {
  now: Clock;
  sleep: Sleep;
  advance(ms: number): void;
  /** Total virtual ms slept, for "it waited as asked" assertions. */
  slept(): number;
}

export function virtualTime(start = T0): VirtualTime {
  let t = start;
  let slept = 0;
  return {
    now: () => t,
    advance: (ms) => void (t += ms),
    slept: () => slept,
    async sleep(ms) {
      const step = Math.max(0, ms);
      t += step;
      slept += step;
      await new Promise<void>((resolve) => setImmediate(resolve));
    },
  };
}

/** One log line as a person would read it: level, message and extra fields. */
export function renderLine(line: LogLine): string {
  const extra = line.extra
    ? ` ${JSON.stringify(line.extra, (_key, v: unknown) => (v instanceof Error ? { name: v.name, message: v.message } : v))}`
    : '';
  return `${line.level.toUpperCase()} ${line.message}${extra}`;
}

/**
 * Everything reachable from `value` as text: strings, numbers, object fields, and for errors their
 * name, message, stack, cause and own properties (enumerable or not), so that a secret hidden in an
 * attached SDK or axios error is found too.
 */
export function deepText(value: unknown): string {
  const out: string[] = [];
  const seen = new Set<unknown>();
  const walk = (v: unknown, depth: number): void => {
    if (depth > 12 || v === null || v === undefined) return;
    if (typeof v === 'string') return void out.push(v);
    if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint')
      return void out.push(String(v));
    if (typeof v === 'function' || typeof v === 'symbol') return;
    if (seen.has(v)) return;
    seen.add(v);
    if (Buffer.isBuffer(v)) return void out.push(v.toString('utf8'));
    if (v instanceof Error) {
      out.push(v.name, v.message, v.stack ?? '');
      walk(v.cause, depth + 1);
    }
    for (const key of Object.getOwnPropertyNames(v)) {
      out.push(key);
      let child: unknown;
      try {
        child = (v as Record<string, unknown>)[key];
      } catch {
        continue;
      }
      walk(child, depth + 1);
    }
  };
  walk(value, 0);
  return out.join(' ');
}

/** A raw operation-log record (snake_case) in an alert status or not. */
export function record(
  host: string,
  status: string,
  startedAt: number,
  extra: Partial<EmulatedTask> = {},
): EmulatedTask {
  const finished = !['running', 'waiting'].includes(status);
  return {
    host_id: `${host}-id`,
    host_name: host,
    backup_name: `bk-${host}`,
    process: finished ? 100 : 40,
    status,
    started_at: new Date(startedAt).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    ...(finished ? { ended_at: new Date(startedAt + 20 * MIN).toISOString().replace(/\.\d{3}Z$/, 'Z') } : {}),
    ...(status === 'failed'
      ? { error_info: { code: 'BACKUP.0002', message: 'Backup failed: the HSS agent is offline' } }
      : status === 'timeout'
        ? { error_info: { code: 'BACKUP.0099', message: 'The task did not finish in time' } }
        : {}),
    ...extra,
  };
}

export const ALERT_STATUSES: readonly TaskStatus[] = ['failed', 'timeout'];

/** The alert reference (task key + status) of a raw record. */
export function refOf(r: EmulatedTask): AlertRef {
  const key = taskKey({ hostId: r.host_id, backupName: r.backup_name, startedAt: r.started_at });
  return { key, status: r.status.trim().toLowerCase() as TaskStatus };
}

/** Requests answered 2xx by `sink` whose body names `marker` (a unique host name), per marker. */
export function deliveriesByMarker(sink: Sink, markers: readonly string[]): Map<string, number> {
  const counts = new Map(markers.map((m) => [m, 0]));
  for (const req of sink.received) {
    for (const m of markers) if (req.body.includes(m)) counts.set(m, counts.get(m)! + 1);
  }
  return counts;
}

/** A TCP port on 127.0.0.1 that nothing listens on (so connecting is refused). */
export async function deadPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Counts the DynamoDB requests a client sends, by command name (e.g. `PutItemCommand`). */
export function countCommands(client: DynamoDBClient, counts: Map<string, number>): DynamoDBClient {
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const name = context.commandName ?? 'unknown';
      counts.set(name, (counts.get(name) ?? 0) + 1);
      return next(args);
    },
    { step: 'initialize', name: 'reliabilityCommandCounter' },
  );
  return client;
}

export const WRITE_COMMANDS = [
  'PutItemCommand',
  'UpdateItemCommand',
  'BatchWriteItemCommand',
  'DeleteItemCommand',
];

/** The DynamoDB operations the state store uses. */
export type DynamoOp = 'Query' | 'BatchGetItem' | 'BatchWriteItem' | 'PutItem' | 'UpdateItem';
export type DynamoInput =
  | QueryCommandInput
  | BatchGetItemCommandInput
  | BatchWriteItemCommandInput
  | PutItemCommandInput
  | UpdateItemCommandInput;

/**
 * A DynamoDB client whose `send` is stubbed with aws-sdk-client-mock: every command goes to `real`
 * (dynalite) unless `fault` throws first; `fault` may also act before the command (to stage a race).
 * The stub bypasses the SDK's own retry middleware, so an injected error is what the SDK would
 * surface once its retries are spent.
 */
export function faultyDynamo(
  real: DynamoDBClient,
  fault: (op: DynamoOp, input: DynamoInput, n: number) => Promise<void> | void,
): { client: DynamoDBClient; restore(): void } {
  const client = new DynamoDBClient(LOCAL_AWS);
  const mock = mockClient(client);
  const counts = new Map<DynamoOp, number>();
  const before = async (op: DynamoOp, input: DynamoInput): Promise<void> => {
    const n = (counts.get(op) ?? 0) + 1;
    counts.set(op, n);
    await fault(op, input, n);
  };
  mock.on(QueryCommand).callsFake(async (input: QueryCommandInput) => {
    await before('Query', input);
    return real.send(new QueryCommand(input));
  });
  mock.on(BatchGetItemCommand).callsFake(async (input: BatchGetItemCommandInput) => {
    await before('BatchGetItem', input);
    return real.send(new BatchGetItemCommand(input));
  });
  mock.on(BatchWriteItemCommand).callsFake(async (input: BatchWriteItemCommandInput) => {
    await before('BatchWriteItem', input);
    return real.send(new BatchWriteItemCommand(input));
  });
  mock.on(PutItemCommand).callsFake(async (input: PutItemCommandInput) => {
    await before('PutItem', input);
    return real.send(new PutItemCommand(input));
  });
  mock.on(UpdateItemCommand).callsFake(async (input: UpdateItemCommandInput) => {
    await before('UpdateItem', input);
    return real.send(new UpdateItemCommand(input));
  });
  return { client, restore: () => mock.restore() };
}

/** Thrown by a crashing "process": the poll stops dead at the chosen step. */
export class ProcessCrash extends Error {
  constructor(where: string) {
    super(`injected process crash ${where}`);
    this.name = 'ProcessCrash';
  }
}

type StoreMethod = Exclude<keyof StateStore, 'stats'>;
const STORE_METHODS: StoreMethod[] = [
  'readWorkingSet',
  'getTasks',
  'putAlert',
  'putTasks',
  'acquireLease',
  'releaseLease',
  'getAlerts',
  'saveDelivery',
  'recordFailure',
  'claimDownNotice',
  'clearHealth',
];

/** Where a process dies: before or after the `nth` call of a store method or of a notifier's deliver. */
export interface CrashPoint {
  method: StoreMethod | 'deliver';
  when: 'before' | 'after';
  nth: number;
}

/**
 * A process that dies at `point`: from then on every store and notifier call of that process throws
 * (a dead process does nothing more), and `settle()` waits for the sends already on the wire.
 */
export function crashingProcess(point: CrashPoint, label: string) {
  let dead = false;
  const calls = new Map<string, number>();
  const inflight: Promise<unknown>[] = [];
  const die = (): never => {
    dead = true;
    throw new ProcessCrash(label);
  };
  const guard = (): void => {
    if (dead) throw new ProcessCrash(`${label} (process already dead)`);
  };
  async function around<T>(method: string, run: () => Promise<T>): Promise<T> {
    guard();
    const n = (calls.get(method) ?? 0) + 1;
    calls.set(method, n);
    const hit = point.method === method && point.nth === n;
    if (hit && point.when === 'before') die();
    const result = await run();
    guard();
    if (hit && point.when === 'after') die();
    return result;
  }
  /** Alert ids whose delivery this process recorded as done, per destination. */
  const recordedDone = new Map<string, Set<string>>();
  return {
    crashed: () => dead,
    recordedDone,
    wrapStore(store: StateStore): StateStore {
      const wrapped = { stats: store.stats } as StateStore;
      for (const m of STORE_METHODS) {
        const original = store[m] as (...args: unknown[]) => Promise<unknown>;
        (wrapped as unknown as Record<string, unknown>)[m] = (...args: unknown[]) =>
          around(m, () => original(...args));
      }
      const save = wrapped.saveDelivery;
      wrapped.saveDelivery = async (scope, record, destination) => {
        const done = record.deliveries[destination]?.state === 'done';
        await save(scope, record, destination);
        if (done)
          recordedDone.set(destination, (recordedDone.get(destination) ?? new Set()).add(record.alert.id));
      };
      return wrapped;
    },
    wrapNotifier(n: Notifier): Notifier {
      return {
        id: n.id,
        description: n.description,
        deliver: (alerts) =>
          around('deliver', () => {
            const sending = n.deliver(alerts);
            inflight.push(sending.catch(() => undefined));
            return sending;
          }),
        notice: (notice) => {
          guard();
          return n.notice(notice);
        },
      };
    },
    settle: () => Promise.allSettled(inflight),
  };
}

/** What one tick did: the summary, or the error the entry point would log. */
export interface Tick {
  summary?: PollSummary;
  error?: unknown;
}

export interface AppOverrides {
  dynamo?: DynamoDBClient;
  slackUrl?: string;
  webhookUrl?: string;
  wrapStore?: (store: StateStore) => StateStore;
  wrapNotifier?: (notifier: Notifier) => Notifier;
  hss?: Partial<HssClientOptions>;
  slack?: Partial<SlackNotifierOptions>;
}

/** One case's servers, table, clock and log; `tick()` runs one scheduled poll like the handler does. */
export interface World {
  time: VirtualTime;
  log: ReturnType<typeof recordingLog>;
  hss: HssEmulator;
  slack: Sink;
  webhook: Sink;
  tableName: string;
  config: Config;
  scope: Scope;
  /** DynamoDB requests by command name, over every client this world built. */
  commands: Map<string, number>;
  /** A fresh process (clients, notifiers, store) as a cold Lambda would build it. */
  app(overrides?: AppOverrides): App;
  /** One poll through runPoll; a failure is logged as `Poll failed: ...` (as the handler does) and returned. */
  tick(app?: App): Promise<Tick>;
  /** Reads alert items straight from the table. */
  alerts(refs: readonly AlertRef[]): Promise<StoredAlert[]>;
  /** Reads the working set straight from the table. */
  workingSet(): Promise<WorkingSet>;
  close(): Promise<void>;
}

let tables = 0;

/** Starts a world on the shared dynalite; the caller closes it. */
export async function openWorld(
  dynamo: LocalDynamo,
  options: { emulatorRate?: number } = {},
): Promise<World> {
  const time = virtualTime();
  const log = recordingLog();
  const [hss, slack, webhook] = await Promise.all([
    startHssEmulator({ now: time.now, ratePerMinute: options.emulatorRate ?? 5 }),
    startSlackSink({ clock: time.now }),
    startWebhookSink({ secret: WEBHOOK_SECRET, clock: time.now }),
  ]);
  const tableName = `reliability-${process.pid}-${++tables}`;
  await createStateTable(dynamo.client, tableName);
  const config = parseConfig({
    HSS_PROJECT_ID: PROJECT_ID,
    HSS_ENDPOINT: hss.url,
    CLOUD_SDK_AK: AK,
    CLOUD_SDK_SK: SK,
    STATE_TABLE: tableName,
    DYNAMODB_ENDPOINT: dynamo.endpoint,
    SLACK_WEBHOOK_URL: slack.url,
    WEBHOOK_URL: webhook.url,
    WEBHOOK_SECRET,
  });
  const commands = new Map<string, number>();
  const plain = createApp(config, { log, clock: time.now, sleep: time.sleep, dynamo: dynamo.newClient() });

  const world: World = {
    time,
    log,
    hss,
    slack,
    webhook,
    tableName,
    config,
    scope: plain.scope,
    commands,
    app(o = {}) {
      const client = o.dynamo ?? countCommands(dynamo.newClient(), commands);
      // Production timeouts are 10 s and more: here a hung peer costs a second, and pages of 10
      // make paging faults need few tasks.
      const base = createApp(
        {
          ...config,
          ...(o.slackUrl ? { slackWebhookUrl: o.slackUrl } : {}),
          ...(o.webhookUrl ? { webhookUrl: o.webhookUrl } : {}),
        },
        {
          log,
          clock: time.now,
          sleep: time.sleep,
          dynamo: client,
          periodMs: TICK_MS,
          random: () => 0.5,
          hss: { timeoutMs: NET_TIMEOUT_MS, pageSize: 10, ...o.hss },
          slack: { timeoutMs: NET_TIMEOUT_MS, ...o.slack },
          webhook: { timeoutMs: NET_TIMEOUT_MS },
        },
      );
      const notifiers = base.notifiers.map(o.wrapNotifier ?? ((n: Notifier) => n));
      const store = o.wrapStore ? o.wrapStore(base.store) : base.store;
      return { ...base, store, notifiers, deps: { ...base.deps, store, notifiers } };
    },
    async tick(app = world.app()) {
      try {
        const summary = await runPoll(app);
        log.info('Poll complete', { ...summary });
        return { summary };
      } catch (error) {
        // handlers/poll.ts failedPollLogger: one line naming the error, and the invocation fails.
        log.error(`Poll failed: ${oneLine(error)}`, { errorName: (error as Error | undefined)?.name });
        return { error };
      }
    },
    alerts: (refs) => plain.store.getAlerts(plain.scope, refs, true),
    workingSet: () => plain.store.readWorkingSet(plain.scope),
    async close() {
      await Promise.all([hss.close(), slack.close(), webhook.close()]);
    },
  };
  return world;
}

/** Log lines at info level or above whose rendering matches `pattern`. */
export function linesMatching(log: { lines: LogLine[] }, pattern: RegExp): string[] {
  return log.lines
    .filter((l) => l.level !== 'debug')
    .map(renderLine)
    .filter((text) => pattern.test(text));
}
