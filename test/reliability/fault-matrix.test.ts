// One table of faults, each injected once into a real local server (HSS emulator, Slack or webhook
// sink), into DynamoDB (dynalite behind an aws-sdk-client-mock stub), or as a process crash between
// two steps of the poll. Every row runs scheduled polls until the fault has cleared and then checks
// the product's promises: every alert reached every destination exactly once (one repeat allowed
// only where the crash window makes it unavoidable, and none where the destination is gone for
// good, which must be reported instead), a final poll sends nothing and writes nothing, and the
// log has a clear line naming the fault.
import {
  DynamoDBServiceException,
  ProvisionedThroughputExceededException,
  PutItemCommand,
  ThrottlingException,
  type PutItemCommandInput,
  type UpdateItemCommandInput,
} from '@aws-sdk/client-dynamodb';
import type { EmulatedTask } from '../../local/hss-emulator';
import { createStateStore } from '../../lib/state/store';
import { startLocalDynamo, type LocalDynamo } from '../../local/dynamo';
import {
  ALERT_STATUSES,
  crashingProcess,
  deadPort,
  deliveriesByMarker,
  faultyDynamo,
  linesMatching,
  MIN,
  NET_TIMEOUT_MS,
  openWorld,
  record,
  refOf,
  renderLine,
  T0,
  TICK_MS,
  WRITE_COMMANDS,
  type AppOverrides,
  type CrashPoint,
  type Tick,
  type World,
} from './support';

let dynamo: LocalDynamo;

beforeAll(async () => {
  dynamo = await startLocalDynamo();
});

const totals = {
  rows: 0,
  alertsExpected: 0,
  delivered: 0,
  lost: 0,
  duplicated: 0,
  duplicatesAllowed: 0,
  reportedPermanent: 0,
};

afterAll(async () => {
  await dynamo?.close();
  console.log(
    [
      'fault matrix:',
      `rows run ${totals.rows}`,
      `alert deliveries expected ${totals.alertsExpected}`,
      `delivered ${totals.delivered}`,
      `lost ${totals.lost}`,
      `duplicated ${totals.duplicated} (allowed ${totals.duplicatesAllowed})`,
      `permanent failures reported ${totals.reportedPermanent}`,
    ].join(' | '),
  );
  expect(totals.lost).toBe(0);
  expect(totals.duplicated).toBeLessThanOrEqual(totals.duplicatesAllowed);
});

type Destination = 'slack' | 'webhook';
const DESTINATIONS: Destination[] = ['slack', 'webhook'];

/** Per-row hooks get this: what the row staged, for its own checks and clean-up. */
interface RowContext {
  settle?: () => Promise<unknown>;
  cleanup?: () => void;
  crashed?: () => boolean;
}

interface Row {
  layer: 'HSS' | 'DynamoDB' | 'Slack' | 'webhook' | 'process';
  fault: string;
  /** Tasks in an alert status at the start (default 6: more than Slack's digest threshold of 5). */
  alerting?: number;
  /** Stages the fault on the servers before the first tick. */
  inject?: (w: World, ctx: RowContext) => void;
  /** The first tick's process (a crashing store, a stubbed DynamoDB client, a dead URL...). */
  first?: (w: World, ctx: RowContext) => AppOverrides | Promise<AppOverrides>;
  /** The clear log line naming the fault; `null` = nothing is wrong, so nothing above info is logged. */
  log: RegExp | null;
  firstTick: 'fails' | 'succeeds';
  /** HSS requests the first tick may make (auth failures and bad bodies are never retried). */
  firstTickHssRequests?: number;
  /** Extra deliveries allowed per alert and destination (the crash window between send and record). */
  repeatsAllowed?: 0 | 1;
  /** Extra deliveries allowed in the whole row (default: no bound beyond `repeatsAllowed` per pair). */
  maxRepeats?: number;
  /** A destination that answers "gone for good": not retried, so 0 deliveries by design, each one reported. */
  permanent?: Destination;
  /** Ticks to run before the final one (default 3). */
  ticks?: number;
  after?: (w: World, ticks: Tick[]) => void | Promise<void>;
}

