import { HssResponseError } from '../../lib/hss/errors';
import { parsePage } from '../../lib/hss/parse';
import type { Log } from '../../lib/log';

function recordingLog() {
  const lines: Array<{ level: string; message: string; extra?: Record<string, unknown> }> = [];
  const at =
    (level: string) =>
    (message: string, extra?: Record<string, unknown>): void => {
      lines.push({ level, message, extra });
    };
  const log: Log = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
  return { log, lines };
}

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

describe('parsePage', () => {
  it('parses the documented example, which has updated_at instead of ended_at', () => {
    // Prepare
    const body = {
      total_num: 1,
      data_list: [record({ ended_at: undefined, updated_at: '2025-03-06T05:27:02Z' })],
    };
    // Act
    const page = parsePage(body, { offset: 0 });
    // Assess
    expect(page).toEqual({
      totalNum: 1,
      unknownStatuses: [],
      tasks: [
        {
          hostId: 'c882e0-c4c1-4e89-b99a-f632',
          hostName: 'ecs-test',
          backupName: 'autobk_9',
          process: 100,
          status: 'success',
          rawStatus: 'success',
          startedAt: '2025-03-06T05:26:18Z',
          endedAt: '2025-03-06T05:27:02Z',
        },
      ],
    });
  });

  it('prefers ended_at over updated_at when both are sent', () => {
    const page = parsePage(
      { total_num: 1, data_list: [record({ ended_at: 'E', updated_at: 'U' })] },
      { offset: 0 },
    );
    expect(page.tasks[0]!.endedAt).toBe('E');
  });

  it('keeps the failure code and message of a failed task', () => {
    const page = parsePage(
      {
        total_num: 1,
        data_list: [record({ status: 'failed', error_info: { code: 'HSS.1234', message: 'vault full' } })],
      },
      { offset: 0 },
    );
    expect(page.tasks[0]).toMatchObject({
      status: 'failed',
      errorCode: 'HSS.1234',
      errorMessage: 'vault full',
    });
  });

  it.each([
    ['missing', { error_info: undefined }],
    ['null', { error_info: null }],
    ['an empty object', { error_info: {} }],
    ['an empty string', { error_info: '' }],
    ['empty strings', { error_info: { code: '', message: '' } }],
  ])('accepts error_info that is %s and leaves the error fields out', (_label, overrides) => {
    // Act
    const page = parsePage({ total_num: 1, data_list: [record(overrides)] }, { offset: 0 });
    // Assess
    expect(page.tasks[0]).not.toHaveProperty('errorCode');
    expect(page.tasks[0]).not.toHaveProperty('errorMessage');
  });

  it('accepts a record without process, ended_at or updated_at, with null host_name and extra fields', () => {
    // Prepare
    const body = {
      total_num: 1,
      extra_top: true,
      data_list: [
        record({
          process: undefined,
          ended_at: undefined,
          host_name: null,
          vault_id: 'v-1',
          nested: { anything: [1] },
        }),
      ],
    };
    // Act
    const task = parsePage(body, { offset: 0 }).tasks[0]!;
    // Assess
    expect(task).not.toHaveProperty('process');
    expect(task).not.toHaveProperty('endedAt');
    expect(task.hostName).toBe('');
    expect(task).not.toHaveProperty('vault_id');
  });

  it('keeps numeric timestamps as their decimal text, so the task key stays stable', () => {
    const task = parsePage(
      { total_num: 1, data_list: [record({ started_at: 1741238778000, ended_at: 1741238822000 })] },
      { offset: 0 },
    ).tasks[0]!;
    expect(task.startedAt).toBe('1741238778000');
    expect(task.endedAt).toBe('1741238822000');
  });

  it('maps an undocumented status to unknown, keeps the raw value and warns once per page', () => {
    // Prepare
    const { log, lines } = recordingLog();
    const body = {
      total_num: 3,
      data_list: [
        record({ status: 'cancelled', started_at: 'a' }),
        record({ status: 'cancelled', started_at: 'b' }),
        record({ status: 'failed', started_at: 'c' }),
      ],
    };
    // Act
    const page = parsePage(body, { offset: 400 }, log);
    // Assess
    expect(page.tasks.map((t) => [t.status, t.rawStatus])).toEqual([
      ['unknown', 'cancelled'],
      ['unknown', 'cancelled'],
      ['failed', 'failed'],
    ]);
    expect(page.unknownStatuses).toEqual(['cancelled']);
    expect(lines).toEqual([
      expect.objectContaining({ level: 'warn', extra: { statuses: ['cancelled'], offset: 400 } }),
    ]);
  });

  it('matches documented statuses regardless of case and padding, keeping the raw text', () => {
    const task = parsePage({ total_num: 1, data_list: [record({ status: ' FAILED ' })] }, { offset: 0 })
      .tasks[0]!;
    expect(task).toMatchObject({ status: 'failed', rawStatus: ' FAILED ' });
  });

  it('accepts an empty page, with or without data_list, when total_num is 0', () => {
    expect(parsePage({ total_num: 0, data_list: [] }, { offset: 0 })).toEqual({
      totalNum: 0,
      tasks: [],
      unknownStatuses: [],
    });
    expect(parsePage({ total_num: 0 }, { offset: 0 }).tasks).toEqual([]);
  });

  it.each([
    ['an array', [], /HSS page is not a JSON object \(got array\) at offset 200/],
    ['null', null, /not a JSON object \(got null\) at offset 200/],
    ['a string', 'oops', /not a JSON object \(got string\) at offset 200/],
  ])('rejects a body that is %s', (_label, body, message) => {
    expect(responseErrorOf(() => parsePage(body, { offset: 200 }))).toMatch(message);
  });

  it('rejects a data_list that is not an array, naming it and the offset', () => {
    const message = responseErrorOf(() => parsePage({ total_num: 5, data_list: { a: 1 } }, { offset: 200 }));
    expect(message).toMatch(/data_list is not an array \(got object\) at offset 200/);
  });

  it('rejects a missing data_list when total_num promises records', () => {
    const message = responseErrorOf(() => parsePage({ total_num: 5 }, { offset: 0 }));
    expect(message).toMatch(/no data_list but total_num is 5 at offset 0/);
  });

  it.each([
    [{ total_num: -1, data_list: [] }, /total_num is not a whole number >= 0 \(got number -1\)/],
    [{ total_num: 2.5, data_list: [] }, /total_num is not a whole number >= 0 \(got number 2.5\)/],
    [{ total_num: '3', data_list: [] }, /total_num is not a whole number >= 0 \(got string\)/],
    [{ data_list: [] }, /total_num is missing/],
  ])('rejects a bad total_num: %p', (body, message) => {
    expect(responseErrorOf(() => parsePage(body, { offset: 0 }))).toMatch(message);
  });

  it.each([
    [
      'status',
      { status: 3 },
      /data_list\[2\]\.status is not a string \(got number 3\) at offset 200 \(record 202\)/,
    ],
    ['host_id', { host_id: undefined }, /data_list\[2\]\.host_id is missing \(expected a non-empty string\)/],
    ['host_id', { host_id: '' }, /data_list\[2\]\.host_id is not a non-empty string \(got empty string\)/],
    ['started_at', { started_at: null }, /data_list\[2\]\.started_at is not a non-empty string or a number/],
    ['process', { process: '100' }, /data_list\[2\]\.process is not a number \(got string\)/],
    ['error_info', { error_info: 'boom' }, /data_list\[2\]\.error_info is not an object \(got string\)/],
    ['error_info.code', { error_info: { code: true } }, /data_list\[2\]\.error_info\.code is not a string/],
  ])('rejects a record whose %s is wrong, naming the field and record', (_field, overrides, message) => {
    // Prepare
    const body = {
      total_num: 300,
      data_list: [record({ started_at: 'x' }), record({ started_at: 'y' }), record(overrides)],
    };
    // Act
    const text = responseErrorOf(() => parsePage(body, { offset: 200 }));
    // Assess
    expect(text).toMatch(message);
  });

  it('says how many more problems a page has, without listing record contents', () => {
    // Prepare
    const body = { total_num: 2, data_list: [record({ status: 1 }), record({ status: 2, host_id: 7 })] };
    // Act
    const text = responseErrorOf(() => parsePage(body, { offset: 0 }));
    // Assess
    expect(text).toMatch(/2 more problem\(s\) on this page/);
    expect(text).not.toContain('ecs-test');
  });
});
