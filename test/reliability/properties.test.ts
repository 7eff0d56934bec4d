// Bad input, by property: whatever HSS sends and whatever text a task carries, the parser and the
// poll either process it or fail with a clear HssError (writing nothing), Slack payloads never carry
// an unescaped control sequence nor break Block Kit limits, and deciding is idempotent.
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import fc from 'fast-check';
import type { Alert } from '../../lib/diff/alert';
import { decide } from '../../lib/diff/decide';
import { HssError } from '../../lib/hss/errors';
import { parsePage } from '../../lib/hss/parse';
import { poll } from '../../lib/poll';
import {
  createSlackNotifier,
  slackDigest,
  slackMessage,
  slackNotice,
  SLACK_LIMITS,
} from '../../lib/notify/slack';
import type { StoredTask } from '../../lib/state/store';
import {
  TASK_KEY_MAX_LENGTH,
  TASK_STATUSES,
  taskKey,
  type KnownStatus,
  type Scope,
  type Task,
  type TaskStatus,
} from '../../lib/task';
import { startLocalDynamo, type LocalDynamo } from '../../local/dynamo';
import { blockProblem, startSlackSink } from '../../local/sinks';
import { openWorld, T0, virtualTime } from './support';

let dynamo: LocalDynamo;

beforeAll(async () => {
  dynamo = await startLocalDynamo();
});
afterAll(async () => {
  await dynamo.close();
});

// ---- arbitraries ----------------------------------------------------------------------------------

/** Any UTF-16 code unit, lone surrogates included: JSON can carry them as `\ud800` escapes. */
const codeUnit = fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c));

/** Strings as hostile as text gets: ASCII, any Unicode, raw code units, and Slack/markup syntax. */
const anyText = fc.oneof(
  // Lone surrogates: valid as JSON escapes, invalid as Unicode text (encodeURIComponent throws on them).
  fc.constantFrom('\ud800', 'a\udc00b', 'x\udbff', '\udfff\ud800'),
  fc.string({ maxLength: 30 }),
  fc.string({ unit: 'binary', maxLength: 30 }),
  fc.string({ unit: codeUnit, maxLength: 30 }),
  fc
    .array(
      fc.constantFrom(
        '<!channel>',
        '<!here>',
        '<@U123>',
        '<#C123>',
        '<http://evil.example|click>',
        '<https://x.y>',
        '<mailto:a@b.c>',
        '&lt;',
        '&',
        '<',
        '>',
        '|',
        '*',
        '`',
        '\n',
        ' ',
        'a',
        '\ud83d\ude00',
      ),
      { maxLength: 12 },
    )
    .map((parts) => parts.join('')),
  fc.string({ minLength: 1000, maxLength: 4000 }),
);

const isoTime = fc
  .integer({ min: T0 - 20 * 3_600_000, max: T0 - 60_000 })
  .map((ms) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z'));

/** A field's documented value most of the time, anything at all otherwise. */
const field = <T>(valid: fc.Arbitrary<T>) =>
  fc.oneof({ weight: 3, arbitrary: valid }, anyText, fc.jsonValue({ maxDepth: 2 }), fc.constant(null));

const statusText = fc.constantFrom(...TASK_STATUSES, 'FAILED', ' timeout ', 'Failed', 'cancelled', '');

const apiRecord = fc.record(
  {
    host_id: field(fc.string({ minLength: 1, maxLength: 12 })),
    host_name: field(anyText),
    backup_name: field(anyText),
    process: field(fc.integer({ min: 0, max: 100 })),
    status: field(statusText),
    started_at: field(isoTime),
    ended_at: field(isoTime),
    updated_at: field(isoTime),
    error_info: fc.oneof(
      fc.record({ code: field(anyText), message: field(anyText) }),
      field(fc.constant('')),
    ),
  },
  { requiredKeys: ['host_id', 'status', 'started_at', 'backup_name'] },
);

/** A page body: mostly page-shaped with arbitrary fields, sometimes any JSON at all. */
const apiPage = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record(
      {
        total_num: fc.oneof({ weight: 3, arbitrary: fc.nat(25) }, fc.jsonValue({ maxDepth: 1 })),
        data_list: fc.oneof(
          { weight: 4, arbitrary: fc.array(apiRecord, { maxLength: 6 }) },
          fc.jsonValue({ maxDepth: 2 }),
        ),
      },
      { requiredKeys: [] },
    ),
  },
  fc.jsonValue({ maxDepth: 3 }),
);

