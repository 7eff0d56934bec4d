import { request, type IncomingHttpHeaders } from 'node:http';
import { sdkDate, signature, signRequest, type AkSkCredentials } from '../../lib/huaweicloud/signer';
import {
  formatTime,
  makeTasks,
  startHssEmulator,
  type EmulatedTask,
  type HssEmulator,
  type HssEmulatorOptions,
  type PageRequest,
  type TimeFormat,
  type TotalNumMode,
} from '../../local/hss-emulator';

const T0 = Date.UTC(2025, 2, 6, 6, 0, 0);
const CREDS: AkSkCredentials = { ak: 'EMULATORAK', sk: 'EMULATORSK' };
const ROUTE = '/v5/demo-project/ransomware/backup/operation-logs';
const HOUR = 3_600_000;

interface Call {
  method?: string;
  path: string;
  query: Array<[string, string]>;
  headers: Record<string, string>;
}
interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests read arbitrary JSON fields
  body: any;
}

const running: HssEmulator[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((e) => e.close()));
});

async function start(options: HssEmulatorOptions = {}): Promise<HssEmulator> {
  const emulator = await startHssEmulator({ now: () => T0, ratePerMinute: 0, ...options });
  running.push(emulator);
  return emulator;
}

/** A request signed the way the real client signs it, ready to be tampered with. */
function signedCall(
  emulator: HssEmulator,
  nowMs = T0,
  over: Partial<Call> = {},
  creds: AkSkCredentials = CREDS,
): Call {
  const call: Call = {
    path: ROUTE,
    query: [
      ['offset', '0'],
      ['limit', '10'],
    ],
    headers: { Host: new URL(emulator.url).host, 'X-Project-Id': 'demo-project' },
    ...over,
  };
  return { ...call, headers: signRequest({ method: 'GET', ...call }, creds, nowMs) };
}

/** Sends exactly the given path, query and headers (Host included) with node:http. */
function send(emulator: HssEmulator, call: Call): Promise<Reply> {
  const qs = call.query.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&');
  const { hostname, port } = new URL(emulator.url);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        hostname,
        port,
        method: call.method ?? 'GET',
        path: qs ? `${call.path}?${qs}` : call.path,
        headers: call.headers,
        agent: false,
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('error', reject);
        res.on('end', () => {
          let body: unknown;
          try {
            body = JSON.parse(text);
          } catch {
            body = undefined;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, body });
        });
      },
    );
    req.on('error', reject);
    req.end();
  });
}

const withQuery = (emulator: HssEmulator, query: Array<[string, string]>, nowMs = T0): Promise<Reply> =>
  send(emulator, signedCall(emulator, nowMs, { query }));

function task(over: Partial<EmulatedTask> & { host_id: string; started_at: string }): EmulatedTask {
  return { host_name: over.host_id, backup_name: 'autobk', status: 'success', process: 100, ...over };
}

