// The previous release (bench/children.ts RELEASE) as its handler ran it, parseConfig -> createApp ->
// runPoll with the function's timeout, in its own process like bench/child.ts. Bundled from a
// `git archive` copy of that commit (the `legacy-release/*` imports resolve there), never from this tree.
import { createApp, runPoll } from 'legacy-release/lib/app';
import { parseConfig } from 'legacy-release/lib/config';
import { latencyBoundMs } from 'legacy-release/lib/poll/plan';
import { appPoller } from './app-poller';
import { childClock, failStart, serve, type ChildInit } from './protocol';

const init = JSON.parse(process.argv[2] ?? '{}') as ChildInit;
const clock = childClock(init.timeoutMs, init.now);
try {
  const { poller, config } = appPoller(
    {
      parseConfig,
      createApp,
      async invoke(app, end) {
        const summary = await runPoll(app, end);
        return { checks: [summary], combined: summary };
      },
    },
    init.env,
    init.timeoutMs ?? 60_000,
    clock,
  );
  const boundMs = latencyBoundMs(
    config.scopes.length,
    config.alertStatuses.length,
    config.ratePerMinute,
    config.periodSeconds * 1000,
  );
  void serve(clock, poller, boundMs);
} catch (err) {
  failStart(err);
}
