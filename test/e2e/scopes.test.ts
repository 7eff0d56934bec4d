// Issue 12, many scopes on one rate budget, end to end: the real wiring (createApp, or the CLI's
// main() with an environment, as a user runs it) against the HSS emulator (5 calls a minute per
// credential), dynalite and local sinks, on a virtual clock.
import { createApp, runPoll, type App } from '../../lib/app';
import type { ScopeConfig } from '../../lib/config/types';
import type { PollSummary } from '../../lib/poll';
import { main } from '../../cli/main';
import { makeTasks, startHssEmulator } from '../../local/hss-emulator';
import { startSlackSink, startWebhookSink, type Sink } from '../../local/sinks';
import { useEngine } from '../support/engines';
import {
  AK,
  HOUR,
  PROJECT,
  SK,
  T0,
  WEBHOOK_SECRET,
  openWorld,
  record,
  webhookAlertsByHost,
  type World,
} from './world';

const engine = useEngine('dynalite');
let world: World | undefined;
afterEach(async () => {
  await world?.close();
  world = undefined;
});

const BEIJING: ScopeConfig = {
  region: 'cn-north-4',
  projectId: PROJECT,
  enterpriseProjectId: '0',
  credential: 'default',
};
const SINGAPORE: ScopeConfig = {
  region: 'ap-southeast-1',
  projectId: 'project-b',
  enterpriseProjectId: 'all_granted_eps',
  credential: 'default',
};
const SHANGHAI_BROKEN: ScopeConfig = {
  region: 'cn-east-3',
  projectId: 'project-c',
  enterpriseProjectId: '0',
  credential: 'broken',
};

/** Webhook events of one type, parsed. */
function events(sink: Sink, type: string): Array<Record<string, unknown>> {
  return sink.received.map((r) => r.json as Record<string, unknown>).filter((body) => body.type === type);
}

/** Slack messages as a person reads them. */
function slackTexts(sink: Sink): string[] {
  return sink.received.map((r) => sink.visibleText(r));
}

/**
 * Runs actors at once on `time` (the world's clock): a sleep inside an actor waits until every actor
 * sleeps, then the clock moves to the earliest wake-up, so overlapping polls interleave on the
 * shared budget as they would in real time, however slow the machine. Outside `run`, sleeps move the
 * clock at once.
 */
function actors(time: { now: number }) {
  let active = 0;
  let seq = 0;
  const timers: Array<{ at: number; seq: number; wake: () => void }> = [];
  const advance = (): void => {
    if (timers.length === 0 || (active > 0 && timers.length < active)) return;
    timers.sort((a, b) => a.at - b.at || a.seq - b.seq);
    time.now = Math.max(time.now, timers[0]!.at);
    const due = timers.filter((t) => t.at <= time.now);
    timers.splice(0, due.length);
    for (const t of due) t.wake();
  };
  return {
    sleep: (ms: number) =>
      new Promise<void>((wake) => {
        timers.push({ at: time.now + Math.max(0, ms), seq: seq++, wake });
        advance();
      }),
    run<T>(...fns: Array<() => Promise<T>>): Promise<T[]> {
      active += fns.length;
      return Promise.all(
        fns.map(async (fn) => {
          try {
            return await fn();
          } finally {
            active -= 1;
            advance();
          }
        }),
      );
    },
  };
}

