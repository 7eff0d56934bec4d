// Issue 13, the alert lifecycle end to end: stuck tasks, resolution, reminders, silences (through the
// CLI), quiet hours (from the destinations file) and the daily summary, through the real poll path
// (createApp + runPoll) against the HSS emulator, dynalite and the destinations' local sinks, on a
// virtual clock.
import { main } from '../../cli/main';
import { parseConfig } from '../../lib/config';
import type { EmulatedTask } from '../../local/hss-emulator';
import { PAGERDUTY_ROUTING_KEY, type Sink } from '../../local/sinks';
import { useEngine } from '../support/engines';
import { AK, HOUR, MIN, PROJECT, SK, T0, WEBHOOK_SECRET, openWorld, record, type World } from './world';

const engine = useEngine('dynalite');
let world: World | undefined;
afterEach(async () => {
  await world?.close();
  world = undefined;
});

type Json = Record<string, unknown>;

/** Webhook events of one type, parsed. */
function events(sink: Sink, type: string): Json[] {
  return sink.received.map((r) => r.json as Json).filter((body) => body.type === type);
}

/** What a person reads in each request a sink accepted. */
function texts(sink: Sink): string[] {
  return sink.received.map((r) => sink.visibleText(r));
}

/** Host names of the webhook's alert events, in order. */
function alertedHosts(sink: Sink): string[] {
  return events(sink, 'hss.task.status_alert').map((e) => (e.task as { host_name: string }).host_name);
}

const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** Ends `task` in `status` at `now`. */
function end(task: EmulatedTask, status: string, now: number, extra: Partial<EmulatedTask> = {}): void {
  Object.assign(task, {
    status,
    ended_at: iso(now),
    error_info:
      status === 'success'
        ? { code: '', message: '' }
        : { code: 'HSS.5021', message: 'Restore failed: agent offline' },
    ...extra,
  });
}

/** The environment a user of this world's deployment would run the CLI with. */
function cliEnv(w: World, extra: Record<string, string> = {}): Record<string, string> {
  return {
    HSS_REGION: 'cn-north-4',
    HSS_PROJECT_ID: PROJECT,
    HSS_ENDPOINT: w.emulator.url,
    CLOUD_SDK_AK: AK,
    CLOUD_SDK_SK: SK,
    STATE_TABLE: w.config.stateTable,
    STATE_NAMESPACE: w.config.stateNamespace,
    DYNAMODB_ENDPOINT: engine.endpoint,
    SLACK_WEBHOOK_URL: w.sinks.slack!.url,
    WEBHOOK_URL: w.sinks.webhook!.url,
    WEBHOOK_SECRET,
    ...extra,
  };
}

async function cli(w: World, ...argv: string[]): Promise<{ code: number; out: string[] }> {
  const out: string[] = [];
  const code = await main(argv, {
    env: cliEnv(w),
    out: (l) => out.push(l),
    err: (l) => out.push(l),
    clock: w.clock,
  });
  return { code, out };
}

