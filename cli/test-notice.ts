// The TEST notice `test-notify` and `doctor --send-test` send: through the outbox, so it takes the
// real path (recorded, rendered, signed, classified) to every destination that accepts notices; and
// what became of it at each one, with the reason: delivered, refused for good (permanent) or to be
// retried (retryable), with the vendor's answer as the outbox recorded it (never a URL or key).
import type { App } from '../lib/app';
import { stableId } from '../lib/ids';
import type { DeliveryState, NoticeMessage } from '../lib/model';
import type { Destination } from '../lib/notify/destination';
import type { DeliverySummary, DestinationDelay, DestinationHealth } from '../lib/outbox/types';
import { utcMinute } from '../lib/wording';

/** What the test notice did at one destination: a line for people and whether it arrived. */
export interface TestOutcome {
  delivered: boolean;
  text: string;
}

const PERMANENT = 'permanent: not retried; fix the destination (URL, permissions) or remove it';
const RETRYABLE = 'retryable: the next polls retry it';

/**
 * The outcome of the test notice at one destination, from its delivery state after the run and
 * what the run knew of the destination (a refusal or retryable failure of an earlier message of the
 * same run stops the destination before the test is tried: that answer is the reason).
 */
export function testOutcome(
  state: DeliveryState | undefined,
  run: Pick<DeliverySummary, 'leaseBusy' | 'stoppedEarly'>,
  failing: DestinationHealth | undefined,
  delayed: DestinationDelay | undefined,
): TestOutcome {
  if (state === undefined) return { delivered: false, text: 'not routed here' };
  switch (state.state) {
    case 'done':
      return { delivered: true, text: 'ok' };
    case 'failed':
      return { delivered: false, text: `failed: ${state.lastError ?? 'refused'} (${PERMANENT})` };
    case 'held':
      return { delivered: false, text: `held by quiet hours until ${utcMinute(state.nextAt)}` };
    case 'pending':
      if (state.lastError !== undefined)
        return { delivered: false, text: `not delivered yet: ${state.lastError} (${RETRYABLE})` };
      if (failing !== undefined)
        return {
          delivered: false,
          text: `not delivered: ${failing.lastError} (${PERMANENT}; failing since ${utcMinute(failing.failingSince)}, it refused an earlier message of this run)`,
        };
      if (delayed !== undefined)
        return {
          delivered: false,
          text: `not delivered yet: ${delayed.lastError} (${RETRYABLE}; nothing delivered since ${utcMinute(delayed.since)})`,
        };
      if (run.leaseBusy)
        return {
          delivered: false,
          text: 'not delivered yet: a running poll holds the delivery lease and sends it before it ends',
        };
      if (run.stoppedEarly)
        return {
          delivered: false,
          text: 'not delivered yet: the run ran out of time first; the next poll sends it',
        };
      return { delivered: false, text: 'not delivered yet: the next poll sends it' };
    default:
      return { delivered: false, text: `${state.state}: ${state.lastError ?? 'not sent'}` };
  }
}

/** One destination and what became of the test notice there (no state: not routed to it). */
export interface TestNoticeResult {
  destination: Destination;
  state?: DeliveryState;
  outcome: TestOutcome;
}

/** Records one TEST notice, delivers it (for up to a minute) and returns each destination's outcome. */
export async function sendTestNotice(app: App): Promise<TestNoticeResult[]> {
  const now = app.clock();
  const notice: NoticeMessage = {
    kind: 'notice',
    notice: 'test',
    id: stableId('test', now, Math.random()),
    at: now,
    summary: 'TEST: hss-restore-alerts can reach this destination. No action needed.',
    facts: [['Scopes', app.scopes.map((s) => s.id).join(', ')]],
  };
  await app.outbox.enqueue([notice]);
  const run = await app.outbox.deliver(now + 60_000);
  const [record] = await app.outbox.get([notice.id]);
  const failing = await app.outbox.failingDestinations();
  const delayed = await app.outbox.delayedDestinations();
  return app.destinations.map((destination) => {
    const state = record?.deliveries[destination.id];
    const outcome = testOutcome(
      state,
      run,
      failing.find((f) => f.destination === destination.id),
      delayed.find((r) => r.destination === destination.id),
    );
    return state === undefined ? { destination, outcome } : { destination, state, outcome };
  });
}
