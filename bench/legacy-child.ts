// "Today's design": the previous release (commit 02e0dc6) as its handler ran it, parseConfig ->
// createApp -> runPoll, in its own process like bench/child.ts. Bundled by bench/legacy.ts from a
// `git archive` copy of that commit (the `legacy-release/*` imports resolve there), never from this tree.
import { createApp, runPoll } from 'legacy-release/lib/app';
import { parseConfig } from 'legacy-release/lib/config';
import { childClock, countDynamo, recordingLog, serve, type ChildInit, type ChildPoller } from './protocol';

const init = JSON.parse(process.argv[2] ?? '{}') as ChildInit;
const clock = childClock(init.timeoutMs, init.now);
const { log, drain } = recordingLog();
const app = createApp(parseConfig(init.env), { log, clock: clock.now, sleep: clock.sleep });
const counter = countDynamo(app.dynamo);

const poller: ChildPoller = {
  totals: () => ({
    hssCalls: app.hss.stats.calls,
    dynamo: { ...counter.all },
    kinds: structuredClone(counter.kinds),
  }),
  async poll() {
    const s = await runPoll(app);
    return {
      alertsNew: s.alertsNew,
      changes: s.transitions,
      alertListsLeft: 0,
      listsLeft: 0,
      pending: s.deliveriesPending,
      dynamoCounted: s.dynamoRequests,
    };
  },
  drainLogged: drain,
};
void serve(clock, poller);
