import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { inspect } from 'node:util';
import { createHssClient, parseRetryAfter, type HssClientOptions } from '../../lib/hss/client';
import {
  classifyHssAnswer,
  HssAuthError,
  HssError,
  HssNetworkError,
  HssPagingError,
  HssRequestError,
  HssResponseError,
  HssServerError,
  HssThrottledError,
  HssValidationError,
  parseHssErrorBody,
  redactSecrets,
} from '../../lib/hss/errors';
import { parseAuthorization, signature } from '../../lib/hss/signer';
import type { TaskQuery } from '../../lib/hss/types';
import { AlertsError } from '../../lib/errors';
import { taskKey } from '../../lib/task';
import {
  makeTasks,
  startHssEmulator,
  type HssEmulator,
  type HssEmulatorOptions,
} from '../../local/hss-emulator';
import { recordingLog, virtualTime } from '../support/fakes';

const T0 = Date.UTC(2025, 2, 6, 6, 0, 0);
const PROJECT = 'demo-project';
const ROUTE = `/v5/${PROJECT}/ransomware/backup/operation-logs`;
const AKSK = { kind: 'aksk', ak: 'EMULATORAK', sk: 'EMULATORSK' } as const;

/** Errors thrown by `promise`, failing the test when it resolves. */
async function rejectionOf(promise: Promise<unknown>): Promise<HssError> {
  try {
    await promise;
  } catch (err) {
    return err as HssError;
  }
  throw new Error('expected a rejection');
}

// ---------------------------------------------------------------------------------------------
// Against the HSS emulator (local/hss-emulator.ts), sharing the fake clock.
// ---------------------------------------------------------------------------------------------

const emulators: HssEmulator[] = [];
afterEach(async () => {
  await Promise.all(emulators.splice(0).map((e) => e.close()));
});

async function setup(
  emulatorOptions: Omit<HssEmulatorOptions, 'now'> = {},
  clientOptions: Partial<HssClientOptions> = {},
) {
  const t = virtualTime(T0);
  const emulator = await startHssEmulator({ now: t.clock, ...emulatorOptions });
  emulators.push(emulator);
  const log = recordingLog();
  const client = createHssClient({
    projectId: PROJECT,
    endpoint: emulator.url,
    auth: AKSK,
    clock: t.clock,
    sleep: t.sleep,
    log,
    random: () => 0.5,
    ...clientOptions,
  });
  return { ...t, emulator, client, log };
}

describe('HSS client against the emulator: paging', () => {
  it.each([
    // [tasks, expected calls]: why
    [0, 1], // one call learns there is nothing
    [1, 1],
    [199, 1], // a short first page ends the window
    [200, 1], // offset reaches total_num: no extra empty-page call
    [201, 2],
    [1000, 5], // five full pages, all within the 5-per-minute budget
  ])('reads a window of %i tasks whole in %i call(s)', async (n, expectedCalls) => {
    // Prepare
    const { emulator, client, time } = await setup({ tasks: makeTasks(n, { now: T0 }) });
    // Act
    const list = await client.listTasks({ lastDays: 1 });
    // Assess
    expect(list.tasks).toHaveLength(n);
    expect(list.totalNum).toBe(n);
    expect(new Set(list.tasks.map(taskKey)).size).toBe(n);
    expect(list.calls).toBe(expectedCalls);
    expect(emulator.requests).toHaveLength(expectedCalls);
    expect(emulator.requests.map((r) => r.query.offset)).toEqual(
      Array.from({ length: expectedCalls }, (_, i) => String(i * 200)),
    );
    expect(emulator.requests.every((r) => r.query.limit === '200' && r.status === 200)).toBe(true);
    expect(client.stats).toEqual({ calls: expectedCalls, throttled: 0, retries: 0 });
    expect(time.sleeps).toEqual([]);
  });

  it('maps the records it reads, accepting updated_at in place of ended_at', async () => {
    // Prepare
    const tasks = makeTasks(3, { now: T0, status: (i) => ['failed', 'timeout', 'running'][i]! });
    const { emulator, client } = await setup({ tasks });
    emulator.useUpdatedAt = true;
    // Act
    const list = await client.listTasks({ lastDays: 1 });
    // Assess
    expect(list.tasks.map((t) => t.status)).toEqual(['failed', 'timeout', 'running']);
    expect(list.tasks[0]).toMatchObject({
      hostId: tasks[0]!.host_id,
      hostName: tasks[0]!.host_name,
      backupName: tasks[0]!.backup_name,
      startedAt: tasks[0]!.started_at,
      endedAt: tasks[0]!.ended_at,
      errorCode: tasks[0]!.error_info!.code,
    });
    expect(list.tasks[2]!.endedAt).toBeUndefined();
  });

  it('passes every filter through as the documented query parameters', async () => {
    // Prepare
    const tasks = makeTasks(30, { now: T0, status: (i) => (i % 3 === 0 ? 'failed' : 'success') });
    tasks[3]!.enterprise_project_id = 'ep-1';
    const { emulator, client } = await setup({ tasks });
    const query: TaskQuery = {
      lastDays: 3,
      status: 'failed',
      resourceName: 'ecs-demo-3',
      enterpriseProjectId: 'all_granted_eps',
    };
    // Act
    const list = await client.listTasks(query);
    // Assess
    expect(emulator.requests[0]!.query).toEqual({
      offset: '0',
      limit: '200',
      last_days: '3',
      status: 'failed',
      resource_name: 'ecs-demo-3',
      enterprise_project_id: 'all_granted_eps',
    });
    expect(list.tasks.map((t) => t.hostName)).toEqual(['ecs-demo-3']);
  });

  it("sends the client's enterprise project unless the query overrides it, and omits it when neither sets one", async () => {
    // Prepare
    const { emulator, client } = await setup({}, { enterpriseProjectId: 'ep-1' });
    const plain = createHssClient({
      projectId: PROJECT,
      endpoint: emulator.url,
      auth: AKSK,
      clock: () => T0,
    });
    // Act
    await client.listTasks({ lastDays: 1 });
    await client.listTasks({ lastDays: 1, enterpriseProjectId: '0' });
    await plain.listTasks({ lastDays: 1 });
    // Assess
    expect(emulator.requests.map((r) => r.query.enterprise_project_id)).toEqual(['ep-1', '0', undefined]);
  });

  it('reads one page at a given offset and limit with listPage', async () => {
    // Prepare
    const { emulator, client } = await setup({ tasks: makeTasks(50, { now: T0 }) });
    // Act
    const page = await client.listPage({ lastDays: 1 }, 40, 10);
    // Assess
    expect(page.totalNum).toBe(50);
    expect(page.tasks).toHaveLength(10);
    expect(emulator.requests[0]!.query).toMatchObject({ offset: '40', limit: '10' });
  });

  it('spaces calls to the configured rate so the emulator never throttles: 10 pages at 5 per minute', async () => {
    // Prepare
    const { emulator, client, time } = await setup(
      { tasks: makeTasks(1000, { now: T0 }) },
      { pageSize: 100 },
    );
    // Act
    const list = await client.listTasks({ lastDays: 1 });
    // Assess
    expect(list.tasks).toHaveLength(1000);
    expect(emulator.requests.map((r) => r.at - T0)).toEqual([
      0, 0, 0, 0, 0, 60_000, 60_000, 60_000, 60_000, 60_000,
    ]);
    expect(emulator.requests.every((r) => r.status === 200)).toBe(true);
    expect(client.stats.throttled).toBe(0);
    expect(time.sleeps).toEqual([60_000]);
  });
});

