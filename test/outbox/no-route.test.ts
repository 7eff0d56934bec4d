// No alert is routed to no one (issue 18 #2): an alert that no destination's routing matches goes to
// the destination marked `fallback: true`, marked `noRoute` so it says so; without a fallback it is
// logged, counted for the run (DeliverySummary.unrouted) and the UTC day (`status`), and one notice a
// day tells every destination. The day's notice is recorded before the alert: a crash cannot lose it.
import type { AlertMessage, Message } from '../../lib/model';
import type { Destination } from '../../lib/notify/destination';
import { useLocalDynamo } from '../support/dynamo';
import {
  alert,
  chatDestination,
  crashingProcess,
  FAR,
  freshTable,
  HOUR,
  outboxFor,
  ProcessCrash,
  startSink,
  T0,
  virtualTime,
  webhookDestination,
  type Sink,
} from './support';

const local = useLocalDynamo('outbox-no-route');
const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()));
});

/** Routes alerts of `host-0000` (and follow-ups about it) only; notices go everywhere. */
const webHostsOnly = (m: Message) =>
  m.kind === 'notice' || m.kind === 'daily-summary' || m.task.hostName === 'host-0000';

async function world() {
  const time = virtualTime();
  const table = await freshTable(local.freshTable, local.dynamo().newClient(), time.sleep);
  const webSink: Sink = await startSink(time.now);
  const otherSink: Sink = await startSink(time.now);
  closers.push(webSink.close, otherSink.close);
  const web = webhookDestination({ id: 'web', url: webSink.url, accepts: webHostsOnly });
  // Routed nothing of its own (`hosts: [none]`): it gets notices, and what no route matched when it is the fallback.
  const other = (fallback: boolean): Destination => {
    const d = chatDestination({ id: 'other', url: otherSink.url, accepts: (m) => m.kind === 'notice' });
    return fallback ? Object.assign(d, { takesUnrouted: () => true }) : d;
  };
  return { time, table, webSink, otherSink, web, other };
}

const noticesOf = (sink: Sink) =>
  sink.received
    .flatMap((r) =>
      r.json.kind === 'notice' ? [r.json.notice] : ((r.json as { notices?: string[] }).notices ?? []),
    )
    .filter((n) => n !== undefined);

describe('an alert that no destination routing matches', () => {
  it('goes to the fallback destination, marked as matched by no route, while routed alerts go their way', async () => {
    // Prepare
    const w = await world();
    const { outbox } = outboxFor(w.table, [w.web, w.other(true)], w.time);

    // Act
    await outbox.enqueue([alert(0), alert(1)]);
    const run = await outbox.deliver(FAR);
    const [routed, unrouted] = await outbox
      .get(['alert-0000', 'alert-0001'])
      .then((records) => ['alert-0000', 'alert-0001'].map((id) => records.find((r) => r.message.id === id)!));

    // Assess
    expect([...w.webSink.deliveredIds().keys()]).toEqual(['alert-0000']);
    expect(w.otherSink.received.map((r) => r.json.ids)).toEqual([['alert-0001']]);
    expect((routed!.message as AlertMessage).noRoute).toBeUndefined();
    expect((unrouted!.message as AlertMessage).noRoute).toBe(true);
    expect(run).toMatchObject({ sent: 2, unrouted: 0 });
    expect(await outbox.unroutedAlerts()).toEqual([]);
  });

  it('without a fallback is logged, counted, and told to every destination once a UTC day, next to a routed alert that is delivered', async () => {
    // Prepare
    const w = await world();
    const destinations = [w.web, w.other(false)];
    const first = outboxFor(w.table, destinations, w.time);

    // Act: two alerts go nowhere, beside one that is routed; later that day another (another
    // container), then one the next day.
    await first.outbox.enqueue([alert(0), alert(1), alert(2)]);
    const run = await first.outbox.deliver(FAR);
    const quiet = await first.outbox.deliver(FAR);
    w.time.advance(3 * HOUR);
    const later = outboxFor(w.table, destinations, w.time);
    await later.outbox.enqueue([alert(3)]);
    const laterRun = await later.outbox.deliver(FAR);
    const sameDay = await later.outbox.unroutedAlerts();
    w.time.advance(24 * HOUR);
    await later.outbox.enqueue([alert(4)]);
    await later.outbox.deliver(FAR);

    // Assess
    expect([...w.webSink.deliveredIds().keys()].filter((id) => id.startsWith('alert'))).toEqual([
      'alert-0000',
    ]);
    expect(run).toMatchObject({ unrouted: 2 });
    expect(quiet).toMatchObject({ unrouted: 0 });
    expect(laterRun).toMatchObject({ unrouted: 1 });
    expect(first.log.lines.filter((l) => l.level === 'warn').map((l) => l.extra?.alert)).toEqual([
      'alert-0001',
      'alert-0002',
    ]);
    expect(noticesOf(w.webSink)).toEqual(['no-route', 'no-route']);
    expect(noticesOf(w.otherSink)).toEqual([
      expect.stringMatching(/^2 alerts matched no destination's routing/),
      expect.stringMatching(/^1 alert matched no destination's routing .* at 2026-11-28 15:00 UTC/),
    ]);
    const [day1] = w.webSink.received.filter((r) => r.json.notice === 'no-route');
    expect(day1!.json.summary).toBe(
      "2 alerts matched no destination's routing and reached no one (first today at 2026-11-27 12:00 UTC): add a route, or mark one destination fallback: true",
    );
    expect(sameDay).toEqual([
      {
        day: '2026-11-27',
        alerts: 3,
        lastAt: T0 + 3 * HOUR,
        last: 'failed host-0003 (backup bk) in ap-southeast-1/proj-1/0',
      },
    ]);
    expect((await later.outbox.unroutedAlerts()).map((d) => [d.day, d.alerts])).toEqual([
      ['2026-11-27', 3],
      ['2026-11-28', 1],
    ]);
  });

  it("never loses the day's notice: a process that dies between recording it and the alert leaves both to the retry", async () => {
    // Prepare: the notice is the first PutItem, the alert the second.
    const w = await world();
    const destinations = [w.web, w.other(false)];
    const dying = crashingProcess({ step: 'PutItem', when: 'before', nth: 2 });
    const doomed = outboxFor(dying.wrapTable(w.table), destinations, w.time).outbox;
    const crash = await doomed.enqueue([alert(1)]).catch((err: unknown) => err);
    await dying.settle();

    // Act: the poll runs again and enqueues the same alert.
    const { outbox } = outboxFor(w.table, destinations, w.time);
    const again = await outbox.enqueue([alert(1)]);
    const run = await outbox.deliver(FAR);

    // Assess
    expect(crash).toBeInstanceOf(ProcessCrash);
    expect(again.created).toEqual(['alert-0001']);
    expect(run).toMatchObject({ unrouted: 1 });
    expect(noticesOf(w.webSink)).toEqual(['no-route']);
    expect((await outbox.unroutedAlerts()).map((d) => d.alerts)).toEqual([1]);
  });
});
