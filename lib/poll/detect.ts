// Phase 2, detect: the alert lists of every scope, page by page in turn, each page recorded as it
// arrives. Healthy scopes first (lists mid-way, then the least recently read); a scope that failed
// recently comes after them with one attempt a poll, so it never takes the others' calls; a
// credential whose budget is spent stops only its own scopes.
import { HssError } from '../hss/errors';
import { RETRY_POLICY } from '../hss/retry';
import { oneLine } from '../errors';
import { alertOrder } from './plan';
import { readPage, scanOf } from './read';
import { credentialRun, type PollRun, type ScopeRun } from './run';
import type { ListScan } from './scan';

/** Attempts one call of `sr` may make: one for a scope that failed lately, else up to its share of the poll's calls. */
export function attemptsFor(run: PollRun, sr: ScopeRun): number {
  if (sr.before.health) return 1;
  const sharing = run.scopes.filter((s) => s.scope.credential === sr.scope.credential).length;
  const share = Math.floor((run.options.callsPerPoll ?? Infinity) / sharing);
  return Math.max(1, Math.min(RETRY_POLICY.maxAttempts, share));
}

/** Marks a scope failed for this poll; a failure that is not HSS's (DynamoDB, a bug) fails the poll. */
export function failScope(run: PollRun, sr: ScopeRun, err: unknown): void {
  if (!(err instanceof HssError)) throw err;
  sr.failed = err;
  run.deps.log.error(`Reading HSS failed for scope ${sr.scope.id}: ${oneLine(err)}`, { scope: sr.scope.id });
}

/**
 * The lists still to read, those whose credential can start a call soonest first (the given order
 * among equals): a poll never sleeps on one credential while another could read.
 */
async function byReadiness(
  run: PollRun,
  work: ReadonlyArray<{ sr: ScopeRun; scan: ListScan }>,
): Promise<Array<{ sr: ScopeRun; scan: ListScan }>> {
  const credentials = [...new Set(work.map((w) => w.sr.scope.credential))];
  if (credentials.length < 2) return [...work];
  const now = run.deps.clock();
  const slots = new Map<string, number>();
  for (const c of credentials) slots.set(c, Math.max(now, await run.deps.budget.nextSlot(c)));
  return [...work].sort((a, b) => slots.get(a.sr.scope.credential)! - slots.get(b.sr.scope.credential)!);
}

/** Reads the alert lists of every scope until they are read whole, the time is up, or every credential is spent. */
export async function detect(run: PollRun): Promise<void> {
  const order = alertOrder(
    run.scopes.map((s) => s.state),
    run.options.alertStatuses,
    run.startedAt,
  );
  const work = order.map(({ scopeId, list }) => {
    const sr = run.byId.get(scopeId)!;
    return { sr, scan: scanOf(run, sr, list) };
  });
  const open = () =>
    work.filter(
      (w) => !w.scan.complete && !w.sr.failed && !credentialRun(run, w.sr.scope.credential).exhausted,
    );
  for (let round = open(); round.length > 0; round = open()) {
    for (const { sr, scan } of await byReadiness(run, round)) {
      if (scan.complete || sr.failed || credentialRun(run, sr.scope.credential).exhausted) continue;
      try {
        await readPage(run, sr, scan, attemptsFor(run, sr));
      } catch (err) {
        failScope(run, sr, err);
      }
    }
  }
}
