// One table of faults, each injected into the real wiring (createApp + runPoll on the HSS emulator,
// Amazon's DynamoDB Local and one local sink per destination, on a virtual clock): into HSS (the
// emulator's faults, orders, total_num lies, records moving between pages), into DynamoDB (on the
// wire, through test/support/dynamo-proxy.ts), into every destination (its sink answers 429, 503,
// 410, resets, hangs, or its vendor's error code in a 200 body), or as a process that dies at a
// chosen point. Every row runs scheduled polls until the fault has cleared and checks the promises:
// every alert reaches every destination that should get it (or, for a destination gone for good, is
// reported through the others), nothing is sent twice beyond the crash window (a 2xx whose outcome
// was not recorded: at most one request per destination), quiet tasks are never sent, every poll
// ends inside its period, no log line spans lines, and no secret appears anywhere.
import { PutItemCommand, UpdateItemCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import type { App } from '../../lib/app';
import { displayName } from '../../lib/notify/channels';
import type { PollSummary } from '../../lib/poll';
import type { EmulatedTask } from '../../local/hss-emulator';
import type { SinkFault } from '../../local/sinks';
import { useEngine } from '../support/engines';
import {
  processOnly,
  startDynamoProxy,
  throttled,
  type DynamoProxy,
  type Rule,
} from '../support/dynamo-proxy';
import { recordingLog } from '../support/log';
import {
  MIN,
  openWorld,
  PROJECT,
  SINK_NAMES,
  T0,
  type SinkName,
  type World,
  type WorldOptions,
} from '../e2e/world';
import {
  alerting,
  deliveriesOf,
  doomedApp,
  expectedAlert,
  keyOf,
  leaks,
  quietTasks,
  renderLine,
  deepText,
  sentTexts,
  task,
  worldSecrets,
  unrecorded,
  type DeathPoint,
  type Doomed,
} from './support';

const engine = useEngine('DynamoDB Local');

/** Polls per row (60 s apart), then one more that must find nothing to do. */
const POLLS = 5;
const PERIOD_MS = 60_000;
const TIMEOUT_MS = 3_000;

const totals = {
  rows: 0,
  expected: 0,
  delivered: 0,
  lost: 0,
  duplicated: 0,
  allowed: 0,
  permanent: 0,
  texts: 0,
  leaks: 0,
};

afterAll(() => {
  // A report for the reader of the run; every row asserted its own share already.
  console.log(
    `fault matrix on ${engine.name}: rows ${totals.rows} | expected ${totals.expected} | delivered ${totals.delivered} | lost ${totals.lost} | duplicated ${totals.duplicated} (allowed ${totals.allowed}) | permanent reported ${totals.permanent} | secrets leaked ${totals.leaks} in ${totals.texts} texts`,
  );
});

/** What a row's hooks get. */
interface Case {
  w: World;
  log: ReturnType<typeof recordingLog>;
  /** Alerting records the row added (they must be alerted too). */
  added: EmulatedTask[];
  proxy?: DynamoProxy;
  /** Times the row's DynamoDB fault struck (a fault that never struck proves nothing). */
  hits: number;
  doomed?: Doomed;
}

/** One poll as the scheduler saw it. */
interface Poll {
  summary?: PollSummary;
  error?: unknown;
}

interface Row {
  layer: 'HSS' | 'DynamoDB' | 'destination' | 'crash';
  fault: string;
  /** `few`: 6 alerting tasks (4 failed, 2 timeout), one page; `paging`: 12 failed + 1 timeout, pages of 10. */
  seed?: 'few' | 'paging';
  /** Destinations of the row (default all ten). */
  sinks?: readonly SinkName[];
  world?: Pick<WorldOptions, 'emulator' | 'scopes'>;
  /** Scheduled polls after the first one (default POLLS); the last must find nothing to do. */
  polls?: number;
  /** Stages the fault; returns the app the first poll runs on (default the world's own). */
  arrange?: (c: Case) => void | App | Promise<void | App>;
  /** Runs after the first poll, before its crash window is read (requests still on the wire land). */
  afterFirst?: (c: Case) => Promise<void>;
  /** What the first poll does: returns a summary, throws, or its process dies. */
  first: 'succeeds' | 'fails' | 'dies';
  /** The first poll may leave 2xx answers unrecorded (a crash, or a failed outcome write): they repeat once. */
  window?: boolean;
  /** Destinations that refuse for good in the first poll: their alerts are reported, not delivered. */
  permanent?: readonly SinkName[];
  check?: (c: Case, polls: Poll[]) => void | Promise<void>;
}

const PAGING_SINKS: readonly SinkName[] = SINK_NAMES.filter((s) => s !== 'wecom' && s !== 'discord');

// ---- helpers of the rows -------------------------------------------------------------------------

/** The emulator's requests for one alert list at one offset. */
function hssAsked(w: World, list: string, offset: number) {
  return w.emulator.requests.filter((r) => r.query.status === list && r.query.offset === String(offset));
}

/** An app whose DynamoDB client goes through a proxy that applies `rule` (each answer it changes counts a hit). */
async function proxied(c: Case, rule: Rule): Promise<App> {
  c.proxy = await startDynamoProxy(engine.endpoint);
  c.proxy.rule = async (op, input) => {
    const reply = await rule(op, input);
    if (reply) c.hits += 1;
    return reply;
  };
  return c.w.newApp({ dynamo: engine.newClient({ endpoint: c.proxy.endpoint }) });
}

/** A DynamoDB error answer of type `type` (HTTP `status`). */
function dynamoError(type: string, status: number, message: string) {
  return { answer: { status, body: { __type: `com.amazonaws.dynamodb.v20120810#${type}`, message } } };
}

type Json = Record<string, unknown>;
const names = (input: Json) => (input.ExpressionAttributeNames ?? {}) as Record<string, string>;

/** An app of its own container that dies at `point`. */
function dying(c: Case, point: DeathPoint): App {
  const { app, doomed } = doomedApp(c.w, engine.newClient(), point);
  c.doomed = doomed;
  return app;
}

const ALL_SINKS = (c: Case) => Object.values(c.w.sinks);

/** Waits (on the real clock: it is the sinks' own) until every request a sink got has been answered. */
async function answered(c: Case): Promise<void> {
  const pending = () => ALL_SINKS(c).some((s) => s!.attempts.some((a) => a.status === undefined));
  for (let i = 0; i < 500 && pending(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
}

// ---- the rows ------------------------------------------------------------------------------------

const hssRows: Row[] = [
  {
    layer: 'HSS',
    fault: '503 once (retried within the poll)',
    arrange: (c) => c.w.emulator.injectFault({ kind: 'status', status: 503 }),
    first: 'succeeds',
    check: (c, polls) => {
      expect(polls[0]!.summary).toMatchObject({ alertsNew: 6, scopesFailed: [] });
      expect(c.w.emulator.requests[0]!.status).toBe(503);
    },
  },
  {
    layer: 'HSS',
    fault: '503 for a whole poll (the scope fails, the next poll alerts)',
    arrange: (c) => c.w.emulator.injectFault({ kind: 'status', status: 503 }, Infinity),
    first: 'succeeds',
    check: (_c, polls) => {
      expect(polls[0]!.summary).toMatchObject({ alertsNew: 0 });
      expect(polls[0]!.summary!.scopesFailed).toHaveLength(1);
      expect(polls[1]!.summary).toMatchObject({ alertsNew: 6, scopesFailed: [] });
    },
  },
  {
    layer: 'HSS',
    fault: '500 once',
    arrange: (c) => c.w.emulator.injectFault({ kind: 'status', status: 500 }),
    first: 'succeeds',
    check: (_c, polls) => expect(polls[0]!.summary).toMatchObject({ alertsNew: 6, scopesFailed: [] }),
  },
  {
    layer: 'HSS',
    fault: '429 APIGW.0308 with Retry-After: 20 (waited as asked)',
    arrange: (c) =>
      c.w.emulator.injectFault({
        kind: 'status',
        status: 429,
        headers: { 'Retry-After': '20' },
        body: { error_code: 'APIGW.0308', error_msg: 'The throttling threshold has been reached' },
      }),
    first: 'succeeds',
    check: (c, polls) => {
      const [throttled, next] = c.w.emulator.requests;
      expect(next!.at - throttled!.at).toBeGreaterThanOrEqual(20_000);
      expect(polls[0]!.summary).toMatchObject({ alertsNew: 6, hssThrottled: 1 });
    },
  },
  {
    layer: 'HSS',
    fault: 'another tool on the same user: every call of a poll throttled (429, Retry-After: 20)',
    arrange: (c) =>
      c.w.emulator.injectFault(
        {
          kind: 'status',
          status: 429,
          headers: { 'Retry-After': '20' },
          body: { error_code: 'APIGW.0308', error_msg: 'The throttling threshold has been reached' },
        },
        Infinity,
      ),
    first: 'succeeds',
    check: (c, polls) => {
      expect(polls[0]!.summary!.hssThrottled).toBeGreaterThan(0);
      // Held back as told: no two calls of the throttled poll less than 20 s apart.
      const at = c.w.emulator.requests.filter((r) => r.status === 429).map((r) => r.at);
      expect(
        at
          .slice(1)
          .map((t, i) => t - at[i]!)
          .filter((gap) => gap < 20_000),
      ).toEqual([]);
    },
  },
  {
    layer: 'HSS',
    fault: 'connection reset once',
    arrange: (c) => c.w.emulator.injectFault({ kind: 'reset' }),
    first: 'succeeds',
    check: (_c, polls) => expect(polls[0]!.summary).toMatchObject({ alertsNew: 6, scopesFailed: [] }),
  },
  {
    layer: 'HSS',
    fault: 'a call that hangs past the 3 s timeout',
    arrange: (c) => c.w.emulator.injectFault({ kind: 'hang' }),
    first: 'succeeds',
    check: (_c, polls) => expect(polls[0]!.summary).toMatchObject({ alertsNew: 6, scopesFailed: [] }),
  },
  {
    layer: 'HSS',
    fault: 'malformed JSON in a 200 (that call is not retried: its list is read again later)',
    arrange: (c) =>
      c.w.emulator.injectFault({ kind: 'raw', body: '{"total_num": 6, "data_list": [{"host_id": "h' }),
    first: 'succeeds',
    check: (c) => {
      const [bad] = c.w.emulator.requests;
      const again = c.w.emulator.requests.filter(
        (r) => r.query.status === bad!.query.status && r.query.offset === bad!.query.offset,
      );
      expect(again.length).toBeGreaterThan(1);
      expect(c.log.lines.some((l) => /not JSON/i.test(renderLine(l)))).toBe(true);
    },
  },
  {
    layer: 'HSS',
    fault: 'an HTML error page with 502',
    arrange: (c) =>
      c.w.emulator.injectFault({
        kind: 'raw',
        status: 502,
        body: '<html><body>502 Bad Gateway</body></html>',
        contentType: 'text/html',
      }),
    first: 'succeeds',
  },
  {
    layer: 'HSS',
    fault: '401 APIGW.0301 once (the credential is not used again this poll)',
    arrange: (c) =>
      c.w.emulator.injectFault({
        kind: 'status',
        status: 401,
        body: { error_code: 'APIGW.0301', error_msg: 'Incorrect IAM authentication information' },
      }),
    first: 'succeeds',
    check: (_c, polls) => {
      expect(polls[0]!.summary!.scopesFailed).toEqual([expect.objectContaining({ auth: true })]);
      expect(polls[1]!.summary).toMatchObject({ alertsNew: 6 });
    },
  },
  {
    layer: 'HSS',
    fault: 'a page with unreadable records among readable ones',
    arrange: (c) =>
      c.w.emulator.injectFault({
        kind: 'mutate',
        fn: (body) => {
          (body.data_list as unknown[]).push(
            {},
            null,
            42,
            'text',
            { host_id: '', backup_name: 'b', started_at: '2026-11-27T11:00:00Z', status: 'failed' },
            { host_id: 'no-start', backup_name: 'b', status: 'failed' },
          );
          return body;
        },
      }),
    first: 'succeeds',
    check: (_c, polls) =>
      expect(polls[0]!.summary).toMatchObject({ alertsNew: 6, recordsRejected: 6, scopesFailed: [] }),
  },
  {
    layer: 'HSS',
    fault: 'total_num 8 lower than the rows',
    seed: 'paging',
    sinks: PAGING_SINKS,
    world: { emulator: { totalNum: { kind: 'lower', by: 8 } } },
    first: 'succeeds',
    check: (c) => expect(hssAsked(c.w, 'failed', 10).length).toBeGreaterThanOrEqual(1),
  },
  {
    layer: 'HSS',
    fault: 'total_num capped at 10',
    seed: 'paging',
    sinks: PAGING_SINKS,
    world: { emulator: { totalNum: { kind: 'capped', max: 10 } } },
    first: 'succeeds',
  },
  {
    layer: 'HSS',
    fault: 'the list ordered oldest first',
    seed: 'paging',
    sinks: PAGING_SINKS,
    world: { emulator: { order: 'oldest-first' } },
    first: 'succeeds',
  },
  {
    layer: 'HSS',
    fault: 'the list in no order at all',
    seed: 'paging',
    sinks: PAGING_SINKS,
    world: { emulator: { order: 'as-given' } },
    arrange: (c) => {
      // A fixed shuffle: HSS documents no order, so none may be assumed.
      const t = c.w.tasks;
      for (let i = t.length - 1; i > 0; i--) {
        const j = (i * 7 + 3) % (i + 1);
        [t[i], t[j]] = [t[j]!, t[i]!];
      }
    },
    first: 'succeeds',
  },
  {
    layer: 'HSS',
    fault: '5 calls a minute shared by six alert lists (three scopes), one of them longer than a page',
    seed: 'paging',
    sinks: PAGING_SINKS,
    world: {
      scopes: [PROJECT, 'project-b', 'project-c'].map((projectId) => ({
        projectId,
        region: 'cn-north-4',
        enterpriseProjectId: '0',
        credential: 'default',
      })),
    },
    polls: 8,
    first: 'succeeds',
    check: (c) => expect(hssAsked(c.w, 'failed', 0).length).toBeLessThan(c.w.emulator.requests.length),
  },
  {
    layer: 'HSS',
    fault: 'two failures inserted at the head between pages',
    seed: 'paging',
    sinks: PAGING_SINKS,
    arrange: (c) => {
      c.w.emulator.beforePage = ({ query }) => {
        if (query.status !== 'failed' || query.offset !== '10' || c.added.length > 0) return;
        c.added.push(task('host-n00', 'failed', T0 - 2 * MIN), task('host-n01', 'failed', T0 - 3 * MIN));
        c.w.tasks.push(...c.added);
      };
    },
    first: 'succeeds',
  },
  {
    layer: 'HSS',
    fault: 'a record of the first page removed (retried) before the second page',
    seed: 'paging',
    sinks: PAGING_SINKS,
    arrange: (c) => {
      let done = false;
      c.w.emulator.beforePage = ({ query }) => {
        if (query.status !== 'failed' || query.offset !== '10' || done) return;
        done = true;
        // The newest failure is retried: it leaves the failed list and every later record moves up one.
        const newest = c.w.tasks.find((t) => t.host_name === 'host-p00')!;
        newest.status = 'running';
      };
    },
    first: 'succeeds',
  },
];

const dynamoRows: Row[] = [
  {
    layer: 'DynamoDB',
    fault: 'ThrottlingException on every BatchWriteItem of a poll (the SDK gives up; the poll fails)',
    arrange: (c) => proxied(c, (op) => (op === 'BatchWriteItem' ? throttled() : undefined)),
    first: 'fails',
    check: (_c, polls) => expect(deepText(polls[0]!.error)).toMatch(/BatchWriteItem.*Throttling/),
  },
  {
    layer: 'DynamoDB',
    fault: 'ProvisionedThroughputExceededException on every Query of a poll',
    arrange: (c) =>
      proxied(c, (op) =>
        op === 'Query'
          ? dynamoError(
              'ProvisionedThroughputExceededException',
              400,
              'The level of configured provisioned throughput for the table was exceeded.',
            )
          : undefined,
      ),
    first: 'fails',
  },
  {
    layer: 'DynamoDB',
    fault: 'BatchWriteItem processes two items a request (the rest unprocessed)',
    arrange: (c) => proxied(c, (op, input) => processOnly(op, input, c.w.tableName, 2)),
    first: 'succeeds',
  },
  {
    layer: 'DynamoDB',
    fault: 'BatchGetItem returns two keys a request (the rest unprocessed)',
    arrange: (c) =>
      proxied(c, (op, input) =>
        op === 'BatchGetItem' ? processOnly(op, input, c.w.tableName, 2) : undefined,
      ),
    first: 'succeeds',
  },
  {
    layer: 'DynamoDB',
    fault: 'the conditional put of an alert fails: another poll recorded it first',
    arrange: (c) => {
      const rival = engine.newClient();
      return proxied(
        c,
        before(
          c,
          rival,
          (op, input) => op === 'PutItem' && keyOf(input).sk.startsWith('M#'),
          (input) =>
            // The rival records the very same message.
            new PutItemCommand(input as never),
        ),
      );
    },
    first: 'succeeds',
    check: (_c, polls) => expect(polls[0]!.summary).toMatchObject({ alertsNew: 5 }),
  },
  {
    layer: 'DynamoDB',
    fault: 'a conditional digest write fails: another poll wrote that shard first',
    arrange: (c) => {
      const rival = engine.newClient();
      const digestShard = (op: string, input: Json) =>
        op === 'PutItem' && keyOf(input).pk.includes('#S#') && keyOf(input).sk.startsWith('D#');
      return proxied(
        c,
        before(
          c,
          rival,
          digestShard,
          (input) =>
            // The rival's shard: empty, one version ahead of what this poll read.
            new PutItemCommand({
              TableName: c.w.tableName,
              Item: { ...(input.Item as Record<string, AttributeValue>), e: { B: new Uint8Array() } },
            }),
        ),
      );
    },
    first: 'succeeds',
    check: (c) => expect(c.proxy!.operations).toContain('GetItem'),
  },
  {
    layer: 'DynamoDB',
    fault: 'the conditional lease write fails: a run that then died holds the lease',
    arrange: (c) => {
      const rival = engine.newClient();
      const lease = (op: string, input: Json) => op === 'UpdateItem' && keyOf(input).sk === 'L#deliver';
      return proxied(
        c,
        before(
          c,
          rival,
          lease,
          (input) =>
            new UpdateItemCommand({
              TableName: c.w.tableName,
              Key: (input as { Key: Record<string, AttributeValue> }).Key,
              UpdateExpression: 'SET #owner = :owner, #until = :until',
              ExpressionAttributeNames: { '#owner': 'owner', '#until': 'until' },
              ExpressionAttributeValues: {
                ':owner': { S: 'rival' },
                ':until': { N: String(c.w.clock() + PERIOD_MS) },
              },
            }),
        ),
      );
    },
    first: 'succeeds',
    check: (_c, polls) => expect(polls[0]!.summary!.delivery).toMatchObject({ leaseBusy: true, sent: 0 }),
  },
  {
    layer: 'DynamoDB',
    fault: "a delivery's outcome write (UpdateItem on the outbox) fails after its 2xx",
    arrange: (c) => {
      // Every attempt (the SDK's own retries too) to record the first outcome, for one message.
      let target: string | undefined;
      return proxied(c, (op, input) => {
        if (op !== 'UpdateItem' || !('#mine' in names(input))) return undefined;
        const key = `${keyOf(input).sk} ${names(input)['#mine']}`;
        target ??= key;
        return key === target ? dynamoError('InternalServerError', 500, 'Internal server error') : undefined;
      });
    },
    first: 'fails',
    window: true,
  },
];

/**
 * A proxy rule under which a rival (another poll, with its own client) writes first, once: on the
 * first request `matches` accepts, `rival` sends `write(input)` and only then is the request let
 * through, so that its condition fails on the engine for real.
 */
function before(
  c: Case,
  rival: ReturnType<typeof engine.newClient>,
  matches: (op: string, input: Json) => boolean,
  write: (input: Json) => PutItemCommand | UpdateItemCommand,
): Rule {
  let raced = false;
  return async (op, input) => {
    if (raced || !matches(op, input)) return undefined;
    raced = true;
    c.hits += 1;
    await rival.send(write(input) as PutItemCommand);
    return undefined;
  };
}

/** Every sink of the row gets `fault` once (sinks named in `only`, when given). */
function everySink(fault: SinkFault, only?: readonly SinkName[]) {
  return (c: Case) => {
    for (const [name, sink] of Object.entries(c.w.sinks))
      if (!only || only.includes(name as SinkName)) sink!.failNext(fault);
  };
}

const GROUP_A: readonly SinkName[] = ['slack', 'teams', 'feishu', 'pagerduty', 'googlechat'];
const GROUP_B: readonly SinkName[] = ['webhook', 'dingtalk', 'wecom', 'smn', 'discord'];

const destinationRows: Row[] = [
  {
    layer: 'destination',
    fault: 'every destination answers 429 with Retry-After: 7 once',
    arrange: everySink({
      kind: 'status',
      status: 429,
      body: 'rate_limited',
      headers: { 'retry-after': '7' },
    }),
    first: 'succeeds',
    check: (c, polls) => {
      expect(polls[0]!.summary!.delivery.retrying).toBeGreaterThan(0);
      for (const sink of ALL_SINKS(c))
        expect(sink!.attempts[1]!.at - sink!.attempts[0]!.at).toBeGreaterThanOrEqual(7_000);
    },
  },
  {
    layer: 'destination',
    fault: 'every destination answers 503 once',
    arrange: everySink({ kind: 'status', status: 503, body: 'unavailable' }),
    first: 'succeeds',
  },
  {
    layer: 'destination',
    fault: 'every destination resets the connection once',
    arrange: everySink({ kind: 'reset' }),
    first: 'succeeds',
  },
  {
    layer: 'destination',
    fault: 'every destination hangs past the 3 s timeout once',
    arrange: everySink({ kind: 'hang' }),
    first: 'succeeds',
  },
  {
    layer: 'destination',
    fault: 'every destination answers 2xx only after the 3 s timeout (delivered, but not known to be)',
    arrange: everySink({ kind: 'delay', ms: TIMEOUT_MS + 1_000 }),
    afterFirst: answered,
    first: 'succeeds',
    // The same window as a crash between a 2xx and its record: the next poll sends it again.
    window: true,
  },
  {
    layer: 'destination',
    fault:
      'vendor throttling codes in 200 bodies (Feishu 11232, DingTalk 130101: muted 10 minutes, WeCom 45009)',
    polls: 13,
    arrange: (c) => {
      c.w.sinks.feishu!.failNext({ kind: 'vendor', code: 11232 });
      c.w.sinks.dingtalk!.failNext({ kind: 'vendor', code: 130101 });
      c.w.sinks.wecom!.failNext({ kind: 'vendor', code: 45009 });
    },
    first: 'succeeds',
    check: (_c, polls) => expect(polls[0]!.summary!.delivery.retrying).toBeGreaterThanOrEqual(3 * 6),
  },
  {
    layer: 'destination',
    fault: 'vendor refusal codes in 200 bodies (Feishu 19021, DingTalk 310000, WeCom 93000)',
    arrange: (c) => {
      c.w.sinks.feishu!.failNext({ kind: 'vendor', code: 19021 });
      c.w.sinks.dingtalk!.failNext({ kind: 'vendor', code: 310000 });
      c.w.sinks.wecom!.failNext({ kind: 'vendor', code: 93000 });
    },
    first: 'succeeds',
    permanent: ['feishu', 'dingtalk', 'wecom'],
  },
  {
    layer: 'destination',
    fault: `410 Gone from ${GROUP_A.join(', ')}`,
    arrange: everySink({ kind: 'status', status: 410, body: 'gone' }, GROUP_A),
    first: 'succeeds',
    permanent: GROUP_A,
  },
  {
    layer: 'destination',
    fault: `410 Gone from ${GROUP_B.join(', ')}`,
    arrange: everySink({ kind: 'status', status: 410, body: 'gone' }, GROUP_B),
    first: 'succeeds',
    permanent: GROUP_B,
  },
  {
    layer: 'destination',
    fault: 'Slack answers 404 no_service',
    arrange: (c) => c.w.sinks.slack!.failNext({ kind: 'vendor', code: 404 }),
    first: 'succeeds',
    permanent: ['slack'],
    check: (_c, polls) => expect(polls[0]!.summary!.delivery.destinationsFailing).toEqual(['slack']),
  },
];

const crashRows: Row[] = [
  {
    layer: 'crash',
    fault: 'dies before reading the second page of the failed list',
    seed: 'paging',
    sinks: PAGING_SINKS,
    arrange: (c) => dying(c, { beforePage: 2, label: 'between pages' }),
    first: 'dies',
  },
  {
    layer: 'crash',
    fault: 'dies once the first alert is recorded in the outbox, before the digest is written',
    arrange: (c) =>
      dying(c, {
        dynamo: 'after',
        match: (s) => s.command === 'PutItemCommand' && keyOf(s.input).sk.startsWith('M#'),
        label: 'after enqueue',
      }),
    first: 'dies',
  },
  {
    layer: 'crash',
    fault: 'dies before the first digest write (every alert recorded)',
    arrange: (c) =>
      dying(c, {
        dynamo: 'before',
        match: (s) =>
          s.command === 'PutItemCommand' &&
          keyOf(s.input).pk.includes('#S#') &&
          keyOf(s.input).sk.startsWith('D#'),
        label: 'before the digest write',
      }),
    first: 'dies',
  },
  {
    layer: 'crash',
    fault: 'dies between the digest write and the scope state write (cursors not saved)',
    arrange: (c) =>
      dying(c, {
        dynamo: 'before',
        match: (s) => s.command === 'PutItemCommand' && keyOf(s.input).sk === 'C#state',
        label: 'before the state write',
      }),
    first: 'dies',
  },
  {
    layer: 'crash',
    fault: 'dies with everything recorded, at its first index query (before it delivers)',
    arrange: (c) =>
      dying(c, {
        dynamo: 'before',
        match: (s) => s.command === 'QueryCommand' && s.input.IndexName !== undefined,
        label: 'before delivering',
      }),
    first: 'dies',
  },
  {
    layer: 'crash',
    fault: 'dies after a 2xx, before its outcome is recorded',
    arrange: (c) => dying(c, { afterOk: 1, label: 'after a 2xx' }),
    first: 'dies',
    window: true,
  },
  {
    layer: 'crash',
    fault: 'dies holding the delivery lease, before sending',
    arrange: (c) =>
      dying(c, {
        dynamo: 'after',
        match: (s) => s.command === 'UpdateItemCommand' && keyOf(s.input).sk === 'L#deliver',
        label: 'holding the lease',
      }),
    first: 'dies',
  },
  {
    layer: 'crash',
    fault: 'dies holding the delivery lease, after the third recorded outcome',
    arrange: (c) =>
      dying(c, {
        dynamo: 'after',
        match: (s) => s.command === 'UpdateItemCommand' && '#mine' in names(s.input),
        nth: 3,
        label: 'mid-delivery',
      }),
    first: 'dies',
    window: true,
  },
];

const ROWS: Row[] = [...hssRows, ...dynamoRows, ...destinationRows, ...crashRows];

// ---- one row ---------------------------------------------------------------------------------------

describe(`fault matrix on ${engine.name}: one fault per row, polls until it clears`, () => {
  it.each(ROWS.map((row) => [`${row.layer}: ${row.fault}`, row] as const))('%s', async (_name, row) => {
    // Prepare
    const log = recordingLog();
    const w = await openWorld({
      engine,
      log,
      sinks: [...(row.sinks ?? SINK_NAMES)],
      pageSize: 10,
      periodSeconds: PERIOD_MS / 1000,
      // Real time, the only kind a hung peer costs: long enough that a busy machine never times out
      // a healthy loopback answer (which would be a delivery the outbox cannot know it made).
      hssTimeoutMs: TIMEOUT_MS,
      deliveryTimeoutMs: TIMEOUT_MS,
      ...row.world,
    });
    const c: Case = { w, log, added: [], hits: 0 };
    const polls: Poll[] = [];
    try {
      const seeded =
        row.seed === 'paging'
          ? [...alerting(12, 'host-p', false), task('host-t00', 'timeout', T0 - 50 * MIN)]
          : alerting(6, 'host-a');
      w.tasks.push(...seeded, ...quietTasks());
      // Taken now: a row may later move a seeded task out of its alert status (it was alerted by then).
      const seededAlerts = seeded.map((t) => expectedAlert(t));
      const expectedNow = () => [...seededAlerts, ...c.added.map((t) => expectedAlert(t))];
      const first = (await row.arrange?.(c)) ?? w.app;

      // Act: scheduled polls, the first on the row's app; the fault clears after it.
      const windows: Array<Awaited<ReturnType<typeof unrecorded>>> = [];
      const last = row.polls ?? POLLS;
      for (let i = 0; i <= last; i++) {
        const start = w.clock();
        polls.push(
          await w.tick(i === 0 ? first : w.app).then(
            (summary) => ({ summary }),
            (error: unknown) => ({ error }),
          ),
        );
        w.time.now = start + PERIOD_MS;
        if (i === 0) {
          await row.afterFirst?.(c);
          w.emulator.clearFaults();
          for (const sink of ALL_SINKS(c)) sink!.clearFaults();
          if (c.proxy) c.proxy.rule = undefined;
        }
        if (i < last) windows.push(await unrecorded(w, expectedNow()));
      }
      const expected = expectedNow();

      // Assess: the first poll went the way the fault predicts, every later one succeeded.
      const outcome = polls[0]!.error === undefined ? 'succeeds' : c.doomed?.dead ? 'dies' : 'fails';
      expect({ first: outcome, error: deepText(polls[0]!.error).slice(0, 400) }).toMatchObject({
        first: row.first,
      });
      expect(
        polls
          .slice(1)
          .filter((p) => p.error !== undefined)
          .map((p) => deepText(p.error).slice(0, 400)),
      ).toEqual([]);

      // A DynamoDB fault that never struck would prove nothing.
      expect({ proxied: c.proxy !== undefined, struck: c.hits > 0 }).toEqual({
        proxied: c.proxy !== undefined,
        struck: c.proxy !== undefined,
      });

      // Assess: 2xx answers went unrecorded only where the row allows it (its first poll), and then
      // in at most one request per destination (the one in flight).
      const window = windows[0]!.pairs;
      expect(windows.slice(1).flatMap((u) => [...u.pairs])).toEqual([]);
      expect([...window].filter(() => !row.window)).toEqual([]);
      expect(Object.entries(windows[0]!.requests).filter(([, n]) => n > 1)).toEqual([]);

      // Assess: every alert reached every destination once (or was reported, where it refused for good).
      const records = new Map(
        (await w.app.outbox.get(expected.map((e) => e.id))).map((r) => [r.message.id, r]),
      );
      const problems: string[] = [];
      const tally = { expected: 0, delivered: 0, lost: 0, duplicated: 0, allowed: 0, permanent: 0 };
      for (const [name, sink] of Object.entries(w.sinks)) {
        for (const e of expected) {
          const count = deliveriesOf(sink!, e.host);
          const state = records.get(e.id)?.deliveries[name]?.state;
          if (row.permanent?.includes(name as SinkName) && state === 'failed') {
            tally.permanent += 1;
            if (count > 0) problems.push(`${e.host} reached ${name}, which refused it for good`);
            continue;
          }
          const allowed = window.has(`${name}\n${e.id}`) ? 1 : 0;
          tally.expected += 1;
          tally.delivered += count > 0 ? 1 : 0;
          tally.lost += count === 0 ? 1 : 0;
          tally.duplicated += Math.max(0, count - 1);
          tally.allowed += allowed;
          if (count === 0) problems.push(`${e.host} (${e.status}) never reached ${name} (outbox: ${state})`);
          if (count > 1 + allowed) problems.push(`${e.host} reached ${name} ${count} times`);
          if (state !== 'done') problems.push(`${e.host} to ${name} recorded ${state}`);
        }
        for (const quiet of quietTasks()) {
          if (deliveriesOf(sink!, quiet.host_name) > 0)
            problems.push(`quiet ${quiet.host_name} was sent to ${name}`);
        }
      }
      // A destination gone for good is named to every other destination.
      for (const gone of row.permanent ?? []) {
        const type = displayName({ id: gone, type: gone });
        for (const [name, sink] of Object.entries(w.sinks)) {
          if (name === gone) continue;
          const told = sink!.received.some(
            (r) => r.body.includes('failing permanently') && r.body.includes(type),
          );
          if (!told) problems.push(`${name} was not told that ${gone} is failing`);
        }
      }
      Object.entries(tally).forEach(([k, v]) => (totals[k as keyof typeof tally] += v));
      totals.rows += 1;
      expect(problems).toEqual([]);
      // A refused request marks what it carried as failed for good (a digest: all, PagerDuty: one).
      for (const gone of row.permanent ?? []) {
        expect({
          gone,
          failed: expected.some((e) => records.get(e.id)?.deliveries[gone]?.state === 'failed'),
        }).toEqual({ gone, failed: true });
      }

      // Assess: the last poll had nothing left to do.
      expect(polls[last]!.summary).toMatchObject({
        alertsNew: 0,
        delivery: expect.objectContaining({ requests: 0 }),
      });

      // Assess: one line per log entry, and no secret in any log line, error, summary or message sent.
      expect(log.lines.filter((l) => l.message.includes('\n')).map((l) => l.message)).toEqual([]);
      const texts = [
        ...log.lines.map((l, i) => ({ where: `log line ${i}`, text: renderLine(l) })),
        ...polls.map((p, i) => ({ where: `poll ${i}`, text: deepText(p.error ?? p.summary) })),
        ...sentTexts(w),
      ];
      const found = leaks(texts, worldSecrets(w));
      totals.texts += texts.length;
      totals.leaks += found.length;
      expect(found).toEqual([]);

      await row.check?.(c, polls);
    } finally {
      await c.proxy?.close();
      await w.close();
    }
  });
});
