// Phase 2, detect: the check of every scope, page by page in turn, each page recorded as it
// arrives: one unfiltered page for a scope whose window fits a page (a full page switches it to the
// status-filtered alert lists at once, in the same poll), else its alert lists. Healthy scopes first, leaving each credential a reserve of calls for the scopes that
// failed lately: those get one attempt each (least recently read first), at most their share of the
// poll's calls, so a scope HSS keeps failing never delays the others and is still retried every
// poll. A credential whose budget is spent stops only its own scopes.
import { oneLine } from '../errors';
import { HssError } from '../hss/errors';
import { checkOrder } from './plan';
import { checkLists, readPage, scanOf, switchPlan } from './read';
import { credentialRun, type PollRun, type ScopeRun } from './run';
import type { ListScan } from './scan';

interface Work {
  sr: ScopeRun;
  scan: ListScan;
}

/** Calls of a credential kept for its failing scopes: their share of the poll's calls, at least one. */
function reserveOf(run: PollRun, credential: string): number {
  const scopes = run.scopes.filter((s) => s.scope.credential === credential);
  const failing = scopes.filter((s) => s.before.health).length;
  if (failing === 0) return 0;
  return Math.max(1, Math.floor(((run.options.callsPerPoll ?? Infinity) * failing) / scopes.length));
}

/** Marks a scope failed for this poll; a failure that is not HSS's (DynamoDB, a bug) fails the poll. */
function failScope(run: PollRun, sr: ScopeRun, err: unknown): void {
  if (!(err instanceof HssError)) throw err;
  sr.failed = err;
  run.deps.log.error(`Reading HSS failed for scope ${sr.scope.id}: ${oneLine(err)}`, { scope: sr.scope.id });
}

/** Still to read this poll: not complete, its scope not failed, its credential not spent, still part of the check. */
function pending(run: PollRun, w: Work): boolean {
  return (
    !w.scan.complete &&
    !w.sr.failed &&
    !credentialRun(run, w.sr.scope.credential).exhausted &&
    checkLists(run, w.sr).includes(w.scan.list)
  );
}

/**
 * `work` still pending, those whose credential can start a call soonest first (the given order
 * among equals): a poll never sleeps on one credential while another could read.
 */
async function byReadiness(run: PollRun, work: readonly Work[]): Promise<Work[]> {
  const open = work.filter((w) => pending(run, w));
  const credentials = [...new Set(open.map((w) => w.sr.scope.credential))];
  if (credentials.length < 2) return open;
  const now = run.deps.clock();
  const slots = new Map<string, number>();
  for (const c of credentials) slots.set(c, Math.max(now, await run.deps.budget.nextSlot(c)));
  return open.sort((a, b) => slots.get(a.sr.scope.credential)! - slots.get(b.sr.scope.credential)!);
}

/**
 * Reads the next page of `w`. A full unfiltered page is never taken as the whole window: the scope
 * switches to its alert lists, which join `work` to be read this poll (the page is recorded).
 */
async function read(run: PollRun, w: Work, work: Work[]): Promise<void> {
  const { sr, scan } = w;
  if (!pending(run, w)) return;
  try {
    await readPage(run, sr, scan);
  } catch (err) {
    failScope(run, sr, err);
    return;
  }
  if (scan.list === 'all' && !scan.complete && scan.pagesRead > 0) {
    for (const list of switchPlan(run, sr, 'lists')) work.push({ sr, scan: scanOf(run, sr, list) });
  }
}

/** Reads `work` (which may grow) round-robin, page by page, while `allowed` says a read of it may start. */
async function roundRobin(run: PollRun, work: Work[], allowed: (w: Work) => boolean): Promise<void> {
  for (;;) {
    const round = (await byReadiness(run, work)).filter(allowed);
    if (round.length === 0) return;
    for (const w of round) if (allowed(w)) await read(run, w, work);
  }
}

/** Reads the check of every scope until it is read whole, the time is up, or every credential is spent. */
export async function detect(run: PollRun): Promise<void> {
  const work: Work[] = checkOrder(
    run.scopes.map((s) => s.state),
    run.options.alertStatuses,
    run.startedAt,
  ).map(({ scopeId, list }) => {
    const sr = run.byId.get(scopeId)!;
    return { sr, scan: scanOf(run, sr, list) };
  });
  const limit = run.options.callsPerPoll ?? Infinity;
  const healthy = work.filter((w) => !w.sr.before.health);
  const failing = work.filter((w) => w.sr.before.health);
  // 1. Healthy scopes, up to what their credential can spare beside the failing scopes' reserve.
  await roundRobin(run, healthy, (w) => {
    const c = w.sr.scope.credential;
    return credentialRun(run, c).calls < limit - reserveOf(run, c);
  });
  // 2. One attempt for each failing scope, least recently read first, within its credential's reserve.
  const tried = new Map<string, number>();
  for (const w of failing) {
    const c = w.sr.scope.credential;
    if ((tried.get(c) ?? 0) >= reserveOf(run, c) || !pending(run, w) || w.sr.calls > 0) continue;
    tried.set(c, (tried.get(c) ?? 0) + 1);
    await read(run, w, failing);
  }
  // 3. Whatever is left, for every scope that has not failed this poll.
  const rest = [...healthy, ...failing];
  await roundRobin(run, rest, () => true);
}
