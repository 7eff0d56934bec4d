// One large scope per run, each poller on a fresh table, emulator and sinks, invoked on its own
// schedule on the virtual clock: the first poll; polls until it has caught up (every failure of the
// window alerted and delivered, nothing pending); the steady polls of a realistic day (counted one by
// one: medians, not one sampled poll); 20 new failures and the polls until all are delivered; then,
// per list order, two probes that appear at either end of the failed list right after the poller
// read that spot, and the polls until chat got both (the worst case from failure to chat).
import {
  arrival,
  armProbes,
  detectedAt,
  openRun,
  webhookArrival,
  type PollRecord,
  type PollerSetup,
  type Probe,
  type Run,
  type RunDeps,
} from './harness';
import type { PollerId } from './protocol';
import {
  HOUR,
  MIN,
  newFailures,
  OLDEST_START,
  T_BASE,
  taskFlow,
  windowTasks,
  type ListOrder,
  type Scenario,
} from './scenarios';

interface ProbeResult extends Probe {
  /** When the poller recorded it (the webhook's `detected_at`), when chat and the webhook got it. */
  detectedAt?: number;
  slackAt?: number;
  webhookAt?: number;
}

export interface WindowResult {
  scenario: string;
  poller: PollerId;
  readyRssKb: number;
  polls: PollRecord[];
  first: PollRecord;
  /** The steady polls counted (a realistic day once caught up). */
  steady: PollRecord[];
  after20?: PollRecord;
  /** From the first poll's start to the end of catching up; `settled` false when the cap stopped it. */
  catchUp?: { polls: number; ms: number; settled: boolean };
  newFailures?: { insertedAt: number; delivered: number; polls: number; lastWebhookAt?: number };
  probes: ProbeResult[];
  /** Every poll failed: the first error. */
  blind?: string;
  /** Alerts due at the webhook (the window's failures, the 20 new ones, the probes that appeared), how many got there, how many more than once. */
  alerts: { due: number; delivered: number; duplicated: number };
  /** Most calls the emulator saw in any minute over the run. */
  maxCallsInAnyMinute: number;
  /** Wall time of the whole run, ms. */
  wallMs: number;
}

/** Polls a poller may take to catch up and to deliver. */
const CATCH_UP_CAP = 60;
const DELIVER_CAP = 20;
/** A trial ends unfinished after this long on the virtual clock. */
const TRIAL_CAP_MS = 3 * HOUR;

