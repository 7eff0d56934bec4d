import { HssResponseError } from '../../lib/hss/errors';
import { arrivalMarker } from '../../lib/hss/clip-json';
import { clipText, FIELD_LIMITS, parsePage, parseTime, type ParsedTime } from '../../lib/hss/parse';

const record = (overrides: Record<string, unknown> = {}): Record<string, unknown> => ({
  host_id: 'c882e0-c4c1-4e89-b99a-f632',
  host_name: 'ecs-test',
  backup_name: 'autobk_9',
  process: 100,
  status: 'success',
  started_at: '2025-03-06T05:26:18Z',
  ended_at: '2025-03-06T05:27:02Z',
  error_info: { code: '', message: '' },
  ...overrides,
});
const page = (...records: unknown[]) => ({ total_num: records.length, data_list: records });
const STARTED = Date.UTC(2025, 2, 6, 5, 26, 18);

/** Message of the error `act` throws, failing the test when it does not throw an HssResponseError. */
function responseErrorOf(act: () => unknown): string {
  try {
    act();
  } catch (err) {
    expect(err).toBeInstanceOf(HssResponseError);
    return (err as Error).message;
  }
  throw new Error('expected an HssResponseError');
}

describe('parseTime', () => {
  const T = Date.UTC(2026, 10, 29, 17, 0, 3);
  it.each<[string, unknown, ParsedTime | undefined]>([
    ['ISO UTC, as in the doc example', '2026-11-29T17:00:03Z', { ms: T, zoneless: false }],
    [
      'ISO UTC with a lower-case z and milliseconds',
      '2026-11-29T17:00:03.250z',
      { ms: T + 250, zoneless: false },
    ],
    ['an offset with a colon (a console in China)', '2026-11-30T01:00:03+08:00', { ms: T, zoneless: false }],
    ['an offset without a colon', '2026-11-30T01:00:03+0800', { ms: T, zoneless: false }],
    ['an hours-only offset', '2026-11-30T01:00:03+08', { ms: T, zoneless: false }],
    ['a negative offset', '2026-11-29T12:00:03-05:00', { ms: T, zoneless: false }],
    ['a space before the offset', '2026-11-30 01:00:03 +08:00', { ms: T, zoneless: false }],
    ['the +14:00 extreme', '2026-11-30T07:00:03+14:00', { ms: T, zoneless: false }],
    ['zone-less with a space: read as UTC, flagged', '2026-11-29 17:00:03', { ms: T, zoneless: true }],
    ['zone-less with T: read as UTC, flagged', '2026-11-29T17:00:03', { ms: T, zoneless: true }],
    ['zone-less with a fraction', '2026-11-29 17:00:03.5', { ms: T + 500, zoneless: true }],
    ['zone-less without seconds', '2026-11-29 17:00', { ms: T - 3000, zoneless: true }],
    ['epoch ms as a number (other HSS v5 APIs)', T, { ms: T, zoneless: false }],
    ['epoch ms as 13 digits', String(T), { ms: T, zoneless: false }],
    ['epoch seconds as 10 digits', String(T / 1000), { ms: T, zoneless: false }],
    ['epoch seconds as a number', T / 1000, { ms: T, zoneless: false }],
    ['epoch seconds with a fraction', `${T / 1000}.5`, { ms: T + 500, zoneless: false }],
    ['surrounding spaces', ` ${String(T)} `, { ms: T, zoneless: false }],
    ['a day that does not exist', '2026-02-30T10:00:00Z', undefined],
    ['hour 24', '2026-11-29T24:00:00Z', undefined],
    ['an offset beyond +14:00', '2026-11-29T17:00:03+15:00', undefined],
    ['offset minutes beyond 59', '2026-11-29T17:00:03+08:60', undefined],
    ['a date without a time', '2026-11-29', undefined],
    ['11 digits (neither seconds nor ms)', '17648000000', undefined],
    ['a negative number', -1, undefined],
    ['words', 'yesterday', undefined],
    ['null', null, undefined],
    ['an object', {}, undefined],
  ])('reads %s', (_why, value, expected) => {
    expect(parseTime(value)).toEqual(expected);
  });
});