/** A well-formed page whose every text field is arbitrary (total_num matches, so it is one page). */
const textPage = fc
  .array(
    fc.record({
      host_id: anyText.filter((t) => t.length > 0),
      host_name: anyText,
      backup_name: anyText,
      process: fc.integer({ min: 0, max: 100 }),
      status: fc.oneof(statusText, anyText),
      started_at: fc.oneof(
        isoTime,
        anyText.filter((t) => t.length > 0),
      ),
      ended_at: fc.oneof(isoTime, anyText),
      error_info: fc.record({ code: anyText, message: anyText }),
    }),
    { maxLength: 6 },
  )
  .map((list) => ({ total_num: list.length, data_list: list }));

const anyPage = fc.oneof(textPage, apiPage);

// ---- the parser and the poll ---------------------------------------------------------------------

describe('an API page of arbitrary content', () => {
  it('is parsed or rejected with an HssError naming the problem, never a crash', () => {
    fc.assert(
      fc.property(anyPage, (body) => {
        let page: ReturnType<typeof parsePage> | undefined;
        let failure: unknown;
        try {
          page = parsePage(body, { offset: 0 });
        } catch (err) {
          failure = err;
        }
        if (page === undefined) {
          expect(failure).toBeInstanceOf(HssError);
          expect((failure as Error).message).toMatch(/^HSS page/);
          expect((failure as Error).message).not.toMatch(/\n/);
          return;
        }
        const list = (body as { data_list?: unknown }).data_list;
        expect(page.tasks.length).toBe(Array.isArray(list) ? list.length : 0);
        // Keys go into DynamoDB sort keys (1024 bytes at most) and through encodeURIComponent.
        for (const t of page.tasks) expect(taskKey(t).length).toBeLessThanOrEqual(TASK_KEY_MAX_LENGTH);
      }),
      { numRuns: 400 },
    );
  });

  it('is processed by the poll or fails it with an HssError that writes nothing, and a second poll of it alerts nothing', async () => {
    await fc.assert(
      fc.asyncProperty(anyPage, async (body) => {
        // Prepare: every HSS answer of this world is the arbitrary page.
        const w = await openWorld(dynamo, { emulatorRate: 0 });
        try {
          w.hss.injectFault({ kind: 'raw', body: JSON.stringify(body) }, Infinity);
          const app = w.app({ hss: { maxPages: 3 }, slack: { digestThreshold: 3 } });
          // Act
          let failure: unknown;
          try {
            await poll(app.deps, app.options);
          } catch (err) {
            failure = err;
          }
          // Assess
          const items = await scan(w.tableName);
          if (failure !== undefined) {
            expect(failure).toBeInstanceOf(HssError);
            expect((failure as Error).message).not.toMatch(/\n/);
            // A window that was not read whole is not recorded at all.
            expect(items).toBe(0);
          } else {
            // Seen twice, nothing new is alerted or sent. (Records of statuses the query did not ask
            // for, which every list here returns, are written again: only asked-for ones are read back.)
            const again = await poll(w.app().deps, app.options);
            expect(again).toMatchObject({ alertsNew: 0, alertsSent: 0, deliveriesPending: 0 });
          }
          for (const attempt of w.slack.attempts) {
            const payload = attempt.json as { blocks?: unknown };
            expect(blockProblem(payload.blocks)).toBeUndefined();
          }
          expect(w.slack.received).toHaveLength(w.slack.attempts.length);
        } finally {
          await w.close();
        }
      }),
      // Each run starts servers: report the first counterexample rather than shrink for minutes.
      { numRuns: 30, endOnFailure: true },
    );
  });
});

