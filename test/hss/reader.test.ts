import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { inspect } from 'node:util';
import type { HssAuth } from '../../lib/huaweicloud/credentials';
import { ConfigError } from '../../lib/errors';
import { createMemoryBudget } from '../../lib/budget/memory';
import {
  HssAuthError,
  HssError,
  HssNetworkError,
  HssRequestError,
  HssResponseError,
  HssServerError,
  HssThrottledError,
  HssValidationError,
} from '../../lib/hss/errors';
import type { HssTarget, ListQuery, PageResult } from '../../lib/hss/pages';
import type { CallBudget } from '../../lib/budget/port';
import { FIELD_LIMITS } from '../../lib/hss/parse';
import { createPageReader, type PageReaderSettings } from '../../lib/hss/reader';
import { signature } from '../../lib/huaweicloud/signer';
import { parseAuthorization } from '../../local/sdk-signature';
import { parseRetryAfter, type HssCall, type Transport } from '../../lib/hss/transport';
import type { Log } from '../../lib/log';
import {
  formatTime,
  makeTasks,
  startHssEmulator,
  type EmulatedTask,
  type HssEmulator,
  type HssEmulatorOptions,
  type TimeFormat,
} from '../../local/hss-emulator';
import { virtualTime } from '../budget/virtual-time';

const T0 = Date.UTC(2026, 10, 29, 12, 0, 0);
const MIN = 60_000;
const PROJECT = 'demo-project';
const ROUTE = `/v5/${PROJECT}/ransomware/backup/operation-logs`;
const AKSK = { kind: 'aksk', ak: 'EMULATORAK', sk: 'EMULATORSK' } as const;
const TARGET: HssTarget = { projectId: PROJECT, enterpriseProjectId: '0', credential: 'default' };
const QUERY: ListQuery = { lastDays: 1 };
/** Far enough that the deadline never matters unless a test says so. */
const LATER = T0 + 3_600_000;

