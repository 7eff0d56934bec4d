// Many small scopes under one credential (issue 12, and the plan of issue 19): 1, 10 and 30 projects
// of 150 tasks each (every window fits a page) at 5 calls a minute on the deployed 1-minute schedule.
// Once every scope's history is alerted, a failure appears in each scope right after the poll read
// that scope's check list (its worst moment); the time until the poller recorded it (detection, what
// the poller's own latencyBoundMs promises) and until Slack named it. Run warm (one app for every
// invocation, as a warm Lambda container) and cold (a new app, DynamoDB client and call budget each
// invocation), which is also where the call budget's own cost is counted.
import type { DynamoUse, PollerId } from './protocol';
import {
  arrival,
  armProbes,
  detectedAt,
  openRun,
  webhookArrival,
  type PollRecord,
  type PollerSetup,
  type Probe,
  type RunDeps,
} from './harness';
import { HOUR, projectNames, smallScopeTasks, T_BASE } from './scenarios';

export const SCOPE_COUNTS = [1, 10, 30] as const;

export interface ScopeRun {
  poller: PollerId;
  scopes: number;
  container: 'warm' | 'cold';
  /** The poller's own promise for this many small scopes (its latencyBoundMs), ms. */
  boundMs: number;
  /** Failure to Slack per scope, ms (undefined: chat never named it before the cap). */
  latencies: Array<number | undefined>;
  /** Failure to detection (the webhook's `detected_at`) per scope, ms: what the bound promises. */
  detections: Array<number | undefined>;
  /** Invocations until the history was alerted and delivered, and after. */
  warmUpPolls: number;
  polls: number;
  hssCalls: number;
  throttled: number;
  maxCallsInAnyMinute: number;
  dynamo: DynamoUse;
  budget: DynamoUse;
  /** Scopes whose failure reached only the webhook by name (a chat digest counted it without naming it). */
  webhookOnly: number;
  /** Every invocation failed or was killed: the first error. */
  errors: string[];
}

const WARM_UP_CAP = 60;

export async function runScopes(
  deps: RunDeps,
  setup: PollerSetup,
  scopes: number,
  container: 'warm' | 'cold',
): Promise<ScopeRun> {
  const projects = projectNames(scopes);
  const tasks = projects.flatMap((p, i) => smallScopeTasks(p, 100 + i));
  const due = new Set(
    tasks.filter((t) => t.status === 'failed' || t.status === 'timeout').map((t) => t.host_name),
  );
  const run = await openRun(deps, setup, tasks, { projects, start: T_BASE });
  const { servers } = run;
  const fresh = container === 'cold';
  try {
    // The history alerted and delivered, every scope's check read whole.
    for (let i = 0; i < WARM_UP_CAP; i++) {
      const r = (await run.tick('warm-up', fresh)).report;
      const delivered = [...due].every((h) => webhookArrival(servers.webhook, h));
      if (delivered && r.alertsNew === 0 && r.pending === 0 && r.checkListsLeft === 0) break;
    }
    const warmUpPolls = run.polls.length;
    const probes: Probe[] = projects.map((p, i) => ({
      host: `probe-${p}`,
      projectId: p,
      end: 'head',
      order: 'newest-first',
      startedAt: run.next() - 30_000 - i * 1000,
    }));
    const disarm = armProbes(servers, probes);
    const cap = run.next() + 2 * run.proc.boundMs + HOUR;
    const named = (p: Probe) => p.appearAt !== undefined && arrival(servers.slack, p.host, p.appearAt);
    while (!probes.every(named) && run.next() < cap) await run.tick('probe', fresh);
    disarm();
    const sum = (f: (p: PollRecord) => number) => run.polls.reduce((n, p) => n + f(p), 0);
    const use = (f: (p: PollRecord) => DynamoUse): DynamoUse => ({
      requests: sum((p) => f(p).requests),
      rcu: sum((p) => f(p).rcu),
      wcu: sum((p) => f(p).wcu),
    });
    const since = (p: Probe, at: number | undefined) =>
      at !== undefined && p.appearAt !== undefined ? at - p.appearAt : undefined;
    deps.progress(`${scopes} scope(s) ${setup.id} ${container}: ${run.polls.length} invocations`);
    return {
      poller: setup.id,
      scopes,
      container,
      boundMs: run.proc.boundMs,
      latencies: probes.map((p) => since(p, arrival(servers.slack, p.host, p.appearAt ?? 0)?.at)),
      detections: probes.map((p) => since(p, detectedAt(servers.webhook, p.host, p.appearAt ?? 0))),
      warmUpPolls,
      polls: run.polls.length,
      hssCalls: sum((p) => p.report.hssCalls),
      throttled: servers.emulator.requests.filter((r) => r.status === 429).length,
      maxCallsInAnyMinute: servers.emulator.maxCallsInAnyMinute(),
      dynamo: use((p) => p.report.dynamo),
      budget: use((p) => p.report.budget),
      webhookOnly: probes.filter(
        (p) => !named(p) && p.appearAt !== undefined && webhookArrival(servers.webhook, p.host, p.appearAt),
      ).length,
      errors: run.polls.filter((p) => !p.report.ok).map((p) => p.report.error ?? 'failed'),
    };
  } finally {
    await run.close();
  }
}