describe('many scopes on one credential', () => {
  it('alerts failures in two projects in two regions in the first poll, never throttled, each alert naming its scope on Slack and the webhook', async () => {
    // Prepare
    world = await openWorld({ engine, scopes: [BEIJING, SINGAPORE] });
    world.tasks.push(
      record('bj-web-01', 'failed', T0 - HOUR),
      record('sg-db-02', 'failed', T0 - 2 * HOUR, {
        project_id: 'project-b',
        enterprise_project_id: 'ep-finance',
      }),
      ...makeTasks(300, { now: T0, status: 'running', seed: 1 }),
      ...makeTasks(300, { now: T0, status: 'running', seed: 2, projectId: 'project-b' }),
    );
    // Act
    const first = await world.tick();
    // Assess
    expect(first.alertsNew).toBe(2);
    expect(first.hssThrottled).toBe(0);
    expect(world.emulator.requests.filter((r) => r.status !== 200)).toEqual([]);
    expect(world.emulator.maxCallsInAnyMinute()).toBeLessThanOrEqual(5);
    const scoped = events(world.sinks.webhook!, 'hss.task.status_alert').map((e) => [
      (e.task as { host_name: string }).host_name,
      e.scope,
    ]);
    expect(scoped.sort()).toEqual([
      [
        'bj-web-01',
        {
          id: 'cn-north-4/demo-project/0',
          region: 'cn-north-4',
          project_id: PROJECT,
          enterprise_project_id: '0',
        },
      ],
      [
        'sg-db-02',
        {
          id: 'ap-southeast-1/project-b/all_granted_eps',
          region: 'ap-southeast-1',
          project_id: 'project-b',
          enterprise_project_id: 'all_granted_eps',
        },
      ],
    ]);
    // Each host's Slack message (a card, or a digest grouping by scope) names the host's scope.
    const slack = slackTexts(world.sinks.slack!);
    const named = [
      ['bj-web-01', 'cn-north-4 · project demo-project · enterprise project 0'],
      ['sg-db-02', 'ap-southeast-1 · project project-b · enterprise project all_granted_eps'],
    ].map(([host, scope]) => [host, slack.some((text) => text.includes(host!) && text.includes(scope!))]);
    expect(named).toEqual([
      ['bj-web-01', true],
      ['sg-db-02', true],
    ]);
  });

  it('keeps three invocations running at once (three apps, one table, one credential) under 5 calls in any minute at the emulator, each failure alerted once', async () => {
    // Prepare: long in-flight lists, so every invocation wants far more than 5 calls.
    world = await openWorld({ engine, scopes: [BEIJING, SINGAPORE], sinks: ['webhook'] });
    world.tasks.push(
      record('bj-web-01', 'failed', T0 - HOUR),
      record('sg-db-02', 'failed', T0 - HOUR, { project_id: 'project-b' }),
      ...makeTasks(300, { now: T0, status: 'running', seed: 3 }),
      ...makeTasks(300, { now: T0, status: 'waiting', seed: 4, projectId: 'project-b' }),
    );
    const time = actors(world.time);
    const apps: App[] = [0, 1, 2].map(() =>
      createApp(world!.config, {
        log: { debug() {}, info() {}, warn() {}, error() {} },
        clock: world!.clock,
        sleep: time.sleep,
        random: () => 0.5,
        dynamo: engine.newClient(),
        hssTimeoutMs: 2_000,
        deliveryTimeoutMs: 2_000,
      }),
    );
    const periodMs = world.config.periodSeconds * 1000;
    // Act: three scheduled ticks, each invoking all three at the same moment (EventBridge duplicates, overlaps).
    const polls: PollSummary[] = [];
    for (let tick = 0; tick < 3; tick++) {
      const start = world.clock();
      polls.push(...(await time.run(...apps.map((app) => () => runPoll(app, start + periodMs - 10_000)))));
      world.time.now = Math.max(world.clock(), start + periodMs);
    }
    // Assess
    expect(world.emulator.requests.length).toBeGreaterThan(10);
    expect(world.emulator.maxCallsInAnyMinute('default')).toBeLessThanOrEqual(5);
    expect(world.emulator.requests.filter((r) => r.status !== 200)).toEqual([]);
    expect(polls.reduce((n, p) => n + p.hssThrottled, 0)).toBe(0);
    expect([...webhookAlertsByHost(world.sinks.webhook!)].sort()).toEqual([
      ['bj-web-01', 1],
      ['sg-db-02', 1],
    ]);
  });

  it("keeps alerting the other scopes when one scope's credential is refused, and sends ONE monitoring-down notice naming it after 3 failed polls", async () => {
    // Prepare: a second account whose key HSS does not know.
    world = await openWorld({
      engine,
      scopes: [BEIJING, SINGAPORE, SHANGHAI_BROKEN],
      credentials: {
        default: { kind: 'aksk', ak: AK, sk: SK },
        broken: { kind: 'aksk', ak: 'BROKENAK0000', sk: 'not-the-key' },
      },
    });
    world.tasks.push(
      record('bj-web-01', 'failed', T0 - HOUR),
      record('sg-db-02', 'failed', T0 - HOUR, { project_id: 'project-b' }),
      record('sh-app-03', 'failed', T0 - HOUR, { project_id: 'project-c' }),
    );
    // Act
    const polls: PollSummary[] = [];
    for (let i = 0; i < 4; i++) polls.push(await world.tick());
    // Assess: the healthy scopes alerted in the first poll; the broken one failed every poll, for auth.
    const webhook = world.sinks.webhook!;
    expect(polls[0]!.alertsNew).toBe(2);
    expect([...webhookAlertsByHost(webhook)].sort()).toEqual([
      ['bj-web-01', 1],
      ['sg-db-02', 1],
    ]);
    expect(polls.map((p) => p.scopesFailed.map((f) => [f.scope, f.auth]))).toEqual(
      Array(4).fill([['cn-east-3/project-c/0', true]]),
    );
    const down = events(webhook, 'hss.monitoring.monitoring-down');
    expect(down.map((e) => (e.scope as { id: string }).id)).toEqual(['cn-east-3/project-c/0']);
    const slackDown = slackTexts(world.sinks.slack!).filter((t) => /NOT working/.test(t));
    expect(slackDown).toHaveLength(1);
    expect(slackDown[0]).toContain('cn-east-3 · project project-c · enterprise project 0');
    expect(slackDown[0]).toMatch(/the last 3 polls failed/);
    expect(world.emulator.requests.filter((r) => r.status === 429)).toEqual([]);
  });
});