/** A mutate fault that edits the answer to one query of the alert-status list, once. */
function onFailedList(
  w: World,
  offset: string,
  edit: (body: { total_num: unknown; data_list: unknown }) => void,
) {
  let done = false;
  w.hss.injectFault(
    {
      kind: 'mutate',
      fn: (body) => {
        const q = w.hss.requests.at(-1)!.query;
        if (!done && q.status === 'failed' && q.offset === offset) {
          done = true;
          edit(body);
        }
        return body;
      },
    },
    Infinity,
  );
}

/** The gap in virtual ms between the first HSS answer with `status` and the request after it. */
function gapAfterHss(w: World, status: number): number {
  const i = w.hss.requests.findIndex((r) => r.status === status);
  return w.hss.requests[i + 1]!.at - w.hss.requests[i]!.at;
}

function gapAfterSink(w: World, sink: 'slack' | 'webhook'): number {
  const attempts = w[sink].attempts;
  return attempts[1]!.at - attempts[0]!.at;
}

function throttled(): ThrottlingException {
  return new ThrottlingException({
    message: 'Throughput exceeds the current capacity of your table or index.',
    $metadata: { httpStatusCode: 400 },
  });
}

const GATEWAY_THROTTLED = {
  error_code: 'APIGW.0308',
  error_msg: 'The throttling threshold has been reached: policy user over ratelimit,limit:5,time:1 minute',
};

const sinkRows = (d: Destination): Row[] => {
  const Name = d === 'slack' ? 'Slack' : 'webhook';
  const failure = new RegExp(`${d === 'slack' ? 'Slack' : 'Webhook'} delivery failed`);
  return [
    {
      layer: Name,
      fault: '429 with Retry-After: 3',
      inject: (w) =>
        w[d].failNext({ kind: 'status', status: 429, body: 'rate_limited', headers: { 'retry-after': '3' } }),
      // Slack waits as asked within the poll; the webhook leaves it to the next poll, at least 3 s on.
      log:
        d === 'slack' ? /Slack rate limited the webhook; waiting as asked.*3000/ : /HTTP 429.*rate limited/,
      firstTick: 'succeeds',
      after: (w) => expect(gapAfterSink(w, d)).toBeGreaterThanOrEqual(3000),
    },
    {
      layer: Name,
      fault: '500',
      inject: (w) => w[d].failNext({ kind: 'status', status: 500, body: 'internal_error' }),
      log: new RegExp(`${failure.source}.*HTTP 500`),
      firstTick: 'succeeds',
    },
    {
      layer: Name,
      fault: 'timeout (the receiver never answers)',
      inject: (w) => w[d].failNext({ kind: 'hang' }),
      log: new RegExp(`${failure.source}.*timed out after ${NET_TIMEOUT_MS} ms`),
      firstTick: 'succeeds',
    },
    {
      layer: Name,
      fault: 'connection refused',
      first: async (w) => {
        const url = new URL(w[d].url);
        url.port = String(await deadPort());
        return d === 'slack' ? { slackUrl: url.href } : { webhookUrl: url.href };
      },
      log: new RegExp(`${failure.source}.*connection refused`),
      firstTick: 'succeeds',
    },
    {
      layer: Name,
      fault: '404 no_service (permanent)',
      inject: (w) => w[d].failNext({ kind: 'status', status: 404, body: 'no_service' }),
      log: /Delivery failed for good.*HTTP 404 no_service/,
      firstTick: 'succeeds',
      permanent: d,
    },
    {
      layer: Name,
      fault: '410 channel_is_archived (permanent)',
      inject: (w) => w[d].failNext({ kind: 'status', status: 410, body: 'channel_is_archived' }),
      log: /Delivery failed for good.*HTTP 410 channel_is_archived/,
      firstTick: 'succeeds',
      permanent: d,
    },
    d === 'slack'
      ? {
          layer: Name,
          fault: '200 whose body is not "ok" (unconfirmed: sent again)',
          inject: (w) =>
            w.slack.failNext({ kind: 'status', status: 200, body: '<html>captive portal</html>' }),
          log: /Slack delivery failed.*HTTP 200 with body .* delivery unconfirmed/,
          firstTick: 'succeeds',
          // Slack itself never answers 200 without "ok": whoever did may have shown it, or not.
          repeatsAllowed: 1,
        }
      : {
          layer: Name,
          fault: '200 whose body is not "ok" (any 2xx is success for a webhook)',
          inject: (w) => w.webhook.failNext({ kind: 'status', status: 200, body: 'not ok' }),
          log: null,
          firstTick: 'succeeds',
        },
  ];
};

