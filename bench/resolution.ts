// Resolution of retried failures (issue 19 item 2) at 1, 10 and 30 small scopes on one credential:
// once every scope's history is alerted, failed restores appear over an hour (3, 20 and 30 of them,
// as the issue measured the previous release); each is retried a minute later and the retry succeeds
// 20 minutes after the failure. How many alerts were resolved, and how long after the retry
// succeeded the resolved notice reached the webhook and chat, within a cap of 12 hours.
import {
  chatResolvedAt,
  openRun,
  resolvedAt,
  webhookArrival,
  type PollerSetup,
  type RunDeps,
} from './harness';
import type { PollerId } from './protocol';
import {
  HOUR,
  projectNames,
  retriedFailures,
  retryTimeline,
  smallScopeTasks,
  T_BASE,
  type Retried,
} from './scenarios';

interface RetriedResult extends Retried {
  /** When the webhook got the failure's alert, and its resolved notice; when chat named it resolved. */
  alertAt?: number;
  resolvedAt?: number;
  chatResolvedAt?: number;
}

export interface ResolutionRun {
  poller: PollerId;
  scopes: number;
  /** The poller's own promise for this many small scopes (its latencyBoundMs), ms. */
  boundMs: number;
  retried: RetriedResult[];
  /** How long after the last retry succeeded the run waited for the rest, ms. */
  capMs: number;
  polls: number;
  errors: string[];
}

/** How long after the last retry's success a resolved notice is waited for (the issue waited 8-12 h). */
export const RESOLUTION_CAP_MS = 12 * HOUR;
const WARM_UP_CAP = 60;

export async function runResolution(
  deps: RunDeps,
  setup: PollerSetup,
  scopes: number,
): Promise<ResolutionRun> {
  const projects = projectNames(scopes);
  const tasks = projects.flatMap((p, i) => smallScopeTasks(p, 200 + i));
  const due = new Set(
    tasks.filter((t) => t.status === 'failed' || t.status === 'timeout').map((t) => t.host_name),
  );
  let timeline: ((now: number) => void) | undefined;
  const run = await openRun(deps, setup, tasks, {
    projects,
    start: T_BASE,
    world: (now) => timeline?.(now),
  });
  const { servers } = run;
  try {
    for (let i = 0; i < WARM_UP_CAP; i++) {
      const r = (await run.tick('warm-up')).report;
      const delivered = [...due].every((h) => webhookArrival(servers.webhook, h));
      if (delivered && r.alertsNew === 0 && r.pending === 0 && r.checkListsLeft === 0) break;
    }
    const retried = retriedFailures(projects, run.next());
    timeline = retryTimeline(retried, tasks);
    const end = Math.max(...retried.map((r) => r.succeededAt)) + RESOLUTION_CAP_MS;
    const resolved = () =>
      retried.every((r) => resolvedAt(servers.webhook, r.host, r.failedAt) !== undefined);
    while (run.next() < end && !resolved()) await run.tick('retries');
    const results: RetriedResult[] = retried.map((r) => {
      const alert = webhookArrival(servers.webhook, r.host, r.failedAt)?.at;
      const done = resolvedAt(servers.webhook, r.host, r.failedAt);
      const chat = chatResolvedAt(servers.slack, r.host, r.failedAt);
      return {
        ...r,
        ...(alert !== undefined ? { alertAt: alert } : {}),
        ...(done !== undefined ? { resolvedAt: done } : {}),
        ...(chat !== undefined ? { chatResolvedAt: chat } : {}),
      };
    });
    deps.progress(
      `resolution, ${scopes} scope(s) ${setup.id}: ${results.filter((r) => r.resolvedAt !== undefined).length}/${results.length} resolved`,
    );
    return {
      poller: setup.id,
      scopes,
      boundMs: run.proc.boundMs,
      retried: results,
      capMs: RESOLUTION_CAP_MS,
      polls: run.polls.length,
      errors: run.polls.filter((p) => !p.report.ok).map((p) => p.report.error ?? 'failed'),
    };
  } finally {
    await run.close();
  }
}
