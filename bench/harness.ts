// The parent's side of a chain: one HSS emulator (the real 5 calls/minute, on the shared virtual
// clock), a Slack and a webhook sink, and one poller process; probes that appear in the failed list
// right after the poller read the spot where they land (the worst moment for it).
import { fork, type ChildProcess } from 'node:child_process';
import {
  startHssEmulator,
  type EmulatedTask,
  type HssEmulator,
  type PageRequest,
} from '../local/hss-emulator';
import { startSlackSink, startWebhookSink, type Sink, type SinkRequest } from '../local/sinks';
import type { ChildInit, ChildMessage, ParentMessage, PollReport } from './protocol';
import { failedTask, PROJECT_ID, WEBHOOK_SECRET, type ListOrder } from './scenarios';

/** The clock every server of a chain reads; the poller's sleeps move it. */
export interface SharedTime {
  now: number;
}

export interface ChainServers {
  time: SharedTime;
  /** Projects the emulator serves; tasks without `project_id` belong to the first. */
  projects: string[];
  emulator: HssEmulator;
  slack: Sink;
  webhook: Sink;
  close(): Promise<void>;
}

export async function startChainServers(
  time: SharedTime,
  tasks: EmulatedTask[],
  ratePerMinute: number,
  projects: string[] = [PROJECT_ID],
): Promise<ChainServers> {
  const clock = () => time.now;
  const emulator = await startHssEmulator({ projects, ratePerMinute, now: clock, tasks });
  const slack = await startSlackSink({ clock });
  const webhook = await startWebhookSink({ secret: WEBHOOK_SECRET, clock });
  return {
    time,
    projects,
    emulator,
    slack,
    webhook,
    async close() {
      await emulator.close();
      await slack.close();
      await webhook.close();
    },
  };
}

/** A poller process: one poll per call, on the shared clock. */
export interface PollerProcess {
  /** RSS once it had loaded and built its clients, KiB. */
  readyRssKb: number;
  poll(now: number): Promise<PollReport>;
  close(): Promise<void>;
}

/** Forks `js` (a bundle) with plain node, as a Lambda runs its bundle; answers its clock messages. */
export function startPoller(js: string, init: ChildInit, time: SharedTime): Promise<PollerProcess> {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, NODE_NO_WARNINGS: '1' };
  const child: ChildProcess = fork(js, [JSON.stringify(init)], {
    execArgv: [],
    env,
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
  let pending: { resolve: (r: PollReport) => void; reject: (e: Error) => void } | undefined;
  let ready: ((rss: number) => void) | undefined;
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
    } else if (m.type === 'ready') ready?.(m.rssKb);
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
    ready = (readyRssKb) => {
      failed = undefined;
      resolve({
        readyRssKb,
        poll(now) {
          time.now = Math.max(time.now, now);
          return new Promise<PollReport>((res, rej) => {
            pending = { resolve: res, reject: rej };
            child.send({ type: 'poll', now } satisfies ParentMessage);
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

/** A failure placed at one end of the failed list, appearing right after the poller read that spot. */
export interface Probe {
  host: string;
  /** The project whose failed list it lands in (default: the emulator's first). */
  projectId?: string;
  /** `head`: the newest task of the list; `tail`: the oldest. */
  end: 'head' | 'tail';
  order: ListOrder;
  startedAt: number;
  /** When it appeared in the API (virtual ms); undefined until then. */
  appearAt?: number;
  /** Its index in the failed list when it appeared, and the list's length then. */
  index?: number;
  listSize?: number;
}

/**
 * Arms `probes` on the emulator: each is added to the task list just after the first page whose
 * range covers the index it would have in that list (so the poller has just looked there and missed
 * it), and its appearance time is that page's. Queries by host name (follow-ups) never trigger one.
 */
export function armProbes(servers: ChainServers, probes: Probe[]): void {
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
  emulator.beforePage = (req: PageRequest) => {
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
  };
}

/** Stops triggering probes (those armed and not yet appeared stay out). */
export function disarm(servers: ChainServers): void {
  servers.emulator.beforePage = undefined;
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