describe('HSS client against the emulator: auth', () => {
  it('signs so that the emulator accepts it, with the Host it sends (host:port) among the signed headers', async () => {
    // Prepare
    const { emulator, client } = await setup({ tasks: makeTasks(1, { now: T0 }) });
    // Act
    await client.listTasks({ lastDays: 1 });
    // Assess
    const headers = emulator.requests[0]!.headers;
    expect(emulator.requests[0]!.status).toBe(200);
    expect(headers.host).toBe(new URL(emulator.url).host);
    expect(headers['x-project-id']).toBe(PROJECT);
    expect(headers['x-sdk-date']).toBe('20250306T060000Z');
    expect(parseAuthorization(headers.authorization!)!.signedHeaders).toEqual([
      'host',
      'x-project-id',
      'x-sdk-date',
    ]);
  });

  it('sends and signs the security token of temporary credentials', async () => {
    // Prepare
    const auth = { kind: 'aksk', ak: 'TMPAK', sk: 'TMPSK', securityToken: 'STS-TOKEN' } as const;
    const { emulator, client } = await setup({ auth }, { auth });
    // Act
    await client.listTasks({ lastDays: 1 });
    // Assess
    expect(emulator.requests[0]!.status).toBe(200);
    expect(emulator.requests[0]!.headers['x-security-token']).toBe('STS-TOKEN');
    expect(parseAuthorization(emulator.requests[0]!.headers.authorization!)!.signedHeaders).toContain(
      'x-security-token',
    );
  });

  it('sends an IAM token in X-Auth-Token and signs nothing', async () => {
    // Prepare
    const auth = { kind: 'token', token: 'IAM-TOKEN' } as const;
    const { emulator, client } = await setup({ auth }, { auth });
    // Act
    await client.listTasks({ lastDays: 1 });
    // Assess
    expect(emulator.requests[0]!.status).toBe(200);
    expect(emulator.requests[0]!.headers['x-auth-token']).toBe('IAM-TOKEN');
    expect(emulator.requests[0]!.headers.authorization).toBeUndefined();
  });

  it('fails at once on a wrong SK with HssAuthError and never retries (5 failures lock the AK)', async () => {
    // Prepare
    const { emulator, client, time } = await setup(
      {},
      { auth: { kind: 'aksk', ak: 'EMULATORAK', sk: 'WRONG' } },
    );
    // Act
    const err = await rejectionOf(client.listTasks({ lastDays: 1 }));
    // Assess
    expect(err).toBeInstanceOf(HssAuthError);
    expect(err).toBeInstanceOf(AlertsError);
    expect(err).toMatchObject({
      name: 'HssAuthError',
      status: 401,
      errorCode: 'APIGW.0301',
      retryable: false,
    });
    expect(err.requestId).toMatch(/^[0-9a-f]{32}$/);
    expect(err.message).toMatch(/HTTP 401 APIGW\.0301 .*verify aksk signature fail.*request id [0-9a-f]{32}/);
    expect(err.message).toMatch(/not retried/);
    expect(emulator.requests).toHaveLength(1);
    expect(client.stats).toEqual({ calls: 1, throttled: 0, retries: 0 });
    expect(time.sleeps).toEqual([]);
  });

  it('fails at once on an expired token', async () => {
    // Prepare
    const { emulator, client } = await setup(
      { auth: { kind: 'token', token: 'CURRENT' } },
      { auth: { kind: 'token', token: 'EXPIRED' } },
    );
    // Act
    const err = await rejectionOf(client.listTasks({ lastDays: 1 }));
    // Assess
    expect(err).toBeInstanceOf(HssAuthError);
    expect(emulator.requests).toHaveLength(1);
  });

  it('reports a permission refusal (HSS.0010 for another project) as HssAuthError, not retried', async () => {
    // Prepare
    const { emulator, client } = await setup({ projectId: 'someone-else' });
    // Act
    const err = await rejectionOf(client.listTasks({ lastDays: 1 }));
    // Assess
    expect(err).toBeInstanceOf(HssAuthError);
    expect(err).toMatchObject({ status: 403, errorCode: 'HSS.0010' });
    expect(err.message).toMatch(/lack permission/);
    expect(emulator.requests).toHaveLength(1);
  });
});

