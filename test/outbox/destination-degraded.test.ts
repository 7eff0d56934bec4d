// A destination that only ever answers "try again later" is not silent (issue 18 #1): its first
// retryable failure with no 2xx after it starts a streak; once the streak is DESTINATION_DEGRADED_
// AFTER_MINUTES old the destination is degraded, one notice goes to every other destination, the
// destination stays in `destinationsDegraded` until a 2xx ends the streak with one "delivers again"
// notice. Every destination degraded or failing: `allDestinationsDown`, which fails the Lambda.
import { UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import type { DeliverySummary, Outbox } from '../../lib/outbox/types';
import type { StateError } from '../../lib/state/errors';
import { createTableClient } from '../../lib/state/table-client';
import { useLocalDynamo } from '../support/dynamo';
import {
  alert,
  chatDestination,
  failOn,
  FAR,
  freshTable,
  HOUR,
  MIN,
  outboxFor,
  ProcessCrash,
  startSink,
  T0,
  virtualTime,
  webhookDestination,
  type Sink,
  type VirtualTime,
} from './support';

const local = useLocalDynamo('outbox-degraded');
const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()));
});

const DOWN = { status: 503, body: 'service unavailable' };

async function world() {
  const time = virtualTime();
  const client = local.dynamo().newClient();
  const table = await freshTable(local.freshTable, client, time.sleep);
  const slackSink: Sink = await startSink(time.now);
  const webhookSink: Sink = await startSink(time.now);
  closers.push(slackSink.close, webhookSink.close);
  const slack = chatDestination({ url: slackSink.url });
  const webhook = webhookDestination({ url: webhookSink.url });
  return { time, client, table, slackSink, webhookSink, slack, webhook };
}

/**
 * One deliver (a poll's) every `every` minutes for `minutes`, `before` running first each time (with
 * the minute since T0); the summaries in order, with the time of their run.
 */
async function polls(
  time: VirtualTime,
  outbox: Outbox,
  minutes: number,
  every: number,
  before: (minute: number) => Promise<unknown> | void = () => undefined,
): Promise<Array<DeliverySummary & { at: number }>> {
  const runs: Array<DeliverySummary & { at: number }> = [];
  for (let m = 0; m < minutes; m += every) {
    const at = T0 + m * MIN;
    time.advance(Math.max(0, at - time.now()));
    await before(m);
    runs.push({ ...(await outbox.deliver(FAR)), at });
  }
  return runs;
}

const webhookNotices = (sink: Sink) =>
  sink.received.filter((r) => r.json.kind === 'notice').map((r) => ({ at: r.at, notice: r.json.notice }));
const chatNotices = (sink: Sink) =>
  sink.received.flatMap((r) => (r.json as { notices?: string[] }).notices ?? []);

