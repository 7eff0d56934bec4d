// Crash safety and overlap. A run that dies at any step (before or after any DynamoDB request or
// HTTP post) loses nothing, and repeats only what it had sent with a 2xx but not yet recorded: at
// most one request per destination. Three runs at once on one table send each message exactly
// once per destination.
import { createPostJson } from '../../lib/notify/http';
import type { Destination } from '../../lib/notify/destination';
import { useLocalDynamo } from '../support/dynamo';
import {
  alerts,
  chatDestination,
  crashingProcess,
  FAR,
  freshTable,
  idsOf,
  MIN,
  outboxFor,
  ProcessCrash,
  startSink,
  virtualTime,
  webhookDestination,
  type CrashPoint,
  type Sink,
  type Step,
} from './support';

const local = useLocalDynamo('outbox-crash');
const ALERTS = alerts(3);
const ALERT_IDS = ALERTS.map((a) => a.id);

/**
 * One table and three receivers: a webhook (a request per message), a chat channel (digests of 2)
 * and a destination that is gone (404), so a run also records health and enqueues a notice.
 */
async function world() {
  const time = virtualTime();
  const table = await freshTable(local.freshTable, local.dynamo().newClient(), time.sleep);
  const [webhookSink, chatSink, goneSink] = await Promise.all([
    startSink(time.now),
    startSink(time.now),
    startSink(time.now),
  ]);
  goneSink.answerAlways({ status: 404, body: 'no_service' });
  const destinations: Destination[] = [
    webhookDestination({ url: webhookSink.url }),
    chatDestination({ url: chatSink.url, perRequest: 2 }),
    chatDestination({ id: 'gone', url: goneSink.url }),
  ];
  const close = () => Promise.all([webhookSink, chatSink, goneSink].map((s) => s.close()));
  return {
    time,
    table,
    destinations,
    sinks: { webhook: webhookSink, slack: chatSink } as Record<string, Sink>,
    close,
  };
}

interface CaseResult {
  steps: Map<Step, number>;
  problems: string[];
}

/** Runs one delivery that dies at `point` (or never), then recovery runs; returns what broke a promise. */
async function crashCase(point?: CrashPoint): Promise<CaseResult> {
  const w = await world();
  try {
    await outboxFor(w.table, w.destinations, w.time).outbox.enqueue(ALERTS);
    const proc = crashingProcess(point);
    const { outbox: dying } = outboxFor(proc.wrapTable(w.table), w.destinations, w.time, {
      post: proc.wrapPost(createPostJson()),
    });
    const error = await dying.deliver(FAR).then(
      () => undefined,
      (err: unknown) => err,
    );
    await proc.settle();
    const problems: string[] = [];
    const label = point ? `${point.when} ${point.step} #${point.nth}` : 'no crash';
    if (point && !(error instanceof ProcessCrash))
      problems.push(`${label}: the run did not die (${String(error)})`);
    if (!point && error) problems.push(`clean run failed: ${String(error)}`);

    // What reached each receiver during the dying run, and what the table says was recorded.
    const check = outboxFor(w.table, w.destinations, w.time).outbox;
    const crashRun = Object.fromEntries(Object.entries(w.sinks).map(([d, s]) => [d, [...s.received]]));
    const sentIds = [...new Set(Object.values(crashRun).flatMap((reqs) => reqs.flatMap(idsOf)))];
    const recorded = new Map((await check.get(sentIds)).map((r) => [r.message.id, r.deliveries]));

    // Recovery: later runs, once the dead run's lease has expired.
    for (let i = 0; i < 2; i++) {
      w.time.advance(2 * MIN);
      await outboxFor(w.table, w.destinations, w.time).outbox.deliver(FAR);
    }

    const noticeIds = new Set(
      w.sinks.webhook!.received.filter((r) => r.json.kind === 'notice').map((r) => r.json.id!),
    );
    if (noticeIds.size !== 1) problems.push(`${label}: ${noticeIds.size} destination-failing notices`);
    for (const [destination, sink] of Object.entries(w.sinks)) {
      const counts = sink.deliveredIds();
      for (const id of [...ALERT_IDS, ...noticeIds]) {
        if (!counts.has(id)) problems.push(`${label}: ${id} never reached ${destination}`);
      }
      const unrecorded = crashRun[destination]!.filter((req) =>
        idsOf(req).some((id) => recorded.get(id)?.[destination]?.state !== 'done'),
      );
      const allowed = new Set(unrecorded.flatMap(idsOf));
      const repeated = [...counts].filter(([, n]) => n > 1).map(([id]) => id);
      if (unrecorded.length > 1)
        problems.push(`${label}: ${unrecorded.length} requests to ${destination} unrecorded`);
      for (const id of repeated) {
        if (!allowed.has(id)) problems.push(`${label}: ${id} repeated to ${destination} though recorded`);
      }
    }
    return { steps: proc.steps, problems };
  } finally {
    await w.close();
  }
}