describe('HSS client against the emulator: throttling and failures', () => {
  it('recovers from a 429, waiting exactly the Retry-After seconds through the injected sleep', async () => {
    // Prepare
    const { emulator, client, time, log } = await setup({ tasks: makeTasks(3, { now: T0 }) });
    emulator.injectFault({
      kind: 'status',
      status: 429,
      body: { error_code: 'APIGW.0308', error_msg: 'The throttling threshold has been reached' },
      headers: { 'Retry-After': '7' },
    });
    // Act
    const list = await client.listTasks({ lastDays: 1 });
    // Assess
    expect(list.tasks).toHaveLength(3);
    expect(time.sleeps).toEqual([7_000]);
    expect(emulator.requests.map((r) => [r.status, r.at - T0])).toEqual([
      [429, 0],
      [200, 7_000],
    ]);
    expect(client.stats).toEqual({ calls: 2, throttled: 1, retries: 1 });
    expect(list.calls).toBe(2);
    expect(log.lines.filter((l) => l.level === 'warn')).toEqual([
      expect.objectContaining({
        message: expect.stringMatching(/throttled/),
        extra: expect.objectContaining({ status: 429, errorCode: 'APIGW.0308', waitMs: 7_000 }),
      }),
    ]);
  });

  it("recovers when another client has used the account's 5 calls: waits for the emulator's Retry-After", async () => {
    // Prepare
    const { emulator, client, time, clock } = await setup({ tasks: makeTasks(3, { now: T0 }) });
    const other = createHssClient({ projectId: PROJECT, endpoint: emulator.url, auth: AKSK, clock });
    for (let i = 0; i < 5; i++) await other.listPage({ lastDays: 1 }, 0);
    time.now += 20_000;
    // Act
    const list = await client.listTasks({ lastDays: 1 });
    // Assess
    expect(list.tasks).toHaveLength(3);
    expect(emulator.requests.slice(5).map((r) => [r.status, r.at - T0])).toEqual([
      [429, 20_000],
      [200, 60_000],
    ]);
    expect(time.sleeps).toEqual([40_000]);
    expect(client.stats).toEqual({ calls: 2, throttled: 1, retries: 1 });
  });

  it('treats APIGW.0308 as throttling whatever the HTTP status', async () => {
    // Prepare
    const { emulator, client } = await setup();
    emulator.injectFault({
      kind: 'status',
      status: 403,
      body: { error: { code: 'APIGW.0308', message: 'over ratelimit' } },
      headers: { 'Retry-After': '2' },
    });
    // Act
    await client.listTasks({ lastDays: 1 });
    // Assess
    expect(client.stats).toEqual({ calls: 2, throttled: 1, retries: 1 });
  });

  it('backs off exponentially with jitter when a throttle gives no Retry-After', async () => {
    // Prepare
    const { emulator, client, time } = await setup({}, { random: () => 0 });
    emulator.injectFault(
      { kind: 'status', status: 429, body: { error_code: 'APIGW.0308', error_msg: 'x' } },
      3,
    );
    // Act
    await client.listTasks({ lastDays: 1 });
    // Assess: half of 12 s, 24 s, 48 s (jitter 0 = the lower bound)
    expect(time.sleeps).toEqual([6_000, 12_000, 24_000]);
    expect(emulator.requests.map((r) => r.status)).toEqual([429, 429, 429, 200]);
  });

  it('gives up with HssThrottledError after maxRetries throttled retries', async () => {
    // Prepare
    const { emulator, client } = await setup();
    emulator.injectFault({ kind: 'status', status: 429, headers: { 'Retry-After': '1' } }, Infinity);
    // Act
    const err = await rejectionOf(client.listTasks({ lastDays: 1 }));
    // Assess
    expect(err).toBeInstanceOf(HssThrottledError);
    expect(err).toMatchObject({ status: 429, retryable: true, retryAfterMs: 1_000 });
    expect(err.message).toMatch(/still throttled after 4 attempt/);
    expect(emulator.requests).toHaveLength(4);
    expect(client.stats).toEqual({ calls: 4, throttled: 4, retries: 3 });
  });

  it('does not wait longer than maxThrottleWaitMs: a 300 s Retry-After fails at once', async () => {
    // Prepare
    const { emulator, client, time } = await setup();
    emulator.injectFault({ kind: 'status', status: 429, headers: { 'Retry-After': '300' } });
    // Act
    const err = await rejectionOf(client.listTasks({ lastDays: 1 }));
    // Assess
    expect(err).toBeInstanceOf(HssThrottledError);
    expect(err).toMatchObject({ retryAfterMs: 300_000 });
    expect(err.message).toMatch(/would exceed the 120 s bound/);
    expect(emulator.requests).toHaveLength(1);
    expect(time.sleeps).toEqual([]);
  });

  it('retries a 5xx with jittered backoff and then succeeds', async () => {
    // Prepare
    const { emulator, client, time, log } = await setup({ tasks: makeTasks(2, { now: T0 }) });
    emulator.injectFault({ kind: 'status', status: 503 });
    // Act
    const list = await client.listTasks({ lastDays: 1 });
    // Assess
    expect(list.tasks).toHaveLength(2);
    expect(emulator.requests.map((r) => r.status)).toEqual([503, 200]);
    expect(time.sleeps).toEqual([750]);
    expect(client.stats).toEqual({ calls: 2, throttled: 0, retries: 1 });
    expect(log.lines.filter((l) => l.level === 'warn')).toHaveLength(1);
  });

  it('gives up on a persistent 5xx with HssServerError after 1 + maxRetries calls', async () => {
    // Prepare
    const { emulator, client } = await setup({}, { maxRetries: 2 });
    emulator.injectFault(
      {
        kind: 'status',
        status: 500,
        body: { error_code: 'HSS.0004', error_msg: 'system busy' },
        headers: { 'X-Request-Id': 'req-500' },
      },
      Infinity,
    );
    // Act
    const err = await rejectionOf(client.listTasks({ lastDays: 1 }));
    // Assess
    expect(err).toBeInstanceOf(HssServerError);
    expect(err).toMatchObject({
      status: 500,
      errorCode: 'HSS.0004',
      apiMessage: 'system busy',
      requestId: 'req-500',
    });
    expect(err.retryable).toBe(true);
    expect(emulator.requests).toHaveLength(3);
  });

  it('retries a connection reset and then succeeds', async () => {
    // Prepare
    const { emulator, client } = await setup({ tasks: makeTasks(1, { now: T0 }) });
    emulator.injectFault({ kind: 'reset' });
    // Act
    const list = await client.listTasks({ lastDays: 1 });
    // Assess
    expect(list.tasks).toHaveLength(1);
    expect(emulator.requests).toHaveLength(2);
    expect(client.stats.retries).toBe(1);
  });

  it('gives up on repeated resets with HssNetworkError', async () => {
    // Prepare
    const { emulator, client } = await setup({}, { maxRetries: 1 });
    emulator.injectFault({ kind: 'reset' }, Infinity);
    // Act
    const err = await rejectionOf(client.listTasks({ lastDays: 1 }));
    // Assess
    expect(err).toBeInstanceOf(HssNetworkError);
    expect(err.retryable).toBe(true);
    expect(err.message).toMatch(/2 attempt/);
    expect(emulator.requests).toHaveLength(2);
  });

  it('times out a hung server within timeoutMs per attempt and reports HssNetworkError', async () => {
    // Prepare
    const { emulator, client } = await setup({}, { timeoutMs: 200, maxRetries: 1 });
    emulator.injectFault({ kind: 'hang' }, Infinity);
    // Act
    const err = await rejectionOf(client.listTasks({ lastDays: 1 }));
    // Assess
    expect(err).toBeInstanceOf(HssNetworkError);
    expect(err.message).toMatch(/timed out after 200 ms/);
    expect(emulator.requests).toHaveLength(2);
  });

  it('fails at once on HSS.0001 (invalid parameter) with HssRequestError', async () => {
    // Prepare
    const { emulator, client } = await setup();
    emulator.injectFault({
      kind: 'status',
      status: 400,
      body: { error: { code: 'HSS.0001', message: 'Invalid parameter: limit' } },
    });
    // Act
    const err = await rejectionOf(client.listTasks({ lastDays: 1 }));
    // Assess
    expect(err).toBeInstanceOf(HssRequestError);
    expect(err).toMatchObject({ status: 400, errorCode: 'HSS.0001', apiMessage: 'Invalid parameter: limit' });
    expect(emulator.requests).toHaveLength(1);
  });
});