type LogLine = { level: string; message: string; extra?: Record<string, unknown> };
function recordingLog(): Log & { lines: LogLine[] } {
  const lines: LogLine[] = [];
  const at = (level: string) => (message: string, extra?: Record<string, unknown>) =>
    void lines.push({ level, message, extra });
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

/** The error `promise` rejects with, failing the test when it resolves. */
async function rejectionOf(promise: Promise<unknown>): Promise<HssError> {
  try {
    await promise;
  } catch (err) {
    return err as HssError;
  }
  throw new Error('expected a rejection');
}

function page(result: PageResult) {
  if (result.kind !== 'page') throw new Error(`expected a page, got ${result.kind}`);
  return result.page;
}

const emulators: HssEmulator[] = [];
afterEach(async () => {
  await Promise.all(emulators.splice(0).map((e) => e.close()));
});

async function setup(
  emulatorOptions: Omit<HssEmulatorOptions, 'now'> = {},
  readerOptions: Partial<PageReaderSettings> & { rate?: number } = {},
) {
  const time = virtualTime(T0);
  const emulator = await startHssEmulator({ now: time.clock, ...emulatorOptions });
  emulators.push(emulator);
  const log = recordingLog();
  const budget = createMemoryBudget({
    ratePerMinute: readerOptions.rate ?? 5,
    clock: time.clock,
    sleep: time.sleep,
  });
  const reader = createPageReader({
    credentials: { default: AKSK },
    endpoint: emulator.url,
    budget,
    clock: time.clock,
    sleep: time.sleep,
    log,
    random: () => 0.5,
    ...readerOptions,
  });
  return { time, emulator, reader, log, budget };
}

describe('PageReader: pages', () => {
  it('fetches one page and passes every filter as the documented query parameters', async () => {
    // Prepare
    const tasks = makeTasks(30, { now: T0, status: (i) => (i % 3 === 0 ? 'failed' : 'success') });
    for (const t of tasks) t.enterprise_project_id = 'ep-1';
    const { emulator, reader } = await setup({ tasks });
    const target = { ...TARGET, enterpriseProjectId: 'all_granted_eps' };
    // Act
    const result = page(
      await reader.fetchPage(
        target,
        { lastDays: 3, status: 'failed', resourceName: 'ecs-demo-1' },
        0,
        LATER,
        10,
      ),
    );
    // Assess
    expect(emulator.requests[0]!.query).toEqual({
      offset: '0',
      limit: '10',
      last_days: '3',
      enterprise_project_id: 'all_granted_eps',
      status: 'failed',
      resource_name: 'ecs-demo-1',
    });
    // Fuzzy match: ecs-demo-12, -15, -18 ... contain ecs-demo-1 too.
    expect(result.tasks.map((t) => t.hostName)).toEqual(['ecs-demo-12', 'ecs-demo-15', 'ecs-demo-18']);
    expect(result).toMatchObject({ rows: 3, totalNum: 3, rejected: [] });
    expect(reader.stats).toEqual({ calls: 1, throttled: 0, retries: 0 });
  });

  it('asks for the configured page size by default and reads the page at the offset given', async () => {
    // Prepare
    const { emulator, reader } = await setup({ tasks: makeTasks(250, { now: T0 }) }, { pageSize: 100 });
    // Act
    const second = page(await reader.fetchPage(TARGET, QUERY, 200, LATER));
    // Assess
    expect(emulator.requests[0]!.query).toMatchObject({ offset: '200', limit: '100' });
    expect(second).toMatchObject({ rows: 50, totalNum: 250 });
    expect(second.tasks[0]!.backupName).toBe('autobk_200');
  });

  it('reads a page of 60 MB of text in one call: every long text clipped on arrival, the record beside it whole', async () => {
    // Prepare: two records whose every text field is 2 million characters (some 12 MB of JSON each,
    // once escaped), and an ordinary failure between them.
    const [first, ordinary, last] = makeTasks(3, { now: T0, status: () => 'failed' });
    const huge = (ch: string) => ({
      host_name: ch.repeat(2_000_000),
      backup_name: ch.repeat(2_000_000),
      error_info: { code: ch.repeat(2_000_000), message: ch.repeat(2_000_000) },
    });
    const { reader } = await setup({
      tasks: [{ ...first!, ...huge('\u0000') }, ordinary!, { ...last!, ...huge('"') }],
    });
    // Act
    const result = page(await reader.fetchPage(TARGET, QUERY, 0, LATER));
    // Assess
    expect(reader.stats).toEqual({ calls: 1, throttled: 0, retries: 0 });
    expect(result).toMatchObject({ rows: 3, rejected: [] });
    const byBackup = new Map(result.tasks.map((t) => [t.backupName.slice(0, 12), t]));
    expect(byBackup.get(ordinary!.backup_name.slice(0, 12))).toMatchObject({
      hostName: ordinary!.host_name,
      errorMessage: ordinary!.error_info?.message,
    });
    const clipped = result.tasks.filter((t) => t.hostName.length > 200);
    expect(clipped).toHaveLength(2);
    for (const task of clipped) {
      expect(task.errorMessage).toMatch(/… \[1998\d{3} more characters, #[0-9a-f]{8}\]$/);
      expect(task.hostName.length).toBeLessThanOrEqual(FIELD_LIMITS.hostName);
    }
  });

  it('maps records, accepting updated_at in place of ended_at', async () => {
    // Prepare
    const tasks = makeTasks(2, { now: T0, status: (i) => ['failed', 'running'][i]! });
    const { emulator, reader } = await setup({ tasks });
    emulator.useUpdatedAt = true;
    // Act
    const [failed, running] = page(await reader.fetchPage(TARGET, QUERY, 0, LATER)).tasks;
    // Assess
    expect(failed).toMatchObject({
      hostId: tasks[0]!.host_id,
      hostName: tasks[0]!.host_name,
      backupName: tasks[0]!.backup_name,
      status: 'failed',
      startedAt: tasks[0]!.started_at,
      startedMs: Date.parse(String(tasks[0]!.started_at)),
      endedAt: tasks[0]!.ended_at,
      errorCode: tasks[0]!.error_info!.code,
    });
    expect(running!.endedAt).toBeUndefined();
  });

  it('reads projects with their own credentials from one endpoint, each call signed by its credential', async () => {
    // Prepare
    const { emulator, reader } = await setup(
      {
        projects: ['p-north', 'p-south'],
        credentials: {
          alice: { kind: 'aksk', ak: 'ALICEAK', sk: 'ALICESK' },
          bob: { kind: 'token', token: 'BOB-TOKEN', projects: ['p-south'] },
        },
        tasks: [
          ...makeTasks(3, { now: T0, projectId: 'p-north', seed: 1 }),
          ...makeTasks(2, { now: T0, projectId: 'p-south', seed: 2 }),
        ],
      },
      {
        credentials: {
          alice: { kind: 'aksk', ak: 'ALICEAK', sk: 'ALICESK' },
          bob: { kind: 'token', token: 'BOB-TOKEN' },
        },
      },
    );
    // Act
    const north = page(
      await reader.fetchPage({ ...TARGET, projectId: 'p-north', credential: 'alice' }, QUERY, 0, LATER),
    );
    const south = page(
      await reader.fetchPage({ ...TARGET, projectId: 'p-south', credential: 'bob' }, QUERY, 0, LATER),
    );
    // Assess
    expect([north.rows, south.rows]).toEqual([3, 2]);
    expect(emulator.requests.map((r) => [r.path, r.credential])).toEqual([
      ['/v5/p-north/ransomware/backup/operation-logs', 'alice'],
      ['/v5/p-south/ransomware/backup/operation-logs', 'bob'],
    ]);
  });

  it("sends each target to its region's endpoint unless the reader has an override", async () => {
    // Prepare: a hand-written transport (our own interface) that records where calls go.
    const calls: HssCall[] = [];
    const transport: Transport = {
      async get(call) {
        calls.push(call);
        return { ok: true, json: { total_num: 0, data_list: [] }, details: { status: 200 } };
      },
    };
    const time = virtualTime(T0);
    const reader = createPageReader({
      credentials: { default: AKSK },
      budget: createMemoryBudget({ ratePerMinute: Infinity, clock: time.clock, sleep: time.sleep }),
      clock: time.clock,
      sleep: time.sleep,
      log: recordingLog(),
      random: () => 0.5,
      transport,
    });
    // Act
    await reader.fetchPage({ ...TARGET, region: 'cn-north-4' }, QUERY, 0, LATER);
    await reader.fetchPage({ ...TARGET, region: 'eu-west-101' }, QUERY, 0, LATER);
    const unknown = await rejectionOf(reader.fetchPage({ ...TARGET, region: 'xx-new-1' }, QUERY, 0, LATER));
    const none = await rejectionOf(reader.fetchPage(TARGET, QUERY, 0, LATER));
    // Assess
    expect(calls.map((c) => c.endpoint)).toEqual([
      'https://hss.cn-north-4.myhuaweicloud.com',
      'https://hss.eu-west-101.myhuaweicloud.eu',
    ]);
    expect(unknown).toBeInstanceOf(ConfigError);
    expect(none).toBeInstanceOf(HssValidationError);
    expect(none.message).toMatch(/no region and the reader no endpoint override/);
  });
});

describe('PageReader: signing', () => {
  it('signs so that the emulator accepts it, with the Host it sends (host:port) among the signed headers', async () => {
    // Prepare
    const { emulator, reader } = await setup({ tasks: makeTasks(1, { now: T0 }) });
    // Act
    await reader.fetchPage(TARGET, QUERY, 0, LATER);
    // Assess
    const sent = emulator.requests[0]!;
    const auth = parseAuthorization(sent.headers.authorization!)!;
    expect(sent.status).toBe(200);
    expect(auth.access).toBe('EMULATORAK');
    expect(auth.signedHeaders).toEqual(['host', 'x-project-id', 'x-sdk-date']);
    expect(sent.headers.host).toBe(new URL(emulator.url).host);
    expect(sent.headers['x-project-id']).toBe(PROJECT);
    const query = Object.entries(sent.query);
    const expected = signature(
      { method: 'GET', path: ROUTE, query, headers: sent.headers },
      auth.signedHeaders,
      sent.headers['x-sdk-date']!,
      AKSK.sk,
    );
    expect(auth.signature).toBe(expected);
  });

  it('sends and signs the security token of temporary credentials', async () => {
    const temp = { kind: 'aksk', ak: 'TMPAK', sk: 'TMPSK', securityToken: 'STS-1' } as const;
    const { emulator, reader } = await setup({ auth: temp }, { credentials: { default: temp } });
    await reader.fetchPage(TARGET, QUERY, 0, LATER);
    const sent = emulator.requests[0]!;
    expect(sent.status).toBe(200);
    expect(sent.headers['x-security-token']).toBe('STS-1');
    expect(parseAuthorization(sent.headers.authorization!)!.signedHeaders).toContain('x-security-token');
  });

  it('sends an IAM token in X-Auth-Token and signs nothing', async () => {
    const iam = { kind: 'token', token: 'TOKEN-1' } as const;
    const { emulator, reader } = await setup({ auth: iam }, { credentials: { default: iam } });
    await reader.fetchPage(TARGET, QUERY, 0, LATER);
    const sent = emulator.requests[0]!;
    expect(sent.status).toBe(200);
    expect(sent.headers['x-auth-token']).toBe('TOKEN-1');
    expect(sent.headers.authorization).toBeUndefined();
  });
});

describe('PageReader: failures', () => {
  it('fails at once on a wrong SK, and never calls with that credential again in this run (5 refusals lock the AK)', async () => {
    // Prepare
    const { emulator, reader } = await setup(
      { credentials: { default: AKSK, other: { kind: 'aksk', ak: 'OTHERAK', sk: 'OTHERSK' } } },
      {
        credentials: {
          default: { ...AKSK, sk: 'WRONGSK' },
          other: { kind: 'aksk', ak: 'OTHERAK', sk: 'OTHERSK' },
        },
      },
    );
    // Act
    const first = await rejectionOf(reader.fetchPage(TARGET, QUERY, 0, LATER));
    const again = await rejectionOf(reader.fetchPage(TARGET, { lastDays: 2 }, 0, LATER));
    const other = await reader.fetchPage({ ...TARGET, credential: 'other' }, QUERY, 0, LATER);
    // Assess
    expect(first).toBeInstanceOf(HssAuthError);
    expect(first.message).toMatch(
      /^HSS GET \/v5\/demo-project\/ransomware\/backup\/operation-logs\?offset=0&limit=200&last_days=1&enterprise_project_id=0 refused: HTTP 401 APIGW\.0301 "Incorrect IAM authentication information: verify aksk signature fail" \(request id [0-9a-f]{32}\); check the AK\/SK \(or token\) and the system clock; not retried/,
    );
    expect(again).toBeInstanceOf(HssAuthError);
    expect(again.message).toMatch(/not called again: credential "default" was refused earlier in this run/);
    expect(other.kind).toBe('page');
    expect(emulator.requests.map((r) => r.status)).toEqual([401, 200]);
  });

  it('calls a refused credential again in the next run (a warm container keeps its reader)', async () => {
    // Prepare: one refusal (a transient 401), in a run whose reads end at T0 + 1 min.
    const { emulator, reader, time } = await setup({ tasks: makeTasks(3, { now: T0 }) });
    emulator.injectFault({
      kind: 'status',
      status: 401,
      body: { error_code: 'APIGW.0301', error_msg: 'Incorrect IAM authentication information' },
    });
    const firstRunEnds = T0 + MIN;
    await rejectionOf(reader.fetchPage(TARGET, QUERY, 0, firstRunEnds));
    // Act: the next scheduled run, after the first one's deadline.
    await time.sleep(2 * MIN);
    const next = await reader.fetchPage(TARGET, QUERY, 0, time.clock() + MIN);
    // Assess
    expect(next.kind).toBe('page');
    expect(emulator.requests.map((r) => r.status)).toEqual([401, 200]);
  });

  it('reports a permission refusal (403 HSS.0010) as HssAuthError without blocking the credential for other projects', async () => {
    // Prepare
    const { emulator, reader } = await setup({
      projects: ['p-1', 'p-2'],
      credentials: { default: { ...AKSK, projects: ['p-2'] } },
    });
    // Act
    const refused = await rejectionOf(reader.fetchPage({ ...TARGET, projectId: 'p-1' }, QUERY, 0, LATER));
    const allowed = await reader.fetchPage({ ...TARGET, projectId: 'p-2' }, QUERY, 0, LATER);
    // Assess
    expect(refused).toBeInstanceOf(HssAuthError);
    expect(refused.message).toMatch(/HTTP 403 HSS\.0010 "access denied".*lack permission/);
    expect(allowed.kind).toBe('page');
    expect(emulator.requests.map((r) => r.status)).toEqual([403, 200]);
  });

  it('fails at once on HSS.0001 (invalid parameter) with HssRequestError', async () => {
    const { emulator, reader } = await setup();
    emulator.injectFault({ kind: 'status', status: 400, body: { error_code: 'HSS.0001', error_msg: 'bad' } });
    const err = await rejectionOf(reader.fetchPage(TARGET, QUERY, 0, LATER));
    expect(err).toBeInstanceOf(HssRequestError);
    expect(err).toMatchObject({ status: 400, errorCode: 'HSS.0001', apiMessage: 'bad' });
    expect(err.message).toMatch(/rejected: HTTP 400 HSS\.0001 "bad" \(request id \w+\); not retried$/);
    expect(emulator.requests).toHaveLength(1);
  });

  it('retries a 5xx after a jittered back-off and returns the page', async () => {
    // Prepare
    const { emulator, reader, time } = await setup({ tasks: makeTasks(3, { now: T0 }) });
    emulator.injectFault({ kind: 'status', status: 502 }, 2);
    // Act
    const result = page(await reader.fetchPage(TARGET, QUERY, 0, LATER));
    // Assess
    expect(result.rows).toBe(3);
    expect(time.sleeps).toEqual([750, 1_500]);
    expect(emulator.requests.map((r) => r.status)).toEqual([502, 502, 200]);
    expect(reader.stats).toEqual({ calls: 3, throttled: 0, retries: 2 });
  });

  it('gives up on a persistent 5xx with HssServerError after 4 attempts, naming path, status, code and request id', async () => {
    // Prepare
    const { emulator, reader } = await setup();
    emulator.injectFault(
      { kind: 'status', status: 503, body: { error_code: 'SYS.503', error_msg: 'busy' } },
      Infinity,
    );
    // Act
    const err = await rejectionOf(reader.fetchPage(TARGET, QUERY, 0, LATER));
    // Assess
    expect(err).toBeInstanceOf(HssServerError);
    expect(err.message).toMatch(
      /^HSS GET \/v5\/demo-project\/ransomware\/backup\/operation-logs\?offset=0.* failed: HTTP 503 SYS\.503 "busy" \(request id [0-9a-f]{32}\); 4 attempts; the next poll tries again$/,
    );
    expect(err.retryable).toBe(true);
    expect(emulator.requests).toHaveLength(4);
  });

  it('retries a connection reset, and gives up on repeated resets with HssNetworkError', async () => {
    // Prepare
    const { emulator, reader } = await setup({ tasks: makeTasks(1, { now: T0 }) });
    emulator.injectFault({ kind: 'reset' });
    // Act
    const recovered = await reader.fetchPage(TARGET, QUERY, 0, LATER);
    emulator.injectFault({ kind: 'reset' }, Infinity);
    const err = await rejectionOf(reader.fetchPage(TARGET, QUERY, 0, LATER));
    // Assess
    expect(recovered.kind).toBe('page');
    expect(err).toBeInstanceOf(HssNetworkError);
    expect(err.message).toMatch(
      /failed: (ECONNRESET|ERR_BAD_RESPONSE|socket hang up).* at 127\.0\.0\.1:\d+; 4 attempts/,
    );
  });

  it('bounds a hung exchange by the timeout and reports HssNetworkError', async () => {
    const { emulator, reader } = await setup({}, { timeoutMs: 150 });
    emulator.injectFault({ kind: 'hang' }, Infinity);
    const err = await rejectionOf(reader.fetchPage(TARGET, QUERY, 0, LATER));
    expect(err).toBeInstanceOf(HssNetworkError);
    expect(err.message).toMatch(/timed out after 150 ms/);
  });

  it('fails clearly on a body that is not JSON, and on a page without data_list, with the request id', async () => {
    // Prepare
    const { emulator, reader } = await setup();
    emulator.injectFault({ kind: 'raw', body: '<html>gateway</html>', contentType: 'text/html' });
    emulator.injectFault({ kind: 'mutate', fn: () => ({ total_num: 3 }) });
    // Act
    const html = await rejectionOf(reader.fetchPage(TARGET, QUERY, 0, LATER));
    const shape = await rejectionOf(reader.fetchPage(TARGET, QUERY, 200, LATER));
    // Assess
    expect(html).toBeInstanceOf(HssResponseError);
    expect(html.message).toMatch(
      /answered HTTP 200 with a body that is not JSON \(starts "<html>gateway<\/html>"\) \(request id \w+\); not retried/,
    );
    expect(shape).toBeInstanceOf(HssResponseError);
    expect(shape.message).toMatch(
      /^HSS page: data_list is missing \(expected an array; total_num is 3\) at offset 200 \(HSS GET \/v5\/.*offset=200.* \(request id \w+\)\)$/,
    );
    expect(emulator.requests).toHaveLength(2);
  });

  it('never follows a redirect (it would carry the signed headers elsewhere)', async () => {
    // Prepare: a server that redirects to the emulator.
    const { reader: _unused, emulator, time } = await setup();
    const server = createServer((_req, res) => {
      res.writeHead(302, { Location: `${emulator.url}${ROUTE}` });
      res.end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const reader = createPageReader({
      credentials: { default: AKSK },
      endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      budget: createMemoryBudget({ ratePerMinute: Infinity, clock: time.clock, sleep: time.sleep }),
      clock: time.clock,
      sleep: time.sleep,
      log: recordingLog(),
      random: () => 0.5,
    });
    try {
      // Act
      const err = await rejectionOf(reader.fetchPage(TARGET, QUERY, 0, LATER));
      // Assess
      expect(err).toBeInstanceOf(HssRequestError);
      expect(err.status).toBe(302);
      expect(emulator.requests).toHaveLength(0);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe('PageReader: budget and deadline', () => {
  it('spaces calls to the budget so HSS never throttles: 10 pages at 5 per minute', async () => {
    // Prepare
    const { emulator, reader } = await setup({ tasks: makeTasks(1_000, { now: T0 }) });
    // Act
    for (let offset = 0; offset < 1_000; offset += 100)
      await reader.fetchPage(TARGET, QUERY, offset, LATER, 100);
    // Assess
    expect(emulator.requests.map((r) => r.at - T0)).toEqual([0, 0, 0, 0, 0, MIN, MIN, MIN, MIN, MIN]);
    expect(emulator.requests.every((r) => r.status === 200)).toBe(true);
    expect(emulator.maxCallsInAnyMinute()).toBe(5);
  });

  it('shares the budget between concurrent readers of one credential: 12 at once, never more than 5 a minute', async () => {
    // Prepare
    const { emulator, reader, time } = await setup({ tasks: makeTasks(50, { now: T0 }) });
    // Act
    await time.run(
      ...Array.from({ length: 12 }, (_, i) => () => reader.fetchPage(TARGET, QUERY, i * 10, LATER, 10)),
    );
    // Assess
    expect(emulator.requests.map((r) => r.status)).toEqual(Array(12).fill(200));
    expect(emulator.maxCallsInAnyMinute('default')).toBe(5);
    expect(Math.max(...emulator.requests.map((r) => r.at)) - T0).toBe(2 * MIN);
  });

  it('returns out-of-time without calling when no slot starts by deadline - timeout', async () => {
    // Prepare: the minute's 5 calls are spent; the next slot is at +60 s.
    const { emulator, reader, time } = await setup({}, { timeoutMs: 10_000 });
    for (let i = 0; i < 5; i++) await reader.fetchPage(TARGET, QUERY, 0, LATER);
    // Act
    const tooLate = await reader.fetchPage(TARGET, QUERY, 0, T0 + MIN + 9_999);
    const justFits = await reader.fetchPage(TARGET, QUERY, 0, T0 + MIN + 10_000);
    // Assess
    expect(tooLate).toEqual({ kind: 'out-of-time' });
    expect(justFits.kind).toBe('page');
    expect(emulator.requests).toHaveLength(6);
    expect(time.sleeps).toEqual([MIN]);
  });

  it('returns out-of-time at once when the deadline is less than one timeout away', async () => {
    const { emulator, reader } = await setup({}, { timeoutMs: 10_000 });
    expect(await reader.fetchPage(TARGET, QUERY, 0, T0 + 9_999)).toEqual({ kind: 'out-of-time' });
    expect(emulator.requests).toHaveLength(0);
  });

  it('retries a 5xx only while the retry can finish before the deadline, then throws the last failure', async () => {
    // Prepare: deadline 12 s away, 10 s timeout: a retry must start by +2 s.
    const { emulator, reader, time } = await setup({}, { timeoutMs: 10_000 });
    emulator.injectFault({ kind: 'status', status: 500 }, Infinity);
    // Act
    const err = await rejectionOf(reader.fetchPage(TARGET, QUERY, 0, T0 + 12_000));
    // Assess: waits 0.75 s and 1.5 s (retries at +0.75 s, +2.25 s would be too late).
    expect(err).toBeInstanceOf(HssServerError);
    expect(err.message).toMatch(
      /; 2 attempts; a retry in 2 s could not finish before the deadline; the next poll tries again$/,
    );
    expect(emulator.requests.map((r) => r.at - T0)).toEqual([0, 750]);
    expect(time.sleeps).toEqual([750]);
  });

  it('throws the last failure when the budget has no slot for a retry before the deadline', async () => {
    // Prepare: 4 calls spent, so the first try takes the minute's last slot.
    const { emulator, reader } = await setup({}, { timeoutMs: 10_000 });
    for (let i = 0; i < 4; i++) await reader.fetchPage(TARGET, QUERY, 0, LATER);
    emulator.injectFault({ kind: 'status', status: 503 });
    // Act
    const err = await rejectionOf(reader.fetchPage(TARGET, QUERY, 0, T0 + 30_000));
    // Assess
    expect(err).toBeInstanceOf(HssServerError);
    expect(err.message).toMatch(/1 attempt; no retry could finish before the deadline/);
    expect(emulator.requests).toHaveLength(5);
  });

  it('on a 429 holds the whole credential for the Retry-After, then retries', async () => {
    // Prepare
    const { emulator, reader, budget, time } = await setup({ tasks: makeTasks(1, { now: T0 }) });
    emulator.injectFault({ kind: 'status', status: 429, headers: { 'Retry-After': '7' } });
    // Act
    const result = await reader.fetchPage(TARGET, QUERY, 0, LATER);
    // Assess
    expect(result.kind).toBe('page');
    expect(emulator.requests.map((r) => [r.at - T0, r.status])).toEqual([
      [0, 429],
      [7_000, 200],
    ]);
    expect(time.sleeps).toEqual([7_000]);
    expect(reader.stats).toEqual({ calls: 2, throttled: 1, retries: 1 });
    expect(await budget.nextSlot('default')).toBe(T0 + 7_000);
  });

  it("waits for the emulator's Retry-After when another client used the account's calls", async () => {
    // Prepare: the budget believes 5 a minute are free, but HSS has seen 5 calls from elsewhere.
    const { emulator, reader } = await setup({ tasks: makeTasks(1, { now: T0 }) });
    emulator.injectFault({
      kind: 'status',
      status: 429,
      body: { error_code: 'APIGW.0308', error_msg: 'x' },
      headers: { 'Retry-After': '45' },
    });
    // Act
    const result = await reader.fetchPage(TARGET, QUERY, 0, LATER);
    // Assess
    expect(result.kind).toBe('page');
    expect(emulator.requests.map((r) => r.at - T0)).toEqual([0, 45_000]);
  });

  it('treats APIGW.0308 as throttling whatever the HTTP status, backing off from 12 s without Retry-After', async () => {
    const { emulator, reader } = await setup({ tasks: makeTasks(1, { now: T0 }) });
    emulator.injectFault({
      kind: 'status',
      status: 400,
      body: { error_code: 'APIGW.0308', error_msg: 'throttled' },
    });
    const result = await reader.fetchPage(TARGET, QUERY, 0, LATER);
    expect(result.kind).toBe('page');
    expect(emulator.requests.map((r) => r.at - T0)).toEqual([0, 9_000]);
    expect(reader.stats.throttled).toBe(1);
  });

  it('throws HssThrottledError, keeping the penalty, when the Retry-After ends past the deadline', async () => {
    // Prepare
    const { emulator, reader, budget } = await setup();
    emulator.injectFault({ kind: 'status', status: 429, headers: { 'Retry-After': '300' } });
    // Act
    const err = await rejectionOf(reader.fetchPage(TARGET, QUERY, 0, T0 + 2 * MIN));
    // Assess
    expect(err).toBeInstanceOf(HssThrottledError);
    expect((err as HssThrottledError).retryAfterMs).toBe(300_000);
    expect(err.message).toMatch(
      /throttled: HTTP 429 .*; 1 attempt; a retry in 300 s could not finish before the deadline; the next poll tries again$/,
    );
    expect(emulator.requests).toHaveLength(1);
    expect(await budget.nextSlot('default')).toBe(T0 + 300_000);
  });
});

describe('PageReader: secrets never reach errors or logs', () => {
  const AK = 'AK-SECRET-ZZ9PLURALZALPHA';
  const SK = 'sk-SECRET-0a1b2c3d4e5f';
  const STS = 'sts-SECRET-9f8e7d6c5b4a';
  const TOKEN = 'tok-SECRET-1122334455';
  const WRONG_SK = 'sk-SECRET-wrong-one';
  const WRONG_TOKEN = 'tok-SECRET-wrong-one';
  const SIGNED = { kind: 'aksk', ak: AK, sk: SK, securityToken: STS } as const;
  const IAM = { kind: 'token', token: TOKEN } as const;
  /** Every secret value a credential holds (the AK included: HSS may echo it). */
  const held = (auth: HssAuth) =>
    auth.kind === 'token' ? [auth.token] : [auth.ak, auth.sk, auth.securityToken ?? ''];
  /** A fault whose error message repeats `text` (a gateway echoing a header back). */
  const echo = (status: number, text: string, headers?: Record<string, string>) => ({
    kind: 'status' as const,
    status,
    headers,
    body: { error_code: status === 429 ? 'APIGW.0308' : 'X.1', error_msg: `echo ${text}` },
  });

  it.each<[string, HssAuth, HssAuth, (e: HssEmulator, secrets: string) => void, number | undefined]>([
    ['a wrong SK', SIGNED, { ...SIGNED, sk: WRONG_SK }, () => {}, undefined],
    ['a wrong token', IAM, { kind: 'token', token: WRONG_TOKEN }, () => {}, undefined],
    ['a 401 that echoes the token', IAM, IAM, (e, s) => e.injectFault(echo(401, s)), undefined],
    [
      'a 401 that echoes the AK, SK and security token',
      SIGNED,
      SIGNED,
      (e, s) => e.injectFault(echo(401, s)),
      undefined,
    ],
    ['a 403 that echoes the SK', SIGNED, SIGNED, (e, s) => e.injectFault(echo(403, s)), undefined],
    ['a 400 that echoes the SK', SIGNED, SIGNED, (e, s) => e.injectFault(echo(400, s)), undefined],
    [
      'a persistent 500 that echoes the SK',
      SIGNED,
      SIGNED,
      (e, s) => e.injectFault(echo(500, s), Infinity),
      undefined,
    ],
    [
      'a persistent throttle that echoes the SK',
      SIGNED,
      SIGNED,
      (e, s) => e.injectFault(echo(429, s, { 'Retry-After': '1' }), Infinity),
      undefined,
    ],
    [
      'a non-JSON page that echoes the SK',
      SIGNED,
      SIGNED,
      (e, s) => e.injectFault({ kind: 'raw', body: `oops ${s}` }),
      undefined,
    ],
    [
      'a page of the wrong shape that echoes the SK',
      SIGNED,
      SIGNED,
      (e, s) => e.injectFault({ kind: 'raw', body: JSON.stringify({ total_num: s }) }),
      undefined,
    ],
    ['connection resets', SIGNED, SIGNED, (e) => e.injectFault({ kind: 'reset' }, Infinity), undefined],
    ['a hung server', IAM, IAM, (e) => e.injectFault({ kind: 'hang' }, Infinity), 100],
  ])(
    'keeps the AK, SK, tokens and Authorization out of the error and the log on %s',
    async (_label, emulatorAuth, readerAuth, arrange, timeoutMs) => {
      // Prepare
      const { emulator, reader, log } = await setup(
        { auth: emulatorAuth },
        { credentials: { default: readerAuth }, ...(timeoutMs === undefined ? {} : { timeoutMs }) },
      );
      arrange(emulator, held(readerAuth).join(' '));
      // Act
      const err = await rejectionOf(reader.fetchPage(TARGET, QUERY, 0, LATER));
      // Assess
      expect(err).toBeInstanceOf(HssError);
      const sentAuthorization = emulator.requests
        .map((r) => r.headers.authorization)
        .filter((v): v is string => v !== undefined);
      const causes: unknown[] = [];
      for (let c: unknown = err; c instanceof Error; c = c.cause) causes.push(c);
      const surfaces = [
        ...causes.map(
          (c) => `${String(c)} ${JSON.stringify(c)} ${inspect(c, { depth: 10 })} ${(c as Error).stack}`,
        ),
        JSON.stringify(log.lines),
      ].join('\n');
      for (const secret of [AK, SK, STS, TOKEN, WRONG_SK, WRONG_TOKEN, ...sentAuthorization]) {
        expect(surfaces).not.toContain(secret);
      }
      expect(surfaces).not.toMatch(/Signature=|Access=/);
    },
  );

  it('still says what the API said, with the secrets it holds cut out', async () => {
    const { emulator, reader } = await setup({ auth: SIGNED }, { credentials: { default: SIGNED } });
    emulator.injectFault(echo(400, `${AK}: ${SK} and ${STS}`));
    const err = await rejectionOf(reader.fetchPage(TARGET, QUERY, 0, LATER));
    expect(err.apiMessage).toBe('echo [redacted]: [redacted] and [redacted]');
  });
});

describe('PageReader: what it reads and logs', () => {
  const AT = T0 - 3_600_000;
  it.each<[TimeFormat, boolean]>([
    ['iso', false],
    ['epoch-ms', false],
    ['epoch-ms-text', false],
    ['epoch-s', false],
    ['offset+08', false],
    ['zoneless', true],
  ])(
    'reads a start time written as %s to the same epoch ms (zone-less flagged: %s)',
    async (format, zoneless) => {
      // Prepare
      const tasks: EmulatedTask[] = [
        {
          host_id: 'h-1',
          host_name: 'web',
          backup_name: 'bk',
          status: 'failed',
          started_at: formatTime(AT, format),
          ended_at: formatTime(AT + 60_000, format),
        },
      ];
      const { reader } = await setup({ tasks });
      // Act
      const [task] = page(await reader.fetchPage(TARGET, QUERY, 0, LATER)).tasks;
      // Assess
      expect(task).toMatchObject({
        startedAt: String(formatTime(AT, format)),
        startedMs: AT,
        endedMs: AT + 60_000,
      });
      expect(task!.zoneless).toBe(zoneless ? true : undefined);
    },
  );

  it('warns once per reader about zone-less times, with an example, however many pages have them', async () => {
    // Prepare
    const { emulator, reader, log } = await setup({
      tasks: makeTasks(30, { now: T0, timeFormat: 'zoneless' }),
    });
    // Act
    for (const offset of [0, 10, 20]) await reader.fetchPage(TARGET, QUERY, offset, LATER, 10);
    // Assess
    const warnings = log.lines.filter((l) => l.level === 'warn');
    expect(warnings).toEqual([
      {
        level: 'warn',
        message:
          'HSS sent times without a time zone; they are read as UTC and window-edge decisions allow +-14 h for them',
        extra: { example: String(emulator.tasks[0]!.started_at) },
      },
    ]);
  });

  it('sets aside records it cannot identify and logs where they were and why, keeping the rest of the page', async () => {
    // Prepare
    const { emulator, reader, log } = await setup({ tasks: makeTasks(3, { now: T0, status: 'failed' }) });
    emulator.injectFault({
      kind: 'mutate',
      fn: (b) => {
        delete (b.data_list as Array<Partial<EmulatedTask>>)[1]!.host_id;
      },
    });
    // Act
    const first = page(await reader.fetchPage(TARGET, QUERY, 0, LATER));
    // Assess
    expect(first).toMatchObject({ rows: 3, rejected: [{ index: 1, reason: 'host_id is missing or empty' }] });
    expect(first.tasks).toHaveLength(2);
    expect(log.lines.filter((l) => l.level === 'warn')).toEqual([
      expect.objectContaining({
        message: 'HSS records that cannot be identified were set aside',
        extra: expect.objectContaining({ rejected: [{ record: 1, reason: 'host_id is missing or empty' }] }),
      }),
    ]);
  });

  it('keeps an undocumented status as unknown and warns about it', async () => {
    const { emulator, reader, log } = await setup({ tasks: makeTasks(2, { now: T0 }) });
    emulator.tasks[0]!.status = 'cancelled';
    const result = page(await reader.fetchPage(TARGET, QUERY, 0, LATER));
    expect(result.tasks.map((t) => t.status)).toContain('unknown');
    expect(log.lines).toContainEqual(
      expect.objectContaining({ level: 'warn', extra: { statuses: ['cancelled'], offset: 0 } }),
    );
  });

  it('logs one debug line per call with path, query, status, request id and duration, never headers', async () => {
    // Prepare
    const { emulator, reader, log } = await setup({ tasks: makeTasks(5, { now: T0 }) });
    emulator.injectFault({ kind: 'status', status: 502 });
    // Act
    await reader.fetchPage(TARGET, QUERY, 0, LATER);
    // Assess
    const debug = log.lines.filter((l) => l.level === 'debug');
    expect(debug).toEqual([
      {
        level: 'debug',
        message: 'HSS call',
        extra: {
          method: 'GET',
          path: ROUTE,
          query: { offset: '0', limit: '200', last_days: '1', enterprise_project_id: '0' },
          status: 502,
          requestId: expect.stringMatching(/^[0-9a-f]{32}$/),
          ms: 0,
        },
      },
      expect.objectContaining({ extra: expect.objectContaining({ status: 200 }) }),
    ]);
    expect(JSON.stringify(log.lines)).not.toMatch(/authorization|x-sdk-date/i);
  });
});

describe('PageReader: guards against programming errors, before any call', () => {
  it.each<[string, ListQuery, number, number | undefined, string, RegExp]>([
    [
      'a negative offset',
      QUERY,
      -1,
      undefined,
      'offset',
      /offset must be a whole number 0\.\.2147483547, got -1/,
    ],
    ['a fractional offset', QUERY, 1.5, undefined, 'offset', /got 1\.5/],
    ['a limit below 10', QUERY, 0, 9, 'limit', /limit must be a whole number 10\.\.200, got 9/],
    ['a limit above 200', QUERY, 0, 201, 'limit', /limit must be a whole number 10\.\.200/],
    [
      'last_days 0',
      { lastDays: 0 },
      0,
      undefined,
      'lastDays',
      /lastDays must be a whole number 1\.\.30, got 0/,
    ],
    ['last_days 31', { lastDays: 31 }, 0, undefined, 'lastDays', /got 31/],
    [
      'an empty resource name',
      { lastDays: 1, resourceName: ' ' },
      0,
      undefined,
      'resourceName',
      /non-empty server name/,
    ],
  ])('refuses %s', async (_why, query, offset, limit, field, message) => {
    const { emulator, reader } = await setup();
    const err = await rejectionOf(reader.fetchPage(TARGET, query, offset, LATER, limit));
    expect(err).toBeInstanceOf(HssValidationError);
    expect((err as HssValidationError).field).toBe(field);
    expect(err.message).toMatch(message);
    expect(emulator.requests).toHaveLength(0);
  });

  it('refuses a credential it does not hold', async () => {
    const { reader } = await setup();
    const err = await rejectionOf(reader.fetchPage({ ...TARGET, credential: 'nope' }, QUERY, 0, LATER));
    expect(err).toBeInstanceOf(HssValidationError);
    expect(err.message).toBe('no credential named "nope"');
  });
});

describe('parseRetryAfter', () => {
  it.each<[string | undefined, number | undefined]>([
    ['7', 7_000],
    ['1.5', 1_500],
    [new Date(T0 + 30_000).toUTCString(), 30_000],
    [new Date(T0 - 30_000).toUTCString(), 0],
    ['soon', undefined],
    [undefined, undefined],
  ])('reads %p as %p ms', (value, expected) => {
    expect(parseRetryAfter(value, T0)).toBe(expected);
  });
});

describe('budget use', () => {
  it('starts every attempt through the budget: a budget that refuses means no call at all', async () => {
    // Prepare: a hand-written budget (our own interface) that never has a slot.
    const refusals: Array<[string, number]> = [];
    const budget: CallBudget = {
      async acquire(credential, latestStart) {
        refusals.push([credential, latestStart]);
        return false;
      },
      async penalize() {},
      async nextSlot() {
        return Infinity;
      },
    };
    const { emulator, reader } = await setup({}, { budget, timeoutMs: 5_000 });
    // Act
    const result = await reader.fetchPage(TARGET, QUERY, 0, T0 + 60_000);
    // Assess
    expect(result).toEqual({ kind: 'out-of-time' });
    expect(refusals).toEqual([['default', T0 + 55_000]]);
    expect(emulator.requests).toHaveLength(0);
  });
});