describe('a run that crashes', () => {
  it('at any step loses nothing and repeats at most the request whose 2xx it had not recorded', async () => {
    // Prepare: a clean run tells which steps there are.
    const clean = await crashCase();
    const points: CrashPoint[] = [...clean.steps].flatMap(([step, count]) =>
      Array.from({ length: count }, (_, i) =>
        (['before', 'after'] as const).map((when): CrashPoint => ({ step, when, nth: i + 1 })),
      ).flat(),
    );

    // Act
    const problems = [...clean.problems];
    for (const point of points) problems.push(...(await crashCase(point)).problems);

    // Assess
    expect(Object.fromEntries(clean.steps)).toEqual({
      Query: 2,
      UpdateItem: expect.any(Number),
      BatchGetItem: 2,
      PutItem: 1,
      post: expect.any(Number),
    });
    expect(points.length).toBeGreaterThanOrEqual(40);
    expect(problems).toEqual([]);
  });
});

describe('overlapping runs', () => {
  it('three deliver() at once on one table send each message exactly once per destination', async () => {
    // Prepare
    const w = await world();
    try {
      const processes = [0, 1, 2].map(() => outboxFor(w.table, w.destinations, w.time).outbox);
      await processes[0]!.enqueue(ALERTS);

      // Act
      const summaries = await Promise.all(processes.map((p) => p.deliver(FAR)));

      // Assess
      expect(summaries.filter((s) => s.leaseBusy)).toHaveLength(2);
      for (const sink of Object.values(w.sinks)) {
        const counts = sink.deliveredIds();
        expect(ALERT_IDS.map((id) => counts.get(id))).toEqual([1, 1, 1]);
      }
    } finally {
      await w.close();
    }
  });

  it('three polls that each record and deliver, tick after tick, send each message exactly once per destination', async () => {
    // Prepare: every tick, three processes each record 5 new alerts and deliver, all at once.
    const w = await world();
    try {
      const processes = [0, 1, 2].map(() => outboxFor(w.table, w.destinations, w.time).outbox);

      // Act
      for (let tick = 0; tick < 4; tick++) {
        await Promise.all(
          processes.map(async (p, i) => {
            await p.enqueue(alerts(5, 100 * tick + 10 * i));
            return p.deliver(FAR);
          }),
        );
        w.time.advance(MIN);
      }
      await processes[0]!.deliver(FAR);

      // Assess
      const expected = [0, 1, 2, 3].flatMap((tick) =>
        [0, 1, 2].flatMap((i) => alerts(5, 100 * tick + 10 * i)),
      );
      for (const sink of Object.values(w.sinks)) {
        const counts = sink.deliveredIds();
        expect(expected.filter((a) => counts.get(a.id) !== 1)).toEqual([]);
      }
    } finally {
      await w.close();
    }
  });
});