describe('HSS client against the emulator: malformed pages', () => {
  it('fails clearly on a body that is not JSON', async () => {
    // Prepare
    const { emulator, client } = await setup();
    emulator.injectFault({ kind: 'raw', body: '<html>gateway</html>', contentType: 'text/html' });
    // Act
    const err = await rejectionOf(client.listTasks({ lastDays: 1 }));
    // Assess
    expect(err).toBeInstanceOf(HssResponseError);
    expect(err.message).toMatch(
      /answered 200 with a body that is not JSON \(starts "<html>gateway<\/html>"\) at offset 0/,
    );
    expect(err.requestId).toBeDefined();
    expect(emulator.requests).toHaveLength(1);
  });

  it('names data_list and the offset when a later page has no array', async () => {
    // Prepare
    const { emulator, client } = await setup({ tasks: makeTasks(300, { now: T0 }) });
    emulator.injectFault({ kind: 'delay', ms: 0 }); // first page served as is
    emulator.injectFault({ kind: 'mutate', fn: (body) => ({ ...body, data_list: {} }) });
    // Act
    const err = await rejectionOf(client.listTasks({ lastDays: 1 }));
    // Assess
    expect(err).toBeInstanceOf(HssResponseError);
    expect(err.message).toMatch(/data_list is not an array \(got object\) at offset 200/);
    expect(emulator.requests).toHaveLength(2);
  });

  it('names the field and record of a record with a wrong type', async () => {
    // Prepare
    const { emulator, client } = await setup({ tasks: makeTasks(5, { now: T0 }) });
    emulator.injectFault({
      kind: 'mutate',
      fn: (body) => {
        (body.data_list as Array<Record<string, unknown>>)[3]!.started_at = { at: 1 };
      },
    });
    // Act
    const err = await rejectionOf(client.listTasks({ lastDays: 1 }));
    // Assess
    expect(err.message).toMatch(
      /data_list\[3\]\.started_at is not a non-empty string or a number \(got object\)/,
    );
  });

  it('keeps an undocumented status as unknown instead of failing the window', async () => {
    // Prepare
    const tasks = makeTasks(2, { now: T0 });
    tasks[1]!.status = 'paused';
    const { client, log } = await setup({ tasks });
    // Act
    const list = await client.listTasks({ lastDays: 1 });
    // Assess
    expect(list.tasks[1]).toMatchObject({ status: 'unknown', rawStatus: 'paused' });
    expect(log.lines).toContainEqual(
      expect.objectContaining({ level: 'warn', extra: { statuses: ['paused'], offset: 0 } }),
    );
  });
});

