// What the scheduler (lib/poll/plan.ts) promises, written out for the tests and the bench that hold it to it.

/**
 * The scheduler's promise: the longest a new failure in any scope can wait to be read. The checks of
 * all scopes are read round-robin with the calls each poll may make (`ratePerMinute` over the
 * period). A scope whose window fits a page is checked with one call: when every scope gets its call
 * each poll, within one period; otherwise a scope comes round within `ceil(scopes / calls per poll)`
 * polls, plus the poll in which the failure appears. A large scope (`lists`: `alertLists` calls a
 * check) shares its calls with the one call every `sweepEvery` polls keeps for its in-flight sweep.
 */
export function latencyBoundMs(
  scopes: number,
  plan: 'whole' | { alertLists: number },
  ratePerMinute: number,
  periodMs: number,
  sweepEvery = 5,
): number {
  const callsPerPoll = Math.max(1, Math.floor((ratePerMinute * periodMs) / 60_000));
  if (plan === 'whole')
    return scopes <= callsPerPoll ? periodMs : (Math.ceil(scopes / callsPerPoll) + 1) * periodMs;
  const forAlerts = Math.max(0.5, callsPerPoll - 1 / sweepEvery);
  return (Math.ceil((scopes * plan.alertLists) / forAlerts) + 1) * periodMs;
}