describe('HSS emulator: authentication', () => {
  it('serves a correctly signed fetch request with a request id and the documented record shape', async () => {
    // Prepare
    const emulator = await start({ tasks: makeTasks(3, { now: T0 }) });
    const query: Array<[string, string]> = [
      ['offset', '0'],
      ['limit', '10'],
    ];
    const host = new URL(emulator.url).host;
    const { Host: _host, ...headers } = signRequest(
      { method: 'GET', path: ROUTE, query, headers: { Host: host, 'X-Project-Id': 'demo-project' } },
      CREDS,
      T0,
    );
    // Act
    const res = await fetch(`${emulator.url}${ROUTE}?offset=0&limit=10`, { headers });
    // Assess
    expect(res.status).toBe(200);
    expect(res.headers.get('x-request-id')).toMatch(/^[0-9a-f]{32}$/);
    const body = (await res.json()) as { total_num: number; data_list: EmulatedTask[] };
    expect(body.total_num).toBe(3);
    expect(Object.keys(body.data_list[0]!).sort()).toEqual(
      [
        'backup_name',
        'ended_at',
        'error_info',
        'host_id',
        'host_name',
        'process',
        'started_at',
        'status',
      ].sort(),
    );
    expect(emulator.requests).toMatchObject([{ method: 'GET', path: ROUTE, status: 200, at: T0 }]);
  });

  const port = (e: HssEmulator) => new URL(e.url).port;
  it.each<[string, (e: HssEmulator) => Call]>([
    [
      'the path changed',
      (e) => ({ ...signedCall(e, T0, { path: '/v5/other/ransomware/backup/operation-logs' }), path: ROUTE }),
    ],
    [
      'a query value changed',
      (e) => ({
        ...signedCall(e),
        query: [
          ['offset', '0'],
          ['limit', '20'],
        ],
      }),
    ],
    [
      'a query parameter added',
      (e) => {
        const c = signedCall(e);
        return { ...c, query: [...c.query, ['status', 'failed']] };
      },
    ],
    [
      'the host changed',
      (e) => {
        const c = signedCall(e);
        return { ...c, headers: { ...c.headers, Host: `localhost:${port(e)}` } };
      },
    ],
    [
      'the date changed by 1 s',
      (e) => {
        const c = signedCall(e);
        return { ...c, headers: { ...c.headers, 'X-Sdk-Date': sdkDate(T0 + 1000) } };
      },
    ],
    [
      'the project header changed',
      (e) => {
        const c = signedCall(e);
        return { ...c, headers: { ...c.headers, 'X-Project-Id': 'other' } };
      },
    ],
    [
      'the signature changed',
      (e) => {
        const c = signedCall(e);
        return {
          ...c,
          headers: {
            ...c.headers,
            Authorization: c.headers.Authorization!.replace(/.$/, (d) => (d === '0' ? '1' : '0')),
          },
        };
      },
    ],
    ['an unknown AK', (e) => signedCall(e, T0, {}, { ak: 'OTHERAK', sk: 'EMULATORSK' })],
    ['a wrong SK', (e) => signedCall(e, T0, {}, { ak: 'EMULATORAK', sk: 'WRONGSK' })],
    [
      'no Authorization header',
      (e) => {
        const { Authorization: _a, ...headers } = signedCall(e).headers;
        return { ...signedCall(e), headers };
      },
    ],
    [
      'x-sdk-date left unsigned',
      (e) => {
        const c = signedCall(e);
        const sig = signature(
          { method: 'GET', ...c },
          ['host', 'x-project-id'],
          c.headers['X-Sdk-Date']!,
          CREDS.sk,
        );
        return {
          ...c,
          headers: {
            ...c.headers,
            Authorization: `SDK-HMAC-SHA256 Access=EMULATORAK, SignedHeaders=host;x-project-id, Signature=${sig}`,
          },
        };
      },
    ],
    ['a date 16 minutes old', (e) => signedCall(e, T0 - 16 * 60_000)],
    ['a date 16 minutes ahead', (e) => signedCall(e, T0 + 16 * 60_000)],
  ])('rejects a request with %s as 401 APIGW.0301', async (_why, makeCall) => {
    // Prepare
    const emulator = await start({ tasks: makeTasks(3, { now: T0 }) });
    // Act
    const res = await send(emulator, makeCall(emulator));
    // Assess
    expect(res.status).toBe(401);
    expect(res.body.error_code).toBe('APIGW.0301');
    expect(res.body.error_msg).toMatch(/^Incorrect IAM authentication information: /);
    expect(res.text).not.toContain('EMULATORSK');
    expect(res.headers['x-request-id']).toBeDefined();
  });

  it('accepts a date 14 minutes off in either direction', async () => {
    const emulator = await start();
    expect((await send(emulator, signedCall(emulator, T0 - 14 * 60_000))).status).toBe(200);
    expect((await send(emulator, signedCall(emulator, T0 + 14 * 60_000))).status).toBe(200);
  });

  it('requires the configured security token, signed', async () => {
    // Prepare
    const emulator = await start({ auth: { kind: 'aksk', ak: 'TMPAK', sk: 'TMPSK', securityToken: 'STS' } });
    const temp = { ak: 'TMPAK', sk: 'TMPSK' };
    // Act
    const good = await send(emulator, signedCall(emulator, T0, {}, { ...temp, securityToken: 'STS' }));
    const missing = await send(emulator, signedCall(emulator, T0, {}, temp));
    const wrong = await send(emulator, signedCall(emulator, T0, {}, { ...temp, securityToken: 'OTHER' }));
    // Assess
    expect([good.status, missing.status, wrong.status]).toEqual([200, 401, 401]);
  });

  it('accepts only the configured X-Auth-Token in token mode', async () => {
    // Prepare
    const emulator = await start({ auth: { kind: 'token', token: 'TOKEN-1' } });
    const call = (headers: Record<string, string>) =>
      send(emulator, {
        path: ROUTE,
        query: [
          ['offset', '0'],
          ['limit', '10'],
        ],
        headers,
      });
    // Act
    const replies = [
      await call({ 'X-Auth-Token': 'TOKEN-1' }),
      await call({ 'X-Auth-Token': 'TOKEN-2' }),
      await call({}),
    ];
    // Assess
    expect(replies.map((r) => r.status)).toEqual([200, 401, 401]);
    expect(replies[1]!.body.error_code).toBe('APIGW.0301');
    expect(replies[1]!.text).not.toContain('TOKEN-1');
  });
});

