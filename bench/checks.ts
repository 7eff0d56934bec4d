// One small scope invoked on the deployed 1-minute schedule with 1 to 5 checks a minute
// (CHECKS_PER_MINUTE, this tree) next to the previous release (one check an invocation): 100 quiet
// invocations (the calls of each check, the invocation's duration, what Lambda bills), then failures
// appearing every 73 s for an hour, so they land at every moment of the minute (the median and worst
// time from a failure appearing at HSS to the Slack message naming it).
import { arrival, openRun, webhookArrival, type PollRecord, type PollerSetup, type RunDeps } from './harness';
import type { PollerId } from './protocol';
import { failedTask, MIN, PROJECT_ID, smallScopeTasks, T_BASE } from './scenarios';

export interface ChecksRun {
  poller: PollerId;
  /** Checks a minute the poller was configured with (the release: 1, it has no such setting). */
  checksPerMinute: number;
  /** The function timeout it ran with, ms. */
  timeoutMs: number;
  /** The quiet invocations, counted one by one. */
  quiet: PollRecord[];
  /** Invocations while failures were appearing. */
  busy: PollRecord[];
  /** Failure appearing at HSS -> Slack, and -> the webhook, ms, per failure (Infinity: never). */
  toChat: number[];
  toWebhook: number[];
  errors: string[];
}

/** Quiet invocations counted: medians over at least 100, not one sampled poll. */
const QUIET_INVOCATIONS = 100;
/** Failures appear every FAILURE_EVERY_MS for FAILURE_MINUTES. */
const FAILURE_EVERY_MS = 73_000;
const FAILURE_MINUTES = 60;
const WARM_UP_CAP = 20;

export async function runChecks(deps: RunDeps, setup: PollerSetup): Promise<ChecksRun> {
  const tasks = smallScopeTasks(PROJECT_ID, 300);
  const due = tasks.filter((t) => t.status === 'failed' || t.status === 'timeout').map((t) => t.host_name);
  const failures: Array<{ host: string; at: number; added: boolean }> = [];
  const run = await openRun(deps, setup, tasks, {
    start: T_BASE,
    world: (now) => {
      for (const f of failures) {
        if (f.added || f.at > now) continue;
        f.added = true;
        tasks.push(failedTask(f.host, f.at - 5 * MIN, f.at));
      }
    },
  });
  const { servers } = run;
  try {
    for (let i = 0; i < WARM_UP_CAP; i++) {
      const r = (await run.tick('warm-up')).report;
      if (due.every((h) => webhookArrival(servers.webhook, h)) && r.alertsNew === 0 && r.pending === 0) break;
    }
    const quiet: PollRecord[] = [];
    for (let i = 0; i < QUIET_INVOCATIONS; i++) quiet.push(await run.tick('quiet'));
    const start = run.next();
    for (let i = 0; i * FAILURE_EVERY_MS < FAILURE_MINUTES * MIN; i++)
      failures.push({ host: `sub-minute-${i}`, at: start + 30_000 + i * FAILURE_EVERY_MS, added: false });
    const busy: PollRecord[] = [];
    const last = failures.at(-1)!.at;
    while (run.next() <= last + 2 * MIN) busy.push(await run.tick('failures'));
    const toChat = failures.map((f) => (arrival(servers.slack, f.host, f.at)?.at ?? Infinity) - f.at);
    const toWebhook = failures.map(
      (f) => (webhookArrival(servers.webhook, f.host, f.at)?.at ?? Infinity) - f.at,
    );
    const checksPerMinute = setup.checksPerMinute ?? setup.deployed.checksPerMinute ?? 1;
    deps.progress(
      `${setup.id}, ${checksPerMinute} check(s) a minute, ${setup.timeoutMs / 1000} s timeout: done`,
    );
    return {
      poller: setup.id,
      checksPerMinute: setup.id === 'release' ? 1 : checksPerMinute,
      timeoutMs: setup.timeoutMs,
      quiet,
      busy,
      toChat,
      toWebhook,
      errors: run.polls.filter((p) => !p.report.ok).map((p) => p.report.error ?? 'failed'),
    };
  } finally {
    await run.close();
  }
}
