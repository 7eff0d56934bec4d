// What both measured pollers share inside their child process: the config parsed from the
// environment the function is deployed with, an app built on the child's virtual clock, one
// invocation per `poll` message (a new app first when the parent asks for a cold container), and the
// counting of HSS calls and DynamoDB use over every app the process built. bench/child.ts runs this
// tree's code through it, bench/legacy-child.ts the previous release's.
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  countDynamo,
  recordingLog,
  type ChildClock,
  type ChildPoller,
  type DynamoCounter,
  type DynamoUse,
} from './protocol';

/** The few config fields the bench reads, in both trees. */
export interface ConfigLike {
  alertStatuses: readonly string[];
}

/** The few app fields the bench reads, in both trees. */
export interface AppLike {
  dynamo: DynamoDBClient;
  reader: { readonly stats: { calls: number } };
}

/** The few poll-summary fields the bench reads, in both trees. */
export interface SummaryLike {
  scopesFailed: ReadonlyArray<{ scope: string; error: string }>;
  alertsNew: number;
  changes: number;
  left: ReadonlyArray<{ list: string }>;
  hssCalls: number;
  dynamoRequests: number;
  delivery: { pending: number };
  /** Optional in the previous release. */
  lifecycle?: { resolved: number };
}

/** How one tree builds and runs its app. */
export interface AppModule<C extends ConfigLike, A extends AppLike, S extends SummaryLike> {
  parseConfig(env: Record<string, string>): C;
  createApp(
    config: C,
    overrides: {
      log: ReturnType<typeof recordingLog>['log'];
      clock: () => number;
      sleep: (ms: number) => Promise<void>;
    },
  ): A;
  /** One invocation as that tree's handler runs it, ending by `end`: every check's summary and their combination. */
  invoke(app: A, end: number): Promise<{ checks: S[]; combined: S }>;
}

/** A ChildPoller over `m`, with the function timeout of `timeoutMs`. */
export function appPoller<C extends ConfigLike, A extends AppLike, S extends SummaryLike>(
  m: AppModule<C, A, S>,
  env: Record<string, string>,
  timeoutMs: number,
  clock: ChildClock,
): { poller: ChildPoller; config: C } {
  const { log, drain } = recordingLog();
  const config = m.parseConfig(env);
  const checkLists = new Set<string>([...config.alertStatuses, 'all']);
  const build = () => {
    const app = m.createApp(config, { log, clock: clock.now, sleep: clock.sleep });
    return { app, counter: countDynamo(app.dynamo) };
  };
  let current = build();
  // What the apps a cold container replaced had counted.
  const retired = { calls: 0, counter: emptyCounter() };
  const poller: ChildPoller = {
    totals: () => ({
      hssCalls: retired.calls + current.app.reader.stats.calls,
      dynamo: plus(retired.counter.all, current.counter.all),
      budget: plus(retired.counter.budget, current.counter.budget),
      kinds: Object.fromEntries(
        [...new Set([...Object.keys(retired.counter.kinds), ...Object.keys(current.counter.kinds)])].map(
          (k) => [k, plus(retired.counter.kinds[k], current.counter.kinds[k])],
        ),
      ),
    }),
    async poll(now, fresh) {
      if (fresh) {
        retired.calls += current.app.reader.stats.calls;
        retired.counter = {
          all: plus(retired.counter.all, current.counter.all),
          budget: plus(retired.counter.budget, current.counter.budget),
          kinds: poller.totals().kinds,
        };
        current.app.dynamo.destroy();
        current = build();
      }
      const { checks, combined } = await m.invoke(current.app, now + timeoutMs);
      if (combined.scopesFailed.length > 0) {
        throw new Error(
          `scopes failed: ${combined.scopesFailed.map((f) => `${f.scope}: ${f.error}`).join('; ')}`,
        );
      }
      return {
        alertsNew: combined.alertsNew,
        changes: combined.changes,
        checkListsLeft: combined.left.filter((l) => checkLists.has(l.list)).length,
        listsLeft: combined.left.length,
        pending: combined.delivery.pending,
        resolved: combined.lifecycle?.resolved ?? 0,
        dynamoCounted: checks.reduce((n, s) => n + s.dynamoRequests, 0),
        callsPerCheck: checks.map((s) => s.hssCalls),
      };
    },
    drainLogged: drain,
  };
  return { poller, config };
}

function emptyCounter(): DynamoCounter {
  return { all: zero(), budget: zero(), kinds: {} };
}

function zero(): DynamoUse {
  return { requests: 0, rcu: 0, wcu: 0 };
}

function plus(a: DynamoUse | undefined, b: DynamoUse | undefined): DynamoUse {
  const x = a ?? zero();
  const y = b ?? zero();
  return { requests: x.requests + y.requests, rcu: x.rcu + y.rcu, wcu: x.wcu + y.wcu };
}
