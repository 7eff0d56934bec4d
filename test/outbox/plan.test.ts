import type { DeliveryState, Message } from '../../lib/model';
import type { Destination } from '../../lib/notify/destination';
import { destinationFailingNotice, destinationRecoveredNotice } from '../../lib/outbox/notices';
import { nextSendAt } from '../../lib/outbox/pacing';
import {
  decideDelivery,
  earliestDue,
  nextState,
  planDestination,
  route,
  RETRY_POLICY,
  UNCONFIGURED_RECHECK_MS,
  type DeliveryDecision,
  type PlannedRecord,
} from '../../lib/outbox/plan';
import { HOUR_MS } from '../../lib/time';
import { alert, notice, reminder, T0 } from './support';

const pending = (over: Partial<DeliveryState> = {}): DeliveryState => ({
  state: 'pending',
  attempts: 0,
  nextAt: 0,
  dueSince: T0,
  ...over,
});

describe('decideDelivery', () => {
  const DAY = 24 * HOUR_MS;
  it.each<[string, DeliveryState, boolean, number, DeliveryDecision]>([
    [
      'a delivered message is left alone',
      pending({ state: 'done', attempts: 1 }),
      true,
      T0,
      { action: 'leave', reason: 'settled' },
    ],
    [
      'a refused message is not retried',
      pending({ state: 'failed' }),
      true,
      T0,
      { action: 'leave', reason: 'settled' },
    ],
    [
      'an expired delivery stays expired',
      pending({ state: 'expired' }),
      true,
      T0 + 2 * DAY,
      { action: 'leave', reason: 'settled' },
    ],
    [
      'a skipped delivery is not sent',
      pending({ state: 'skipped' }),
      true,
      T0,
      { action: 'leave', reason: 'settled' },
    ],
    ['a new message is sent at once', pending(), true, T0, { action: 'send', reason: 'first-try' }],
    [
      'a retry waits for its backoff',
      pending({ attempts: 1, nextAt: T0 + 60_000 }),
      true,
      T0 + 59_999,
      { action: 'leave', reason: 'not-due' },
    ],
    [
      'a retry goes out when its backoff ends',
      pending({ attempts: 1, nextAt: T0 + 60_000 }),
      true,
      T0 + 60_000,
      { action: 'send', reason: 'retry-due' },
    ],
    [
      'a held message waits for quiet hours to end',
      pending({ state: 'held', nextAt: T0 + HOUR_MS, dueSince: T0 + HOUR_MS }),
      true,
      T0,
      { action: 'leave', reason: 'not-due' },
    ],
    [
      'a held message goes out when its hold ends',
      pending({ state: 'held', nextAt: T0 + HOUR_MS, dueSince: T0 + HOUR_MS }),
      true,
      T0 + HOUR_MS,
      { action: 'send', reason: 'hold-ended' },
    ],
    [
      'a delivery failing 24 h after it became due is given up',
      pending({ attempts: 9, nextAt: T0 + DAY }),
      true,
      T0 + DAY,
      { action: 'expire', reason: 'retry-horizon-passed' },
    ],
    [
      'a delivery failing just under 24 h is still tried',
      pending({ attempts: 9, nextAt: T0 + DAY - 1 }),
      true,
      T0 + DAY - 1,
      { action: 'send', reason: 'retry-due' },
    ],
    [
      'a two-day silence does not use up the retry horizon',
      pending({ state: 'held', nextAt: T0 + 2 * DAY, dueSince: T0 + 2 * DAY }),
      true,
      T0 + 2 * DAY,
      { action: 'send', reason: 'hold-ended' },
    ],
    [
      'a destination no longer configured is looked at again in an hour',
      pending(),
      false,
      T0 + 1,
      { action: 'defer', reason: 'destination-not-configured', nextAt: T0 + 1 + UNCONFIGURED_RECHECK_MS },
    ],
    [
      'a destination gone for a day expires its deliveries',
      pending({ nextAt: T0 + DAY }),
      false,
      T0 + DAY,
      { action: 'expire', reason: 'retry-horizon-passed' },
    ],
  ])('%s', (_why, state, configured, now, expected) => {
    expect(decideDelivery(state, T0, configured, now)).toEqual(expected);
  });

  it('counts the retry horizon from when the message was recorded when the delivery does not say', () => {
    // Prepare: a delivery written before `dueSince` existed.
    const old: DeliveryState = { state: 'pending', attempts: 3, nextAt: 0 };

    // Act
    const early = decideDelivery(old, T0, true, T0 + 24 * HOUR_MS - 1);
    const late = decideDelivery(old, T0, true, T0 + 24 * HOUR_MS);

    // Assess
    expect([early.action, late.action]).toEqual(['send', 'expire']);
  });
});