async function scan(tableName: string): Promise<number> {
  const out = await dynamo.client.send(new ScanCommand({ TableName: tableName, Select: 'COUNT' }));
  return out.Count ?? 0;
}

// ---- Slack payloads ------------------------------------------------------------------------------

const scopeArb: fc.Arbitrary<Scope> = fc.record({
  projectId: anyText,
  enterpriseProjectId: anyText,
  region: fc.oneof(fc.constant('ap-southeast-1'), fc.constant('eu-west-101'), anyText),
});

const alertArb: fc.Arbitrary<Alert> = fc
  .record({
    scope: scopeArb,
    hostId: anyText,
    hostName: anyText,
    backupName: anyText,
    status: fc.constantFrom<TaskStatus>('failed', 'timeout', 'unknown'),
    rawStatus: anyText,
    previous: fc.option(fc.constantFrom<TaskStatus>('running', 'waiting', 'failed', 'unknown'), {
      nil: undefined,
    }),
    errorCode: fc.option(anyText, { nil: undefined }),
    errorMessage: fc.option(anyText, { nil: undefined }),
    startedAt: fc.oneof(isoTime, anyText),
    endedAt: fc.option(fc.oneof(isoTime, anyText), { nil: undefined }),
    process: fc.option(fc.integer({ min: 0, max: 100 }), { nil: undefined }),
    id: fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: 32, maxLength: 32 }),
  })
  .map((a) => ({
    id: a.id,
    scope: a.scope,
    task: {
      hostId: a.hostId,
      hostName: a.hostName,
      backupName: a.backupName,
      status: a.status,
      rawStatus: a.rawStatus,
      startedAt: a.startedAt,
      ...(a.endedAt === undefined ? {} : { endedAt: a.endedAt }),
      ...(a.process === undefined ? {} : { process: a.process }),
      ...(a.errorCode === undefined ? {} : { errorCode: a.errorCode }),
      ...(a.errorMessage === undefined ? {} : { errorMessage: a.errorMessage }),
    },
    status: a.status,
    ...(a.previous === undefined ? {} : { previousStatus: a.previous }),
    reason: 'moved' as const,
    detectedAt: T0,
  }));

/** Our own console link is the one `<…>` we write; anything else with `<` is unescaped input. */
const OUR_LINK = /<https:\/\/console(\.eu)?\.huaweicloud\.com\/[^|<>\s]*\|[^<>]*>/g;

function strings(value: unknown, out: string[] = []): string[] {
  if (typeof value === 'string') out.push(value);
  else if (Array.isArray(value)) value.forEach((v) => strings(v, out));
  else if (typeof value === 'object' && value !== null) Object.values(value).forEach((v) => strings(v, out));
  return out;
}

