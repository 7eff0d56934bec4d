// Issue 10, misses 5, 7, 8 and duplicates 9-11 (6 and 12-14 are in gaps-entry.test.ts), end to end: createApp/runPoll (and the CLI and the
// Lambda handler where the case is about them) against the HSS emulator, dynalite and local sinks,
// on a virtual clock.
import { pollExitCode } from '../../cli/main';
import { createApp, runPoll } from '../../lib/app';
import type { Config } from '../../lib/config/types';
import { silentLog } from '../../lib/log';
import { createPostJson, type PostJson } from '../../lib/notify/http';
import type { PollSummary } from '../../lib/poll';
import { useEngine } from '../support/engines';
import { expireItems, matching, stopFor, texts, webhookAlerts, webhookEvents } from './gaps-support';
import { DAY, HOUR, MIN, openWorld, record, type World } from './world';

const engine = useEngine('dynalite');
let world: World | undefined;
afterEach(async () => {
  await world?.close();
  world = undefined;
});

async function ticks(w: World, n: number): Promise<PollSummary[]> {
  const out: PollSummary[] = [];
  for (let i = 0; i < n; i++) out.push(await w.tick());
  return out;
}

/** Index of the first message at `sink` whose visible text matches `pattern` (-1 when none). */
function firstIndex(w: World, sink: 'slack' | 'webhook', pattern: RegExp): number {
  return texts(w.sinks[sink]!).findIndex((t) => pattern.test(t));
}

describe('5. the monitoring-down notice on a destination hiccup', () => {
  it('is retried when Slack answers 503 and the webhook resets the connection as it is sent, and arrives once at each before the "working again" notice', async () => {
    world = await openWorld({ engine });
    await ticks(world, 2);
    world.emulator.injectFault({ kind: 'status', status: 503 }, Infinity);
    await ticks(world, 2);
    // The third failed poll sends the notice: both destinations fail right then.
    world.sinks.slack!.failNext({ kind: 'status', status: 503 });
    world.sinks.webhook!.failNext({ kind: 'reset' });
    await ticks(world, 3);
    world.emulator.clearFaults();
    await ticks(world, 3);

    expect(world.sinks.slack!.attempts.filter((a) => a.status === 503)).toHaveLength(1);
    expect(matching(world.sinks.slack!, /NOT working/)).toHaveLength(1);
    expect(webhookEvents(world.sinks.webhook!, 'hss.monitoring.monitoring-down')).toHaveLength(1);
    expect(matching(world.sinks.slack!, /working again/)).toHaveLength(1);
    expect(webhookEvents(world.sinks.webhook!, 'hss.monitoring.monitoring-recovered')).toHaveLength(1);
    for (const sink of ['slack', 'webhook'] as const) {
      expect(firstIndex(world, sink, /NOT working/)).toBeLessThan(firstIndex(world, sink, /working again/));
    }
  });

  it('is not sent after the "working again" notice when HSS recovers while Slack is still failing it: Slack hears once, in order, that monitoring was down and works again', async () => {
    world = await openWorld({ engine });
    await ticks(world, 2);
    world.emulator.injectFault({ kind: 'status', status: 503 }, Infinity);
    await ticks(world, 2);
    world.sinks.slack!.failNext({ kind: 'status', status: 503 }, 2);
    await ticks(world, 2);
    world.emulator.clearFaults();
    await ticks(world, 6);

    const seen = texts(world.sinks.slack!).filter((t) => /NOT working|working again/.test(t));
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatch(/working again for .* after \d+ failed polls\. It was blind for/);
    // The webhook got both, in order.
    expect(webhookEvents(world.sinks.webhook!, 'hss.monitoring.monitoring-down')).toHaveLength(1);
    expect(firstIndex(world, 'webhook', /NOT working/)).toBeLessThan(
      firstIndex(world, 'webhook', /working again/),
    );
  });
});

