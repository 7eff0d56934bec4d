import { ASK_EVERY_MS, checkOrder, leftoverOrder, PROBE_EVERY_MS } from '../../lib/poll/plan';
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

/** A large scope (read by status), unless `over` says otherwise. */
function scope(id: string, over: Partial<ScopeState> = {}): ScopeState {
  return { ...emptyScopeState(id), plan: 'lists', ...over };
}

const order = (states: ScopeState[]) =>
  checkOrder(states, ['failed', 'timeout'], T0).map((p) => `${p.scopeId}:${p.list}`);

describe("checkOrder: the order a poll reads the scopes' checks in", () => {
  it('reads a scope whose window fits a page with its one unfiltered list, a large one by status', () => {
    const small = { ...emptyScopeState('a') };
    expect(order([small, scope('b', { cursors: { failed: cursor(T0), timeout: cursor(T0) } })])).toEqual([
      'a:all',
      'b:failed',
      'b:timeout',
    ]);
  });

  it('reads the least recently read unfiltered list first, a failing scope last', () => {
    const states = [
      { ...emptyScopeState('a'), cursors: { all: cursor(T0 - MIN) } },
      { ...emptyScopeState('b'), cursors: { all: cursor(T0 - 2 * MIN) } },
      {
        ...emptyScopeState('c'),
        health: { failures: 1, since: T0 - 9 * MIN, lastAt: T0 - 9 * MIN, lastError: '503' },
      },
    ];
    expect(order(states)).toEqual(['b:all', 'a:all', 'c:all']);
  });

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

function describeJob(j: ReturnType<typeof leftoverOrder>[number]): string {
  return j.kind === 'sweep' ? `sweep ${j.list}` : j.kind === 'follow-up' ? `follow-up ${j.ref.key}` : j.kind;
}

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
    const jobs = leftoverOrder(states, T0).map(describeJob);
    expect(jobs).toEqual(['sweep waiting', 'follow-up k1', 'probe', 'sweep running', 'follow-up k2']);
  });

  const cases: Array<[string, Partial<ScopeState>, string[]]> = [
    ['a scope read whole has no sweep, probe or ask', { plan: 'whole', mayHaveOpen: true }, []],
    [
      'a large scope with open alerts asks after their hosts every 5 minutes',
      { mayHaveOpen: true, askedAt: T0 - ASK_EVERY_MS, probedAt: T0 },
      ['sweep running', 'ask', 'sweep waiting'],
    ],
    [
      'a large scope that asked a minute ago does not ask again yet',
      { mayHaveOpen: true, askedAt: T0 - MIN, probedAt: T0 },
      ['sweep running', 'sweep waiting'],
    ],
    [
      'a large scope without open alerts never asks',
      { mayHaveOpen: false, probedAt: T0 },
      ['sweep running', 'sweep waiting'],
    ],
    [
      'a large scope probes whether its window fits a page every 30 minutes',
      { probedAt: T0 - PROBE_EVERY_MS },
      ['sweep running', 'probe', 'sweep waiting'],
    ],
  ];
  it.each(cases)('%s', (_why, over, expected) => {
    const s = scope('a', { cursors: { running: cursor(T0 - 2 * MIN), waiting: cursor(T0 - MIN) }, ...over });
    expect(leftoverOrder([s], T0).map(describeJob)).toEqual(expected);
  });
});
