// `hss-restore-alerts demo`: a scripted day of restores on local stand-ins, nothing to configure. The
// product is wired exactly as the Lambda and the CLI wire it (parseConfig -> createApp -> runPoll) on
// dynalite, the HSS emulator (5 calls a minute enforced) and local sinks for Slack, a signed webhook,
// Teams, Feishu and PagerDuty; time is virtual, so the day takes a few seconds. It prints what people
// would read, then checks itself and exits 1 if a check fails.
import { createApp, runPoll } from '../lib/app';
import { parseConfig } from '../lib/config';
import { silentLog, type Log } from '../lib/log';
import type { PollSummary } from '../lib/poll';
import { createStateTable, startLocalDynamo } from '../local/dynamo';
import { makeTasks, startHssEmulator, type EmulatedTask } from '../local/hss-emulator';
import {
  PAGERDUTY_ROUTING_KEY,
  feishuSignatureValid,
  startFeishuSink,
  startPagerdutySink,
  startSlackSink,
  startTeamsSink,
  startWebhookSink,
  verifyWebhookSignature,
  type Sink,
  type SinkRequest,
} from '../local/sinks';
import { consoleLog } from './log';

const PERIOD_MS = 5 * 60_000;
const MIN = 60_000;
const HOUR = 60 * MIN;
// Demo-only keys for the local stand-ins, not real secrets.
const WEBHOOK_SECRET = 'whsec_ZGVtby1zZWNyZXQtZm9yLWxvY2FsLXVzZS1vbmx5';
const FEISHU_SECRET = 'demo-feishu-secret';
const HOSTILE_HOST = '<!channel> & <@U024BE7LH> <https://evil.example|restore-ok>';
/** Two scopes (two regions) read with one credential. */
const BEIJING = 'proj-bj-7f3a';
const SINGAPORE = 'proj-sg-19c4';

/** One scripted tick: when it runs, what changes in HSS before it, and what to say about it. */
interface Step {
  at: string;
  title: string;
  change?: (tasks: EmulatedTask[], now: number) => void;
  /** The webhook receiver answers 503 during this tick. */
  webhookDown?: boolean;
}

const iso = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

function restore(
  project: string,
  host: string,
  status: string,
  startedAt: number,
  extra: Partial<EmulatedTask> = {},
): EmulatedTask {
  return {
    host_id: `${host.replace(/[^a-z0-9]/gi, '').slice(0, 12)}-0a1b2c3d`,
    host_name: host,
    backup_name: `restore_${host.replace(/[^a-z0-9-]/gi, '').slice(0, 20)}`,
    process: status === 'waiting' ? 0 : 10,
    status,
    started_at: iso(startedAt),
    error_info: { code: '', message: '' },
    project_id: project,
    ...extra,
  };
}

function update(tasks: EmulatedTask[], host: string, patch: Partial<EmulatedTask>): void {
  const t = [...tasks].reverse().find((x) => x.host_name === host);
  if (t) Object.assign(t, patch);
}