describe('7. a retried task that fails again', () => {
  it('alerts failed -> running -> failed (same host, backup and start) twice, with different ids and the new error', async () => {
    world = await openWorld({ engine });
    const start = world.clock() - 2 * HOUR;
    const task = record('db-07', 'failed', start, {
      ended_at: new Date(start + 10 * MIN).toISOString(),
      error_info: { code: 'HSS.5004', message: 'Vault capacity insufficient' },
    });
    world.tasks.push(task);
    await ticks(world, 2);
    Object.assign(task, {
      status: 'running',
      process: 10,
      ended_at: undefined,
      error_info: { code: '', message: '' },
    });
    await ticks(world, 2);
    Object.assign(task, {
      status: 'failed',
      ended_at: new Date(world.clock() - MIN).toISOString(),
      error_info: { code: 'HSS.5021', message: 'Agent offline during restore' },
    });
    await ticks(world, 2);

    const alerts = webhookEvents(world.sinks.webhook!, 'hss.task.status_alert').filter(
      ({ event }) => event.task?.host_name === 'db-07' && event.status === 'failed',
    );
    expect(alerts.map(({ event }) => [event.episode, event.reason, event.task!.error_message])).toEqual([
      [1, 'first-seen', 'Vault capacity insufficient'],
      [2, 're-entered', 'Agent offline during restore'],
    ]);
    const ids = alerts.map(({ request }) => request.headers['webhook-id']);
    expect(new Set(ids).size).toBe(2);
    expect(ids).toEqual(alerts.map(({ event }) => event.id));
    const slack = matching(world.sinks.slack!, /db-07/);
    expect(slack).toHaveLength(2);
    expect(slack[1]).toMatch(/2nd time[^]*Agent offline during restore/);
  });
});

describe('8. total_num lower than the rows', () => {
  it.each([[{ kind: 'lower', by: 300 } as const], [{ kind: 'capped', max: 200 } as const]])(
    'hides nothing: 450 failures are each alerted once (total_num %j)',
    async (totalNum) => {
      world = await openWorld({ engine, emulator: { totalNum } });
      for (let i = 0; i < 450; i++)
        world.tasks.push(record(`f-${i}`, 'failed', world.clock() - HOUR - i * 10_000));

      await ticks(world, 4);

      const delivered = new Map<string, number>();
      for (const { event } of webhookEvents(world.sinks.webhook!, 'hss.task.status_alert'))
        delivered.set(event.task!.host_name, (delivered.get(event.task!.host_name) ?? 0) + 1);
      expect(delivered.size).toBe(450);
      expect([...delivered.values()].every((n) => n === 1)).toBe(true);
    },
  );
});

describe('9. a Slack-compatible receiver answering 200 {"ok":true}', () => {
  it('gets each alert once over 24 hours (30-minute schedule)', async () => {
    world = await openWorld({ engine, periodSeconds: 1800 });
    world.sinks.slack!.failNext({ kind: 'status', status: 200, body: '{"ok":true}' }, 1000);
    const polls: PollSummary[] = [];
    for (let i = 0; i < 48; i++) {
      if (i % 16 === 0) world.tasks.push(record(`db-${i}`, 'failed', world.clock() - 10 * MIN));
      polls.push(await world.tick());
    }

    const seen = ['db-0', 'db-16', 'db-32'].map(
      (h) => matching(world!.sinks.slack!, new RegExp(`${h}\\b`)).length,
    );
    expect(seen).toEqual([1, 1, 1]);
    expect(world.sinks.slack!.attempts).toHaveLength(3);
    expect(polls.map(pollExitCode)).toEqual(polls.map(() => 0));
  });
});