describe('HSS client: validation before any request', () => {
  const base: HssClientOptions = { projectId: PROJECT, endpoint: 'http://127.0.0.1:1', auth: AKSK };

  it.each<[string, Partial<HssClientOptions>, RegExp]>([
    ['an empty project id', { projectId: '' }, /projectId must be 1\.\.256 characters/],
    ['a 257-character project id', { projectId: 'a'.repeat(257) }, /projectId must be 1\.\.256 characters/],
    ['a project id with a slash', { projectId: 'p/../x' }, /projectId must be/],
    ['an empty enterprise project', { enterpriseProjectId: '' }, /enterpriseProjectId must be 1\.\.256/],
    ['a page size of 500', { pageSize: 500 }, /pageSize must be a whole number 10\.\.200, got 500/],
    ['a page size of 5', { pageSize: 5 }, /pageSize must be a whole number 10\.\.200/],
    ['no pages allowed', { maxPages: 0 }, /maxPages must be a whole number >= 1/],
    ['negative retries', { maxRetries: -1 }, /maxRetries must be a whole number >= 0/],
    ['a zero timeout', { timeoutMs: 0 }, /timeoutMs must be a positive number/],
    ['a fractional rate', { ratePerMinute: 2.5 }, /ratePerMinute must be a whole number >= 0/],
    ['an empty SK', { auth: { kind: 'aksk', ak: 'AK', sk: '' } }, /auth\.sk \(secret access key\) is empty/],
    ['an empty token', { auth: { kind: 'token', token: ' ' } }, /auth\.token \(IAM token\) is empty/],
  ])('rejects %s when the client is created', (_label, override, message) => {
    // Act
    const act = () => createHssClient({ ...base, ...override });
    // Assess
    expect(act).toThrow(HssValidationError);
    expect(act).toThrow(message);
  });

  it.each<[string, TaskQuery, RegExp]>([
    ['last_days 0', { lastDays: 0 }, /lastDays must be a whole number of days 1\.\.30, got 0/],
    ['last_days 31', { lastDays: 31 }, /lastDays must be a whole number of days 1\.\.30, got 31/],
    ['last_days 1.5', { lastDays: 1.5 }, /lastDays must be/],
    [
      'an unknown status',
      { status: 'broken' as TaskQuery['status'] },
      /status must be one of success, skipped, failed/,
    ],
    ['an empty resource name', { resourceName: '' }, /resourceName must be a non-empty server name/],
    [
      'a 257-character enterprise project',
      { enterpriseProjectId: 'e'.repeat(257) },
      /enterpriseProjectId must be/,
    ],
  ])('rejects a query with %s without calling HSS', async (_label, query, message) => {
    // Prepare
    const { emulator, client } = await setup();
    // Act
    const err = await rejectionOf(client.listTasks(query));
    // Assess
    expect(err).toBeInstanceOf(HssValidationError);
    expect(err.message).toMatch(message);
    expect(emulator.requests).toHaveLength(0);
    expect(client.stats.calls).toBe(0);
  });

  it.each<[string, number, number | undefined, RegExp]>([
    ['a negative offset', -1, undefined, /offset must be a whole number/],
    ['a limit of 201', 0, 201, /limit must be a whole number 10\.\.200, got 201/],
    ['a limit of 9', 0, 9, /limit must be a whole number 10\.\.200, got 9/],
  ])('rejects listPage with %s without calling HSS', async (_label, offset, limit, message) => {
    // Prepare
    const { emulator, client } = await setup();
    // Act
    const err = await rejectionOf(client.listPage({}, offset, limit));
    // Assess
    expect(err).toBeInstanceOf(HssValidationError);
    expect(err.message).toMatch(message);
    expect(emulator.requests).toHaveLength(0);
  });

  it('rejects an unknown region with a ConfigError naming the region', () => {
    expect(() => createHssClient({ ...base, endpoint: undefined, region: 'nowhere-1' })).toThrow(
      /Unknown HSS region "nowhere-1".*HSS_ENDPOINT/,
    );
  });
});

