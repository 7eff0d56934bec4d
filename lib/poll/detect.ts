// Phase 2, detect: the alert lists of every scope, page by page in turn, each page recorded as it
// arrives. Healthy scopes read first, leaving each credential a reserve of calls for the scopes that
// failed lately: those get one attempt each (least recently read first), at most their share of the
// poll's calls, so a scope HSS keeps failing never delays the others and is still retried every
// poll. A credential whose budget is spent stops only its own scopes.
import { oneLine } from '../errors';
import { HssError } from '../hss/errors';
import { alertOrder } from './plan';
import { readPage, scanOf } from './read';
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

/** Still to read this poll: not complete, its scope not failed, its credential not spent. */
function pending(run: PollRun, w: Work): boolean {
  return !w.scan.complete && !w.sr.failed && !credentialRun(run, w.sr.scope.credential).exhausted;
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

async function read(run: PollRun, { sr, scan }: Work): Promise<void> {
  if (!pending(run, { sr, scan })) return;
  try {
    await readPage(run, sr, scan);
  } catch (err) {
    failScope(run, sr, err);
  }
}

/** Reads `work` round-robin, page by page, while `allowed` says a read of it may start. */
async function roundRobin(run: PollRun, work: readonly Work[], allowed: (w: Work) => boolean): Promise<void> {
  for (;;) {
    const round = (await byReadiness(run, work)).filter(allowed);
    if (round.length === 0) return;
    for (const w of round) if (allowed(w)) await read(run, w);
  }
}

/** Reads the alert lists of every scope until they are read whole, the time is up, or every credential is spent. */
export async function detect(run: PollRun): Promise<void> {
  const work: Work[] = alertOrder(
    run.scopes.map((s) => s.state),
    run.options.alertStatuses,
    run.startedAt,
  ).map(({ scopeId, list }) => {
    const sr = run.byId.get(scopeId)!;
    return { sr, scan: scanOf(run, sr, list) };
  });
  const limit = run.options.callsPerPoll ?? Infinity;
  const healthy = work.filter((w) => !w.sr.before.health);
  // 1. Healthy scopes, up to what their credential can spare beside the failing scopes' reserve.
  await roundRobin(run, healthy, (w) => {
    const c = w.sr.scope.credential;
    return credentialRun(run, c).calls < limit - reserveOf(run, c);
  });
  // 2. One attempt for each failing scope, least recently read first, within its credential's reserve.
  const tried = new Map<string, number>();
  for (const w of work.filter((x) => x.sr.before.health)) {
    const c = w.sr.scope.credential;
    if ((tried.get(c) ?? 0) >= reserveOf(run, c) || !pending(run, w) || w.sr.calls > 0) continue;
    tried.set(c, (tried.get(c) ?? 0) + 1);
    await read(run, w);
  }
  // 3. Whatever is left, for every scope that has not failed this poll.
  await roundRobin(run, work, () => true);
}
