import { collapseDuplicates, type Keyed } from '../../lib/diff/duplicates';
import type { Task } from '../../lib/model';

function row(key: string, status: Task['status'], errorMessage = 'disk full'): Keyed {
  return {
    key,
    task: {
      hostId: key,
      hostName: `web-${key}`,
      backupName: 'nightly',
      status,
      rawStatus: status,
      startedAt: '2026-11-27T10:00:00Z',
      startedMs: Date.UTC(2026, 10, 27, 10),
      ...(status === 'failed' ? { errorMessage } : {}),
    },
  };
}

describe('collapseDuplicates: rows of one list naming the same task', () => {
  it('keeps one row per task, in the order the tasks first appear, and counts the rest', () => {
    const out = collapseDuplicates([
      row('a', 'failed'),
      row('b', 'running'),
      row('a', 'failed'),
      row('c', 'failed'),
    ]);
    expect(out.rows.map((r) => r.key)).toEqual(['a', 'b', 'c']);
    expect(out.duplicates).toBe(1);
  });

  const cases: Array<[string, Keyed[], Partial<Task>]> = [
    [
      'an alert status wins over an in-flight one',
      [row('a', 'running'), row('a', 'failed')],
      { status: 'failed' },
    ],
    ['failed wins over timeout', [row('a', 'timeout'), row('a', 'failed')], { status: 'failed' }],
    [
      'an in-flight status wins over success',
      [row('a', 'success'), row('a', 'running')],
      { status: 'running' },
    ],
    [
      'of two failed rows with different errors, the one whose JSON sorts first',
      [row('a', 'failed', 'zzz'), row('a', 'failed', 'aaa')],
      { errorMessage: 'aaa' },
    ],
  ];
  it.each(cases)('%s, whatever order HSS sent them in', (_why, rows, expected) => {
    expect(collapseDuplicates(rows).rows[0]!.task).toMatchObject(expected);
    expect(collapseDuplicates([...rows].reverse()).rows[0]!.task).toMatchObject(expected);
  });

  it('lists every row of a duplicated task, and none for a task named once', () => {
    const out = collapseDuplicates([row('a', 'failed', 'x'), row('b', 'running'), row('a', 'failed', 'y')]);
    expect([...out.variants.keys()]).toEqual(['a']);
    expect(out.variants.get('a')!.map((t) => t.errorMessage)).toEqual(['x', 'y']);
  });
});
