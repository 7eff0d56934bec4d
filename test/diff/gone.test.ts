import { observe } from '../../lib/diff/decide';
import { entryKey, toSec, type Entry } from '../../lib/state/entry';
import { awaitsConfirmation, judgeGone, judgeMissed, type CompletedCycle } from '../../lib/diff/gone';
import type { Task } from '../../lib/model';

const T0 = Date.UTC(2026, 10, 27, 12, 0, 0);
const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;

/** The entry of a task `agoMs` old in `status`, as first seen at T0, with `extra` fields. */
function entry(name: string, status: Task['status'], agoMs: number, extra: Partial<Entry> = {}): Entry {
  const startedMs = T0 - agoMs;
  const task: Task = {
    hostId: name,
    hostName: name,
    backupName: 'nightly',
    status,
    rawStatus: status,
    startedAt: new Date(startedMs).toISOString(),
    startedMs,
  };
  const base = observe(undefined, task, entryKey('p', name), {
    now: T0,
    alertStatuses: ['failed', 'timeout'],
    baseline: true,
  }).entry;
  return { ...base, ...extra };
}

const cycle = (list: CompletedCycle['list'], seen: string[] = [], extra: Partial<CompletedCycle> = {}) => ({
  list,
  seen: new Set(seen.map((n) => entryKey('p', n))),
  inFlightSeen: new Set<string>(),
  windowDays: 1,
  now: T0,
  ...extra,
});

describe('judgeMissed: what a completed cycle says of the tasks it did not show', () => {
  const cases: Array<[string, Entry, CompletedCycle, 'kept' | 'marked' | 'confirmed' | 'dropped']> = [
    ['a task the cycle saw is left alone', entry('a', 'running', HOUR), cycle('running', ['a']), 'kept'],
    ['a task of another list is left alone', entry('a', 'waiting', HOUR), cycle('running'), 'kept'],
    [
      'an in-flight task missed once is marked gone (a page shift can hide it once)',
      entry('a', 'running', HOUR),
      cycle('running'),
      'marked',
    ],
    [
      'an in-flight task missed by a second cycle is confirmed gone',
      entry('a', 'running', HOUR, { goneSec: toSec(T0 - 5 * MIN) }),
      cycle('running'),
      'confirmed',
    ],
    [
      'an in-flight task seen in the other in-flight list this poll is not gone (waiting -> running)',
      entry('a', 'waiting', HOUR),
      cycle('waiting', [], { inFlightSeen: new Set([entryKey('p', 'a')]) }),
      'kept',
    ],
    [
      'a task waiting for a follow-up is left to it',
      entry('a', 'running', HOUR, { followUp: true }),
      cycle('running'),
      'kept',
    ],
    [
      'a failed task older than the window is forgotten',
      entry('a', 'failed', DAY + HOUR),
      cycle('failed'),
      'dropped',
    ],
    [
      'a failed task inside the window missed once is kept (a page shift)',
      entry('a', 'failed', HOUR),
      cycle('failed'),
      'kept',
    ],
    [
      'a failed task just past the window edge is kept within the clock slack',
      entry('a', 'failed', DAY + 5 * MIN),
      cycle('failed'),
      'kept',
    ],
  ];
  it.each(cases)('%s', (_why, e, c, expected) => {
    const j = judgeMissed([e], c);
    const outcome =
      j.drop.length > 0
        ? 'dropped'
        : j.put.length === 0
          ? 'kept'
          : j.put[0]!.goneConfirmed
            ? 'confirmed'
            : 'marked';
    expect(outcome).toBe(expected);
  });

  it('says since when the tasks it confirmed were missed, the earliest first miss', () => {
    const j = judgeMissed(
      [
        entry('a', 'running', HOUR, { goneSec: toSec(T0 - 5 * MIN) }),
        entry('b', 'running', HOUR, { goneSec: toSec(T0 - 9 * MIN) }),
      ],
      cycle('running'),
    );
    expect(j.confirmedSince).toBe(T0 - 9 * MIN);
  });

  it('marks a missed task with the time of the cycle, which awaits confirmation', () => {
    const [marked] = judgeMissed([entry('a', 'running', HOUR)], cycle('running')).put;
    expect(marked!.goneSec).toBe(toSec(T0));
    expect(awaitsConfirmation(marked!)).toBe(true);
    expect(awaitsConfirmation({ ...marked!, goneConfirmed: true })).toBe(false);
  });
});

describe('judgeGone: tasks confirmed gone, once the alert lists were read after they left', () => {
  const gone = (agoMs: number, goneAgo: number, extra: Partial<Entry> = {}) =>
    entry('a', 'running', agoMs, { goneSec: toSec(T0 - goneAgo), goneConfirmed: true, ...extra });
  const cases: Array<[string, Entry, number, 'ended' | 'follow-up' | 'pending' | 'ignored']> = [
    ['one that left well inside the window ended quietly', gone(2 * HOUR, 10 * MIN), T0 - 5 * MIN, 'ended'],
    [
      'one that left near the window edge may have aged out unfinished: follow up',
      gone(DAY + 5 * MIN, 10 * MIN),
      T0 - 5 * MIN,
      'follow-up',
    ],
    [
      'one with no readable start is followed up',
      gone(2 * HOUR, 10 * MIN, { startedSec: 0 }),
      T0 - 5 * MIN,
      'follow-up',
    ],
    [
      'a zone-less one is followed up while any zone could put it past the edge',
      gone(14 * HOUR, 10 * MIN, { zoneless: true }),
      T0 - 5 * MIN,
      'follow-up',
    ],
    [
      'one that left after the alert lists began their read waits for the next read',
      gone(2 * HOUR, 2 * MIN),
      T0 - 5 * MIN,
      'pending',
    ],
    [
      'one only marked, not confirmed, is not judged',
      gone(2 * HOUR, 10 * MIN, { goneConfirmed: false }),
      T0 - 5 * MIN,
      'ignored',
    ],
    [
      'one already waiting for a follow-up is not judged again',
      gone(2 * HOUR, 10 * MIN, { followUp: true }),
      T0 - 5 * MIN,
      'ignored',
    ],
  ];
  it.each(cases)('%s', (_why, e, readSince, expected) => {
    const j = judgeGone([e], readSince, T0, 1);
    const outcome =
      j.ended.length > 0
        ? 'ended'
        : j.followUp.length > 0
          ? 'follow-up'
          : j.pendingSince > 0
            ? 'pending'
            : 'ignored';
    expect(outcome).toBe(expected);
  });

  it('gives a followed-up entry its flag and clears its gone marks', () => {
    const [f] = judgeGone([gone(DAY + 5 * MIN, 10 * MIN)], T0 - 5 * MIN, T0, 1).followUp;
    expect(f).toMatchObject({ followUp: true, goneSec: 0, goneConfirmed: false, changedSec: toSec(T0) });
  });
});