describe('many scopes through the CLI', () => {
  it('reads HSS_SCOPES with a named credential (CLOUD_SDK_AK__BROKEN) through parseConfig and createApp: the good scopes alert, the broken one is named, once', async () => {
    // Prepare: a real clock (the CLI's), the emulator knows only the default account.
    const [hss, slack, webhook] = await Promise.all([
      startHssEmulator({ projects: [PROJECT, 'project-b', 'project-c'], ratePerMinute: 0 }),
      startSlackSink(),
      startWebhookSink({ secret: WEBHOOK_SECRET }),
    ]);
    try {
      const now = Date.now();
      hss.tasks.push(
        record('bj-web-01', 'failed', now - HOUR),
        record('sg-db-02', 'failed', now - HOUR, { project_id: 'project-b' }),
        record('sh-app-03', 'failed', now - HOUR, { project_id: 'project-c' }),
      );
      const env = {
        HSS_SCOPES:
          'cn-north-4/demo-project, ap-southeast-1/project-b/all_granted_eps, cn-east-3/project-c@broken',
        HSS_ENDPOINT: hss.url,
        CLOUD_SDK_AK: AK,
        CLOUD_SDK_SK: SK,
        CLOUD_SDK_AK__BROKEN: 'BROKENAK0000',
        CLOUD_SDK_SK__BROKEN: 'not-the-key-at-all',
        // Three polls back to back on the real clock: the budget, not what is tested here, would
        // spread them over minutes at 5 a minute (the budget has its own tests above).
        HSS_RATE_LIMIT_PER_MINUTE: '600',
        STATE_TABLE: await engine.freshTable('cli-scopes'),
        DYNAMODB_ENDPOINT: engine.endpoint,
        SLACK_WEBHOOK_URL: slack.url,
        WEBHOOK_URL: webhook.url,
        WEBHOOK_SECRET,
      };
      const cli = async (...argv: string[]) => {
        const out: string[] = [];
        const err: string[] = [];
        const code = await main(argv, { env, out: (l) => out.push(l), err: (l) => err.push(l) });
        return { code, out, err };
      };
      // Act
      const polls = [await cli('poll'), await cli('poll'), await cli('poll')];
      const status = await cli('status');
      // Assess
      expect(polls.map((p) => p.code)).toEqual([1, 1, 1]);
      expect(polls[0]!.out).toHaveLength(1);
      expect(polls[0]!.out[0]).toMatch(/^3 scope\(s\): .*2 new alerts/);
      expect(polls[0]!.out[0]).toMatch(/; scope cn-east-3\/project-c\/0 failed: HssAuthError: .*APIGW\.0301/);
      expect([...webhookAlertsByHost(webhook)].sort()).toEqual([
        ['bj-web-01', 1],
        ['sg-db-02', 1],
      ]);
      const down = events(webhook, 'hss.monitoring.monitoring-down');
      expect(down.map((e) => (e.scope as { id: string }).id)).toEqual(['cn-east-3/project-c/0']);
      expect(status.code).toBe(1);
      expect(status.out).toContain('UNHEALTHY  cn-east-3/project-c/0: failing for 3 polls');
      const said = [...polls, status].flatMap((p) => [...p.out, ...p.err]).join('\n');
      expect(said).not.toContain('not-the-key-at-all');
      expect(said).not.toContain('BROKENAK0000');
    } finally {
      await Promise.all([hss.close(), slack.close(), webhook.close()]);
    }
  });
});
