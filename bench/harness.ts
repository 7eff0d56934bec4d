// The parent's side of a run: one HSS emulator (the real 5 calls/minute, on the shared virtual
// clock), a Slack and a webhook sink, and one poller process with the environment the function is
// deployed with; probes that appear in a scope's check list right after the poller read the spot
// where they land (the worst moment for it); the sinks' arrivals read back per host.
import { fork, type ChildProcess } from 'node:child_process';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createStateTable } from '../lib/state/table';
import {
  startHssEmulator,
  type EmulatedTask,
  type HssEmulator,
  type PageRequest,
} from '../local/hss-emulator';
import { startSlackSink, startWebhookSink, type Sink, type SinkRequest } from '../local/sinks';
import type { Deployed } from './children';
import type { ChildInit, ChildMessage, ParentMessage, PollerId, PollReport } from './protocol';
import {
  EMULATOR_AK,
  EMULATOR_SK,
  failedTask,
  PROJECT_ID,
  REGION,
  WEBHOOK_SECRET,
  type ListOrder,
} from './scenarios';

/** The clock every server of a chain reads; the poller's sleeps move it. */
interface SharedTime {
  now: number;
}

export interface ChainServers {
  time: SharedTime;
  /** Projects the emulator serves; tasks without `project_id` belong to the first. */
  projects: string[];
  emulator: HssEmulator;
  slack: Sink;
  webhook: Sink;
  /** Runs `hook` before every page the emulator serves (after auth and throttling); returns its removal. */
  beforePage(hook: (req: PageRequest) => void): () => void;
  close(): Promise<void>;
}

async function startChainServers(
  time: SharedTime,
  tasks: EmulatedTask[],
  ratePerMinute: number,
  projects: string[] = [PROJECT_ID],
): Promise<ChainServers> {
  const clock = () => time.now;
  const emulator = await startHssEmulator({ projects, ratePerMinute, now: clock, tasks });
  const slack = await startSlackSink({ clock });
  const webhook = await startWebhookSink({ secret: WEBHOOK_SECRET, clock });
  const hooks: Array<(req: PageRequest) => void> = [];
  emulator.beforePage = (req) => {
    for (const hook of [...hooks]) hook(req);
  };
  return {
    time,
    projects,
    emulator,
    slack,
    webhook,
    beforePage(hook) {
      hooks.push(hook);
      return () => void hooks.splice(hooks.indexOf(hook), 1);
    },
    async close() {
      await emulator.close();
      await slack.close();
      await webhook.close();
    },
  };
}

/** How a poller is deployed: which tree, its bundle, its limits, and the settings the bench varies. */
export interface PollerSetup {
  id: PollerId;
  js: string;
  deployed: Deployed;
  /** The function timeout, ms (the deployed one unless a setting needs more). */
  timeoutMs: number;
  /** CHECKS_PER_MINUTE (this tree only); undefined: the deployed setting. */
  checksPerMinute?: number;
}

/** The function's environment as serverless.yml sets it, the secrets as plain values, the endpoints local. */
function environment(
  setup: PollerSetup,
  servers: ChainServers,
  table: string,
  dynamoEndpoint: string,
): Record<string, string> {
  const d = setup.deployed;
  const checks = setup.checksPerMinute ?? d.checksPerMinute;
  return {
    HSS_SCOPES: servers.projects.map((p) => `${REGION}/${p}`).join(','),
    HSS_ENDPOINT: servers.emulator.url,
    CLOUD_SDK_AK: EMULATOR_AK,
    CLOUD_SDK_SK: EMULATOR_SK,
    HSS_RATE_LIMIT_PER_MINUTE: String(d.rate),
    LAST_DAYS: String(d.lastDays),
    ALERT_STATUSES: d.alertStatuses,
    SCHEDULE_PERIOD_SECONDS: String(d.periodSeconds),
    ...(checks !== undefined ? { CHECKS_PER_MINUTE: String(checks) } : {}),
    ...d.env,
    STATE_TABLE: table,
    DYNAMODB_ENDPOINT: dynamoEndpoint,
    AWS_REGION: 'us-east-1',
    SLACK_WEBHOOK_URL: servers.slack.url,
    WEBHOOK_URL: servers.webhook.url,
    WEBHOOK_SECRET,
  };
}

/** A poller process: one invocation per call, on the shared clock. */
interface PollerProcess {
  /** RSS once it had loaded and built its clients, KiB. */
  readyRssKb: number;
  /** The detection bound the poller's own code promises for its scopes when each fits a page, ms. */
  boundMs: number;
  /** One invocation at `now`; `fresh`: on a new app (a cold container). */
  poll(now: number, fresh?: boolean): Promise<PollReport>;
  close(): Promise<void>;
}