describe('HSS emulator: rate limit', () => {
  it('answers the sixth call in a minute with 429 APIGW.0308 and Retry-After, and recovers as the window rolls', async () => {
    // Prepare: calls 10 s apart on an injected clock.
    let clock = T0;
    const emulator = await start({ now: () => clock, ratePerMinute: 5 });
    const callAt = async (ms: number) => ((clock = ms), send(emulator, signedCall(emulator, ms)));
    // Act
    const accepted = [];
    for (let i = 0; i < 5; i++) accepted.push((await callAt(T0 + i * 10_000)).status);
    const throttled = await callAt(T0 + 50_000);
    const throttledAgain = await callAt(T0 + 55_000);
    const afterFirstLeft = await callAt(T0 + 60_000);
    const full = await callAt(T0 + 61_000);
    // Assess
    expect(accepted).toEqual([200, 200, 200, 200, 200]);
    expect(throttled.status).toBe(429);
    expect(throttled.body).toEqual({
      error_code: 'APIGW.0308',
      error_msg:
        'The throttling threshold has been reached: policy user over ratelimit,limit:5,time:1 minute',
    });
    expect(throttled.headers['retry-after']).toBe('10');
    // Throttled calls did not take a slot, so the first call's slot is free at +60 s.
    expect(throttledAgain.headers['retry-after']).toBe('5');
    expect(afterFirstLeft.status).toBe(200);
    expect(full.headers['retry-after']).toBe('9');
  });

  it('counts a faulted call as accepted and is unlimited after setRateLimit(0)', async () => {
    // Prepare
    const emulator = await start({ ratePerMinute: 1 });
    emulator.injectFault({ kind: 'status', status: 500 });
    // Act
    const faulted = await send(emulator, signedCall(emulator));
    const throttled = await send(emulator, signedCall(emulator));
    emulator.setRateLimit(0);
    const free = await Promise.all(Array.from({ length: 8 }, () => send(emulator, signedCall(emulator))));
    // Assess
    expect([faulted.status, throttled.status]).toEqual([500, 429]);
    expect(free.every((r) => r.status === 200)).toBe(true);
  });
});

describe('HSS emulator: parameters and routes', () => {
  const ep257 = 'e'.repeat(257);
  it.each<[string, Array<[string, string]>]>([
    ['offset missing', [['limit', '10']]],
    ['limit missing', [['offset', '0']]],
    [
      'offset negative',
      [
        ['offset', '-1'],
        ['limit', '10'],
      ],
    ],
    [
      'offset not a number',
      [
        ['offset', 'abc'],
        ['limit', '10'],
      ],
    ],
    [
      'offset fractional',
      [
        ['offset', '1.5'],
        ['limit', '10'],
      ],
    ],
    [
      'limit below 10',
      [
        ['offset', '0'],
        ['limit', '9'],
      ],
    ],
    [
      'limit above 200',
      [
        ['offset', '0'],
        ['limit', '201'],
      ],
    ],
    [
      'last_days 0',
      [
        ['offset', '0'],
        ['limit', '10'],
        ['last_days', '0'],
      ],
    ],
    [
      'last_days 31',
      [
        ['offset', '0'],
        ['limit', '10'],
        ['last_days', '31'],
      ],
    ],
    [
      'an undocumented status',
      [
        ['offset', '0'],
        ['limit', '10'],
        ['status', 'done'],
      ],
    ],
    [
      'an empty enterprise_project_id',
      [
        ['offset', '0'],
        ['limit', '10'],
        ['enterprise_project_id', ''],
      ],
    ],
    [
      'a 257-char enterprise_project_id',
      [
        ['offset', '0'],
        ['limit', '10'],
        ['enterprise_project_id', ep257],
      ],
    ],
  ])('rejects %s as 400 HSS.0001', async (_why, query) => {
    const emulator = await start();
    const res = await withQuery(emulator, query);
    expect(res.status).toBe(400);
    expect(res.body.error_code).toBe('HSS.0001');
  });

  it('accepts the boundary values of every range', async () => {
    const emulator = await start();
    const queries: Array<Array<[string, string]>> = [
      [
        ['offset', '0'],
        ['limit', '200'],
        ['last_days', '30'],
        ['enterprise_project_id', 'e'.repeat(256)],
      ],
      [
        ['offset', '2147483547'],
        ['limit', '10'],
        ['last_days', '1'],
        ['status', 'waiting'],
      ],
    ];
    const replies = await Promise.all(queries.map((q) => withQuery(emulator, q)));
    expect(replies.map((r) => r.status)).toEqual([200, 200]);
  });

  it('answers another project id with 403 HSS.0010', async () => {
    const emulator = await start();
    const other = '/v5/other-project/ransomware/backup/operation-logs';
    const res = await send(
      emulator,
      signedCall(emulator, T0, { path: other, headers: { Host: new URL(emulator.url).host } }),
    );
    expect(res.status).toBe(403);
    expect(res.body.error_code).toBe('HSS.0010');
  });

  it('answers unknown routes and methods with 404 and an error body, each with its own request id', async () => {
    const emulator = await start();
    const a = await send(emulator, {
      path: '/v5/demo-project/ransomware/backup/policies',
      query: [],
      headers: {},
    });
    const b = await send(emulator, { path: '/', query: [], headers: {} });
    const post = await send(emulator, { ...signedCall(emulator), method: 'POST' });
    expect([a.status, b.status, post.status]).toEqual([404, 404, 404]);
    expect(Object.keys(a.body).sort()).toEqual(['error_code', 'error_msg']);
    expect(a.headers['x-request-id']).not.toBe(b.headers['x-request-id']);
    expect(emulator.requests.map((r) => r.status)).toEqual([404, 404, 404]);
  });
});