describe('alert lifecycle through the real poll path', () => {
  it('41% for 61 minutes -> one stuck alert; it fails -> one failed alert saying it was stuck; a later success of the same host and backup -> one resolved notice on every destination and a PagerDuty resolve with the trigger dedup_key', async () => {
    // Prepare
    world = await openWorld({ engine, sinks: ['slack', 'webhook', 'teams', 'feishu', 'pagerduty'] });
    const slow = record('db-01', 'running', T0 - 5 * MIN, { process: 41 });
    world.tasks.push(slow);
    // Act: an hour at 41% (one poll a minute), then a little more; it fails; a retry succeeds.
    const early = [];
    while (world.clock() < T0 + 60 * MIN) early.push(await world.tick());
    for (let i = 0; i < 5; i++) await world.tick();
    end(slow, 'failed', world.clock());
    await world.tick();
    const retry = record('db-01', 'running', world.clock(), { process: 10 });
    world.tasks.push(retry);
    await world.tick();
    await world.tick();
    end(retry, 'success', world.clock(), { process: 100 });
    for (let i = 0; i < 3; i++) await world.tick();

    // Assess: the webhook, event by event.
    const { slack, webhook, teams, feishu, pagerduty } = world.sinks as Required<World['sinks']>;
    expect(early.map((p) => p.alertsNew).filter((n) => n > 0)).toEqual([]);
    const alerts = events(webhook, 'hss.task.status_alert');
    expect(alerts.map((a) => [a.status, a.reason])).toEqual([
      ['stuck', 'stuck-no-progress'],
      ['failed', 'moved'],
    ]);
    expect(alerts[0]!.stuck).toMatchObject({ process: 41 });
    expect((alerts[0]!.stuck as { stalled_ms: number }).stalled_ms).toBeGreaterThanOrEqual(60 * MIN);
    expect(alerts[1]!.was_stuck).toMatchObject({ process: 41 });
    const resolved = events(webhook, 'hss.task.resolved');
    expect(resolved.map((r) => [r.alert_id, r.alert_status, r.how, r.task_ref])).toEqual([
      [alerts[1]!.id, 'failed', 'later-success', alerts[1]!.task_ref],
    ]);
    // Resolved by the retry, which ended: not "running" as it was when last read.
    expect(resolved[0]!.resolved_by).toMatchObject({ host_name: 'db-01', status: 'success' });
    // Chat: stuck, failed (saying it was stuck), resolved: one message each, on every channel.
    for (const sink of [slack, teams, feishu]) {
      const shown = texts(sink);
      expect(shown.map((t) => /stuck on db-01|failed on db-01|Resolved: /.exec(t)?.[0])).toEqual([
        'stuck on db-01',
        'failed on db-01',
        'Resolved: ',
      ]);
      expect(shown[1]).toMatch(/Was stuck\W+41% for 1 h/);
      expect(shown[2]).toContain(String(alerts[1]!.id));
      expect(shown[2]).toMatch(/Resolved by\W+success task started 2026-11-27 13:06:00 UTC/);
    }
    // PagerDuty: two triggers of one incident (stuck, then failed), resolved with the same dedup_key.
    const pd = pagerduty.received.map((r) => r.json as { event_action: string; dedup_key: string });
    expect(pd.map((e) => e.event_action)).toEqual(['trigger', 'trigger', 'resolve']);
    expect(new Set(pd.map((e) => e.dedup_key)).size).toBe(1);
    expect([
      ...(pagerduty as Sink & { incidents: Map<string, { state: string }> }).incidents.values(),
    ]).toEqual([expect.objectContaining({ state: 'resolved' })]);
  });

  it('reminds exactly twice of a failure left unresolved for 50 h (REMIND_AFTER_HOURS=24), one digest per chat destination when several are due', async () => {
    // Prepare: hourly polls; two failures, so every reminder round has several due at once.
    world = await openWorld({
      engine,
      periodSeconds: 3600,
      sinks: ['slack', 'webhook', 'pagerduty'],
      lifecycle: { remindAfterHours: 24 },
    });
    world.tasks.push(
      record('web-01', 'failed', T0 - 10 * MIN),
      record('web-02', 'failed', T0 - 20 * MIN, { backup_name: 'weekly' }),
    );
    // Act
    while (world.clock() < T0 + 50 * HOUR) await world.tick();
    // Assess
    const { slack, webhook, pagerduty } = world.sinks as Required<World['sinks']>;
    const reminders = events(webhook, 'hss.task.reminder').map((e) => [
      (e.task as { host_name: string }).host_name,
      e.n,
    ]);
    expect(reminders.sort()).toEqual([
      ['web-01', 1],
      ['web-01', 2],
      ['web-02', 1],
      ['web-02', 2],
    ]);
    const slackReminders = texts(slack).filter((t) => /still failing/.test(t));
    expect(slackReminders).toHaveLength(2);
    expect(slackReminders.every((t) => t.includes('2 restore/backup tasks still failing'))).toBe(true);
    expect(pagerduty.received.map((r) => (r.json as { event_action: string }).event_action)).toEqual([
      'trigger',
      'trigger',
    ]);
  });

  it('silences web-* for 4 h through the CLI: web-03 is held and listed, db-01 is sent at once, web-03 is sent once when the silence ends', async () => {
    // Prepare: polls every 15 minutes.
    world = await openWorld({ engine, periodSeconds: 900 });
    const added = await cli(
      world,
      'silence',
      'add',
      '--host',
      'web-*',
      '--for',
      '4h',
      '--reason',
      'storage maintenance',
    );
    world.tasks.push(record('web-03', 'failed', T0 - 5 * MIN), record('db-01', 'failed', T0 - 5 * MIN));
    // Act
    await world.tick();
    const during = alertedHosts(world.sinks.webhook!);
    const slackDuring = texts(world.sinks.slack!);
    const listed = await cli(world, 'silence', 'list');
    while (world.clock() < T0 + 4 * HOUR + 15 * MIN) await world.tick();
    // Assess
    expect(added.code).toBe(0);
    expect(added.out[0]).toMatch(/^silence \w+ added: hosts web-\*, any status until 2026-11-27 16:00 UTC$/);
    expect(during).toEqual(['db-01']);
    expect(slackDuring.filter((t) => t.includes('web-03'))).toEqual([]);
    expect(listed.code).toBe(0);
    expect(listed.out[0]).toMatch(/ active {2}hosts web-\*.*reason: storage maintenance$/);
    expect(listed.out[1]).toMatch(/^ {4}swallowed failed web-03 \/ nightly at 2026-11-27 12:00 UTC/);
    expect(alertedHosts(world.sinks.webhook!)).toEqual(['db-01', 'web-03']);
    expect(texts(world.sinks.slack!).filter((t) => t.includes('web-03'))).toHaveLength(1);
    expect(texts(world.sinks.slack!).filter((t) => t.includes('db-01'))).toHaveLength(1);
  });

  it('holds chat messages in quiet hours from the destinations file (not PagerDuty, not the webhook) and releases them as one digest', async () => {
    // Prepare: 23:00 in Shanghai (15:00 UTC); quiet 22:00-07:00 Asia/Shanghai on Slack; hourly polls.
    world = await openWorld({ engine, periodSeconds: 3600, sinks: ['slack', 'webhook', 'pagerduty'] });
    world.time.now = Date.UTC(2026, 10, 27, 15, 0);
    const { slack, webhook, pagerduty } = world.sinks as Required<World['sinks']>;
    const file = [
      'destinations:',
      '  - type: slack',
      `    url: ${slack.url}`,
      '    quiet_hours: { start: "22:00", end: "07:00", time_zone: Asia/Shanghai }',
      '  - type: webhook',
      `    url: ${webhook.url}`,
      `    secret: ${WEBHOOK_SECRET}`,
      '  - type: pagerduty',
      `    routing_key: ${PAGERDUTY_ROUTING_KEY}`,
      `    events_url: ${pagerduty.url}`,
    ].join('\n');
    const parsed = parseConfig(
      {
        HSS_REGION: 'cn-north-4',
        HSS_PROJECT_ID: PROJECT,
        CLOUD_SDK_AK: AK,
        CLOUD_SDK_SK: SK,
        STATE_TABLE: world.config.stateTable,
        DESTINATIONS_FILE: 'destinations.yml',
      },
      { readFile: () => file },
    );
    world.config.destinations = parsed.destinations;
    const app = world.newApp();
    // Act: a failure at 23:00, another at 02:00, polls until 08:00 (Shanghai).
    world.tasks.push(record('web-01', 'failed', world.clock() - 5 * MIN));
    const quiet: number[] = [];
    for (let hour = 23; hour !== 8; hour = (hour + 1) % 24) {
      if (hour === 2) world.tasks.push(record('db-02', 'failed', world.clock() - 5 * MIN));
      await world.tick(app);
      if (hour !== 7) quiet.push(slack.received.length);
    }
    // Assess
    expect(parsed.destinations[0]!.routing.quietHours).toEqual({
      start: '22:00',
      end: '07:00',
      timeZone: 'Asia/Shanghai',
    });
    expect(quiet.every((n) => n === 0)).toBe(true);
    expect(texts(slack)).toHaveLength(1);
    expect(texts(slack)[0]).toMatch(/2 restore\/backup tasks need attention/);
    // Released by the 07:00 poll (23:00 UTC); pages went out in the poll that found each failure.
    const pollOf = (at: number) => new Date(at).toISOString().slice(11, 13);
    expect(pollOf(slack.received[0]!.at)).toBe('23');
    expect(alertedHosts(webhook)).toEqual(['web-01', 'db-02']);
    expect(pagerduty.received.map((r) => pollOf(r.at))).toEqual(['15', '18']);
  });

  it('sends one daily summary per destination whose counts match the tasks the emulator served that day', async () => {
    // Prepare: from 00:00 in Shanghai (16:00 UTC the day before), polls every 15 minutes; from 01:00
    // to 22:00 a task starts every hour, runs 30 minutes and ends: success, failed or timeout.
    world = await openWorld({
      engine,
      periodSeconds: 900,
      lifecycle: { dailySummary: { at: '09:00', timeZone: 'Asia/Shanghai' } },
    });
    world.time.now = Date.UTC(2026, 10, 27, 16, 0);
    const served = { success: 0, failed: 0, timeout: 0 };
    const running: Array<{ task: EmulatedTask; endsAt: number; as: keyof typeof served }> = [];
    let n = 0;
    // Act: until 09:30 the next day (Shanghai).
    while (world.clock() < Date.UTC(2026, 10, 29, 1, 30)) {
      const now = world.clock();
      const shanghai = new Date(now + 8 * HOUR);
      const today = shanghai.toISOString().slice(0, 10) === '2026-11-28';
      if (
        today &&
        shanghai.getUTCMinutes() === 0 &&
        shanghai.getUTCHours() >= 1 &&
        shanghai.getUTCHours() < 22
      ) {
        n += 1;
        const task = record(`app-${n}`, 'running', now - MIN, { process: 10 });
        world.tasks.push(task);
        running.push({
          task,
          endsAt: now + 30 * MIN,
          as: n % 5 === 0 ? 'failed' : n % 7 === 0 ? 'timeout' : 'success',
        });
      }
      for (const r of running.filter((x) => x.task.status === 'running' && x.endsAt <= now)) {
        end(r.task, r.as, now, r.as === 'success' ? { process: 100 } : {});
        served[r.as] += 1;
      }
      await world.tick();
    }
    // Assess
    const summaries = events(world.sinks.webhook!, 'hss.daily_summary');
    expect(summaries.map((s) => s.day)).toEqual(['2026-11-28']);
    expect(served).toEqual({ success: 14, failed: 4, timeout: 3 });
    expect((summaries[0]!.scopes as Json[])[0]).toMatchObject({
      succeeded: served.success,
      failed: served.failed,
      timed_out: served.timeout,
      still_open: served.failed + served.timeout,
    });
    const slack = texts(world.sinks.slack!).filter((t) =>
      t.includes('restore/backup summary for 2026-11-28'),
    );
    expect(slack).toHaveLength(1);
    expect(slack[0]).toContain('14 succeeded · 4 failed · 3 timed out · 0 stuck · 0 resolved · 7 still open');
  });
});