describe('parsePage', () => {
  it.each([
    [
      'a zone-less start beside an end with an offset: read in that offset',
      '2025-03-06 13:26:18',
      '2025-03-06T13:27:02+08:00',
    ],
    ['a zone-less end beside a start with an offset', '2025-03-06T13:26:18+08:00', '2025-03-06 13:27:02'],
    ['both zone-less: both read as UTC', '2025-03-06 05:26:18', '2025-03-06 05:27:02'],
  ])('reads %s, keeping the task flagged zoneless', (_why, started, ended) => {
    const [task] = parsePage(page(record({ started_at: started, ended_at: ended })), 0).page.tasks;
    expect(task).toMatchObject({ startedMs: STARTED, endedMs: STARTED + 44_000, zoneless: true });
  });

  it('parses the documented example, which has updated_at instead of ended_at', () => {
    // Prepare
    const body = page(record({ ended_at: undefined, updated_at: '2025-03-06T05:27:02Z' }));
    // Act
    const reading = parsePage(body, 0);
    // Assess
    expect(reading).toEqual({
      page: {
        rows: 1,
        totalNum: 1,
        rejected: [],
        tasks: [
          {
            hostId: 'c882e0-c4c1-4e89-b99a-f632',
            hostName: 'ecs-test',
            backupName: 'autobk_9',
            process: 100,
            status: 'success',
            rawStatus: 'success',
            startedAt: '2025-03-06T05:26:18Z',
            startedMs: STARTED,
            endedAt: '2025-03-06T05:27:02Z',
            endedMs: STARTED + 44_000,
          },
        ],
      },
      unknownStatuses: [],
    });
  });

  it('prefers ended_at over updated_at, and falls back to updated_at when ended_at is empty', () => {
    const both = parsePage(page(record({ ended_at: 'E', updated_at: 'U' })), 0).page.tasks[0]!;
    const empty = parsePage(page(record({ ended_at: '', updated_at: 'U' })), 0).page.tasks[0]!;
    expect([both.endedAt, empty.endedAt]).toEqual(['E', 'U']);
  });

  it('keeps the failure code and message of a failed task', () => {
    const task = parsePage(
      page(record({ status: 'failed', error_info: { code: 'HSS.1234', message: 'vault full' } })),
      0,
    ).page.tasks[0];
    expect(task).toMatchObject({ status: 'failed', errorCode: 'HSS.1234', errorMessage: 'vault full' });
  });

  it.each([
    ['missing', { error_info: undefined }],
    ['null', { error_info: null }],
    ['an empty object', { error_info: {} }],
    ['an empty string', { error_info: '' }],
    ['a string', { error_info: 'boom' }],
    ['empty strings', { error_info: { code: '', message: '' } }],
    ['of the wrong types', { error_info: { code: true, message: [] } }],
  ])('accepts error_info that is %s and leaves the error fields out', (_label, overrides) => {
    const task = parsePage(page(record(overrides)), 0).page.tasks[0];
    expect(task).not.toHaveProperty('errorCode');
    expect(task).not.toHaveProperty('errorMessage');
  });

  it('reads the other fields leniently: null host_name, no process or end, extra fields, odd types', () => {
    // Prepare
    const body = {
      total_num: 3,
      extra_top: true,
      data_list: [
        record({ process: undefined, ended_at: undefined, host_name: null, vault_id: 'v-1' }),
        record({ process: '42', host_name: 7, status: undefined }),
        record({ process: 'most', ended_at: { at: 1 } }),
      ],
    };
    // Act
    const [a, b, c] = parsePage(body, 0).page.tasks;
    // Assess
    expect(a).not.toHaveProperty('process');
    expect(a).not.toHaveProperty('endedAt');
    expect(a!.hostName).toBe('');
    expect(a).not.toHaveProperty('vault_id');
    expect(b).toMatchObject({ process: 42, hostName: '7', status: 'unknown', rawStatus: '' });
    expect(c).not.toHaveProperty('process');
    expect(c).not.toHaveProperty('endedAt');
  });

  it('keeps numeric timestamps as their decimal text (the task identity) and reads them as epoch ms', () => {
    const task = parsePage(page(record({ started_at: 1741238778000, ended_at: 1741238822000 })), 0).page
      .tasks[0]!;
    expect(task).toMatchObject({
      startedAt: '1741238778000',
      startedMs: 1741238778000,
      endedAt: '1741238822000',
      endedMs: 1741238822000,
    });
    expect(task).not.toHaveProperty('zoneless');
  });

  it('marks a task with a zone-less time and gives one example for the warning', () => {
    // Prepare
    const body = page(
      record({ started_at: '2025-03-06 05:26:18', ended_at: '2025-03-06T05:27:02Z' }),
      record({ started_at: '2025-03-06T05:26:18Z', ended_at: '2025-03-06 05:28:00' }),
      record({ started_at: '2025-03-06T04:00:00Z' }),
    );
    // Act
    const reading = parsePage(body, 0);
    // Assess
    expect(reading.page.tasks.map((t) => t.zoneless)).toEqual([true, true, undefined]);
    expect(reading.page.tasks[0]!.startedMs).toBe(STARTED);
    expect(reading.zonelessExample).toBe('2025-03-06 05:26:18');
  });

  it('keeps a task whose start time is in no known format, without epoch ms, and gives an example', () => {
    // Prepare
    const body = page(record({ started_at: 'Thursday morning', status: 'failed' }));
    // Act
    const reading = parsePage(body, 0);
    // Assess
    expect(reading.page.tasks).toHaveLength(1);
    expect(reading.page.tasks[0]).toMatchObject({ startedAt: 'Thursday morning', status: 'failed' });
    expect(reading.page.tasks[0]).not.toHaveProperty('startedMs');
    expect(reading.unreadableTimeExample).toBe('Thursday morning');
  });

  it('maps an undocumented status to unknown, keeps the raw value and lists it once', () => {
    // Prepare
    const body = page(
      record({ status: 'cancelled', started_at: 'a' }),
      record({ status: 'cancelled', started_at: 'b' }),
      record({ status: 'failed', started_at: 'c' }),
    );
    // Act
    const reading = parsePage(body, 400);
    // Assess
    expect(reading.page.tasks.map((t) => [t.status, t.rawStatus])).toEqual([
      ['unknown', 'cancelled'],
      ['unknown', 'cancelled'],
      ['failed', 'failed'],
    ]);
    expect(reading.unknownStatuses).toEqual(['cancelled']);
  });

  it('matches documented statuses regardless of case and padding, keeping the raw text', () => {
    const task = parsePage(page(record({ status: ' FAILED ' })), 0).page.tasks[0];
    expect(task).toMatchObject({ status: 'failed', rawStatus: ' FAILED ' });
  });

  it('sets aside the records it cannot identify, with their index and why, and keeps the rest', () => {
    // Prepare
    const body = {
      total_num: 200,
      data_list: [
        record({ started_at: 'keep-0' }),
        record({ host_id: undefined }),
        record({ host_id: '  ' }),
        record({ started_at: null }),
        record({ started_at: '' }),
        record({ backup_name: undefined }),
        'a string',
        null,
        record({ started_at: 'keep-8', backup_name: '' }),
      ],
    };
    // Act
    const { page: read } = parsePage(body, 200);
    // Assess
    expect(read.rows).toBe(9);
    expect(read.tasks.map((t) => t.startedAt)).toEqual(['keep-0', 'keep-8']);
    expect(read.rejected.map(({ index, reason }) => ({ index, reason }))).toEqual([
      { index: 1, reason: 'host_id is missing or empty' },
      { index: 2, reason: 'host_id is missing or empty' },
      { index: 3, reason: 'started_at is missing or empty' },
      { index: 4, reason: 'started_at is missing or empty' },
      { index: 5, reason: 'backup_name is missing' },
      { index: 6, reason: 'not an object (got string)' },
      { index: 7, reason: 'not an object (got null)' },
    ]);
    // The reasons say nothing of the record (they are logged); the sample shows its start, bounded.
    expect(JSON.stringify(read.rejected.map((r) => r.reason))).not.toContain('ecs-test');
    expect(read.rejected[0]!.sample).toMatch(/^\{"host_name":"ecs-test"/);
    expect(read.rejected.every((r) => r.sample.length <= 200)).toBe(true);
    expect(read.rejected[6]!.sample).toBe('null');
  });

  it('counts rows as sent, so a full page of rejected records still asks for the next page', () => {
    const body = { total_num: 5, data_list: Array.from({ length: 10 }, () => record({ host_id: null })) };
    expect(parsePage(body, 0).page).toMatchObject({ rows: 10, tasks: [], totalNum: 5 });
  });

  it('keeps total_num as a hint, even when it is lower than the rows', () => {
    const body = { total_num: 1, data_list: [record({ started_at: 'a' }), record({ started_at: 'b' })] };
    expect(parsePage(body, 0).page).toMatchObject({ rows: 2, totalNum: 1 });
  });

  it('accepts an empty page, with or without data_list, when total_num is 0', () => {
    expect(parsePage({ total_num: 0, data_list: [] }, 0).page).toEqual({
      rows: 0,
      tasks: [],
      rejected: [],
      totalNum: 0,
    });
    expect(parsePage({ total_num: 0 }, 0).page.rows).toBe(0);
    expect(parsePage({ total_num: 0, data_list: null }, 0).page.rows).toBe(0);
  });

  it('turns lone surrogates into U+FFFD so the task key stays valid text', () => {
    const task = parsePage(page(record({ backup_name: 'bk\ud800x' })), 0).page.tasks[0]!;
    expect(task.backupName).toBe('bk\uFFFDx');
  });

  it.each([
    ['an array', [], /HSS page is not a JSON object \(got array\) at offset 200/],
    ['null', null, /not a JSON object \(got null\) at offset 200/],
    ['a string', 'oops', /not a JSON object \(got string\) at offset 200/],
    [
      'a page whose data_list is an object',
      { total_num: 5, data_list: { a: 1 } },
      /data_list is not an array \(got object\)/,
    ],
    [
      'a page without data_list that promises records',
      { total_num: 5 },
      /data_list is missing \(expected an array; total_num is 5\) at offset 200/,
    ],
    [
      'a page whose total_num is text',
      { total_num: '3', data_list: [] },
      /total_num is not a number \(got string\) at offset 200/,
    ],
    [
      'a page whose total_num is null',
      { total_num: null, data_list: [] },
      /total_num is not a number \(got null\)/,
    ],
    ['a page without total_num', { data_list: [] }, /total_num is missing at offset 200/],
  ])('fails the whole page, naming the field, for %s', (_label, body, message) => {
    expect(responseErrorOf(() => parsePage(body, 200))).toMatch(message);
  });
});

describe('bounding a record', () => {
  it('clips a 500 KB error message to its limit, saying how much was left out', () => {
    const huge = 'E'.repeat(500_000);
    const { page } = parsePage(
      {
        total_num: 1,
        data_list: [
          {
            host_id: 'h1',
            backup_name: 'b',
            started_at: '2026-11-27T10:00:00Z',
            status: 'failed',
            error_info: { code: 'X', message: huge },
          },
        ],
      },
      0,
    );
    const message = page.tasks[0]!.errorMessage!;
    expect(message.length).toBeLessThanOrEqual(FIELD_LIMITS.errorMessage);
    expect(message).toMatch(/^E+… \[\d+ more characters, #[0-9a-f]{8}\]$/);
    expect(message).toContain(`${500_000 - message.indexOf('…')} more characters`);
  });

  it.each([
    ['a value within its limit is kept as is', 'web-01', 10, 'web-01'],
    ['an empty value is kept', '', 10, ''],
  ])('%s', (_why, value, max, expected) => {
    expect(clipText(value, max)).toBe(expected);
  });

  it('keeps two long values that share their start apart, so two tasks stay two', () => {
    const a = clipText(`${'x'.repeat(1000)}a`, FIELD_LIMITS.hostId);
    const b = clipText(`${'x'.repeat(1000)}b`, FIELD_LIMITS.hostId);
    expect(a).not.toBe(b);
    expect(Math.max(a.length, b.length)).toBeLessThanOrEqual(FIELD_LIMITS.hostId);
  });

  it('counts what the transport dropped on arrival, so the message says how long the text really was', () => {
    const arrived = `${'E'.repeat(4096)}${arrivalMarker(995_904, '0123abcd')}`;
    const clipped = clipText(arrived, FIELD_LIMITS.errorMessage);
    const kept = clipped.indexOf('…');
    expect(clipped).toContain(`… [${1_000_000 - kept} more characters, #`);
    expect(clipped.length).toBeLessThanOrEqual(FIELD_LIMITS.errorMessage);
  });

  it('never cuts a character of two UTF-16 units in half', () => {
    const clipped = clipText(`a${'😀'.repeat(300)}`, 100);
    expect(clipped).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])/);
  });
});