describe('HSS emulator: data', () => {
  const page = (emulator: HssEmulator, offset: number, extra: Array<[string, string]> = []) =>
    withQuery(emulator, [['offset', String(offset)], ['limit', '10'], ...extra]);

  it('pages newest first with total_num, visiting every task exactly once', async () => {
    // Prepare
    const emulator = await start({ tasks: makeTasks(25, { now: T0 }) });
    // Act
    const pages = [];
    for (const offset of [0, 10, 20]) pages.push(await page(emulator, offset));
    // Assess
    const served: EmulatedTask[] = pages.flatMap((p) => p.body.data_list);
    expect(pages.map((p) => [p.body.total_num, p.body.data_list.length])).toEqual([
      [25, 10],
      [25, 10],
      [25, 5],
    ]);
    expect(new Set(served.map((t) => t.backup_name)).size).toBe(25);
    const starts = served.map((t) => Date.parse(String(t.started_at)));
    expect(starts).toEqual([...starts].sort((a, b) => b - a));
  });

  it('serves oldest first, or in the order given, when told to', async () => {
    // Prepare
    const iso = (ms: number) => new Date(ms).toISOString();
    const tasks = [
      task({ host_id: 'h-mid', started_at: iso(T0 - 2 * HOUR) }),
      task({ host_id: 'h-new', started_at: iso(T0 - HOUR) }),
      task({ host_id: 'h-old', started_at: iso(T0 - 3 * HOUR) }),
    ];
    const emulator = await start({ tasks, order: 'oldest-first' });
    const hosts = async () => (await page(emulator, 0)).body.data_list.map((t: EmulatedTask) => t.host_id);
    // Act
    const oldestFirst = await hosts();
    emulator.order = 'as-given';
    const asGiven = await hosts();
    emulator.order = 'newest-first';
    const newestFirst = await hosts();
    // Assess
    expect(oldestFirst).toEqual(['h-old', 'h-mid', 'h-new']);
    expect(asGiven).toEqual(['h-mid', 'h-new', 'h-old']);
    expect(newestFirst).toEqual(['h-new', 'h-mid', 'h-old']);
  });

  it('breaks start-time ties by host_id and filters by status, resource_name (substring), last_days and enterprise project', async () => {
    // Prepare
    const iso = (ms: number) => new Date(ms).toISOString();
    const emulator = await start({
      tasks: [
        task({ host_id: 'h-b', host_name: 'web-01', started_at: iso(T0 - HOUR) }),
        task({ host_id: 'h-a', host_name: 'web-02', started_at: iso(T0 - HOUR), status: 'failed' }),
        task({ host_id: 'h-c', host_name: 'db-1', started_at: iso(T0 - 2 * HOUR) }),
        task({ host_id: 'h-old', host_name: 'web-03', started_at: iso(T0 - 2 * 24 * HOUR) }),
        task({
          host_id: 'h-ep',
          host_name: 'app',
          started_at: iso(T0 - 3 * HOUR),
          enterprise_project_id: 'ep-1',
        }),
      ],
    });
    const hosts = async (extra: Array<[string, string]>) =>
      (await page(emulator, 0, extra)).body.data_list.map((t: EmulatedTask) => t.host_id);
    // Act + Assess: each line is one filter, and why it gives that answer.
    expect(await hosts([])).toEqual(['h-a', 'h-b', 'h-c']); // default: 1 day, default enterprise project '0'
    expect(await hosts([['status', 'failed']])).toEqual(['h-a']);
    expect(await hosts([['resource_name', 'db-1']])).toEqual(['h-c']);
    expect(await hosts([['resource_name', 'web']])).toEqual(['h-a', 'h-b']); // fuzzy: every name containing it
    expect(await hosts([['resource_name', 'eb-0']])).toEqual(['h-a', 'h-b']); // not only a prefix
    expect(await hosts([['last_days', '3']])).toEqual(['h-a', 'h-b', 'h-c', 'h-old']);
    expect(await hosts([['enterprise_project_id', 'ep-1']])).toEqual(['h-ep']);
    expect(await hosts([['enterprise_project_id', 'all_granted_eps']])).toEqual([
      'h-a',
      'h-b',
      'h-c',
      'h-ep',
    ]);
  });

  it.each<[TimeFormat]>([['iso'], ['epoch-ms'], ['epoch-ms-text'], ['epoch-s'], ['offset+08'], ['zoneless']])(
    'filters last_days on the start time written as %s',
    async (timeFormat) => {
      // Prepare: 48 tasks an hour apart, so 1 day holds the 24 newest (the first starts 1 min before now).
      const emulator = await start({ tasks: makeTasks(48, { now: T0, spanMs: 48 * HOUR, timeFormat }) });
      // Act
      const day = await withQuery(emulator, [
        ['offset', '0'],
        ['limit', '200'],
        ['last_days', '1'],
      ]);
      const two = await withQuery(emulator, [
        ['offset', '0'],
        ['limit', '200'],
        ['last_days', '2'],
      ]);
      // Assess
      expect([day.body.total_num, two.body.total_num]).toEqual([24, 48]);
      expect(day.body.data_list.map((t: EmulatedTask) => t.backup_name)).toEqual(
        Array.from({ length: 24 }, (_, i) => `autobk_${i}`),
      );
    },
  );

  it('keeps a task whose start time is unreadable in every window, last', async () => {
    const emulator = await start({
      tasks: [task({ host_id: 'h-x', started_at: 'yesterday' }), ...makeTasks(2, { now: T0 })],
    });
    const list = (await page(emulator, 0, [['last_days', '1']])).body.data_list;
    expect(list.map((t: EmulatedTask) => t.host_id).at(-1)).toBe('h-x');
    expect(list).toHaveLength(3);
  });

  it.each<[string, TotalNumMode, number]>([
    ['the true count', { kind: 'true' }, 30],
    ['a count lower than the rows', { kind: 'lower', by: 25 }, 5],
    ['a count never below zero', { kind: 'lower', by: 99 }, 0],
    ['a capped count', { kind: 'capped', max: 12 }, 12],
  ])('reports %s in total_num and still serves every row', async (_why, totalNum, expected) => {
    // Prepare
    const emulator = await start({ tasks: makeTasks(30, { now: T0 }), totalNum });
    // Act
    const pages = [];
    for (const offset of [0, 10, 20, 30]) pages.push((await page(emulator, offset)).body);
    // Assess
    expect(pages.map((p) => p.total_num)).toEqual([expected, expected, expected, expected]);
    expect(pages.map((p) => p.data_list.length)).toEqual([10, 10, 10, 0]);
  });

  it('calls the page hook before serving each page, so a test can insert a task between pages', async () => {
    // Prepare
    const emulator = await start({ tasks: makeTasks(20, { now: T0 }) });
    const seen: PageRequest[] = [];
    emulator.beforePage = (request) => {
      seen.push(request);
      // The newest task arrives after the first page: everything shifts one place.
      if (seen.length === 2)
        emulator.tasks.push(task({ host_id: 'h-new', started_at: new Date(T0).toISOString() }));
    };
    // Act
    const first = (await page(emulator, 0)).body;
    const second = (await page(emulator, 10)).body;
    // Assess
    expect(seen).toEqual([
      { projectId: 'demo-project', credential: 'default', query: { offset: '0', limit: '10' } },
      { projectId: 'demo-project', credential: 'default', query: { offset: '10', limit: '10' } },
    ]);
    expect([first.total_num, second.total_num]).toEqual([20, 21]);
    expect(second.data_list[0].backup_name).toBe(first.data_list[9].backup_name);
  });

  it('serves updated_at instead of ended_at when useUpdatedAt is set, reads tasks live, and never serves emulator-only fields', async () => {
    // Prepare
    const emulator = await start({
      tasks: makeTasks(1, {
        now: T0,
        status: 'success',
        enterpriseProjectId: '0',
        projectId: 'demo-project',
      }),
    });
    const endedAt = emulator.tasks[0]!.ended_at;
    // Act
    const normal = await page(emulator, 0);
    emulator.useUpdatedAt = true;
    const asDoc = await page(emulator, 0);
    emulator.tasks = [];
    const emptied = await page(emulator, 0);
    // Assess
    expect(normal.body.data_list[0]).toMatchObject({
      ended_at: endedAt,
      error_info: { code: '', message: '' },
    });
    expect(normal.body.data_list[0]).not.toHaveProperty('project_id');
    expect(normal.body.data_list[0]).not.toHaveProperty('enterprise_project_id');
    expect(asDoc.body.data_list[0].updated_at).toBe(endedAt);
    expect(asDoc.body.data_list[0]).not.toHaveProperty('ended_at');
    expect(emptied.body).toEqual({ total_num: 0, data_list: [] });
  });

  it('makes the same tasks for the same seed and different ones for another seed', () => {
    const a = makeTasks(50, { now: T0, seed: 7 });
    expect(makeTasks(50, { now: T0, seed: 7 })).toEqual(a);
    expect(makeTasks(50, { now: T0, seed: 8 })).not.toEqual(a);
    expect(new Set(a.map((t) => t.status))).toEqual(
      new Set(['success', 'failed', 'timeout', 'running', 'waiting', 'skipped']),
    );
    expect(a.every((t) => T0 - Date.parse(String(t.started_at)) < 24 * HOUR)).toBe(true);
    expect(
      makeTasks(3, { now: T0, status: (i) => (i === 1 ? 'failed' : 'success'), hostPrefix: 'web-' }),
    ).toMatchObject([
      { host_name: 'web-0', status: 'success' },
      { host_name: 'web-1', status: 'failed', error_info: { code: expect.any(String) } },
      { host_name: 'web-2', status: 'success' },
    ]);
  });

  it('writes every time format the client must read', () => {
    const at = Date.UTC(2026, 10, 29, 17, 0, 3);
    expect(
      (['iso', 'epoch-ms', 'epoch-ms-text', 'epoch-s', 'offset+08', 'zoneless'] as const).map((f) =>
        formatTime(at, f),
      ),
    ).toEqual([
      '2026-11-29T17:00:03Z',
      at,
      String(at),
      String(at / 1000),
      '2026-11-30T01:00:03+08:00',
      '2026-11-29 17:00:03',
    ]);
  });

  it('serves an incident-sized fleet: 4,200 running and 3,000 failed tasks, paged by status', async () => {
    // Prepare
    const tasks = [
      ...makeTasks(4_200, { now: T0, status: 'running', seed: 1 }),
      ...makeTasks(3_000, { now: T0, status: 'failed', seed: 2 }),
    ];
    const emulator = await start({ tasks });
    // Act
    const failed = await withQuery(emulator, [
      ['offset', '2800'],
      ['limit', '200'],
      ['status', 'failed'],
    ]);
    const running = await withQuery(emulator, [
      ['offset', '0'],
      ['limit', '200'],
      ['status', 'running'],
    ]);
    // Assess
    expect([failed.body.total_num, failed.body.data_list.length]).toEqual([3_000, 200]);
    expect(running.body.total_num).toBe(4_200);
    expect(new Set(tasks.map((t) => t.host_id)).size).toBe(7_200);
  });
});

