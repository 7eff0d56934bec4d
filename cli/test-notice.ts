// The TEST notice `test-notify` and `doctor --send-test` send: through the outbox, so it takes the
// real path (recorded, rendered, signed, classified) to every destination that accepts notices.
import type { App } from '../lib/app';
import { stableId } from '../lib/ids';
import type { DeliveryState, NoticeMessage } from '../lib/model';
import type { Destination } from '../lib/notify/destination';

/** One destination and what became of the test notice there (no state: not routed to it). */
export interface TestNoticeResult {
  destination: Destination;
  state?: DeliveryState;
}

/** Records one TEST notice, delivers it (for up to a minute) and returns each destination's delivery state. */
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
  await app.outbox.deliver(now + 60_000);
  const [record] = await app.outbox.get([notice.id]);
  return app.destinations.map((destination) => {
    const state = record?.deliveries[destination.id];
    return state === undefined ? { destination } : { destination, state };
  });
}
