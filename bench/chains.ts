// One chain = one poller on one window, on a fresh table, emulator and sinks, polled on its own
// schedule on the virtual clock: the first poll; polls until it has caught up (the steady poll:
// nothing changed, nothing pending); 20 new failures and the polls until all are delivered; then,
// per list order, two probes that appear at either end of the failed list right after the poller
// read that spot, and the polls until chat got both (the worst case from failure to chat).
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createStateTable } from '../lib/state/table';
import { createBaselineTable } from './baseline';
import {
  arrival,
  armProbes,
  detectedAt,
  disarm,
  startChainServers,
  startPoller,
  webhookArrival,
  type ChainServers,
  type Probe,
} from './harness';
import type { PollerId, PollReport } from './protocol';
import {
  EMULATOR_AK,
  EMULATOR_SK,
  HOUR,
  MIN,
  newFailures,
  OLDEST_START,
  PROJECT_ID,
  REGION,
  T_BASE,
  WEBHOOK_SECRET,
  windowTasks,
  type ListOrder,
  type Scenario,
} from './scenarios';

/** How a poller is deployed: its bundle, schedule, timeout and the settings of its environment. */
export interface PollerSetup {
  id: PollerId;
  js: string;
  periodMs: number;
  /** The function timeout, ms; undefined = none (the naive poller runs as a loop). */
  timeoutMs?: number;
  ratePerMinute: number;
  lastDays: number;
  alertStatuses: string;
  /** The next poll starts when this one ended if that is later than the next tick (the naive loop). */
  backToBack: boolean;
}

type Phase = 'first' | 'catch-up' | 'steady' | 'after-20' | 'deliver-20' | 'settle' | 'trial';

export interface PollRecord {
  phase: Phase;
  report: PollReport;
  /** Requests the emulator got during the poll, and how many it answered 429. */
  hssRequests: number;
  throttled: number;
}

interface ProbeResult extends Probe {
  /** When the poller recorded it (the webhook's `detected_at`), when chat and the webhook got it. */
  detectedAt?: number;
  slackAt?: number;
  webhookAt?: number;
}

export interface ChainResult {
  scenario: string;
  poller: PollerId;
  table: string;
  readyRssKb: number;
  polls: PollRecord[];
  first: PollRecord;
  steady?: PollRecord;
  after20?: PollRecord;
  /** From the first poll's start to the start of the steady poll; `settled` false when the cap stopped it. */
  catchUp?: { polls: number; ms: number; settled: boolean };
  newFailures?: {
    insertedAt: number;
    delivered: number;
    polls: number;
    lastWebhookAt?: number;
    firstSlackAt?: number;
  };
  probes: ProbeResult[];
  /** Every poll failed: the first error. */
  blind?: string;
  /** Alerts due at the webhook (the window's failures, the 20 new ones, the probes that appeared), how many got there, how many more than once. */
  alerts: { due: number; delivered: number; duplicated: number };
  /** Most calls the emulator saw in any minute over the chain. */
  maxCallsInAnyMinute: number;
  /** Wall time of the whole chain, ms. */
  wallMs: number;
}

/** Polls a poller may take to catch up (ours reads a few pages a poll) and to deliver. */
const CATCH_UP_CAP = 60;
const DELIVER_CAP = 20;
/** A trial ends unfinished after this long on the virtual clock. */
const TRIAL_CAP_MS = 3 * HOUR;

export interface ChainDeps {
  dynamo: DynamoDBClient;
  dynamoEndpoint: string;
  progress: (message: string) => void;
  /** Called after every poll (debugging a chain). */
  trace?: (record: PollRecord) => void;
}

let tables = 0;

