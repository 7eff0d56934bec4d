import { decide, decideResolved, decideTask, decideVanished, type Decision } from '../../lib/diff/decide';
import type { StoredTask } from '../../lib/state/store';
import { taskKey, type TaskStatus } from '../../lib/task';
import { SCOPE, storedTask, T0, task } from '../support/fakes';

const ALERTING: TaskStatus[] = ['failed', 'timeout'];

function stored(
  status: TaskStatus,
  alerted: TaskStatus[] = [],
  overrides: Partial<StoredTask> = {},
): StoredTask {
  return storedTask(task({ hostId: 'h1', status, rawStatus: status }), {
    alerted,
    changedAt: T0 - 60_000,
    ...overrides,
  });
}

describe('decideTask', () => {
  const cases: Array<[string, StoredTask | undefined, TaskStatus, boolean, Decision]> = [
    [
      'a new failed task alerts, so nothing already in the window is missed',
      undefined,
      'failed',
      false,
      'first-seen-in-alert-status',
    ],
    ['a new timed-out task alerts too', undefined, 'timeout', false, 'first-seen-in-alert-status'],
    [
      'running -> failed alerts with the previous status known',
      stored('running'),
      'failed',
      false,
      'moved-into-alert-status',
    ],
    ['waiting -> timeout alerts', stored('waiting'), 'timeout', false, 'moved-into-alert-status'],
    [
      'failed -> timeout is a new status and alerts once more',
      stored('failed', ['failed']),
      'timeout',
      false,
      'moved-into-alert-status',
    ],
    [
      'timeout -> failed is a new status and alerts once more',
      stored('timeout', ['timeout']),
      'failed',
      false,
      'moved-into-alert-status',
    ],
    ['failed seen again never alerts twice', stored('failed', ['failed']), 'failed', false, 'unchanged'],
    [
      'failed -> timeout -> failed does not repeat the first alert',
      stored('timeout', ['failed', 'timeout']),
      'failed',
      false,
      'already-alerted',
    ],
    ['baseline records a failure without alerting', undefined, 'failed', true, 'baseline'],
    ['running -> success is recorded, not alerted', stored('running'), 'success', false, 'status-changed'],
    ['a new running task is recorded quietly', undefined, 'running', false, 'first-seen'],
    ['running seen again is nothing to do', stored('running'), 'running', false, 'unchanged'],
  ];
  it.each(cases)('%s', (_why, prev, status, baseline, expected) => {
    expect(decideTask(prev, task({ hostId: 'h1', status, rawStatus: status }), ALERTING, baseline)).toBe(
      expected,
    );
  });

  it('never alerts on an unknown status, even if it were configured', () => {
    const cur = task({ hostId: 'h1', status: 'unknown', rawStatus: 'cancelled' });
    expect(decideTask(stored('running'), cur, [...ALERTING, 'unknown'], false)).toBe('status-changed');
  });
});

describe('decideVanished', () => {
  const day = 86_400_000;
  it.each([
    [
      'a running task that left its list well inside the window finished',
      'running',
      T0 - 2 * 3_600_000,
      'finished',
    ],
    [
      'a running task near the window edge may have left it unfinished',
      'running',
      T0 - day + 5 * 60_000,
      'edge',
    ],
    [
      'a task with an unparseable start time is resolved rather than assumed finished',
      'running',
      NaN,
      'edge',
    ],
    ['a failed task no longer listed has aged out of the window', 'failed', T0 - day - 60_000, 'aged-out'],
  ] as const)('%s', (_why, status, startedMs, expected) => {
    const prev = stored(status, [], {
      startedAt: Number.isNaN(startedMs) ? 'yesterday' : new Date(startedMs).toISOString(),
    });
    expect(decideVanished(prev, T0, 1, 10 * 60_000)).toBe(expected);
  });
});