describe('HSS emulator: projects and credentials', () => {
  const ALICE: AkSkCredentials = { ak: 'ALICEAK', sk: 'ALICESK' };
  const BOB: AkSkCredentials = { ak: 'BOBAK', sk: 'BOBSK' };
  const routeOf = (project: string) => `/v5/${project}/ransomware/backup/operation-logs`;
  const callAs = (emulator: HssEmulator, creds: AkSkCredentials, project: string, nowMs = T0) =>
    send(
      emulator,
      signedCall(
        emulator,
        nowMs,
        { path: routeOf(project), headers: { Host: new URL(emulator.url).host, 'X-Project-Id': project } },
        creds,
      ),
    );

  async function estate(rate = 0) {
    return start({
      ratePerMinute: rate,
      projects: ['p-north', 'p-south'],
      credentials: {
        alice: { kind: 'aksk', ...ALICE },
        bob: { kind: 'aksk', ...BOB, projects: ['p-south'] },
      },
      tasks: [
        ...makeTasks(3, { now: T0, projectId: 'p-north', seed: 1 }),
        ...makeTasks(2, { now: T0, projectId: 'p-south', seed: 2 }),
      ],
    });
  }

  it('serves each project its own tasks, and answers a project a credential may not read with 403 HSS.0010', async () => {
    // Prepare
    const emulator = await estate();
    // Act
    const north = await callAs(emulator, ALICE, 'p-north');
    const south = await callAs(emulator, ALICE, 'p-south');
    const bobNorth = await callAs(emulator, BOB, 'p-north');
    const bobSouth = await callAs(emulator, BOB, 'p-south');
    const unknown = await callAs(emulator, ALICE, 'p-west');
    // Assess
    expect([north.body.total_num, south.body.total_num, bobSouth.body.total_num]).toEqual([3, 2, 2]);
    expect([bobNorth.status, bobNorth.body.error_code]).toEqual([403, 'HSS.0010']);
    expect([unknown.status, unknown.body.error_code]).toEqual([403, 'HSS.0010']);
    expect(emulator.requests.map((r) => r.credential)).toEqual(['alice', 'alice', 'bob', 'bob', 'alice']);
  });

  it('limits each credential on its own, across every project it reads', async () => {
    // Prepare
    const emulator = await estate(5);
    // Act: alice spreads 6 calls over two projects; bob makes 5 of his own meanwhile.
    const alice = [];
    for (let i = 0; i < 6; i++)
      alice.push((await callAs(emulator, ALICE, i % 2 ? 'p-north' : 'p-south')).status);
    const bob = [];
    for (let i = 0; i < 5; i++) bob.push((await callAs(emulator, BOB, 'p-south')).status);
    // Assess
    expect(alice).toEqual([200, 200, 200, 200, 200, 429]);
    expect(bob).toEqual([200, 200, 200, 200, 200]);
  });

  it('counts the most calls each credential started in any minute, throttled calls included', async () => {
    // Prepare
    let clock = T0;
    const emulator = await start({
      now: () => clock,
      ratePerMinute: 2,
      credentials: { alice: { kind: 'aksk', ...ALICE }, bob: { kind: 'aksk', ...BOB } },
    });
    const at = async (ms: number, creds: AkSkCredentials) => {
      clock = T0 + ms;
      await callAs(emulator, creds, 'demo-project', clock);
    };
    // Act: alice at 0, 10, 59.999 (throttled: 2 a minute) and 60 s: 3 within [0, 60 s) and within [10 s, 70 s); bob twice.
    for (const ms of [0, 10_000, 59_999, 60_000]) await at(ms, ALICE);
    await at(30_000, BOB);
    await at(200_000, BOB);
    await send(emulator, signedCall(emulator, clock, {}, { ak: 'ALICEAK', sk: 'WRONG' }));
    // Assess
    expect(emulator.requests.map((r) => r.status)).toEqual([200, 200, 429, 200, 200, 200, 401]);
    expect(emulator.maxCallsInAnyMinute('alice')).toBe(3);
    expect(emulator.maxCallsInAnyMinute('bob')).toBe(1);
    expect(emulator.maxCallsInAnyMinute()).toBe(3);
    expect(emulator.maxCallsInAnyMinute('carol')).toBe(0);
  });

  it('locks an access key for 5 minutes after 5 authentication failures in a row, as HSS does', async () => {
    // Prepare
    let clock = T0;
    const emulator = await start({ now: () => clock });
    const wrong = { ak: 'EMULATORAK', sk: 'WRONG' };
    // Act
    const failures = [];
    for (let i = 0; i < 5; i++)
      failures.push((await send(emulator, signedCall(emulator, clock, {}, wrong))).status);
    const locked = await send(emulator, signedCall(emulator, clock));
    clock = T0 + 5 * 60_000;
    const unlocked = await send(emulator, signedCall(emulator, clock));
    // Assess
    expect(failures).toEqual([401, 401, 401, 401, 401]);
    expect([locked.status, locked.body.error_msg]).toEqual([
      401,
      'Incorrect IAM authentication information: the access key is locked after repeated failures',
    ]);
    expect(unlocked.status).toBe(200);
  });

  it('does not lock a key whose failures were interrupted by a success', async () => {
    const emulator = await start();
    const wrong = { ak: 'EMULATORAK', sk: 'WRONG' };
    for (let i = 0; i < 4; i++) await send(emulator, signedCall(emulator, T0, {}, wrong));
    await send(emulator, signedCall(emulator));
    for (let i = 0; i < 4; i++) await send(emulator, signedCall(emulator, T0, {}, wrong));
    expect((await send(emulator, signedCall(emulator))).status).toBe(200);
  });

  it('accepts token and AK/SK credentials side by side', async () => {
    // Prepare
    const emulator = await start({
      credentials: { keys: { kind: 'aksk', ...CREDS }, iam: { kind: 'token', token: 'TOKEN-1' } },
    });
    // Act
    const signed = await send(emulator, signedCall(emulator));
    const token = await send(emulator, {
      path: ROUTE,
      query: [
        ['offset', '0'],
        ['limit', '10'],
      ],
      headers: { 'X-Auth-Token': 'TOKEN-1' },
    });
    // Assess
    expect([signed.status, token.status]).toEqual([200, 200]);
    expect(emulator.requests.map((r) => r.credential)).toEqual(['keys', 'iam']);
  });
});