describe('nextState', () => {
  const half = () => 0.5; // jitter midpoint: 75 % of the backoff
  it.each<[string, DeliveryState, Parameters<typeof nextState>[1], () => number, DeliveryState]>([
    [
      'a 2xx marks it done',
      pending(),
      { kind: 'ok' },
      half,
      { state: 'done', attempts: 1, nextAt: 0, dueSince: T0 },
    ],
    [
      'a permanent answer marks it failed with the error',
      pending(),
      { kind: 'permanent', error: 'HTTP 400' },
      half,
      { state: 'failed', attempts: 1, nextAt: 0, lastError: 'HTTP 400', dueSince: T0 },
    ],
    [
      'the first retry waits 45 s (60 s at 75 %)',
      pending(),
      { kind: 'retryable', error: 'HTTP 503' },
      half,
      { state: 'pending', attempts: 1, nextAt: T0 + 45_000, lastError: 'HTTP 503', dueSince: T0 },
    ],
    [
      'jitter never shortens a backoff below half',
      pending(),
      { kind: 'retryable', error: 'e' },
      () => 0,
      { state: 'pending', attempts: 1, nextAt: T0 + 30_000, lastError: 'e', dueSince: T0 },
    ],
    [
      'the backoff doubles per attempt',
      pending({ attempts: 2 }),
      { kind: 'retryable', error: 'e' },
      () => 0,
      { state: 'pending', attempts: 3, nextAt: T0 + 120_000, lastError: 'e', dueSince: T0 },
    ],
    [
      'the backoff is capped at 30 min',
      pending({ attempts: 20 }),
      { kind: 'retryable', error: 'e' },
      () => 0,
      { state: 'pending', attempts: 21, nextAt: T0 + 15 * 60_000, lastError: 'e', dueSince: T0 },
    ],
    [
      'a longer Retry-After wins',
      pending(),
      { kind: 'retryable', error: '429', retryAfterMs: 600_000 },
      half,
      { state: 'pending', attempts: 1, nextAt: T0 + 600_000, lastError: '429', dueSince: T0 },
    ],
    [
      'a shorter Retry-After does not hammer',
      pending(),
      { kind: 'retryable', error: '429', retryAfterMs: 1_000 },
      half,
      { state: 'pending', attempts: 1, nextAt: T0 + 45_000, lastError: '429', dueSince: T0 },
    ],
    [
      'a held delivery that fails becomes pending',
      pending({ state: 'held' }),
      { kind: 'retryable', error: 'e' },
      half,
      { state: 'pending', attempts: 1, nextAt: T0 + 45_000, lastError: 'e', dueSince: T0 },
    ],
  ])('%s', (_why, state, outcome, random, expected) => {
    expect(nextState(state, outcome, T0, random, RETRY_POLICY)).toEqual(expected);
  });
});

