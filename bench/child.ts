// This tree's poller in its own process (bench/children.ts bundles this file with esbuild and forks
// it with plain `node`, as a Lambda runs its bundle): the deployed code path, parseConfig ->
// createApp -> runInvocation -> combineChecks with the function's timeout, exactly as
// handlers/poll.ts wires it (the handler's middy and Powertools layers aside).
import { createApp, runInvocation } from '../lib/app';
import { parseConfig } from '../lib/config';
import { combineChecks } from '../lib/poll';
import { latencyBoundMs } from '../lib/poll/plan';
import { appPoller } from './app-poller';
import { childClock, failStart, serve, type ChildInit } from './protocol';

const init = JSON.parse(process.argv[2] ?? '{}') as ChildInit;
const clock = childClock(init.timeoutMs, init.now);
try {
  const { poller, config } = appPoller(
    {
      parseConfig: (env) => parseConfig(env),
      createApp,
      async invoke(app, end) {
        const checks = await runInvocation(app, end);
        return { checks, combined: combineChecks(checks) };
      },
    },
    init.env,
    init.timeoutMs ?? 60_000,
    clock,
  );
  // The promise for scopes whose window fits a page (every scope of the bench's small-scope runs).
  const boundMs = latencyBoundMs(
    config.scopes.length,
    'whole',
    config.ratePerMinute,
    config.periodSeconds * 1000,
  );
  void serve(clock, poller, boundMs);
} catch (err) {
  failStart(err);
}