/** The scripted day (UTC). */
function script(day: number): Step[] {
  const t = (hhmm: string) => day + Number(hhmm.slice(0, 2)) * HOUR + Number(hhmm.slice(3)) * MIN;
  return [
    {
      at: '08:00',
      title: 'Morning: 40 tasks in the window, restores queued and running, one failure from last night',
      change: (tasks) => {
        const now = t('08:00');
        tasks.push(...makeTasks(24, { now, status: 'success', seed: 7, projectId: BEIJING }));
        tasks.push(...makeTasks(16, { now, status: 'success', seed: 8, projectId: SINGAPORE }));
        tasks.push(restore(BEIJING, 'ecs-web-01', 'running', now - 20 * MIN));
        tasks.push(restore(SINGAPORE, 'ecs-db-01', 'waiting', now - 10 * MIN));
        tasks.push(restore(SINGAPORE, 'ecs-files-02', 'running', now - 15 * MIN, { process: 41 }));
        tasks.push(
          restore(BEIJING, 'ecs-batch-07', 'failed', now - 9 * HOUR, {
            process: 35,
            ended_at: iso(now - 8.5 * HOUR),
            error_info: { code: 'HSS.5004', message: 'Vault capacity insufficient' },
          }),
        );
      },
    },
    {
      at: '08:05',
      title: 'Restores progress (ecs-web-01 60%, ecs-db-01 starts)',
      change: (tasks) => {
        update(tasks, 'ecs-web-01', { process: 60 });
        update(tasks, 'ecs-db-01', { status: 'running', process: 5 });
      },
    },
    {
      at: '08:10',
      title: 'ecs-web-01 fails at 62%; the webhook receiver is down',
      webhookDown: true,
      change: (tasks, now) =>
        update(tasks, 'ecs-web-01', {
          status: 'failed',
          process: 62,
          ended_at: iso(now - MIN),
          error_info: { code: 'HSS.5021', message: 'Restore failed: agent offline during data write' },
        }),
    },
    {
      at: '08:15',
      title: 'ecs-db-01 times out; the webhook receiver is still down',
      webhookDown: true,
      change: (tasks, now) =>
        update(tasks, 'ecs-db-01', {
          status: 'timeout',
          process: 18,
          ended_at: iso(now - 30_000),
          error_info: { code: 'HSS.5030', message: 'Restore task timed out after 3600 s' },
        }),
    },
    {
      at: '08:20',
      title: 'The webhook receiver is back; a host whose name is full of chat markup fails',
      change: (tasks, now) =>
        tasks.push(
          restore(SINGAPORE, HOSTILE_HOST, 'failed', now - 15 * MIN, {
            ended_at: iso(now - MIN),
            error_info: {
              code: 'HSS.5021',
              message: '<!here> restore <failed> & rolled back [x](https://evil)',
            },
          }),
        ),
    },
    {
      at: '08:25',
      title:
        'A storage incident: 12 restores fail at once (one digest on chat, one event per task for machines)',
      change: (tasks, now) => {
        for (let i = 1; i <= 12; i++) {
          tasks.push(
            restore(BEIJING, `ecs-app-${String(i).padStart(2, '0')}`, 'failed', now - 30 * MIN, {
              process: 20 + i,
              ended_at: iso(now - 2 * MIN),
              error_info: { code: 'HSS.5012', message: 'Backup vault unreachable' },
            }),
          );
        }
      },
    },
    { at: '08:30', title: 'Quiet tick: nothing changed, nothing sent' },
    { at: '09:05', title: 'ecs-files-02 has sat at 41% for over an hour: stuck' },
    {
      at: '09:30',
      title: 'ecs-web-01 is restored again (same host, same backup)',
      change: (tasks, now) => tasks.push(restore(BEIJING, 'ecs-web-01', 'running', now - 2 * MIN)),
    },
    {
      at: '09:35',
      title:
        'The new restore of ecs-web-01 succeeds: the one call of its scope lists it in success, which resolves the failure',
      change: (tasks, now) =>
        update(tasks, 'ecs-web-01', { status: 'success', process: 100, ended_at: iso(now - MIN) }),
    },
    { at: '13:10', title: 'Four hours on, the rest is still failing: one reminder per destination' },
  ];
}

