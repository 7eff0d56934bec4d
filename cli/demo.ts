import { createApp, runPoll } from '../lib/app';
import { parseConfig } from '../lib/config';
import { silentLog, type Log } from '../lib/log';
import type { PollSummary } from '../lib/poll';
import { verifyStandardWebhook } from '../lib/notify/standard-webhooks';
import { createStateTable, startLocalDynamo } from '../local/dynamo';
import { makeTasks, startHssEmulator, type EmulatedTask } from '../local/hss-emulator';
import { startSlackSink, startWebhookSink, type SinkRequest } from '../local/sinks';
import { consoleLog } from './log';

const PERIOD_MS = 5 * 60_000;
const WEBHOOK_SECRET = 'whsec_ZGVtby1zZWNyZXQtZm9yLWxvY2FsLXVzZS1vbmx5'; // demo-only key, not a real secret
const HOSTILE_HOST = '<!channel> & <@U024BE7LH> <https://evil.example|restore-ok>';

/** One step of the scripted day: what changes in HSS before a tick, and what to say about it. */
interface Step {
  title: string;
  change: (tasks: EmulatedTask[], now: number) => void;
  webhookDown?: boolean;
}

function restore(
  host: string,
  status: string,
  startedAt: number,
  extra: Partial<EmulatedTask> = {},
): EmulatedTask {
  return {
    host_id: `${host}-0a1b2c3d`,
    host_name: host,
    backup_name: `restore_${host}`,
    process: status === 'waiting' ? 0 : 10,
    status,
    started_at: iso(startedAt),
    error_info: { code: '', message: '' },
    ...extra,
  };
}

function update(tasks: EmulatedTask[], host: string, patch: Partial<EmulatedTask>): void {
  const t = tasks.find((x) => x.host_name === host);
  if (t) Object.assign(t, patch);
}

const iso = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** The scripted day: restores progress, one fails, one times out, a hostile host name, a burst. */
function script(start: number): Step[] {
  return [
    {
      title: 'Morning: 40 tasks in the window, restores queued, one failure from last night',
      change: (tasks) => {
        tasks.push(...makeTasks(40, { now: start, status: 'success', seed: 7 }));
        tasks.push(restore('ecs-web-01', 'running', start - 20 * 60_000));
        tasks.push(restore('ecs-db-01', 'waiting', start - 10 * 60_000));
        tasks.push(
          restore('ecs-batch-07', 'failed', start - 9 * 3_600_000, {
            process: 35,
            ended_at: iso(start - 8.5 * 3_600_000),
            error_info: { code: 'HSS.5004', message: 'Vault capacity insufficient' },
          }),
        );
      },
    },
    {
      title: 'Restores progress; the webhook receiver goes down',
      webhookDown: true,
      change: (tasks) => {
        update(tasks, 'ecs-web-01', { process: 60 });
        update(tasks, 'ecs-db-01', { status: 'running', process: 5 });
      },
    },
    {
      title: 'ecs-web-01 fails at 62%',
      webhookDown: true,
      change: (tasks, now) => {
        update(tasks, 'ecs-web-01', {
          status: 'failed',
          process: 62,
          ended_at: iso(now - 60_000),
          error_info: { code: 'HSS.5021', message: 'Restore failed: agent offline during data write' },
        });
      },
    },
    {
      title: 'The webhook receiver is back; ecs-db-01 times out',
      change: (tasks, now) => {
        update(tasks, 'ecs-db-01', {
          status: 'timeout',
          process: 41,
          ended_at: iso(now - 30_000),
          error_info: { code: 'HSS.5030', message: 'Restore task timed out after 3600 s' },
        });
      },
    },
    {
      title: 'A host whose name is full of Slack control characters fails',
      change: (tasks, now) => {
        tasks.push(
          restore(HOSTILE_HOST, 'failed', now - 15 * 60_000, {
            ended_at: iso(now - 60_000),
            error_info: { code: 'HSS.5021', message: '<!here> restore <failed> & rolled back' },
          }),
        );
      },
    },
    {
      title: 'A storage incident: 12 restores fail at once (one digest, not a flood)',
      change: (tasks, now) => {
        for (let i = 1; i <= 12; i++) {
          tasks.push(
            restore(`ecs-app-${String(i).padStart(2, '0')}`, 'failed', now - 30 * 60_000, {
              process: 20 + i,
              ended_at: iso(now - 2 * 60_000),
              error_info: { code: 'HSS.5012', message: 'Backup vault unreachable' },
            }),
          );
        }
      },
    },
    { title: 'Quiet tick: nothing changed, nothing sent, nothing written', change: () => {} },
  ];
}