describe('HSS emulator: faults', () => {
  it('serves a status fault the given number of times, then normally, and keeps it for authenticated calls', async () => {
    // Prepare
    const emulator = await start();
    emulator.injectFault({ kind: 'status', status: 503, body: { error_code: 'X', error_msg: 'down' } }, 2);
    // Act
    const unsigned = await send(emulator, {
      path: ROUTE,
      query: [
        ['offset', '0'],
        ['limit', '10'],
      ],
      headers: {},
    });
    const replies = [];
    for (let i = 0; i < 3; i++) replies.push(await send(emulator, signedCall(emulator)));
    // Assess
    expect(unsigned.status).toBe(401);
    expect(replies.map((r) => r.status)).toEqual([503, 503, 200]);
    expect(replies[0]!.body).toEqual({ error_code: 'X', error_msg: 'down' });
    expect(replies[0]!.headers['x-request-id']).toBeDefined();
  });

  it('passes fault headers through (429 with Retry-After) and clearFaults drops queued faults', async () => {
    const emulator = await start();
    emulator.injectFault({ kind: 'status', status: 429, headers: { 'Retry-After': '7' } });
    emulator.injectFault({ kind: 'status', status: 500 }, Infinity);
    const throttled = await send(emulator, signedCall(emulator));
    emulator.clearFaults();
    const normal = await send(emulator, signedCall(emulator));
    expect([throttled.status, throttled.headers['retry-after'], normal.status]).toEqual([429, '7', 200]);
  });

  it('resets the connection without answering, then serves the next call', async () => {
    const emulator = await start();
    emulator.injectFault({ kind: 'reset' });
    await expect(send(emulator, signedCall(emulator))).rejects.toThrow(/socket hang up|ECONNRESET/);
    expect((await send(emulator, signedCall(emulator))).status).toBe(200);
    expect(emulator.requests.map((r) => r.status)).toEqual([0, 200]);
  });

  it('hangs until close() and close() still finishes', async () => {
    // Prepare
    const emulator = await startHssEmulator({ now: () => T0 });
    emulator.injectFault({ kind: 'hang' });
    const pending = send(emulator, signedCall(emulator));
    const settled = jest.fn();
    pending.then(settled, settled);
    while (emulator.requests.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    // Act
    const stillPending = settled.mock.calls.length === 0;
    await emulator.close();
    // Assess
    expect(stillPending).toBe(true);
    await expect(pending).rejects.toThrow();
    expect(emulator.requests[0]!.status).toBe(0);
  });

  it('delays the answer: a later undelayed call is answered first', async () => {
    // Prepare
    const emulator = await start({ tasks: makeTasks(2, { now: T0 }) });
    emulator.injectFault({ kind: 'delay', ms: 300 });
    const order: string[] = [];
    // Act
    const delayed = send(emulator, signedCall(emulator)).then((r) => (order.push('delayed'), r));
    while (emulator.requests.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    const prompt = await send(emulator, signedCall(emulator)).then((r) => (order.push('prompt'), r));
    // Assess
    expect((await delayed).body).toEqual(prompt.body);
    expect(order).toEqual(['prompt', 'delayed']);
  });

  it('serves a raw body as given', async () => {
    const emulator = await start();
    emulator.injectFault({ kind: 'raw', body: '<html>gateway error', status: 502, contentType: 'text/html' });
    emulator.injectFault({ kind: 'raw', body: '{"total_num": 3, "data_list": [' });
    const html = await send(emulator, signedCall(emulator));
    const truncated = await send(emulator, signedCall(emulator));
    expect([html.status, html.headers['content-type'], html.text]).toEqual([
      502,
      'text/html',
      '<html>gateway error',
    ]);
    expect([truncated.status, truncated.text, truncated.body]).toEqual([
      200,
      '{"total_num": 3, "data_list": [',
      undefined,
    ]);
  });

  it('serves what a mutate fault returns, without touching the live tasks', async () => {
    // Prepare
    const emulator = await start({ tasks: makeTasks(2, { now: T0 }) });
    const before = structuredClone(emulator.tasks);
    emulator.injectFault({ kind: 'mutate', fn: (b) => ({ total_num: b.total_num }) });
    emulator.injectFault({
      kind: 'mutate',
      fn: (b) => {
        const list = b.data_list as EmulatedTask[];
        list[0]!.status = 'exploded';
        return { total_num: 99, data_list: [...list, list[0]] };
      },
    });
    // Act
    const noList = await send(emulator, signedCall(emulator));
    const grown = await send(emulator, signedCall(emulator));
    // Assess
    expect(noList.body).toEqual({ total_num: 2 });
    expect(grown.body.total_num).toBe(99);
    expect(grown.body.data_list.map((t: EmulatedTask) => t.status)[2]).toBe('exploded');
    expect(emulator.tasks).toEqual(before);
  });
});