describe('HSS client: secrets never reach errors or logs', () => {
  const SK = 'sk-SECRET-0a1b2c3d4e5f';
  const STS = 'sts-SECRET-9f8e7d6c5b4a';
  const TOKEN = 'tok-SECRET-1122334455';
  const WRONG_SK = 'sk-SECRET-wrong-one';
  const WRONG_TOKEN = 'tok-SECRET-wrong-one';
  const SIGNED = { kind: 'aksk', ak: 'AK', sk: SK, securityToken: STS } as const;
  const IAM = { kind: 'token', token: TOKEN } as const;
  type Auth = HssClientOptions['auth'];
  /** The secrets a client holds: the only ones it can know to cut out of what the server says. */
  const held = (auth: Auth) => (auth.kind === 'token' ? [auth.token] : [auth.sk, auth.securityToken ?? '']);
  /** A fault whose error message repeats `text` (a gateway echoing a header back). */
  const echo = (status: number, text: string, headers?: Record<string, string>) => ({
    kind: 'status' as const,
    status,
    headers,
    body: { error_code: status === 429 ? 'APIGW.0308' : 'X.1', error_msg: `echo ${text}` },
  });

  it.each<[string, Auth, Auth, (e: HssEmulator, secrets: string) => void, Partial<HssClientOptions>?]>([
    ['a wrong SK', SIGNED, { ...SIGNED, sk: WRONG_SK }, () => {}],
    ['a wrong token', IAM, { kind: 'token', token: WRONG_TOKEN }, () => {}],
    ['a 401 that echoes the token', IAM, IAM, (e, secrets) => e.injectFault(echo(401, secrets))],
    ['a 401 that echoes the SK', SIGNED, SIGNED, (e, secrets) => e.injectFault(echo(401, secrets))],
    ['a 400 that echoes the SK', SIGNED, SIGNED, (e, secrets) => e.injectFault(echo(400, secrets))],
    [
      'a persistent 500 that echoes the SK',
      SIGNED,
      SIGNED,
      (e, secrets) => e.injectFault(echo(500, secrets), Infinity),
    ],
    [
      'a persistent throttle that echoes the SK',
      SIGNED,
      SIGNED,
      (e, secrets) => e.injectFault(echo(429, secrets, { 'Retry-After': '1' }), Infinity),
    ],
    [
      'a non-JSON page that echoes the SK',
      SIGNED,
      SIGNED,
      (e, secrets) => e.injectFault({ kind: 'raw', body: `oops ${secrets}` }),
    ],
    ['connection resets', SIGNED, SIGNED, (e) => e.injectFault({ kind: 'reset' }, Infinity)],
    [
      'a hung server',
      IAM,
      IAM,
      (e) => e.injectFault({ kind: 'hang' }, Infinity),
      { timeoutMs: 100, maxRetries: 0 },
    ],
  ])(
    'keeps the SK, tokens and Authorization out of the error and the log on %s',
    async (_label, emulatorAuth, clientAuth, arrange, options = {}) => {
      // Prepare
      const { emulator, client, log } = await setup({ auth: emulatorAuth }, { auth: clientAuth, ...options });
      arrange(emulator, held(clientAuth).join(' '));
      // Act
      const err = await rejectionOf(client.listTasks({ lastDays: 1 }));
      // Assess
      expect(err).toBeInstanceOf(HssError);
      const sentAuthorization = emulator.requests
        .map((r) => r.headers.authorization)
        .filter((v): v is string => v !== undefined);
      const surfaces = [
        err.message,
        JSON.stringify(err),
        inspect(err, { depth: 10 }),
        String(err.stack),
        JSON.stringify(log.lines),
      ].join('\n');
      for (const secret of [SK, STS, TOKEN, WRONG_SK, WRONG_TOKEN, ...sentAuthorization]) {
        expect(surfaces).not.toContain(secret);
      }
      expect(surfaces).not.toMatch(/Signature=|Access=/);
    },
  );

  it('still says what the API said, with the secrets it holds cut out', async () => {
    // Prepare
    const { emulator, client } = await setup({ auth: SIGNED }, { auth: SIGNED });
    emulator.injectFault(echo(400, `${SK} and ${STS}`));
    // Act
    const err = await rejectionOf(client.listTasks({ lastDays: 1 }));
    // Assess
    expect(err.apiMessage).toBe('echo [REDACTED] and [REDACTED]');
  });
});

describe('HSS client: logging', () => {
  it('logs one debug line per call with method, path, query, status, request id and duration, never headers', async () => {
    // Prepare
    const { emulator, client, log } = await setup({ tasks: makeTasks(250, { now: T0 }) });
    emulator.injectFault({ kind: 'status', status: 502 });
    // Act
    await client.listTasks({ lastDays: 1 });
    // Assess
    const calls = log.lines.filter((l) => l.message === 'HSS call');
    expect(calls).toHaveLength(3);
    expect(calls.every((l) => l.level === 'debug')).toBe(true);
    expect(calls.map((l) => l.extra!.status)).toEqual([502, 200, 200]);
    expect(calls[2]!.extra).toEqual({
      method: 'GET',
      path: ROUTE,
      query: { offset: '200', limit: '200', last_days: '1' },
      status: 200,
      requestId: expect.stringMatching(/^[0-9a-f]{32}$/),
      ms: expect.any(Number),
    });
    expect(JSON.stringify(log.lines)).not.toMatch(/headers|x-sdk-date|authorization/i);
  });
});

// ---------------------------------------------------------------------------------------------
// Against small scripted servers, for paging anomalies and protocol details the emulator cannot show.
// ---------------------------------------------------------------------------------------------

interface Seen {
  url: string;
  headers: IncomingHttpHeaders;
}

type Script = (
  call: number,
  url: URL,
) => { status?: number; body: unknown; headers?: Record<string, string> };

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(
    servers.splice(0).map(
      (s) =>
        new Promise<void>((resolve) => {
          s.closeAllConnections();
          s.close(() => resolve());
        }),
    ),
  );
});