/** Runs the scripted day on local stand-ins and prints what people got; returns the exit code. */
export async function runDemo(io: { out: (line: string) => void; verbose: boolean }): Promise<number> {
  const { out } = io;
  const wallStart = Date.now();
  const day = Date.UTC(2026, 10, 27);
  // Virtual time: every wait (the call budget, chat pacing, retry backoff) moves this clock instead of sleeping.
  let now = day + 8 * HOUR;
  const clock = () => now;
  const sleep = async (ms: number) => {
    now += Math.max(0, ms);
  };
  const log: Log = io.verbose ? consoleLog('debug', out) : silentLog;

  const dynamo = await startLocalDynamo();
  const hss = await startHssEmulator({ now: clock, ratePerMinute: 5, projects: [BEIJING, SINGAPORE] });
  const slack = await startSlackSink({ clock });
  const webhook = await startWebhookSink({ secret: WEBHOOK_SECRET, clock });
  const teams = await startTeamsSink({ clock });
  const feishu = await startFeishuSink({ secret: FEISHU_SECRET, clock });
  const pagerduty = await startPagerdutySink({ clock });
  try {
    const config = parseConfig({
      HSS_SCOPES: `cn-north-4/${BEIJING}, ap-southeast-1/${SINGAPORE}/all_granted_eps`,
      HSS_ENDPOINT: hss.url,
      CLOUD_SDK_AK: 'EMULATORAK',
      CLOUD_SDK_SK: 'EMULATORSK',
      SCHEDULE_PERIOD_SECONDS: String(PERIOD_MS / 1000),
      REMIND_AFTER_HOURS: '4',
      STATE_TABLE: 'hss-restore-alerts-demo',
      DYNAMODB_ENDPOINT: dynamo.endpoint,
      SLACK_WEBHOOK_URL: slack.url,
      WEBHOOK_URL: webhook.url,
      WEBHOOK_SECRET,
      TEAMS_WEBHOOK_URL: teams.url,
      FEISHU_WEBHOOK_URL: feishu.url,
      FEISHU_SECRET,
      PAGERDUTY_ROUTING_KEY,
      PAGERDUTY_EVENTS_URL: pagerduty.url,
    });
    await createStateTable(dynamo.client, config.stateTable);
    const app = createApp(config, { log, clock, sleep, random: () => 0.5, dynamo: dynamo.client });

    out(
      'hss-restore-alerts demo: a scripted day of restores in two regions (cn-north-4, ap-southeast-1) read',
    );
    out('with one credential from a local HSS emulator (5 calls a minute enforced), state in dynalite, and');
    out(
      'local Slack, webhook, Teams, Feishu and PagerDuty receivers. Each tick is one scheduled poll (every',
    );
    out('5 minutes, time compressed); what each person would read is shown under it.');
    const polls: PollSummary[] = [];
    const shown = new Map<Sink, number>();
    const fresh = (sink: Sink): SinkRequest[] => {
      const from = shown.get(sink) ?? 0;
      shown.set(sink, sink.received.length);
      return sink.received.slice(from);
    };
    for (const step of script(day)) {
      now = Math.max(now, Date.parse(`${iso(day).slice(0, 10)}T${step.at}:00Z`));
      const start = now;
      step.change?.(hss.tasks, now);
      webhook.clearFaults();
      if (step.webhookDown)
        webhook.failNext({ kind: 'status', status: 503, body: 'Service Unavailable' }, 100);
      const refusedBefore = webhook.attempts.length - webhook.received.length;
      const poll = await runPoll(app, start + PERIOD_MS - 10_000);
      polls.push(poll);
      out('');
      out(`── ${step.at} UTC · ${step.title}`);
      out(`   ${pollLine(poll)}`);
      for (const message of fresh(slack)) out(renderSlack(message));
      for (const r of fresh(teams)) out(`   Teams      ${oneLine(teams.visibleText(r))}`);
      for (const r of fresh(feishu)) out(`   Feishu     ${oneLine(feishuTitle(r))}`);
      const pages = fresh(pagerduty);
      for (const r of pages.length > 3 ? pages.slice(0, 2) : pages) out(`   PagerDuty  ${pagerdutyLine(r)}`);
      if (pages.length > 3) out(`   PagerDuty  …and ${pages.length - 2} more: one event per task`);
      const events = fresh(webhook);
      const refused = webhook.attempts.length - webhook.received.length - refusedBefore;
      const waited = events.filter(
        (r) => Date.parse(String((r.json as { detected_at?: string }).detected_at)) < start,
      );
      if (events.length > 0 || refused > 0) {
        out(
          `   Webhook    ${events.length} signed event(s) delivered` +
            (waited.length > 0 ? `, ${waited.length} of them alerts that waited while it was down` : '') +
            (refused > 0 ? `; ${refused} attempt(s) refused (HTTP 503): retried later, not lost` : ''),
        );
      }
    }

    const checks = selfChecks({ hss, slack, webhook, teams, feishu, pagerduty, polls });
    const sum = (f: (s: PollSummary) => number) => polls.reduce((a, s) => a + f(s), 0);
    out('');
    out('── summary');
    out(
      `   ticks: ${polls.length} · HSS calls: ${sum((s) => s.hssCalls)} (at most ${hss.maxCallsInAnyMinute()} in any minute) · ` +
        `DynamoDB requests: ${sum((s) => s.dynamoRequests)} · wall time: ${Date.now() - wallStart} ms`,
    );
    out(
      `   alerts: ${sum((s) => s.alertsNew)} · resolved: ${sum((s) => s.lifecycle?.resolved ?? 0)} · reminders: ${sum((s) => s.lifecycle?.reminders ?? 0)} · ` +
        `received: Slack ${slack.received.length}, Teams ${teams.received.length}, Feishu ${feishu.received.length}, ` +
        `PagerDuty ${pagerduty.received.length}, webhook ${webhook.received.length}`,
    );
    for (const c of checks) out(`   ${c.ok ? 'ok  ' : 'FAIL'} ${c.text}`);
    return checks.every((c) => c.ok) ? 0 : 1;
  } finally {
    await Promise.all([
      hss.close(),
      slack.close(),
      webhook.close(),
      teams.close(),
      feishu.close(),
      pagerduty.close(),
      dynamo.close(),
    ]);
  }
}