const hssRows: Row[] = [
  {
    layer: 'HSS',
    fault: '500 on every attempt of the first poll',
    inject: (w) => w.hss.injectFault({ kind: 'status', status: 500 }, 4),
    log: /Poll failed: HssServerError: .*HTTP 500 EMULATOR\.FAULT.*\(4 attempt\(s\)\)/,
    firstTick: 'fails',
    firstTickHssRequests: 4,
  },
  {
    layer: 'HSS',
    fault: '503 twice (retried within the poll)',
    inject: (w) => w.hss.injectFault({ kind: 'status', status: 503 }, 2),
    log: /HSS server error; retrying.*"status":503/,
    firstTick: 'succeeds',
  },
  {
    layer: 'HSS',
    fault: 'connection reset',
    inject: (w) => w.hss.injectFault({ kind: 'reset' }),
    log: /HSS call failed; retrying.*ECONNRESET/,
    firstTick: 'succeeds',
  },
  {
    layer: 'HSS',
    fault: 'hung response',
    inject: (w) => w.hss.injectFault({ kind: 'hang' }),
    log: new RegExp(`HSS call failed; retrying.*timed out after ${NET_TIMEOUT_MS} ms`),
    firstTick: 'succeeds',
  },
  {
    layer: 'HSS',
    fault: '429 with Retry-After: 7',
    inject: (w) =>
      w.hss.injectFault({
        kind: 'status',
        status: 429,
        body: GATEWAY_THROTTLED,
        headers: { 'Retry-After': '7' },
      }),
    log: /HSS throttled the call; backing off.*APIGW\.0308.*"retryAfterMs":7000/,
    firstTick: 'succeeds',
    after: (w) => expect(gapAfterHss(w, 429)).toBeGreaterThanOrEqual(7000),
  },
  {
    layer: 'HSS',
    fault: '429 without Retry-After',
    inject: (w) => w.hss.injectFault({ kind: 'status', status: 429, body: {} }),
    log: /HSS throttled the call; backing off.*"status":429/,
    firstTick: 'succeeds',
    // Throttle backoff starts at 12 s with equal jitter: never less than 6 s.
    after: (w) => expect(gapAfterHss(w, 429)).toBeGreaterThanOrEqual(6000),
  },
  {
    layer: 'HSS',
    fault: 'APIGW.0308 on a 400 answer',
    inject: (w) => w.hss.injectFault({ kind: 'status', status: 400, body: GATEWAY_THROTTLED }),
    log: /HSS throttled the call; backing off.*APIGW\.0308/,
    firstTick: 'succeeds',
    after: (w) => expect(gapAfterHss(w, 400)).toBeGreaterThanOrEqual(6000),
  },
  {
    layer: 'HSS',
    fault: 'APIGW.0301 (never retried: five in a row lock the AK)',
    inject: (w) =>
      w.hss.injectFault({
        kind: 'status',
        status: 401,
        body: {
          error_code: 'APIGW.0301',
          error_msg: 'Incorrect IAM authentication information: verify aksk signature fail',
        },
      }),
    log: /Poll failed: HssAuthError: .*APIGW\.0301.*not retried/,
    firstTick: 'fails',
    firstTickHssRequests: 1,
  },
  {
    layer: 'HSS',
    fault: 'non-JSON body',
    inject: (w) =>
      w.hss.injectFault({
        kind: 'raw',
        body: '<html><body>502 Bad Gateway</body></html>',
        contentType: 'text/html',
      }),
    log: /Poll failed: HssResponseError: .*not JSON \(starts "<html>/,
    firstTick: 'fails',
    firstTickHssRequests: 1,
  },
  {
    layer: 'HSS',
    fault: 'data_list missing',
    inject: (w) => onFailedList(w, '0', (body) => void delete (body as { data_list?: unknown }).data_list),
    log: /Poll failed: HssResponseError: HSS page has no data_list but total_num is 4/,
    firstTick: 'fails',
  },
  {
    layer: 'HSS',
    fault: 'a page shorter than promised',
    alerting: 13,
    inject: (w) => onFailedList(w, '0', (body) => void (body.data_list as unknown[]).pop()),
    log: /HSS list shifted while it was paged.*"shortPages":1/,
    firstTick: 'succeeds',
  },
  {
    layer: 'HSS',
    fault: 'an empty page before total_num is reached',
    alerting: 13,
    inject: (w) => onFailedList(w, '10', (body) => void (body.data_list = [])),
    log: /Poll failed: HssPagingError: .*offset 10 was empty but total_num is 13/,
    firstTick: 'fails',
  },
  {
    layer: 'HSS',
    fault: 'total_num that grows during paging',
    alerting: 13,
    inject: (w) =>
      onFailedList(w, '0', () => {
        // Three restores fail while the list is being paged: they go to the head (newest first).
        for (let i = 0; i < 3; i++) w.hss.tasks.push(record(`host-n0${i}`, 'failed', T0 - MIN + i * 1000));
      }),
    log: /HSS list shifted while it was paged.*"duplicates":3/,
    firstTick: 'succeeds',
  },
  {
    layer: 'HSS',
    fault: 'duplicate records across pages',
    alerting: 13,
    inject: (w) => {
      // Unstable order between pages: page 2 repeats page 1's last record in place of its own first.
      let last: unknown;
      w.hss.injectFault(
        {
          kind: 'mutate',
          fn: (body) => {
            const q = w.hss.requests.at(-1)!.query;
            const list = body.data_list as unknown[];
            if (q.status === 'failed' && q.offset === '0' && last === undefined) last = list[list.length - 1];
            else if (q.status === 'failed' && q.offset === '10' && last !== 'used') {
              list[0] = last;
              last = 'used';
            }
            return body;
          },
        },
        Infinity,
      );
    },
    log: /HSS list shifted while it was paged.*"duplicates":1/,
    firstTick: 'succeeds',
  },
];

const dynamoRows: Row[] = [
  {
    layer: 'DynamoDB',
    fault: 'ProvisionedThroughputExceededException reading the working set',
    first: (_w, ctx) => {
      const stub = faultyDynamo(dynamo.newClient(), (op, _input, n) => {
        if (op === 'Query' && n === 1) {
          throw new ProvisionedThroughputExceededException({
            message: 'The level of configured provisioned throughput for the table was exceeded.',
            $metadata: { httpStatusCode: 400 },
          });
        }
      });
      ctx.cleanup = stub.restore;
      return { dynamo: stub.client };
    },
    log: /Poll failed: StateError: DynamoDB Query on table \S+ failed: ProvisionedThroughputExceededException/,
    firstTick: 'fails',
  },
  {
    layer: 'DynamoDB',
    fault: 'ThrottlingException writing task state after the alerts were recorded',
    first: (_w, ctx) => {
      const stub = faultyDynamo(dynamo.newClient(), (op, _input, n) => {
        if (op === 'BatchWriteItem' && n === 1) throw throttled();
      });
      ctx.cleanup = stub.restore;
      return { dynamo: stub.client };
    },
    log: /Poll failed: StateError: DynamoDB BatchWriteItem on table \S+ failed: ThrottlingException/,
    firstTick: 'fails',
  },
  {
    layer: 'DynamoDB',
    fault: 'service unavailable recording the second alert',
    first: (_w, ctx) => {
      const stub = faultyDynamo(dynamo.newClient(), (op, _input, n) => {
        if (op === 'PutItem' && n === 2) {
          throw new DynamoDBServiceException({
            name: 'ServiceUnavailable',
            $fault: 'server',
            message: 'Service Unavailable',
            $metadata: { httpStatusCode: 503 },
          });
        }
      });
      ctx.cleanup = stub.restore;
      return { dynamo: stub.client };
    },
    log: /Poll failed: StateError: DynamoDB PutItem on table \S+ failed: ServiceUnavailable/,
    firstTick: 'fails',
  },
  {
    layer: 'DynamoDB',
    fault: 'conditional write of an alert loses the race to another poll',
    first: (_w, ctx) => {
      const real = dynamo.newClient();
      const stub = faultyDynamo(real, async (op, input, n) => {
        // The rival poll records the same alert first; dynalite then refuses ours on its condition.
        if (op === 'PutItem' && n === 1) await real.send(new PutItemCommand(input as PutItemCommandInput));
      });
      ctx.cleanup = stub.restore;
      return { dynamo: stub.client };
    },
    log: /Alert already recorded by another poll/,
    firstTick: 'succeeds',
  },
  {
    layer: 'DynamoDB',
    fault: 'conditional write of the delivery lease loses the race (the rival then dies)',
    first: (w, ctx) => {
      const real = dynamo.newClient();
      const rival = createStateStore({ client: real, tableName: w.tableName });
      let raced = false;
      const stub = faultyDynamo(real, async (op, input) => {
        const update = input as UpdateItemCommandInput;
        if (op === 'UpdateItem' && !raced && update.Key?.sk?.S === 'L#deliver') {
          raced = true;
          await rival.acquireLease(w.scope, 'rival-poll', w.time.now(), 3 * MIN);
        }
      });
      ctx.cleanup = stub.restore;
      return { dynamo: stub.client };
    },
    log: /Another poll holds the delivery lease/,
    firstTick: 'succeeds',
  },
  {
    layer: 'DynamoDB',
    fault: 'ThrottlingException recording a delivery after it was sent',
    first: (_w, ctx) => {
      let thrown = false;
      const stub = faultyDynamo(dynamo.newClient(), (op, input) => {
        const update = input as UpdateItemCommandInput;
        // Slack's first record (its digest answers before the webhook's six posts do), so that the
        // webhook's records of the same alerts are saved after it, from a copy that says Slack is done.
        if (op === 'UpdateItem' && !thrown && update.ExpressionAttributeNames?.['#dl'] === 'dl_slack') {
          thrown = true;
          throw throttled();
        }
      });
      ctx.cleanup = stub.restore;
      return { dynamo: stub.client };
    },
    log: /Poll failed: StateError: DynamoDB UpdateItem on table \S+ failed: ThrottlingException/,
    firstTick: 'fails',
    // Sent but not recorded: the same window as a crash between sending and recording, for the one
    // record whose write failed; every other outcome is still recorded.
    repeatsAllowed: 1,
    maxRepeats: 1,
  },
];

const CRASH_POINTS: Array<[string, CrashPoint, 0 | 1]> = [
  ['after fetching, before reading state', { method: 'readWorkingSet', when: 'before', nth: 1 }, 0],
  ['after reading the working set', { method: 'readWorkingSet', when: 'after', nth: 1 }, 0],
  ['after reading stored tasks, before recording alerts', { method: 'getTasks', when: 'after', nth: 1 }, 0],
  ['between recording two alerts', { method: 'putAlert', when: 'after', nth: 1 }, 0],
  ['after recording alerts, before writing task state', { method: 'putTasks', when: 'before', nth: 1 }, 0],
  [
    'after writing task state, before taking the lease',
    { method: 'acquireLease', when: 'before', nth: 1 },
    0,
  ],
  ['holding the lease, before re-reading the alerts', { method: 'acquireLease', when: 'after', nth: 1 }, 0],
  ['after re-reading the alerts, before sending', { method: 'getAlerts', when: 'after', nth: 1 }, 0],
  ['after a destination was sent to, before recording it', { method: 'deliver', when: 'after', nth: 1 }, 1],
  ['between recording two deliveries', { method: 'saveDelivery', when: 'after', nth: 1 }, 1],
  [
    'after recording deliveries, before releasing the lease',
    { method: 'releaseLease', when: 'before', nth: 1 },
    0,
  ],
  ['after releasing the lease', { method: 'releaseLease', when: 'after', nth: 1 }, 0],
];

const crashRows: Row[] = CRASH_POINTS.map(([where, point, repeats]) => ({
  layer: 'process',
  fault: `crash ${where}`,
  first: (_w, ctx) => {
    const proc = crashingProcess(point, where);
    ctx.settle = proc.settle;
    ctx.crashed = proc.crashed;
    return { wrapStore: proc.wrapStore, wrapNotifier: proc.wrapNotifier };
  },
  log: new RegExp(`Poll failed: ProcessCrash: injected process crash ${where}`),
  firstTick: 'fails',
  repeatsAllowed: repeats,
}));

const ROWS: Row[] = [...hssRows, ...dynamoRows, ...sinkRows('slack'), ...sinkRows('webhook'), ...crashRows];

function seed(w: World, alerting: number): EmulatedTask[] {
  const pad = (i: number) => String(i).padStart(2, '0');
  const tasks = Array.from({ length: alerting }, (_, i) =>
    // Paging rows need more failed tasks than one page (10) holds; the others mix in timeouts.
    record(`host-a${pad(i)}`, alerting <= 10 && i % 3 === 2 ? 'timeout' : 'failed', T0 - 30 * MIN - i * MIN),
  );
  // Quiet tasks: swept from the in-flight lists and recorded, never alerted.
  tasks.push(
    record('host-q00', 'running', T0 - 10 * MIN),
    record('host-q01', 'waiting', T0 - 11 * MIN),
    record('host-q02', 'success', T0 - 12 * MIN),
  );
  w.hss.tasks.push(...tasks);
  return tasks;
}

describe('fault matrix: one fault per row, polls until it clears', () => {
  it.each(ROWS.map((row) => [`${row.layer} ${row.fault}`, row] as const))('%s', async (_name, row) => {
    // Prepare
    const w = await openWorld(dynamo);
    const ctx: RowContext = {};
    try {
      seed(w, row.alerting ?? 6);
      row.inject?.(w, ctx);

      // Act: scheduled ticks, the first one in the faulty process.
      const ticks: Tick[] = [];
      let firstTickHss = 0;
      for (let i = 0; i < (row.ticks ?? 3); i++) {
        const before = w.hss.requests.length;
        const app = w.app(i === 0 && row.first ? await row.first(w, ctx) : {});
        ticks.push(await w.tick(app));
        await ctx.settle?.();
        if (i === 0) {
          firstTickHss = w.hss.requests.length - before;
          ctx.cleanup?.();
          ctx.cleanup = undefined;
        }
        w.time.advance(TICK_MS);
      }
      const sinkAttempts = { slack: w.slack.attempts.length, webhook: w.webhook.attempts.length };
      const writesBefore = countWrites(w);
      const final = await w.tick();

      // Assess: the first tick went the way the fault predicts.
      const [first] = ticks;
      if (row.firstTick === 'fails') expect(first!.error).toBeDefined();
      else expect(first!.error).toBeUndefined();
      if (ctx.crashed) expect(ctx.crashed()).toBe(true);
      if (row.firstTickHssRequests !== undefined) expect(firstTickHss).toBe(row.firstTickHssRequests);

      // Assess: one clear line names the fault; no line spans several lines.
      const lines = w.log.lines.map(renderLine);
      if (row.log) expect(linesMatching(w.log, row.log).length).toBeGreaterThanOrEqual(1);
      else
        expect(w.log.lines.filter((l) => l.level === 'warn' || l.level === 'error').map(renderLine)).toEqual(
          [],
        );
      expect(w.log.lines.filter((l) => l.message.includes('\n'))).toEqual([]);

      // Assess: exactly once per destination (or reported, for a destination gone for good).
      const alertTasks = w.hss.tasks.filter((t) => ALERT_STATUSES.includes(t.status as never));
      const quiet = w.hss.tasks.filter((t) => !ALERT_STATUSES.includes(t.status as never));
      const stored = await w.alerts(alertTasks.map(refOf));
      expect(stored).toHaveLength(alertTasks.length);
      const allowed = row.repeatsAllowed ?? 0;
      const markers = alertTasks.map((t) => t.host_name);
      const counts = Object.fromEntries(DESTINATIONS.map((d) => [d, deliveriesByMarker(w[d], markers)]));
      // Tally first, so the printed totals include a row that fails below.
      let repeats = 0;
      totals.rows += 1;
      for (const d of DESTINATIONS) {
        if (row.permanent === d) continue;
        for (const count of counts[d]!.values()) {
          totals.alertsExpected += 1;
          totals.delivered += count >= 1 ? 1 : 0;
          totals.lost += count === 0 ? 1 : 0;
          totals.duplicated += Math.max(0, count - 1);
          totals.duplicatesAllowed += allowed;
          repeats += Math.max(0, count - 1);
        }
      }
      for (const d of DESTINATIONS) {
        const quietCounts = deliveriesByMarker(
          w[d],
          quiet.map((t) => t.host_name),
        );
        expect([...quietCounts.values()]).toEqual(quiet.map(() => 0));
        const states = stored.map((s) => s.deliveries[d]?.state);
        if (row.permanent === d) {
          // Gone for good: one attempt, never retried, so nothing arrives; every alert is reported instead.
          expect(w[d].attempts).toHaveLength(1);
          expect([...counts[d]!.values()]).toEqual(markers.map(() => 0));
          const reported = lines.filter(
            (l) => /^ERROR Delivery failed for good/.test(l) && l.toLowerCase().includes(d),
          );
          expect(reported).toHaveLength(alertTasks.length);
          expect(states).toEqual(alertTasks.map(() => 'failed'));
          expect(sumFailed(ticks)).toBe(alertTasks.length);
          totals.reportedPermanent += alertTasks.length;
          continue;
        }
        expect(states).toEqual(alertTasks.map(() => 'done'));
        for (const [marker, count] of counts[d]!) {
          expect({ marker, destination: d, delivered: count >= 1 }).toEqual({
            marker,
            destination: d,
            delivered: true,
          });
          expect(count).toBeLessThanOrEqual(1 + allowed);
        }
      }
      if (row.maxRepeats !== undefined) expect(repeats).toBeLessThanOrEqual(row.maxRepeats);

      // Assess: state is consistent, so a final poll sends nothing and writes nothing.
      expect(final.error).toBeUndefined();
      expect(final.summary).toMatchObject({
        alertsNew: 0,
        alertsSent: 0,
        transitions: 0,
        deliveriesPending: 0,
      });
      expect(countWrites(w) - writesBefore).toBe(0);
      expect({ slack: w.slack.attempts.length, webhook: w.webhook.attempts.length }).toEqual(sinkAttempts);
      const workingSet = await w.workingSet();
      expect(workingSet.pending).toEqual([]);
      expect(workingSet.health).toBeUndefined();

      await row.after?.(w, ticks);
    } finally {
      ctx.cleanup?.();
      await w.close();
    }
  });
});

function countWrites(w: World): number {
  return WRITE_COMMANDS.reduce((sum, name) => sum + (w.commands.get(name) ?? 0), 0);
}

function sumFailed(ticks: Tick[]): number {
  return ticks.reduce((sum, t) => sum + (t.summary?.deliveriesFailed ?? 0), 0);
}
