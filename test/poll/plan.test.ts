import { alertOrder, leftoverOrder } from '../../lib/poll/plan';
import { emptyScopeState, type ListCursor, type ScopeState } from '../../lib/state/records';

const T0 = Date.UTC(2026, 10, 27, 12, 0, 0);
const MIN = 60_000;

function cursor(readAt: number, offset = 0): ListCursor {
  return {
    offset,
    cycleStart: offset > 0 ? readAt : 0,
    lastDays: 1,
    pages: [],
    pageSize: 200,
    completedAt: 0,
    completedStart: 0,
    cycleMs: 0,
    readAt,
  };
}

function scope(id: string, over: Partial<ScopeState> = {}): ScopeState {
  return { ...emptyScopeState(id), ...over };
}

const order = (states: ScopeState[]) =>
  alertOrder(states, ['failed', 'timeout'], T0).map((p) => `${p.scopeId}:${p.list}`);

describe('alertOrder: the order a poll reads the alert lists in', () => {
  const cases: Array<[string, ScopeState[], string[]]> = [
    [
      'least recently read first, per list',
      [
        scope('a', { cursors: { failed: cursor(T0 - MIN), timeout: cursor(T0 - 3 * MIN) } }),
        scope('b', { cursors: { failed: cursor(T0 - 2 * MIN), timeout: cursor(T0 - 4 * MIN) } }),
      ],
      ['b:timeout', 'a:timeout', 'b:failed', 'a:failed'],
    ],
    [
      'a list mid-way through a long read goes first',
      [
        scope('a', { cursors: { failed: cursor(T0 - 9 * MIN), timeout: cursor(T0 - 9 * MIN) } }),
        scope('b', { cursors: { failed: cursor(T0 - MIN, 400), timeout: cursor(T0 - MIN) } }),
      ],
      ['b:failed', 'a:failed', 'a:timeout', 'b:timeout'],
    ],
    [
      'a failing scope comes after every healthy one, even a list of it mid-way',
      [
        scope('a', {
          cursors: { failed: cursor(0, 400), timeout: cursor(0) },
          health: { failures: 1, since: T0 - MIN, lastAt: T0 - MIN, lastError: '503' },
        }),
        scope('b', { cursors: { failed: cursor(T0 - MIN), timeout: cursor(T0 - MIN) } }),
      ],
      ['b:failed', 'b:timeout', 'a:failed', 'a:timeout'],
    ],
    [
      'among equals, a scope that alerted within the hour first',
      [scope('a'), scope('b', { lastAlertAt: T0 - 10 * MIN })],
      ['b:failed', 'b:timeout', 'a:failed', 'a:timeout'],
    ],
  ];
  it.each(cases)('%s', (_why, states, expected) => {
    expect(order(states)).toEqual(expected);
  });
});

describe('leftoverOrder: what the calls left over are spent on', () => {
  it('takes in-flight sweeps (least recently read first) and due follow-ups (earliest due first) in turn', () => {
    const states = [
      scope('a', {
        cursors: { running: cursor(T0 - MIN), waiting: cursor(T0 - 5 * MIN) },
        followUps: [
          { key: 'k2', dueAt: T0 - MIN, offset: 0 },
          { key: 'k1', dueAt: T0 - 2 * MIN, offset: 0 },
          { key: 'k3', dueAt: T0 + MIN, offset: 0 },
        ],
      }),
    ];
    const jobs = leftoverOrder(states, T0).map((j) =>
      j.kind === 'sweep' ? `sweep ${j.list}` : `follow-up ${j.ref.key}`,
    );
    expect(jobs).toEqual(['sweep waiting', 'follow-up k1', 'sweep running', 'follow-up k2']);
  });
});