describe('route', () => {
  const dest = (id: string, accepts: (m: Message) => boolean = () => true) =>
    ({ id, accepts }) as unknown as Destination;

  it('gives a delivery to every destination that accepts the message, pending from now', () => {
    // Act
    const { deliveries, via } = route(
      alert(1),
      [dest('slack'), dest('pager', () => false), dest('webhook')],
      T0,
    );

    // Assess
    expect(deliveries).toEqual({
      slack: { state: 'pending', attempts: 0, nextAt: 0, dueSince: T0 },
      webhook: { state: 'pending', attempts: 0, nextAt: 0, dueSince: T0 },
    });
    expect(via).toBe('routing');
  });

  it('does not tell a failing destination that it is failing', () => {
    // Act
    const { deliveries } = route(
      notice('destination-failing', 'n1', { skipDestinations: ['slack'] }),
      [dest('slack'), dest('webhook')],
      T0,
    );

    // Assess
    expect(Object.keys(deliveries)).toEqual(['webhook']);
  });

  const fallback = (id: string, takes: (m: Message) => boolean = () => true) =>
    ({ id, accepts: () => false, takesUnrouted: takes }) as unknown as Destination;
  const nobody = () => false;

  it.each<[string, Message, Destination[], Record<string, string[]>]>([
    [
      'an alert some route matched goes there, not to the fallback',
      alert(1),
      [dest('web'), fallback('catch-all')],
      { routing: ['web'] },
    ],
    [
      'an alert no route matched goes to the fallback, whatever its own routing says',
      alert(1),
      [dest('web', nobody), fallback('catch-all')],
      { fallback: ['catch-all'] },
    ],
    [
      'an alert no route matched reaches no one without a fallback',
      alert(1),
      [dest('web', nobody), dest('db', nobody)],
      { 'no-route': [] },
    ],
    [
      'a follow-up goes to the fallback only when its channel takes that kind (PagerDuty takes no reminders)',
      reminder(1),
      [dest('web', nobody), fallback('pager', (m) => m.kind !== 'reminder')],
      { 'no-route': [] },
    ],
    [
      'a notice that skips every destination is not an unrouted alert',
      notice('destination-failing', 'n1', { skipDestinations: ['web'] }),
      [dest('web'), fallback('catch-all')],
      { routing: [] },
    ],
  ])('%s', (_why, message, destinations, expected) => {
    const { deliveries, via } = route(message, destinations, T0);
    expect({ [via]: Object.keys(deliveries) }).toEqual(expected);
  });

  it('holds a message during quiet hours until they end, and ignores a hold already over', () => {
    // Prepare
    const quiet = (d: Destination) => (d.id === 'slack' ? T0 + 8 * HOUR_MS : T0 - 1);

    // Act
    const { deliveries } = route(alert(1), [dest('slack'), dest('webhook')], T0, quiet);

    // Assess
    expect(deliveries).toEqual({
      slack: { state: 'held', attempts: 0, nextAt: T0 + 8 * HOUR_MS, dueSince: T0 + 8 * HOUR_MS },
      webhook: { state: 'pending', attempts: 0, nextAt: 0, dueSince: T0 },
    });
  });
});

describe('planDestination', () => {
  const record = (message: Message, deliveries: Record<string, DeliveryState>): PlannedRecord => ({
    message,
    deliveries,
    expiresAt: 0,
    recordedAt: T0,
  });

  it('sends the oldest detections first, then by host name, whatever order the table returned', () => {
    // Prepare
    const records = [
      record(alert(3, { at: T0 + 5 }), { slack: pending() }),
      record(alert(2, { at: T0 }), { slack: pending() }),
      record(alert(1, { at: T0 + 5 }), { slack: pending() }),
      record(notice('test', 'n0', { at: T0 - 1 }), { slack: pending() }),
    ];

    // Act
    const plan = planDestination(records, 'slack', true, T0 + 10);

    // Assess
    expect(plan.send.map((r) => r.message.id)).toEqual(['n0', 'alert-0002', 'alert-0001', 'alert-0003']);
  });

  it('plans only the deliveries of that destination: due ones sent, expired ones given up', () => {
    // Prepare
    const records = [
      record(alert(1), { webhook: pending() }),
      record(alert(2), { slack: pending({ state: 'done' }) }),
      record(alert(3), { slack: pending({ nextAt: T0 + 25 * HOUR_MS, attempts: 5 }) }),
      record(alert(4), { slack: pending() }),
    ];

    // Act
    const plan = planDestination(records, 'slack', true, T0 + 25 * HOUR_MS);

    // Assess
    expect({
      send: plan.send.map((r) => r.message.id),
      expire: plan.expire.map((r) => r.message.id),
    }).toEqual({ send: [], expire: ['alert-0003', 'alert-0004'] });
  });
});