/** Forks `js` (a bundle) with plain node, as a Lambda runs its bundle; answers its clock messages. */
function startPoller(js: string, init: ChildInit, time: SharedTime): Promise<PollerProcess> {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, NODE_NO_WARNINGS: '1' };
  const child: ChildProcess = fork(js, [JSON.stringify(init)], {
    execArgv: [],
    env,
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
  let pending: { resolve: (r: PollReport) => void; reject: (e: Error) => void } | undefined;
  let ready: ((rss: number, boundMs: number) => void) | undefined;
  let failed: ((e: Error) => void) | undefined;
  const fail = (e: Error): void => {
    pending?.reject(e);
    pending = undefined;
    failed?.(e);
  };
  child.on('message', (m: ChildMessage) => {
    if (m.type === 'clock') {
      // A wait that began before the parent moved the clock to the next tick only catches up.
      time.now = Math.max(time.now, m.now);
      child.send({ type: 'clock-ack', id: m.id } satisfies ParentMessage);
    } else if (m.type === 'ready') ready?.(m.rssKb, m.boundMs);
    else if (m.type === 'done') {
      const p = pending;
      pending = undefined;
      p?.resolve(m.report);
    } else fail(new Error(`${init.poller} poller failed to start: ${m.message}`));
  });
  child.on('exit', (code, signal) => {
    fail(
      new Error(
        `${init.poller} poller exited (${signal ?? code}): ${stderr.trim().split('\n').slice(-3).join(' | ')}`,
      ),
    );
  });
  return new Promise<PollerProcess>((resolve, reject) => {
    failed = reject;
    ready = (readyRssKb, boundMs) => {
      failed = undefined;
      resolve({
        readyRssKb,
        boundMs,
        poll(now, fresh = false) {
          time.now = Math.max(time.now, now);
          return new Promise<PollReport>((res, rej) => {
            pending = { resolve: res, reject: rej };
            child.send({ type: 'poll', now, fresh } satisfies ParentMessage);
          });
        },
        async close() {
          if (child.exitCode !== null) return;
          child.removeAllListeners('exit');
          const exited = new Promise<void>((r) => child.once('exit', () => r()));
          child.send({ type: 'exit' } satisfies ParentMessage);
          await exited;
        },
      });
    };
  });
}

/** A failure placed at one end of a scope's check list, appearing right after the poller read that spot. */
export interface Probe {
  host: string;
  /** The project whose list it lands in (default: the emulator's first). */
  projectId?: string;
  /** `head`: the newest task of the list; `tail`: the oldest. */
  end: 'head' | 'tail';
  order: ListOrder;
  startedAt: number;
  /** When it appeared in the API (virtual ms); undefined until then. */
  appearAt?: number;
  /** Its index in the list when it appeared, and the list's length then. */
  index?: number;
  listSize?: number;
}

/**
 * Arms `probes` on the emulator: each is added to the task list just after the first check-list page
 * whose range covers the index it would have in that list (so the poller has just looked there and
 * missed it), and its appearance time is that page's. A check-list page is one of the failed list, or
 * one of the unfiltered list of a scope whose window fits one page (the check of such a scope); the
 * unfiltered probe of a larger scope, other statuses and queries by host name never trigger one.
 * Returns the disarm function (probes armed and not yet appeared stay out).
 */
export function armProbes(servers: ChainServers, probes: Probe[]): () => void {
  const { emulator, time } = servers;
  const queued: Probe[] = [];
  const insert = (): void => {
    for (const p of queued.splice(0)) {
      emulator.tasks.push({
        ...failedTask(p.host, p.startedAt),
        ...(p.projectId ? { project_id: p.projectId } : {}),
      });
    }
  };
  const [defaultProject] = servers.projects;
  return servers.beforePage((req: PageRequest) => {
    insert();
    const q = req.query;
    if (q.resource_name !== undefined || (q.status !== undefined && q.status !== 'failed')) return;
    const since = time.now - Number(q.last_days ?? 1) * 86_400_000;
    let n = 0;
    for (const t of emulator.tasks) {
      if ((t.project_id ?? defaultProject) !== req.projectId) continue;
      if (q.status !== undefined && t.status !== q.status) continue;
      if (Date.parse(String(t.started_at)) >= since) n += 1;
    }
    const offset = Number(q.offset);
    const limit = Number(q.limit);
    if (q.status === undefined && n >= limit) return;
    for (const p of probes) {
      if (p.appearAt !== undefined || (p.projectId ?? defaultProject) !== req.projectId) continue;
      // The probes' start times are the extremes: first or last in either order.
      const first = (p.end === 'head') === (emulator.order === 'newest-first');
      const index = first ? 0 : n;
      if (index < offset || index >= offset + limit) continue;
      p.appearAt = time.now;
      p.index = index;
      p.listSize = n;
      queued.push(p);
      // After this page is sent (it is built synchronously once this hook returns).
      setImmediate(insert);
    }
  });
}

/** First request at `sink` after `from` whose readable text names `host`, or undefined. */
export function arrival(sink: Sink, host: string, from = 0): SinkRequest | undefined {
  return sink.received.find((r) => r.at >= from && sink.visibleText(r).includes(host));
}

/** First webhook alert for `host` (the webhook carries every task, each once), or undefined. */
export function webhookArrival(sink: Sink, host: string, from = 0): SinkRequest | undefined {
  return sink.received.find((r) => {
    if (r.at < from) return false;
    const body = r.json as { type?: string; task?: { host_name?: string } } | undefined;
    return body?.type === 'hss.task.status_alert' && body.task?.host_name === host;
  });
}

/** `detected_at` of the first webhook alert for `host` (when the poller recorded it), epoch ms. */
export function detectedAt(sink: Sink, host: string, from = 0): number | undefined {
  const body = webhookArrival(sink, host, from)?.json as { detected_at?: string } | undefined;
  const at = body?.detected_at === undefined ? NaN : Date.parse(body.detected_at);
  return Number.isFinite(at) ? at : undefined;
}

/** When the webhook got the resolved notice of an alert on `host` (`hss.task.resolved`), or undefined. */
export function resolvedAt(sink: Sink, host: string, from = 0): number | undefined {
  return sink.received.find((r) => {
    if (r.at < from) return false;
    const body = r.json as { type?: string; task?: { host_name?: string } } | undefined;
    return body?.type === 'hss.task.resolved' && body.task?.host_name === host;
  })?.at;
}

/** When chat first named `host` in a resolved notice, or undefined. */
export function chatResolvedAt(sink: Sink, host: string, from = 0): number | undefined {
  return sink.received.find((r) => {
    if (r.at < from) return false;
    const text = sink.visibleText(r);
    return /Resolved/.test(text) && text.includes(host);
  })?.at;
}

/** One invocation as the bench saw it: the poller's report and what the emulator got meanwhile. */
export interface PollRecord {
  phase: string;
  report: PollReport;
  /** Requests the emulator got during the invocation, and how many it answered 429. */
  hssRequests: number;
  throttled: number;
}

/** What every run needs from the parent: the DynamoDB Local endpoint and a client to make tables with. */
export interface RunDeps {
  dynamo: DynamoDBClient;
  dynamoEndpoint: string;
  progress: (message: string) => void;
}

/** A poller on its servers and its own table, invoked on its schedule. */
export interface Run {
  servers: ChainServers;
  proc: PollerProcess;
  setup: PollerSetup;
  polls: PollRecord[];
  /** Start of the next tick. */
  next(): number;
  /** One invocation at the next tick (`fresh`: on a new app); throws if it ran into the tick after. */
  tick(phase: string, fresh?: boolean): Promise<PollRecord>;
  close(): Promise<void>;
}

let tables = 0;

/**
 * Starts the servers (serving `tasks` of `projects`), a fresh table and the poller process, first
 * tick at `start`. `world(now)`, if given, moves the tasks to `now`: before every page and every tick.
 */
export async function openRun(
  deps: RunDeps,
  setup: PollerSetup,
  tasks: EmulatedTask[],
  opts: { projects?: string[]; start: number; world?: (now: number) => void },
): Promise<Run> {
  const time: SharedTime = { now: opts.start };
  const servers = await startChainServers(time, tasks, setup.deployed.rate, opts.projects);
  const world = opts.world;
  if (world) servers.beforePage(() => world(time.now));
  const table = `bench-${setup.id}-${++tables}`;
  await createStateTable(deps.dynamo, table);
  const proc = await startPoller(
    setup.js,
    {
      poller: setup.id,
      env: environment(setup, servers, table, deps.dynamoEndpoint),
      timeoutMs: setup.timeoutMs,
      now: opts.start,
    },
    time,
  );
  const periodMs = setup.deployed.periodSeconds * 1000;
  let tickStart = opts.start;
  const polls: PollRecord[] = [];
  return {
    servers,
    proc,
    setup,
    polls,
    next: () => tickStart,
    async tick(phase, fresh = false) {
      time.now = Math.max(time.now, tickStart);
      world?.(tickStart);
      const before = servers.emulator.requests.length;
      const report = await proc.poll(tickStart, fresh);
      const requests = servers.emulator.requests.slice(before);
      const record: PollRecord = {
        phase,
        report,
        hssRequests: requests.length,
        throttled: requests.filter((r) => r.status === 429).length,
      };
      polls.push(record);
      const next = tickStart + periodMs;
      if (report.endedAt > next)
        throw new Error(`${setup.id}: an invocation ran into the next tick (${report.endedAt - next} ms)`);
      tickStart = next;
      time.now = Math.max(time.now, tickStart);
      return record;
    },
    async close() {
      await proc.close();
      await servers.close();
    },
  };
}