describe('a destination that answers only retryable failures', () => {
  it('is reported degraded through the webhook within the threshold when Slack answers 503 for 26 hours, and delivers again once Slack is back', async () => {
    // Prepare
    const w = await world();
    const { outbox } = outboxFor(w.table, [w.slack, w.webhook], w.time);
    w.slackSink.answerAlways(DOWN);

    // Act: a poll every 5 minutes, an alert now and every 6 hours; Slack comes back after 26 hours.
    const runs = await polls(w.time, outbox, 26 * 60 + 10, 5, async (m) => {
      if (m === 26 * 60) w.slackSink.answerAlways(undefined);
      if (m % 360 === 0 || m === 26 * 60) await outbox.enqueue([alert(m)]);
    });

    // Assess
    const notices = webhookNotices(w.webhookSink);
    expect(notices.map((n) => n.notice)).toEqual(['destination-degraded', 'destination-recovered']);
    expect(notices[0]!.at).toBe(T0 + 30 * MIN);
    expect(notices[1]!.at).toBe(T0 + 26 * HOUR);
    const degraded = w.webhookSink.received.find((r) => r.json.notice === 'destination-degraded')!;
    expect(degraded.json.summary).toBe(
      'Slack has delivered nothing for 30 min (since 2026-11-27 12:00 UTC; HTTP 503 service unavailable): its messages wait and are retried',
    );
    // Slack is not told that it is degraded; it hears that it delivers again.
    expect(chatNotices(w.slackSink)).toEqual([
      'Slack delivers again: it delivered nothing for 1 d 2 h (since 2026-11-27 12:00 UTC); messages that waited are sent, those past the retry horizon are not',
    ]);
    const listed = (at: number) => runs.find((r) => r.at === at)!.destinationsDegraded;
    expect([
      listed(T0 + 25 * MIN),
      listed(T0 + 30 * MIN),
      listed(T0 + 25 * HOUR),
      listed(T0 + 26 * HOUR),
    ]).toEqual([[], ['slack'], ['slack'], []]);
    expect(runs.some((r) => r.allDestinationsDown)).toBe(false);
    expect(await outbox.delayedDestinations()).toEqual([]);
  });

  it('never says degraded through two healthy days with a 10-minute outage every 6 hours', async () => {
    // Prepare
    const w = await world();
    const { outbox } = outboxFor(w.table, [w.slack, w.webhook], w.time);

    // Act: a poll every 2 minutes, an alert every 30; Slack answers 503 for 10 minutes every 6 hours.
    const runs = await polls(w.time, outbox, 2 * 24 * 60, 2, async (m) => {
      if (m % 360 === 60) w.slackSink.answerAlways(DOWN);
      if (m % 360 === 70) w.slackSink.answerAlways(undefined);
      if (m % 30 === 4) await outbox.enqueue([alert(m)]);
    });

    // Assess: the outages were real (retries happened) and every alert reached Slack in the end.
    expect(runs.reduce((n, r) => n + r.retrying, 0)).toBeGreaterThan(8);
    expect(w.slackSink.deliveredIds().size).toBe(2 * 48);
    expect(runs.filter((r) => r.destinationsDegraded.length > 0)).toEqual([]);
    expect(webhookNotices(w.webhookSink)).toEqual([]);
    expect(chatNotices(w.slackSink)).toEqual([]);
  });

  it('makes allDestinationsDown true only when every destination is degraded or failing', async () => {
    // Prepare
    const w = await world();
    const { outbox } = outboxFor(w.table, [w.slack, w.webhook], w.time);
    w.slackSink.answerAlways(DOWN);

    // Act: Slack alone is down for 40 minutes, then the webhook too.
    const runs = await polls(w.time, outbox, 90, 1, async (m) => {
      if (m === 40) w.webhookSink.answerAlways(DOWN);
      if (m % 10 === 0) await outbox.enqueue([alert(m)]);
    });

    // Assess
    const at = (minute: number) => runs[minute]!;
    expect([at(35).destinationsDegraded, at(35).allDestinationsDown]).toEqual([['slack'], false]);
    expect([at(89).destinationsDegraded, at(89).allDestinationsDown]).toEqual([['slack', 'webhook'], true]);
    // The webhook heard about Slack before it went down; nobody could hear about the webhook.
    expect(webhookNotices(w.webhookSink).map((n) => n.notice)).toEqual(['destination-degraded']);
  });

  it('still says it delivers again when the run that told the others died before noting it', async () => {
    // Prepare: Slack is degraded; the run that enqueues the notice dies before it notes it on the streak.
    const w = await world();
    const { outbox } = outboxFor(w.table, [w.slack, w.webhook], w.time);
    w.slackSink.answerAlways(DOWN);
    await polls(w.time, outbox, 29, 1, (m) => (m === 0 ? outbox.enqueue([alert(0)]) : undefined));
    const dyingClient = failOn(local.dynamo().newClient(), (command, input) => {
      if (command === UpdateItemCommand.name && (input.UpdateExpression as string) === 'SET noticed = :yes')
        throw new ProcessCrash('before noting the degraded notice');
    });
    const dying = outboxFor(
      createTableClient({ client: dyingClient, tableName: w.table.tableName }),
      [w.slack, w.webhook],
      w.time,
    );
    w.time.advance(2 * MIN);
    const crash = await dying.outbox.deliver(FAR).catch((err: unknown) => err);

    // Act: Slack comes back before the next poll that would have noted the notice.
    w.slackSink.answerAlways(undefined);
    w.time.advance(2 * MIN);
    await outbox.enqueue([alert(40)]);
    const back = await outbox.deliver(FAR);
    await outbox.deliver(FAR);

    // Assess
    expect((crash as StateError).cause).toBeInstanceOf(ProcessCrash);
    expect(back).toMatchObject({ destinationsDegraded: [] });
    expect(webhookNotices(w.webhookSink).map((n) => n.notice)).toEqual([
      'destination-degraded',
      'destination-recovered',
    ]);
    expect(chatNotices(w.slackSink)).toEqual([expect.stringMatching(/^Slack delivers again/)]);
  });
});