export async function runWindow(
  deps: RunDeps,
  scenario: Scenario,
  setup: PollerSetup,
): Promise<WindowResult> {
  const wallStart = performance.now();
  const tasks = windowTasks(scenario);
  const flow = scenario.realistic ? taskFlow(scenario, tasks, T_BASE) : undefined;
  const run = await openRun(deps, setup, tasks, {
    start: T_BASE,
    ...(flow ? { world: (now: number) => flow.advance(now) } : {}),
  });
  const { servers } = run;
  const result: WindowResult = {
    scenario: scenario.id,
    poller: setup.id,
    readyRssKb: run.proc.readyRssKb,
    polls: run.polls,
    first: await run.tick('first'),
    steady: [],
    probes: [],
    alerts: { due: 0, delivered: 0, duplicated: 0 },
    maxCallsInAnyMinute: 0,
    wallMs: 0,
  };
  const due = new Set(
    tasks.filter((t) => t.status === 'failed' || t.status === 'timeout').map((t) => t.host_name),
  );
  const label = `${scenario.id} ${setup.id}`;
  try {
    if (!result.first.report.ok) {
      // Two more polls to see whether it stays blind or recovers.
      const more = [await run.tick('catch-up'), await run.tick('catch-up')];
      if (more.every((p) => !p.report.ok)) {
        result.blind = result.first.report.error ?? 'failed';
        deps.progress(`${label}: blind (${result.blind})`);
        return result;
      }
    }

    // ---- catch up: every failure of the window delivered, nothing new, nothing pending ----
    let settled = false;
    for (let i = 0; i < CATCH_UP_CAP && !settled; i++) {
      const r = (await run.tick('catch-up')).report;
      const counts = webhookAlertCounts(run);
      settled =
        r.ok &&
        r.alertsNew === 0 &&
        r.pending === 0 &&
        [...due].every((h) => (counts.get(h) ?? 0) > 0) &&
        // An incident does not move: caught up means a complete cycle that changed nothing.
        (flow !== undefined || (r.changes === 0 && r.checkListsLeft === 0));
    }
    result.catchUp = { polls: run.polls.length, ms: run.next() - T_BASE, settled };
    for (let i = 0; i < scenario.steadyPolls; i++) result.steady.push(await run.tick('steady'));
    deps.progress(
      `${label}: caught up after ${result.catchUp.polls} poll(s)${settled ? '' : ' (cap reached)'}${scenario.steadyPolls > 0 ? `, ${scenario.steadyPolls} steady polls` : ''}`,
    );

    // ---- 20 new failures, spread over the whole list ----
    const insertedAt = run.next();
    const fresh = newFailures(insertedAt);
    tasks.push(...fresh);
    for (const t of fresh) due.add(t.host_name);
    result.after20 = await run.tick('after-20');
    const delivered = () =>
      fresh.filter((t) => webhookArrival(servers.webhook, t.host_name, insertedAt)).length;
    let deliverPolls = 1;
    while (delivered() < fresh.length && deliverPolls < DELIVER_CAP) {
      await run.tick('deliver-20');
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
    };

    // ---- worst case from failure to chat, per list order ----
    for (const order of scenario.orders) {
      if (servers.emulator.order !== order) {
        servers.emulator.order = order;
        // Let the poller read its check lists whole once in the new order before the probes go in.
        for (let i = 0; i < CATCH_UP_CAP; i++) {
          const p = await run.tick('settle');
          if (p.report.checkListsLeft === 0 && p.report.alertsNew === 0) break;
        }
      }
      result.probes.push(...(await trial(run, order)));
    }
    deps.progress(
      `${label}: worst failure-to-chat ${fmtMin(Math.max(...result.probes.map((p) => (p.slackAt ?? Infinity) - (p.appearAt ?? 0))))}`,
    );
    return result;
  } finally {
    for (const p of result.probes) if (p.appearAt !== undefined) due.add(p.host);
    const counts = webhookAlertCounts(run);
    result.alerts = {
      due: due.size,
      delivered: [...due].filter((h) => (counts.get(h) ?? 0) > 0).length,
      duplicated: [...counts.values()].filter((n) => n > 1).length,
    };
    result.maxCallsInAnyMinute = servers.emulator.maxCallsInAnyMinute();
    result.wallMs = performance.now() - wallStart;
    await run.close();
  }
}

let probeSeq = 0;

/** Arms a head and a tail probe and polls until chat named both (or the cap). */
async function trial(run: Run, order: ListOrder): Promise<ProbeResult[]> {
  const { servers } = run;
  const armedAt = run.next();
  const probes: ProbeResult[] = [
    { host: `probe-head-${++probeSeq}`, end: 'head', order, startedAt: armedAt - 30_000 },
    { host: `probe-tail-${++probeSeq}`, end: 'tail', order, startedAt: OLDEST_START - probeSeq * 1000 },
  ];
  const disarm = armProbes(servers, probes);
  const done = () =>
    probes.every((p) => p.appearAt !== undefined && arrival(servers.slack, p.host, p.appearAt));
  while (!done() && servers.time.now - armedAt < TRIAL_CAP_MS) await run.tick('trial');
  disarm();
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
function webhookAlertCounts(run: Run): Map<string, number> {
  const counts = new Map<string, number>();
  for (const r of run.servers.webhook.received) {
    const body = r.json as { type?: string; task?: { host_name?: string } } | undefined;
    if (body?.type !== 'hss.task.status_alert' || !body.task?.host_name) continue;
    counts.set(body.task.host_name, (counts.get(body.task.host_name) ?? 0) + 1);
  }
  return counts;
}

function fmtMin(ms: number): string {
  return Number.isFinite(ms) ? `${(ms / MIN).toFixed(1)} min` : 'never';
}