/** Runs the scripted day on local stand-ins and prints what Slack received; returns the exit code. */
export async function runDemo(io: { out: (line: string) => void; verbose: boolean }): Promise<number> {
  const { out } = io;
  const wallStart = Date.now();
  // Virtual time: every wait (rate limiter, Slack pacing) moves this clock instead of sleeping.
  let now = Date.UTC(2026, 10, 27, 8, 0, 0);
  const clock = () => now;
  const sleep = async (ms: number) => {
    now += ms;
  };
  const log: Log = io.verbose ? consoleLog('debug', out) : silentLog;

  const dynamo = await startLocalDynamo();
  const hss = await startHssEmulator({ now: clock, ratePerMinute: 5 });
  const slack = await startSlackSink({ clock });
  const webhook = await startWebhookSink({ secret: WEBHOOK_SECRET, clock });
  try {
    const config = parseConfig({
      HSS_PROJECT_ID: 'demo-project',
      HSS_ENDPOINT: hss.url,
      HSS_REGION: 'ap-southeast-1',
      CLOUD_SDK_AK: 'EMULATORAK',
      CLOUD_SDK_SK: 'EMULATORSK',
      STATE_TABLE: 'hss-restore-alerts-demo',
      DYNAMODB_ENDPOINT: dynamo.endpoint,
      SLACK_WEBHOOK_URL: slack.url,
      WEBHOOK_URL: webhook.url,
      WEBHOOK_SECRET,
    });
    await createStateTable(dynamo.client, config.stateTable);
    const app = createApp(config, { log, clock, sleep, dynamo: dynamo.client, periodMs: PERIOD_MS });

    out('hss-restore-alerts demo: a scripted day on a local HSS emulator (5 calls/min enforced), dynalite,');
    out(
      'and local Slack + webhook sinks. Each tick is one scheduled poll, 5 minutes apart (time compressed).',
    );
    const totals: PollSummary[] = [];
    let shown = 0;
    for (const [i, step] of script(now).entries()) {
      step.change(hss.tasks, now);
      webhook.clearFaults();
      if (step.webhookDown)
        webhook.failNext({ kind: 'status', status: 503, body: 'Service Unavailable' }, 1000);
      const summary = await runPoll(app);
      totals.push(summary);
      out('');
      out(`── tick ${i + 1} · ${iso(now).slice(11, 16)} UTC · ${step.title}`);
      out(
        `   ${summary.tasksSeen} tasks seen, ${summary.alertsNew} new alerts, ${summary.alertsSent} deliveries ok, ` +
          `${summary.deliveriesPending} pending retry · ${summary.hssCalls} HSS calls, ` +
          `${summary.dynamoRequests} DynamoDB requests (${summary.writeCapacity} WCU)`,
      );
      for (const message of slack.received.slice(shown)) out(renderSlack(message));
      shown = slack.received.length;
      now = Math.ceil((now + 1) / PERIOD_MS) * PERIOD_MS;
    }

    const verified = webhook.received.filter((r) =>
      verifyStandardWebhook(WEBHOOK_SECRET, r.headers, r.body, Math.floor(r.at / 1000)),
    ).length;
    const ids = webhook.received.map((r) => r.headers['webhook-id']);
    const sum = (f: (s: PollSummary) => number) => totals.reduce((a, s) => a + f(s), 0);
    const throttled = hss.requests.filter((r) => r.status === 429).length;
    // Our own console link is the only `<https:` allowed; anything from the API must arrive escaped.
    const mentions = slack.received.filter((r) => /<[!@#]|<https?:\/\/(?!console\.)/.test(r.body)).length;
    out('');
    out('── summary');
    out(`   ticks: ${totals.length} · HSS calls: ${sum((s) => s.hssCalls)} · throttled by HSS: ${throttled}`);
    out(`   alerts recorded: ${sum((s) => s.alertsNew)} · Slack messages: ${slack.received.length}`);
    out(
      `   webhook events: ${webhook.received.length} delivered (${new Set(ids).size} distinct ids, ` +
        `${verified} signatures verified) after ${webhook.attempts.length - webhook.received.length} refused attempts`,
    );
    out(`   unescaped mentions or links in Slack payloads: ${mentions}`);
    out(`   DynamoDB requests: ${sum((s) => s.dynamoRequests)} · wall time: ${Date.now() - wallStart} ms`);
    const ok = throttled === 0 && mentions === 0 && new Set(ids).size === webhook.received.length;
    return ok ? 0 : 1;
  } finally {
    await Promise.all([hss.close(), slack.close(), webhook.close(), dynamo.close()]);
  }
}

interface Block {
  type: string;
  text?: { text: string };
  fields?: Array<{ text: string }>;
  elements?: Array<{ text: string }>;
}

/** A Slack message as a person would read it in the channel (entities decoded, markup dropped). */
export function renderSlack(message: SinkRequest): string {
  const payload = message.json as { text: string; blocks?: Block[] };
  const lines: string[] = [];
  for (const block of payload.blocks ?? []) {
    if (block.type === 'header' && block.text) lines.push(`   ┃ ${shown(block.text.text).toUpperCase()}`);
    if (block.type === 'section') {
      if (block.text)
        lines.push(
          ...shown(block.text.text)
            .split('\n')
            .map((l) => `   ┃ ${l}`),
        );
      for (const f of block.fields ?? []) lines.push(`   ┃   ${shown(f.text).replace(/\n/g, ' ')}`);
    }
    if (block.type === 'context') for (const e of block.elements ?? []) lines.push(`   ┃ ${shown(e.text)}`);
  }
  return [`   ┏ Slack message`, ...(lines.length ? lines : [`   ┃ ${shown(payload.text)}`]), '   ┗'].join(
    '\n',
  );
}

function shown(mrkdwn: string): string {
  return mrkdwn
    .replace(/<(https?:[^|>]+)\|([^>]+)>/g, '$2 ($1)')
    .replace(/\*([^*\n]+)\*/g, '$1')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}