export async function runChain(
  deps: ChainDeps,
  scenario: Scenario,
  setup: PollerSetup,
  mode: 'full' | 'first-only',
): Promise<ChainResult> {
  const wallStart = performance.now();
  const time = { now: T_BASE };
  const servers = await startChainServers(time, windowTasks(scenario), setup.ratePerMinute);
  const table = `bench-${scenario.id}-${setup.id}-${++tables}`;
  if (setup.id === 'naive') await createBaselineTable(deps.dynamo, table);
  else await createStateTable(deps.dynamo, table);
  const proc = await startPoller(
    setup.js,
    {
      poller: setup.id,
      env: environment(setup, servers, table, deps.dynamoEndpoint),
      ...(setup.timeoutMs !== undefined ? { timeoutMs: setup.timeoutMs } : {}),
      now: T_BASE,
    },
    time,
  );
  const polls: PollRecord[] = [];
  let tickStart = T_BASE;
  const tick = async (phase: Phase): Promise<PollRecord> => {
    const before = servers.emulator.requests.length;
    const report = await proc.poll(tickStart);
    const requests = servers.emulator.requests.slice(before);
    const record = {
      phase,
      report,
      hssRequests: requests.length,
      throttled: requests.filter((r) => r.status === 429).length,
    };
    polls.push(record);
    deps.trace?.(record);
    const next = tickStart + setup.periodMs;
    tickStart = setup.backToBack ? Math.max(next, Math.ceil(report.endedAt / 1000) * 1000) : next;
    if (!setup.backToBack && report.endedAt > next) {
      throw new Error(
        `${setup.id} ${scenario.id}: a poll ran into the next tick (${report.endedAt - next} ms)`,
      );
    }
    time.now = Math.max(time.now, tickStart);
    return record;
  };

  const result: ChainResult = {
    scenario: scenario.id,
    poller: setup.id,
    table,
    readyRssKb: proc.readyRssKb,
    polls,
    first: await tick('first'),
    probes: [],
    alerts: { due: 0, delivered: 0, duplicated: 0 },
    maxCallsInAnyMinute: 0,
    wallMs: 0,
  };
  const due = new Set(servers.emulator.tasks.filter((t) => t.status === 'failed').map((t) => t.host_name));
  const label = `${scenario.id} ${setup.id}`;
  try {
    if (!result.first.report.ok) {
      // Two more polls to see whether it stays blind (the release's page cap) or recovers.
      const more = [await tick('catch-up'), await tick('catch-up')];
      if (more.every((p) => !p.report.ok)) {
        result.blind = result.first.report.error ?? 'failed';
        deps.progress(`${label}: blind (${result.blind})`);
        return result;
      }
    }
    if (mode === 'first-only') return result;

    // ---- catch up: until a poll changed nothing and left nothing pending ----
    for (let i = 0; i < CATCH_UP_CAP; i++) {
      const p = await tick('catch-up');
      const r = p.report;
      const quiet = r.ok && r.changes === 0 && r.alertsNew === 0 && r.pending === 0 && r.alertListsLeft === 0;
      // The naive poller does the same work every poll: its second poll is steady by construction.
      if ((setup.id !== 'naive' && quiet) || (setup.id === 'naive' && r.ok)) {
        p.phase = 'steady';
        result.steady = p;
        break;
      }
    }
    const steadyIndex = result.steady ? polls.indexOf(result.steady) : polls.length;
    result.catchUp = {
      polls: steadyIndex,
      ms: (result.steady?.report.startedAt ?? tickStart) - T_BASE,
      settled: result.steady !== undefined,
    };
    deps.progress(
      `${label}: first poll ${result.first.report.hssCalls} calls; steady after ${result.catchUp.polls} poll(s)${result.catchUp.settled ? '' : ' (cap reached)'}`,
    );

    // ---- 20 new failures, spread over the whole list ----
    const insertedAt = tickStart;
    const fresh = newFailures(insertedAt);
    servers.emulator.tasks.push(...fresh);
    for (const t of fresh) due.add(t.host_name);
    result.after20 = await tick('after-20');
    const delivered = () =>
      fresh.filter((t) => webhookArrival(servers.webhook, t.host_name, insertedAt)).length;
    let deliverPolls = 1;
    while (delivered() < fresh.length && deliverPolls < DELIVER_CAP) {
      await tick('deliver-20');
      deliverPolls += 1;
    }
    const webhookTimes = fresh.map((t) => webhookArrival(servers.webhook, t.host_name, insertedAt)?.at);
    result.newFailures = {
      insertedAt,
      delivered: delivered(),
      polls: deliverPolls,
      ...(webhookTimes.every((t) => t !== undefined)
        ? { lastWebhookAt: Math.max(...(webhookTimes as number[])) }
        : {}),
      ...(servers.slack.received.find((r) => r.at >= insertedAt)
        ? { firstSlackAt: servers.slack.received.find((r) => r.at >= insertedAt)!.at }
        : {}),
    };

    // ---- worst case from failure to chat, per list order ----
    for (const order of scenario.orders[setup.id]) {
      if (servers.emulator.order !== order) {
        servers.emulator.order = order;
        // Let the poller see the list in its new order once before the probes go in.
        for (let i = 0; i < CATCH_UP_CAP; i++) {
          const p = await tick('settle');
          if (setup.id !== 'ours' || (p.report.alertListsLeft === 0 && p.report.changes === 0)) break;
        }
      }
      result.probes.push(...(await trial(servers, order, tick, () => tickStart)));
    }
    deps.progress(
      `${label}: worst failure-to-chat ${fmtMin(Math.max(...result.probes.map((p) => (p.slackAt ?? Infinity) - (p.appearAt ?? 0))))}`,
    );
    return result;
  } finally {
    for (const p of result.probes) if (p.appearAt !== undefined) due.add(p.host);
    const counts = webhookAlertCounts(servers);
    result.alerts = {
      due: due.size,
      delivered: [...due].filter((h) => (counts.get(h) ?? 0) > 0).length,
      duplicated: [...counts.values()].filter((n) => n > 1).length,
    };
    result.maxCallsInAnyMinute = servers.emulator.maxCallsInAnyMinute();
    result.wallMs = performance.now() - wallStart;
    await proc.close();
    await servers.close();
  }
}