function pollLine(p: PollSummary): string {
  const life = p.lifecycle;
  const parts = [
    `${p.scopes} scopes read (${p.scopesFailed.length} failed)`,
    `${p.tasksSeen} tasks seen`,
    `${p.alertsNew} new alert(s)`,
    ...(life?.resolved ? [`${life.resolved} resolved`] : []),
    ...(life?.reminders ? [`${life.reminders} reminder(s)`] : []),
    `${p.delivery.sent} deliveries ok, ${p.delivery.pending} waiting`,
    `${p.hssCalls} HSS calls (${p.hssThrottled} throttled)`,
    `${p.dynamoRequests} DynamoDB requests`,
  ];
  return parts.join(' · ');
}

interface Check {
  ok: boolean;
  text: string;
}

function selfChecks(s: {
  hss: { requests: Array<{ status: number }> };
  slack: Sink;
  webhook: Sink;
  teams: Sink;
  feishu: Sink;
  pagerduty: Sink;
  polls: PollSummary[];
}): Check[] {
  const chat = [s.slack, s.teams, s.feishu, s.pagerduty];
  const throttled = s.hss.requests.filter((r) => r.status === 429).length;
  const flagged = chat.flatMap((sink) => sink.received.filter((r) => r.flags.length > 0));
  const webhookOk = s.webhook.received.filter((r) =>
    verifyWebhookSignature(WEBHOOK_SECRET, r.headers, r.body, Math.floor(r.at / 1000)),
  ).length;
  const feishuOk = s.feishu.received.filter((r) => {
    const body = r.json as { timestamp?: string; sign?: string };
    return feishuSignatureValid(FEISHU_SECRET, body.timestamp ?? '', body.sign ?? '');
  }).length;
  const signed = s.webhook.received.length + s.feishu.received.length;
  const ids = s.webhook.received.map((r) => r.headers['webhook-id']);
  const pd = s.pagerduty.received.map(
    (r) => r.json as { event_action: string; dedup_key: string; payload?: { summary?: string } },
  );
  const repeated = (keys: string[]) => keys.length - new Set(keys).size;
  const duplicates =
    repeated(ids.map(String)) +
    repeated(pd.map((e) => `${e.event_action}\n${e.dedup_key}\n${e.payload?.summary ?? ''}`)) +
    [s.slack, s.teams, s.feishu].reduce(
      (n, sink) => n + repeated(sink.received.map((r) => sink.visibleText(r))),
      0,
    );
  const alerts = s.polls.reduce((n, p) => n + p.alertsNew, 0);
  const webhookAlerts = s.webhook.received.filter(
    (r) => (r.json as { type?: string }).type === 'hss.task.status_alert',
  ).length;
  const triggers = new Set(pd.filter((e) => e.event_action === 'trigger').map((e) => e.dedup_key));
  const resolves = pd.filter((e) => e.event_action === 'resolve');
  const matched = resolves.filter((e) => triggers.has(e.dedup_key)).length;
  // The hostile host name (its user id survives neutralising) reached every chat destination and PagerDuty.
  const hostile = chat.filter((sink) => sink.received.some((r) => sink.visibleText(r).includes('U024BE7LH')));
  return [
    { ok: throttled === 0, text: `throttled by HSS: ${throttled}` },
    {
      ok: flagged.length === 0 && hostile.length === chat.length,
      text: `unescaped mentions: ${flagged.length} (mentions or links that would reach people on Slack, Teams, Feishu or PagerDuty; the hostile host name reached ${hostile.length} of ${chat.length} of them, neutralised)`,
    },
    {
      ok: webhookOk + feishuOk === signed && signed > 0,
      text: `signatures verified ${webhookOk + feishuOk} of ${signed} (webhook: Standard Webhooks; Feishu: timestamp + sign)`,
    },
    { ok: duplicates === 0, text: `duplicates: ${duplicates}` },
    {
      ok: webhookAlerts === alerts && alerts > 0,
      text: `every alert reached the webhook, the refused ones after it came back: ${webhookAlerts} of ${alerts}`,
    },
    {
      ok: resolves.length > 0 && matched === resolves.length,
      text: `PagerDuty resolves with the dedup_key of its trigger: ${matched} of ${resolves.length}`,
    },
  ];
}