/** A server that answers each request from `script` (by call number) and remembers what it got. */
async function scripted(script: Script): Promise<{ url: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  const server = createServer((req, res) => {
    seen.push({ url: req.url ?? '', headers: req.headers });
    const answer = script(seen.length - 1, new URL(req.url ?? '/', 'http://x'));
    res.writeHead(answer.status ?? 200, { 'Content-Type': 'application/json', ...answer.headers });
    res.end(typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body));
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

const rec = (i: number) => ({
  host_id: `h-${i}`,
  host_name: `ecs-${i}`,
  backup_name: 'autobk',
  status: 'failed',
  started_at: `2025-03-06T05:${String(i % 60).padStart(2, '0')}:00Z#${i}`,
});

/** Serves `list()` (re-evaluated per call) paged by the request's offset and limit, capped at `maxPerPage`. */
function pagesOf(list: (call: number) => number[], maxPerPage = 200): Script {
  return (call, url) => {
    const all = list(call);
    const offset = Number(url.searchParams.get('offset'));
    const limit = Math.min(Number(url.searchParams.get('limit')), maxPerPage);
    return { body: { total_num: all.length, data_list: all.slice(offset, offset + limit).map(rec) } };
  };
}

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

async function scriptedClient(script: Script, options: Partial<HssClientOptions> = {}) {
  const server = await scripted(script);
  const t = virtualTime(T0);
  const client = createHssClient({
    projectId: 'p1',
    endpoint: server.url,
    auth: { kind: 'aksk', ak: 'AK', sk: 'SK' },
    clock: t.clock,
    sleep: t.sleep,
    ratePerMinute: 0,
    random: () => 0.5,
    ...options,
  });
  return { ...t, ...server, client };
}

describe('HSS client: paging anomalies', () => {
  it('keeps paging after short pages (offset advances by the records returned) until total_num', async () => {
    // Prepare
    const { client, seen } = await scriptedClient(pagesOf(() => range(0, 450), 100));
    // Act
    const list = await client.listTasks({});
    // Assess
    expect(list.tasks).toHaveLength(450);
    expect(seen.map((s) => new URL(s.url, 'http://x').searchParams.get('offset'))).toEqual([
      '0',
      '100',
      '200',
      '300',
      '400',
    ]);
  });

  it('counts a record once when a new task shifts the list between pages (total_num grew)', async () => {
    // Prepare: task -1 starts after the first page; the list is newest first
    const { client } = await scriptedClient(pagesOf((call) => (call === 0 ? range(0, 300) : range(-1, 300))));
    // Act
    const list = await client.listTasks({});
    // Assess
    expect(list.tasks).toHaveLength(300);
    expect(new Set(list.tasks.map(taskKey)).size).toBe(300);
    expect(list.tasks.map((t) => t.hostId)).toEqual(range(0, 300).map((i) => `h-${i}`));
    expect(list.totalNum).toBe(301);
  });

  it('counts a record repeated within one page once', async () => {
    const { client } = await scriptedClient(() => ({
      body: { total_num: 3, data_list: [rec(1), rec(1), rec(2)] },
    }));
    const list = await client.listTasks({});
    expect(list.tasks.map((t) => t.hostId)).toEqual(['h-1', 'h-2']);
  });

  it('refuses to call a window complete when total_num falls between pages (records may have shifted past)', async () => {
    // Prepare
    const { client } = await scriptedClient(pagesOf((call) => (call === 0 ? range(0, 300) : range(1, 300))));
    // Act
    const err = await rejectionOf(client.listTasks({}));
    // Assess
    expect(err).toBeInstanceOf(HssPagingError);
    expect(err.retryable).toBe(true);
    expect(err.message).toMatch(/total_num fell from 300 to 299 between pages \(at offset 200\)/);
  });

  it('refuses an empty page while offset is still below total_num', async () => {
    // Prepare
    const { client } = await scriptedClient((call) =>
      call === 0
        ? { body: { total_num: 300, data_list: range(0, 200).map(rec) } }
        : { body: { total_num: 300, data_list: [] } },
    );
    // Act
    const err = await rejectionOf(client.listTasks({}));
    // Assess
    expect(err).toBeInstanceOf(HssPagingError);
    expect(err.message).toMatch(/page at offset 200 was empty but total_num is 300/);
  });

  it('accepts an empty page that agrees with a grown-then-consistent total_num as the end', async () => {
    // Prepare: total_num says 250, second page has the last 50, then nothing is asked
    const { client, seen } = await scriptedClient(pagesOf(() => range(0, 250)));
    // Act
    const list = await client.listTasks({});
    // Assess
    expect(list.tasks).toHaveLength(250);
    expect(seen).toHaveLength(2);
  });

  it('stops at the page cap with HssPagingError instead of returning part of the window', async () => {
    // Prepare: 500 records fit 3 pages of 200, but the server only returns 10 per page
    const { client, seen } = await scriptedClient(
      pagesOf(() => range(0, 500), 10),
      { maxPages: 3 },
    );
    // Act
    const err = await rejectionOf(client.listTasks({}));
    // Assess
    expect(err).toBeInstanceOf(HssPagingError);
    expect(err.message).toMatch(/stopped at the cap of 3 pages with 30 of 500 records read/);
    expect(seen).toHaveLength(3);
  });

  it('fails after the first page when total_num already needs more pages than the cap allows', async () => {
    // Prepare
    const { client, seen } = await scriptedClient(
      pagesOf(() => range(0, 1000)),
      { maxPages: 4 },
    );
    // Act
    const err = await rejectionOf(client.listTasks({}));
    // Assess
    expect(err).toBeInstanceOf(HssPagingError);
    expect(err.message).toMatch(/1000 records need 5 pages of 200 but the cap is 4/);
    expect(seen).toHaveLength(1);
  });
});

describe('HSS client: protocol details', () => {
  it('signs the Host header it sends, including the port, and the canonical query of what it sends', async () => {
    // Prepare
    const { client, seen, url } = await scriptedClient(() => ({ body: { total_num: 0, data_list: [] } }));
    // Act
    await client.listTasks({ resourceName: 'web server*1', lastDays: 2 });
    // Assess
    const { headers, url: sentUrl } = seen[0]!;
    expect(headers.host).toBe(new URL(url).host);
    expect(sentUrl).toBe(
      '/v5/p1/ransomware/backup/operation-logs?offset=0&limit=200&last_days=2&resource_name=web%20server%2A1',
    );
    const auth = parseAuthorization(String(headers.authorization))!;
    const query = [...new URL(sentUrl, 'http://x').searchParams];
    const expected = signature(
      {
        method: 'GET',
        path: '/v5/p1/ransomware/backup/operation-logs',
        query,
        headers: headers as Record<string, string>,
      },
      auth.signedHeaders,
      String(headers['x-sdk-date']),
      'SK',
    );
    expect(auth.signature).toBe(expected);
  });

  it('never follows a redirect (it would carry the signed headers elsewhere)', async () => {
    // Prepare
    const { client, seen } = await scriptedClient(() => ({
      status: 302,
      body: '',
      headers: { Location: 'http://127.0.0.1:1/' },
    }));
    // Act
    const err = await rejectionOf(client.listTasks({}));
    // Assess
    expect(err).toBeInstanceOf(HssRequestError);
    expect(err.status).toBe(302);
    expect(seen).toHaveLength(1);
  });

  it('honours a Retry-After given as an HTTP date', async () => {
    // Prepare
    const { client, time } = await scriptedClient((call) =>
      call === 0
        ? { status: 429, body: {}, headers: { 'Retry-After': new Date(T0 + 9_000).toUTCString() } }
        : { body: { total_num: 0, data_list: [] } },
    );
    // Act
    await client.listTasks({});
    // Assess
    expect(time.sleeps).toEqual([9_000]);
  });

  it('counts the calls of each listTasks separately when two run at once', async () => {
    // Prepare
    const { client } = await scriptedClient(pagesOf(() => range(0, 250)));
    // Act
    const [a, b] = await Promise.all([client.listTasks({}), client.listTasks({ lastDays: 2 })]);
    // Assess
    expect([a.calls, b.calls]).toEqual([2, 2]);
    expect(client.stats.calls).toBe(4);
  });

  it('holds other calls of the same client during a throttle penalty', async () => {
    // Prepare
    const { client, time } = await scriptedClient((call) =>
      call === 0
        ? { status: 429, body: {}, headers: { 'Retry-After': '5' } }
        : { body: { total_num: 0, data_list: [] } },
    );
    // Act
    await Promise.all([client.listPage({}, 0), client.listPage({}, 200)]);
    // Assess: both calls wait out the penalty once, neither hammers the server
    expect(time.now - T0).toBe(5_000);
  });
});

describe('HSS error helpers', () => {
  it.each<[number, string | undefined, string]>([
    [429, undefined, 'throttled'], // why: plain HTTP throttling
    [429, 'APIGW.0308', 'throttled'],
    [400, 'APIGW.0308', 'throttled'], // why: the gateway code wins over the status
    [500, 'APIGW.0308', 'throttled'],
    [401, 'APIGW.0301', 'auth'], // why: bad signature / unknown AK / expired token
    [401, undefined, 'auth'],
    [403, undefined, 'auth'],
    [400, 'HSS.0010', 'auth'], // why: access denied comes with 400
    [400, 'HSS.0013', 'auth'],
    [400, 'HSS.0001', 'request'], // why: invalid parameter: fix the call, do not retry
    [404, 'APIGW.0101', 'request'],
    [302, undefined, 'request'],
    [500, undefined, 'server'],
    [503, 'HSS.0004', 'server'],
  ])('classifies HTTP %i with code %p as %s', (status, code, expected) => {
    expect(classifyHssAnswer(status, code)).toBe(expected);
  });

  it.each<[string, unknown, { code?: string; message?: string }]>([
    [
      'error_code/error_msg',
      { error_code: 'HSS.0001', error_msg: 'bad' },
      { code: 'HSS.0001', message: 'bad' },
    ],
    [
      'error.code/error.message',
      { error: { code: 'APIGW.0301', message: 'no' } },
      { code: 'APIGW.0301', message: 'no' },
    ],
    [
      'JSON text',
      '{"error_code":"X.1","error_msg":"m","encoded_authorization_message":"zz"}',
      { code: 'X.1', message: 'm' },
    ],
    ['text that is not JSON', '<html>', {}],
    ['an unrelated object', { message: 'hi' }, {}],
    ['null', null, {}],
  ])('reads an error body given as %s', (_label, body, expected) => {
    expect(parseHssErrorBody(body)).toEqual(expected);
  });

  it('redacts every secret, longest first, and ignores empty ones', () => {
    expect(redactSecrets('a abc b ab', ['ab', 'abc', ''])).toBe('a [REDACTED] b [REDACTED]');
  });

  it.each<[string | undefined, number | undefined]>([
    ['7', 7_000],
    ['1.5', 1_500],
    ['0', 0],
    [new Date(T0 + 3_000).toUTCString(), 3_000],
    [new Date(T0 - 3_000).toUTCString(), 0],
    ['soon', undefined],
    [undefined, undefined],
  ])('reads Retry-After %p as %p ms', (value, expected) => {
    expect(parseRetryAfter(value, T0)).toBe(expected);
  });

  it('gives every error class its own name and the AlertsError base', () => {
    const errors = [
      new HssAuthError('a'),
      new HssThrottledError('t'),
      new HssRequestError('r'),
      new HssServerError('s'),
      new HssNetworkError('n'),
      new HssResponseError('m'),
      new HssPagingError('p'),
      new HssValidationError('v', 'field'),
    ];
    expect(errors.map((e) => e.name)).toEqual([
      'HssAuthError',
      'HssThrottledError',
      'HssRequestError',
      'HssServerError',
      'HssNetworkError',
      'HssResponseError',
      'HssPagingError',
      'HssValidationError',
    ]);
    expect(errors.every((e) => e instanceof HssError && e instanceof AlertsError)).toBe(true);
    expect(errors.map((e) => e.retryable)).toEqual([false, true, false, true, true, false, false, false]);
  });
});