let probeSeq = 0;

/** Arms a head and a tail probe and polls until chat named both (or the cap). */
async function trial(
  servers: ChainServers,
  order: ListOrder,
  tick: (phase: Phase) => Promise<PollRecord>,
  nextTick: () => number,
): Promise<ProbeResult[]> {
  const armedAt = nextTick();
  const probes: ProbeResult[] = [
    { host: `probe-head-${++probeSeq}`, end: 'head', order, startedAt: armedAt - 30_000 },
    { host: `probe-tail-${++probeSeq}`, end: 'tail', order, startedAt: OLDEST_START - probeSeq * 1000 },
  ];
  armProbes(servers, probes);
  const done = () =>
    probes.every((p) => p.appearAt !== undefined && arrival(servers.slack, p.host, p.appearAt));
  while (!done() && servers.time.now - armedAt < TRIAL_CAP_MS) await tick('trial');
  disarm(servers);
  for (const p of probes) {
    if (p.appearAt === undefined) continue;
    const slack = arrival(servers.slack, p.host, p.appearAt);
    const webhook = webhookArrival(servers.webhook, p.host, p.appearAt);
    const detected = detectedAt(servers.webhook, p.host, p.appearAt);
    if (slack) p.slackAt = slack.at;
    if (webhook) p.webhookAt = webhook.at;
    if (detected !== undefined) p.detectedAt = detected;
  }
  return probes;
}

/** Alert events per host at the webhook. */
function webhookAlertCounts(servers: ChainServers): Map<string, number> {
  const counts = new Map<string, number>();
  for (const r of servers.webhook.received) {
    const body = r.json as { type?: string; task?: { host_name?: string } } | undefined;
    if (body?.type !== 'hss.task.status_alert' || !body.task?.host_name) continue;
    counts.set(body.task.host_name, (counts.get(body.task.host_name) ?? 0) + 1);
  }
  return counts;
}

/** The poller's environment, as serverless.yml sets it for the function (secrets given directly). */
function environment(
  setup: PollerSetup,
  servers: ChainServers,
  table: string,
  dynamoEndpoint: string,
): Record<string, string> {
  return {
    HSS_PROJECT_ID: PROJECT_ID,
    HSS_REGION: REGION,
    HSS_ENDPOINT: servers.emulator.url,
    HSS_ENTERPRISE_PROJECT_ID: '0',
    CLOUD_SDK_AK: EMULATOR_AK,
    CLOUD_SDK_SK: EMULATOR_SK,
    HSS_RATE_LIMIT_PER_MINUTE: String(setup.ratePerMinute),
    LAST_DAYS: String(setup.lastDays),
    ALERT_STATUSES: setup.alertStatuses,
    BASELINE: 'false',
    SCHEDULE_PERIOD_SECONDS: String(setup.periodMs / 1000),
    STATE_TABLE: table,
    DYNAMODB_ENDPOINT: dynamoEndpoint,
    AWS_REGION: 'us-east-1',
    SLACK_WEBHOOK_URL: servers.slack.url,
    WEBHOOK_URL: servers.webhook.url,
    WEBHOOK_SECRET,
  };
}

function fmtMin(ms: number): string {
  return Number.isFinite(ms) ? `${(ms / MIN).toFixed(1)} min` : 'never';
}