describe('10. lease expiry during a slow delivery', () => {
  it('delivers 70 alerts to a webhook taking 1 s each exactly once while a long CLI run and 60 s ticks of another container overlap', async () => {
    world = await openWorld({ engine, sinks: ['webhook'], periodSeconds: 60 });
    for (let i = 0; i < 70; i++)
      world.tasks.push(record(`slow-${i}`, 'failed', world.clock() - HOUR - i * 1000));
    const w = world;
    const post = createPostJson();
    const start = w.clock();
    const lambdaRuns: Array<Promise<PollSummary>> = [];
    let nextTick = start + 60_000;
    const slowPost: PostJson = async (url, body, options) => {
      await w.sleep(1000);
      const answer = await post(url, body, options);
      // The scheduler fires every 60 s whatever the CLI run is doing.
      if (w.clock() >= nextTick && lambdaRuns.length < 3) {
        lambdaRuns.push(runPoll(container(), nextTick + 50_000));
        nextTick += 60_000;
      }
      return answer;
    };
    const container = () =>
      createApp(w.config, {
        log: silentLog,
        clock: w.clock,
        sleep: w.sleep,
        random: () => 0.5,
        dynamo: engine.newClient(),
        post: slowPost,
        hssTimeoutMs: 2_000,
        deliveryTimeoutMs: 2_000,
      });

    const cli = await runPoll(container(), start + 200_000);
    const overlapping = await Promise.all(lambdaRuns);
    const after = await ticks(world, 2);

    const delivered = new Map<string, number>();
    for (const { event } of webhookEvents(w.sinks.webhook!, 'hss.task.status_alert'))
      delivered.set(event.task!.host_name, (delivered.get(event.task!.host_name) ?? 0) + 1);
    expect(delivered.size).toBe(70);
    expect([...delivered.values()].every((n) => n === 1)).toBe(true);
    expect(cli.delivery.sent).toBeGreaterThan(60);
    expect(overlapping.length).toBeGreaterThan(0);
    expect(overlapping.every((s) => s.delivery.leaseBusy)).toBe(true);
    expect([cli, ...overlapping, ...after].reduce((n, s) => n + s.delivery.sent, 0)).toBe(70);
  });
});

describe('11. scope and window changes', () => {
  /** The same deployment redeployed with another config: same table, same destinations. */
  function redeploy(w: World, change: Partial<Config>) {
    return createApp(
      { ...w.config, ...change },
      {
        log: silentLog,
        clock: w.clock,
        sleep: w.sleep,
        random: () => 0.5,
        dynamo: engine.newClient(),
        hssTimeoutMs: 2_000,
        deliveryTimeoutMs: 2_000,
      },
    );
  }

  function alertCount(w: World): number {
    return webhookEvents(w.sinks.webhook!, 'hss.task.status_alert').length;
  }

  it('re-alerts nothing when HSS_ENTERPRISE_PROJECT_ID switches from 0 to all_granted_eps, and still alerts what is new in the other projects', async () => {
    world = await openWorld({ engine });
    world.tasks.push(
      record('db-a', 'failed', world.clock() - HOUR),
      record('db-b', 'timeout', world.clock() - 2 * HOUR),
    );
    await ticks(world, 2);
    const before = alertCount(world);
    const all = redeploy(world, {
      scopes: [{ ...world.config.scopes[0]!, enterpriseProjectId: 'all_granted_eps' }],
    });
    world.tasks.push(
      record('db-finance', 'failed', world.clock() - 30 * MIN, { enterprise_project_id: 'finance' }),
    );

    const polls = [await world.tick(all), await world.tick(all), await world.tick(all)];

    expect(before).toBe(2);
    expect(webhookAlerts(world.sinks.webhook!, 'db-a')).toHaveLength(1);
    expect(webhookAlerts(world.sinks.webhook!, 'db-b')).toHaveLength(1);
    expect(webhookAlerts(world.sinks.webhook!, 'db-finance')).toHaveLength(1);
    expect(matching(world.sinks.slack!, /db-a/)).toHaveLength(1);
    expect(polls.reduce((n, p) => n + p.alertsNew, 0)).toBe(1);
  });

  it('re-alerts nothing when LAST_DAYS is raised from 3 to 30 twelve days later, after DynamoDB expired what outlived its TTL', async () => {
    world = await openWorld({ engine, lastDays: 3 });
    world.tasks.push(record('db-old', 'failed', world.clock() - 2 * DAY));
    await ticks(world, 2);
    // Twelve days of polls (one every 6 h is enough for the state), TTL deletions included.
    for (let i = 0; i < 48; i++) {
      stopFor(world, 6 * HOUR - MIN);
      await world.tick();
      await expireItems(engine.client(), world.config.stateTable, world.clock());
    }
    const wide = redeploy(world, { lastDays: 30 });

    const polls = [await world.tick(wide), await world.tick(wide)];

    expect(polls[0]!.tasksSeen).toBe(1);
    expect(webhookAlerts(world.sinks.webhook!, 'db-old')).toHaveLength(1);
    expect(matching(world.sinks.slack!, /db-old/)).toHaveLength(1);
    expect(polls.map((p) => p.alertsNew)).toEqual([0, 0]);
  });
});