interface Block {
  type: string;
  text?: { text: string };
  fields?: Array<{ text: string }>;
  elements?: Array<{ text: string }>;
}

/** A Slack message as a person would read it in the channel (entities decoded, markup dropped). */
function renderSlack(message: SinkRequest): string {
  const payload = message.json as { text: string; blocks?: Block[] };
  const lines: string[] = [];
  for (const block of payload.blocks ?? []) {
    if (block.type === 'header' && block.text)
      lines.push(`   ┃ ${emoji(shown(block.text.text).toUpperCase())}`);
    if (block.type === 'section') {
      if (block.text)
        lines.push(
          ...shown(block.text.text)
            .split('\n')
            .map((l) => `   ┃ ${l}`),
        );
      for (const f of block.fields ?? []) lines.push(`   ┃   ${shown(f.text).replace(/\n/g, ': ')}`);
    }
    if (block.type === 'context') for (const e of block.elements ?? []) lines.push(`   ┃ ${shown(e.text)}`);
  }
  return [`   ┏ Slack`, ...(lines.length ? lines : [`   ┃ ${shown(payload.text)}`]), '   ┗'].join('\n');
}

/** Slack's emoji shortcodes as the picture they show. */
const EMOJI: Record<string, string> = {
  ROTATING_LIGHT: '🚨',
  HOURGLASS_FLOWING_SAND: '⏳',
  TURTLE: '🐢',
  LARGE_GREEN_CIRCLE: '🟢',
  BELL: '🔔',
  INFORMATION_SOURCE: 'ℹ️',
  WARNING: '⚠️',
};

function emoji(text: string): string {
  return text.replace(/:([A-Z_]+):/g, (code, name: string) => EMOJI[name] ?? code);
}

function shown(mrkdwn: string): string {
  return mrkdwn
    .replace(/<(https?:[^|>]+)\|([^>]+)>/g, '$2')
    .replace(/\*([^*\n]+)\*/g, '$1')
    .replace(/`([^`\n]+)`/g, '$1')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

/** The first line of a text, cut to fit a terminal line. */
function oneLine(text: string): string {
  const first = text.split('\n')[0] ?? '';
  return first.length > 100 ? `${first.slice(0, 99)}…` : first;
}

function feishuTitle(r: SinkRequest): string {
  const card = (r.json as { card?: { header?: { title?: { content?: string } } } }).card;
  return card?.header?.title?.content ?? '';
}

function pagerdutyLine(r: SinkRequest): string {
  const e = r.json as {
    event_action: string;
    dedup_key: string;
    payload?: { summary?: string; severity?: string };
  };
  const key = `dedup_key ${e.dedup_key.slice(0, 8)}…`;
  return e.event_action === 'trigger'
    ? `trigger (${e.payload?.severity}) ${key}: ${oneLine(e.payload?.summary ?? '')}`
    : `${e.event_action} ${key}`;
}