describe('decide', () => {
  const base = {
    scope: SCOPE,
    now: T0,
    lastDays: 1,
    alertStatuses: ['failed', 'timeout'] as const,
    baseline: false,
    edgeMarginMs: 600_000,
  };

  it('alerts once for a running task that failed and writes only that change', () => {
    // Prepare
    const prev = stored('running');
    const quiet = stored('running', [], { key: taskKey(task({ hostId: 'h2' })), hostId: 'h2' });
    const failed = task({ hostId: 'h1', status: 'failed', rawStatus: 'failed', errorCode: 'HSS.1' });
    // Act
    const plan = decide({
      ...base,
      fetched: [failed, task({ hostId: 'h2' })],
      stored: new Map([
        [prev.key, prev],
        [quiet.key, quiet],
      ]),
      completeStatuses: ['failed', 'timeout'],
    });
    // Assess
    expect(plan.alerts).toHaveLength(1);
    expect(plan.alerts[0]).toMatchObject({ status: 'failed', previousStatus: 'running', reason: 'moved' });
    expect(plan.writes.map((w) => [w.hostId, w.status, w.alerted])).toEqual([['h1', 'failed', ['failed']]]);
  });

  it('writes nothing and alerts nothing when the same page is seen twice', () => {
    const fetched = [task({ hostId: 'h1', status: 'failed', rawStatus: 'failed' }), task({ hostId: 'h2' })];
    const first = decide({
      ...base,
      fetched,
      stored: new Map(),
      completeStatuses: ['running', 'failed', 'timeout'],
    });
    const after = new Map(first.writes.map((w) => [w.key, w]));
    const second = decide({
      ...base,
      fetched,
      stored: after,
      completeStatuses: ['running', 'failed', 'timeout'],
    });
    expect(first.alerts).toHaveLength(1);
    expect(second.alerts).toHaveLength(0);
    expect(second.writes).toHaveLength(0);
  });

  it('keeps the later observation when a task appears in two lists of one poll', () => {
    const running = task({ hostId: 'h1', status: 'running' });
    const failed = task({ hostId: 'h1', status: 'failed', rawStatus: 'failed' });
    const plan = decide({
      ...base,
      fetched: [running, failed],
      stored: new Map(),
      completeStatuses: ['running', 'failed'],
    });
    expect(plan.alerts.map((a) => a.status)).toEqual(['failed']);
  });

  it('stops tracking a running task that finished inside the window, and only judges lists fetched whole', () => {
    const finished = stored('running', [], { startedAt: new Date(T0 - 3_600_000).toISOString() });
    const waiting = stored('waiting', [], { key: 'w', hostId: 'hw' });
    const plan = decide({
      ...base,
      fetched: [],
      stored: new Map([
        [finished.key, finished],
        ['w', waiting],
      ]),
      completeStatuses: ['running'],
    });
    expect(plan.writes).toEqual([{ ...finished, tracked: false }]);
    expect(plan.edge).toEqual([]);
  });

  it('sends a running task near the window edge to a follow-up instead of forgetting it', () => {
    const edge = stored('running', [], { startedAt: new Date(T0 - 86_400_000 + 60_000).toISOString() });
    const plan = decide({
      ...base,
      fetched: [],
      stored: new Map([[edge.key, edge]]),
      completeStatuses: ['running'],
    });
    expect(plan.edge).toEqual([edge]);
    expect(plan.writes).toEqual([]);
  });
});

describe('decideResolved', () => {
  const input = {
    scope: SCOPE,
    now: T0,
    lastDays: 1,
    alertStatuses: ['failed', 'timeout'] as const,
    baseline: false,
  };

  it('alerts on a task found failed after it left the window', () => {
    const prev = stored('running');
    const found = task({ hostId: 'h1', status: 'timeout', rawStatus: 'timeout' });
    const result = decideResolved(input, prev, found);
    expect(result.alert).toMatchObject({
      status: 'timeout',
      previousStatus: 'running',
      reason: 'resolved-after-window',
    });
    expect(result.write).toMatchObject({ status: 'timeout', alerted: ['timeout'] });
  });

  it('stops tracking a task that cannot be found again', () => {
    const prev = stored('running');
    expect(decideResolved(input, prev, undefined)).toEqual({
      write: { ...prev, tracked: false },
      decision: 'unresolved',
    });
  });
});
