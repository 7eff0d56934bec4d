// One measured poller in its own process (bench/run.ts bundles this file with esbuild and forks it
// with plain `node`, as a Lambda runs its bundle): `ours` is the deployed code path, parseConfig ->
// createApp -> runPoll with the function's timeout, exactly as handlers/poll.ts wires it (the
// handler's middy and Powertools layers aside); `naive` is bench/baseline.ts on the same page reader.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createApp, runPoll, scopeOf } from '../lib/app';
import { parseConfig } from '../lib/config';
import { createMemoryBudget } from '../lib/budget/memory';
import { createPageReader } from '../lib/hss/reader';
import { createDestinations } from '../lib/notify/channels';
import { createPostJson } from '../lib/notify/http';
import { baselinePoll } from './baseline';
import { childClock, countDynamo, recordingLog, serve, type ChildInit, type ChildPoller } from './protocol';

function ours(init: ChildInit, clock: ReturnType<typeof childClock>): ChildPoller {
  const { log, drain } = recordingLog();
  const config = parseConfig(init.env);
  const app = createApp(config, { log, clock: clock.now, sleep: clock.sleep });
  const counter = countDynamo(app.dynamo);
  const timeoutMs = init.timeoutMs ?? config.periodSeconds * 1000;
  return {
    totals: () => ({
      hssCalls: app.reader.stats.calls,
      dynamo: { ...counter.all },
      budget: { ...counter.budget },
      kinds: structuredClone(counter.kinds),
    }),
    async poll(now) {
      // handlers/poll.ts: runPoll(app, clock() + context.getRemainingTimeInMillis()).
      const s = await runPoll(app, now + timeoutMs);
      if (s.scopesFailed.length > 0) {
        throw new Error(`scopes failed: ${s.scopesFailed.map((f) => `${f.scope}: ${f.error}`).join('; ')}`);
      }
      return {
        alertsNew: s.alertsNew,
        changes: s.changes,
        alertListsLeft: s.left.filter((l) => (config.alertStatuses as readonly string[]).includes(l.list))
          .length,
        listsLeft: s.left.length,
        pending: s.delivery.pending,
        dynamoCounted: s.dynamoRequests,
      };
    },
    drainLogged: drain,
  };
}

function naive(init: ChildInit, clock: ReturnType<typeof childClock>): ChildPoller {
  const { log, drain } = recordingLog();
  // The same config as ours, read for the endpoints, credentials, destinations and the one scope.
  const config = parseConfig(init.env);
  const dynamo = new DynamoDBClient({
    region: config.awsRegion,
    endpoint: config.dynamodbEndpoint,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  const counter = countDynamo(dynamo);
  const budget = createMemoryBudget({
    ratePerMinute: config.ratePerMinute,
    clock: clock.now,
    sleep: clock.sleep,
  });
  const reader = createPageReader({
    credentials: config.credentials,
    ...(config.endpoint ? { endpoint: config.endpoint } : {}),
    budget,
    clock: clock.now,
    sleep: clock.sleep,
    log,
    random: Math.random,
  });
  const destinations = createDestinations(config.destinations, { credentials: config.credentials, log });
  const post = createPostJson({ log });
  const scope = scopeOf(config.scopes[0]!);
  return {
    totals: () => ({
      hssCalls: reader.stats.calls,
      dynamo: { ...counter.all },
      kinds: structuredClone(counter.kinds),
    }),
    async poll() {
      const s = await baselinePoll(
        {
          reader,
          dynamo,
          tableName: config.stateTable,
          destinations,
          post,
          clock: clock.now,
          sleep: clock.sleep,
        },
        { scope, lastDays: config.lastDays, alertStatuses: config.alertStatuses },
      );
      if (s.requestsFailed > 0) log.error(`${s.requestsFailed} destination request(s) failed`);
      // Every task is written every poll: each one is a "change" in the store's terms.
      return { alertsNew: s.alertsNew, changes: s.tasksSeen, alertListsLeft: 0, listsLeft: 0, pending: 0 };
    },
    drainLogged: drain,
  };
}

const init = JSON.parse(process.argv[2] ?? '{}') as ChildInit;
const clock = childClock(init.timeoutMs, init.now);
try {
  void serve(clock, init.poller === 'ours' ? ours(init, clock) : naive(init, clock));
} catch (err) {
  process.send!({ type: 'fatal', message: err instanceof Error ? err.message : String(err) });
  process.exitCode = 1;
}