function expectSafe(payload: { text: string; blocks?: unknown }): void {
  for (const text of strings(payload)) {
    const rest = text.replace(OUR_LINK, '');
    expect(rest).not.toMatch(/<[!@#]|<http/i);
    // Stronger: escaping leaves no `<` at all, so no other link form (<mailto:…>) gets through either.
    expect(rest).not.toContain('<');
  }
  expect(blockProblem(payload.blocks)).toBeUndefined();
  expect(payload.text.length).toBeGreaterThan(0);
  expect(payload.text.length).toBeLessThanOrEqual(SLACK_LIMITS.text);
}

describe('Slack payloads built from arbitrary task text', () => {
  it('never carry an unescaped <!, <@, <# or <http, and stay within Block Kit limits (message)', () => {
    fc.assert(
      fc.property(alertArb, (alert) => {
        expectSafe(slackMessage(alert));
      }),
      { numRuns: 300 },
    );
  });

  it('never carry an unescaped <!, <@, <# or <http, and stay within Block Kit limits (digest)', () => {
    fc.assert(
      fc.property(fc.array(alertArb, { minLength: 1, maxLength: 25 }), (alerts) => {
        expectSafe(slackDigest(alerts));
      }),
      { numRuns: 120 },
    );
  });

  it('never carry an unescaped control sequence in a monitoring notice whose detail is API text', () => {
    fc.assert(
      fc.property(scopeArb, anyText, (scope, detail) => {
        expectSafe(
          slackNotice({
            kind: 'monitoring-down',
            id: 'n1',
            scope,
            summary: 'HSS restore alerting is NOT working',
            detail,
            at: T0,
          }),
        );
      }),
      { numRuns: 150 },
    );
  });

  it('reach a real Slack webhook escaped and accepted, as messages and as digests', async () => {
    const time = virtualTime();
    const sink = await startSlackSink({ clock: time.now });
    try {
      const notifier = createSlackNotifier({
        url: sink.url,
        clock: time.now,
        sleep: time.sleep,
        digestThreshold: 2,
      });
      await fc.assert(
        fc.asyncProperty(fc.array(alertArb, { minLength: 1, maxLength: 4 }), async (alerts) => {
          const before = sink.attempts.length;
          const outcomes = await notifier.deliver(alerts);
          expect(outcomes.every((o) => o.kind === 'ok')).toBe(true);
          for (const attempt of sink.attempts.slice(before)) expectSafe(attempt.json as { text: string });
        }),
        { numRuns: 25 },
      );
      expect(sink.received).toHaveLength(sink.attempts.length);
    } finally {
      await sink.close();
    }
  });
});

// ---- deciding ------------------------------------------------------------------------------------

const SCOPE: Scope = { projectId: 'p', enterpriseProjectId: '0' };
const ALERTING: readonly KnownStatus[] = ['failed', 'timeout'];

const taskArb: fc.Arbitrary<Task> = fc
  .record({
    host: fc.constantFrom('a', 'b', 'c', 'd'),
    backup: fc.constantFrom('bk1', 'bk2'),
    started: fc.constantFrom(
      new Date(T0 - 3_600_000).toISOString(),
      new Date(T0 - 86_000_000).toISOString(),
      'not a date',
    ),
    raw: statusText,
  })
  .map(({ host, backup, started, raw }) => {
    const s = raw.trim().toLowerCase();
    const status: TaskStatus = (TASK_STATUSES as readonly string[]).includes(s)
      ? (s as KnownStatus)
      : 'unknown';
    return {
      hostId: host,
      hostName: `ecs-${host}`,
      backupName: backup,
      status,
      rawStatus: raw,
      startedAt: started,
    };
  });

describe('deciding', () => {
  it('is idempotent: the same page seen twice produces no new alert and no write', () => {
    fc.assert(
      fc.property(
        fc.array(taskArb, { maxLength: 12 }),
        fc.array(taskArb, { maxLength: 12 }),
        fc.boolean(),
        fc.subarray([...TASK_STATUSES]),
        (earlier, page, baseline, complete) => {
          const input = (fetched: Task[], stored: Map<string, StoredTask>) => ({
            scope: SCOPE,
            now: T0,
            lastDays: 1,
            alertStatuses: ALERTING,
            baseline,
            fetched,
            stored,
            completeStatuses: complete,
            edgeMarginMs: 600_000,
          });
          // Some history first, then the page twice.
          const stored = new Map<string, StoredTask>();
          const apply = (writes: StoredTask[]) => writes.forEach((w) => stored.set(w.key, w));
          apply(decide(input(earlier, stored)).writes);
          apply(decide(input(page, stored)).writes);
          const again = decide(input(page, stored));
          expect(again.alerts).toEqual([]);
          expect(again.writes).toEqual([]);
        },
      ),
      { numRuns: 400 },
    );
  });
});