describe('earliestDue', () => {
  it.each<[string, Record<string, DeliveryState>, number | undefined]>([
    ['no deliveries: not in the index', {}, undefined],
    [
      'all settled: leaves the index',
      { a: pending({ state: 'done' }), b: pending({ state: 'failed' }) },
      undefined,
    ],
    [
      'the earliest pending or held delivery',
      {
        a: pending({ nextAt: 50 }),
        b: pending({ state: 'held', nextAt: 20 }),
        c: pending({ state: 'done', nextAt: 1 }),
      },
      20,
    ],
    ['a new delivery is due at once', { a: pending({ nextAt: 0 }), b: pending({ nextAt: 99 }) }, 0],
  ])('%s', (_why, deliveries, expected) => {
    expect(earliestDue(deliveries)).toBe(expected);
  });
});

describe('nextSendAt', () => {
  it.each<[string, number[], { minIntervalMs: number; perMinute: number }, number]>([
    ['the first request goes at once', [], { minIntervalMs: 1000, perMinute: 20 }, T0],
    ['Slack: one second after the last request', [T0 - 200], { minIntervalMs: 1000, perMinute: 0 }, T0 + 800],
    ['an interval already past does not wait', [T0 - 5000], { minIntervalMs: 1000, perMinute: 0 }, T0],
    [
      'DingTalk: the 21st request in a minute waits until the 1st leaves the window',
      Array.from({ length: 20 }, (_, i) => T0 - 30_000 + i * 100),
      { minIntervalMs: 0, perMinute: 20 },
      T0 + 30_000,
    ],
    [
      'a window with room does not wait',
      Array.from({ length: 19 }, (_, i) => T0 - 30_000 + i * 100),
      { minIntervalMs: 0, perMinute: 20 },
      T0,
    ],
  ])('%s', (_why, sentAt, limits, expected) => {
    expect(nextSendAt(sentAt, limits, T0)).toBe(expected);
  });
});

describe('destination notices', () => {
  const slack = { id: 'slack', type: 'slack' as const, description: 'slack https://hooks.slack.com/…' };
  const health = {
    destination: 'slack',
    failingSince: Date.UTC(2026, 10, 30, 8, 0, 0),
    lastError: 'HTTP 404 no_service: the webhook was removed or disabled',
    undelivered: 3,
  };

  it('says which destination fails since when, why, and how many alerts it missed, to every other destination', () => {
    // Act
    const n = destinationFailingNotice(slack, health, 3, T0);

    // Assess
    expect(n.summary).toBe(
      'Slack is failing permanently since 2026-11-30 08:00 UTC (HTTP 404 no_service): 3 alerts undelivered',
    );
    expect(n.skipDestinations).toEqual(['slack']);
  });

  it('keeps one notice id per streak, and a new id for the next streak', () => {
    // Act
    const first = destinationFailingNotice(slack, health, 3, T0);
    const again = destinationFailingNotice(slack, { ...health, undelivered: 9 }, 9, T0 + HOUR_MS);
    const next = destinationFailingNotice(slack, { ...health, failingSince: health.failingSince + 1 }, 1, T0);

    // Assess
    expect([again.id === first.id, next.id === first.id]).toEqual([true, false]);
  });

  it('names a destination by its own name when it has one', () => {
    // Act
    const n = destinationRecoveredNotice({ ...slack, id: 'ops-room' }, health, T0);

    // Assess
    expect(n.summary).toMatch(/^Slack "ops-room" works again \(it was failing since 2026-11-30 08:00 UTC\)/);
  });
});
