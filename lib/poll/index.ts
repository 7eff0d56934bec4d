// One poll of every scope, within a call budget and a deadline, as six phases over one run object:
//   1. prepare: read every scope's state, the markers and the silences; size each window;
//   2. detect:  the alert lists of every scope, page by page, each page recorded as it arrives;
//   3. sweep:   with what is left, the in-flight lists and follow-ups of tasks that left the window;
//   4. judge:   once, what the cycles that completed missed, what is stuck, what is gone;
//   5. settle:  health, the call budget, the alert lifecycle; messages first, then state;
//   6. deliver: what is due.
// Every side effect goes through the run's effects port: a dry run is the same poll with the
// recording port. A poll never starts an HSS call that could not finish before its fetch deadline;
// what it could not read is continued by the next poll from the stored cursors.
import { deliver } from './deliver';
import { detect } from './detect';
import { judge } from './judge';
import { prepare } from './prepare';
import type { PollDeps, PollOptions, PollRun, PollSummary } from './run';
import { settle } from './settle';
import { SWEEP_EVERY, sweep } from './sweep';

export type { PollDeps, PollOptions, PollSummary } from './run';
export { combineChecks } from './run';

/** Every SWEEP_EVERY-th period, one call goes to a large scope's in-flight sweep before the checks, so it is stretched, never stopped. */
function sweepsFirst(run: PollRun): boolean {
  return Math.floor(run.startedAt / run.options.periodMs) % SWEEP_EVERY === 0;
}

/** The summary's counters of HSS and DynamoDB use, for this poll. */
function finish(run: PollRun): PollSummary {
  const { deps, baseline, summary } = run;
  const dynamo = deps.dynamoStats?.() ?? baseline.dynamo;
  summary.dynamoRequests = dynamo.requests - baseline.dynamo.requests;
  summary.readCapacity = dynamo.readCapacity - baseline.dynamo.readCapacity;
  summary.writeCapacity = dynamo.writeCapacity - baseline.dynamo.writeCapacity;
  summary.hssCalls = deps.reader.stats.calls - baseline.reader.calls;
  summary.hssThrottled = deps.reader.stats.throttled - baseline.reader.throttled;
  summary.tasksSeen = run.scopes.reduce((n, sr) => n + sr.observed.size, 0);
  summary.durationMs = deps.clock() - run.startedAt;
  if (run.effects.wouldSend) summary.wouldSend = run.effects.wouldSend;
  return summary;
}

/** Runs one poll of `options.scopes`; throws only when the state cannot be read or written (DynamoDB) or on a bug. */
export async function poll(deps: PollDeps, options: PollOptions): Promise<PollSummary> {
  const run = await prepare(deps, options);
  if (sweepsFirst(run)) await sweep(run, 1, true);
  await detect(run);
  await sweep(run, Infinity);
  await judge(run);
  await settle(run);
  await deliver(run);
  return finish(run);
}
