// Phase 3, sweep: what the alert lists left of the budget goes to the in-flight lists (to see tasks
// move, finish or stall) and to follow-ups of tasks that left the window unfinished, taken in turn.
// Neither ever fails the poll: a failure is logged and tried again next time.
import { decideFollowUp, followUpDueAt, followUpQuery } from '../diff/decide';
import { entryKey, toSec } from '../state/entry';
import { oneLine } from '../errors';
import { HssError, HssThrottledError } from '../hss/errors';
import type { Task } from '../model';
import { dropEntry, putEntry, type FollowUpRef } from '../state/records';
import { taskKey } from '../task';
import { lostTrackNotice } from './notices';
import { leftoverOrder, type SweepJob } from './plan';
import {
  alertMessage,
  attemptsFor,
  decideContext,
  digestOf,
  noteSucceeded,
  raiseAlerts,
  readPage,
  scanOf,
  switchPlan,
  targetOf,
} from './read';
import { credentialRun, type PollRun, type ScopeRun } from './run';

/** Pages one follow-up try reads before it gives its turn back (a host name can match thousands). */
const FOLLOW_UP_PAGES = 2;
/** Every this many polls, one HSS call is kept for the in-flight sweep before the alert lists. */
export const SWEEP_EVERY = 5;

/** What a follow-up try read: the task if found, where to go on, whether the answer was read to its end. */
interface FollowUpRead {
  found?: Task;
  offset: number;
  exhausted: boolean;
  failed: boolean;
  outOfTime: boolean;
}

/** Asks HSS by host name for the task of `ref`, FOLLOW_UP_PAGES pages at most. */
async function readFollowUp(
  run: PollRun,
  sr: ScopeRun,
  ref: FollowUpRef,
  query: { lastDays: number; resourceName: string },
): Promise<FollowUpRead> {
  const out: FollowUpRead = { offset: ref.offset, exhausted: false, failed: false, outOfTime: false };
  const credential = credentialRun(run, sr.scope.credential);
  try {
    for (let pages = 0; pages < FOLLOW_UP_PAGES && !out.found && !out.exhausted; pages++) {
      credential.wanted = true;
      const result = await run.deps.reader.fetchPage(
        targetOf(sr.scope),
        query,
        out.offset,
        run.options.fetchDeadline,
        run.pageSize,
        attemptsFor(run, sr),
      );
      if (result.kind === 'out-of-time') {
        credential.exhausted = true;
        run.summary.outOfTime = true;
        out.outOfTime = pages === 0;
        break;
      }
      credential.calls += 1;
      run.summary.pagesRead += 1;
      out.found = result.page.tasks.find((t) => entryKey(sr.scope.projectId, taskKey(t)) === ref.key);
      out.offset += result.page.rows;
      if (result.page.rows < run.pageSize) out.exhausted = true;
    }
  } catch (err) {
    // A query HSS keeps failing (for this host name) counts as a try like any other, so it backs
    // off and ends in one lost-track notice; throttling is ours, not the task's: not counted.
    if (!(err instanceof HssError) || err instanceof HssThrottledError) throw err;
    run.deps.log.warn(`A follow-up query failed for scope ${sr.scope.id}: ${oneLine(err)}`);
    out.failed = true;
  }
  return out;
}

/** One follow-up try: ask HSS by host name how a task that left the window ended. */
async function followUp(run: PollRun, sr: ScopeRun, ref: FollowUpRef): Promise<'done' | 'out-of-time'> {
  const digest = await digestOf(run, sr);
  const entry = digest.entries.get(ref.key);
  const forget = (): void => {
    sr.state.followUps = sr.state.followUps.filter((r) => r.key !== ref.key);
  };
  if (!entry) {
    forget();
    return 'done';
  }
  run.summary.followUps.tried += 1;
  const task = (await run.deps.store.getTasks(sr.scope.projectId, [ref.key])).get(ref.key);
  const query = followUpQuery(entry, task, run.deps.clock());
  const read: FollowUpRead = query.queryable
    ? await readFollowUp(run, sr, ref, query)
    : { offset: 0, exhausted: true, failed: false, outOfTime: false };
  if (read.outOfTime) return 'out-of-time';
  const ctx = decideContext(run);
  const decision = decideFollowUp(entry, read.found, query.queryable, ctx);
  const now = ctx.now;
  switch (decision.decision) {
    case 'ended': {
      run.summary.followUps.ended += 1;
      const found = read.found!;
      const observed = decision.observed!;
      if (observed.alert) {
        await raiseAlerts(
          run,
          sr,
          [{ alert: alertMessage(sr.scope, found, ref.key, observed.alert, now), key: ref.key }],
          now,
        );
      } else if (found.status === 'success') {
        noteSucceeded(run, sr, ref.key, found);
      } else if (found.status !== 'unknown') {
        const ended = run.life.ended.get(sr.scope.id) ?? new Set<string>();
        run.life.ended.set(sr.scope.id, ended.add(ref.key));
      }
      dropEntry(digest, ref.key, toSec(now));
      forget();
      break;
    }
    case 'lost-track': {
      run.summary.followUps.lostTrack += 1;
      const why = query.queryable
        ? `still unresolved after ${decision.entry.tries} follow-up queries${read.failed ? ', the last of which HSS failed' : ''}`
        : query.why;
      run.deps.log.warn('Lost track of a task that left the window unfinished', {
        scope: sr.scope.id,
        key: ref.key,
        why,
      });
      run.notices.push(lostTrackNotice(sr.scope, ref.key, task, why, now));
      dropEntry(digest, ref.key, toSec(now));
      forget();
      break;
    }
    default: {
      putEntry(digest, decision.entry);
      const next = sr.state.followUps.find((r) => r.key === ref.key);
      if (next) {
        next.dueAt = followUpDueAt(decision.entry, run.options.periodMs);
        // Start over next time once the answer was read to its end without finding the task.
        next.offset = read.exhausted || read.found ? 0 : read.offset;
      }
    }
  }
  return 'done';
}

/** Hosts of open alerts one `ask` job asks after (one call each). */
const ASK_HOSTS = 2;
/** Open alerts one `ask` job reads to find them (one bounded Query, not the scope's every one). */
const ASK_READ = 20;

/**
 * The hosts an ask goes after, from open alerts in the order it goes round them: the first `count`
 * distinct host names (blank ones skipped), and after asking each one, the place to go on from: that
 * of the last alert before the first one whose host is not asked yet.
 */
export function nextAsk(
  page: ReadonlyArray<{ place: string; hostName: string }>,
  count: number,
): Array<{ host: string; through: string }> {
  const hosts: string[] = [];
  for (const { hostName } of page) {
    if (hostName.trim() === '' || hosts.includes(hostName)) continue;
    if (hosts.length === count) break;
    hosts.push(hostName);
  }
  return hosts.map((host, i) => {
    const asked = new Set(hosts.slice(0, i + 1));
    let through = '';
    for (const item of page) {
      if (item.hostName.trim() !== '' && !asked.has(item.hostName)) break;
      through = item.place;
    }
    return { host, through };
  });
}

/**
 * Asks HSS by host name after the hosts of a large scope's open alerts, going round them a few at a
 * time (ASK_READ read, ASK_HOSTS asked): a task of that host in `success` (a retry, or the stuck task
 * itself) may resolve them, and hosts that never recover do not keep the others waiting. No open
 * alert left: the scope stops asking until one is raised.
 */
async function ask(run: PollRun, sr: ScopeRun): Promise<void> {
  const now = run.deps.clock();
  const { lifecycle } = run.deps;
  const after = sr.state.askedAfter;
  let page = await lifecycle.openAfter(sr.scope.id, after, ASK_READ);
  // Round the list: on from its start, up to where this page began.
  if (after !== undefined && page.length < ASK_READ) {
    const wrapped = await lifecycle.openAfter(sr.scope.id, undefined, ASK_READ - page.length);
    page = [...page, ...wrapped.filter((p) => p.place <= after)];
  }
  if (page.length === 0) {
    sr.state.mayHaveOpen = false;
    sr.state.askedAt = now;
    delete sr.state.askedAfter;
    return;
  }
  const watched = new Set(page.map((p) => p.open.alert.task.hostId));
  const credential = credentialRun(run, sr.scope.credential);
  const turns = nextAsk(
    page.map((p) => ({ place: p.place, hostName: p.open.alert.task.hostName })),
    ASK_HOSTS,
  );
  if (turns.length === 0) {
    // Only blank host names here: nothing to ask by name; go on past them next time.
    sr.state.askedAt = now;
    sr.state.askedAfter = page[page.length - 1]!.place;
    return;
  }
  for (const { host: resourceName, through } of turns) {
    credential.wanted = true;
    const result = await run.deps.reader.fetchPage(
      targetOf(sr.scope),
      { lastDays: sr.windowDays, resourceName },
      0,
      run.options.fetchDeadline,
      run.pageSize,
      attemptsFor(run, sr),
    );
    if (result.kind === 'out-of-time') {
      credential.exhausted = true;
      run.summary.outOfTime = true;
      return;
    }
    credential.calls += 1;
    run.summary.pagesRead += 1;
    sr.state.askedAt = now;
    sr.state.askedAfter = through;
    for (const task of result.page.tasks) {
      if (task.status === 'success' && watched.has(task.hostId))
        noteSucceeded(run, sr, entryKey(sr.scope.projectId, taskKey(task)), task);
    }
  }
}

/** One unfiltered page of a large scope: when it holds the whole window, the scope is read that way again. */
async function probe(run: PollRun, sr: ScopeRun): Promise<void> {
  const at = run.deps.clock();
  const scan = scanOf(run, sr, 'all');
  if ((await readPage(run, sr, scan)) === 'out-of-time') return;
  sr.state.probedAt = at;
  if (scan.complete) switchPlan(run, sr, 'whole');
}

/** Runs one leftover job; true when it is finished for this poll. */
async function runJob(run: PollRun, job: SweepJob): Promise<boolean> {
  const sr = run.byId.get(job.scopeId)!;
  if (credentialRun(run, sr.scope.credential).exhausted) return true;
  try {
    switch (job.kind) {
      case 'sweep': {
        const scan = scanOf(run, sr, job.list);
        return (await readPage(run, sr, scan)) === 'out-of-time' || scan.complete;
      }
      case 'follow-up':
        await followUp(run, sr, job.ref);
        return true;
      case 'ask':
        await ask(run, sr);
        return true;
      case 'probe':
        await probe(run, sr);
        return true;
    }
  } catch (err) {
    if (!(err instanceof HssError)) throw err;
    run.deps.log.warn(`Leftover work (${job.kind}) failed for scope ${sr.scope.id}: ${oneLine(err)}`);
    return true;
  }
}

/** A scope whose leftover work may be done: not failed this poll, and if it failed lately, read this poll. */
function sweepable(sr: ScopeRun): boolean {
  return !sr.failed && (!sr.before.health || sr.calls > 0);
}

/**
 * Spends calls on the leftover work of the scopes read without failure (in-flight sweeps of large
 * scopes, due follow-ups, asking after open alerts' hosts, probing), in turn, until it is done,
 * their credentials are spent or `maxCalls` jobs ran; `sweepsOnly` keeps to the in-flight sweeps.
 */
export async function sweep(run: PollRun, maxCalls: number, sweepsOnly = false): Promise<void> {
  const jobs = leftoverOrder(
    run.scopes.filter(sweepable).map((sr) => sr.state),
    run.deps.clock(),
  ).filter((j) => !sweepsOnly || j.kind === 'sweep');
  run.summary.followUps.due = Math.max(
    run.summary.followUps.due,
    jobs.filter((j) => j.kind === 'follow-up').length,
  );
  let active = [...jobs];
  let calls = 0;
  while (active.length > 0 && calls < maxCalls) {
    for (const job of [...active]) {
      calls += 1;
      if (await runJob(run, job)) active = active.filter((j) => j !== job);
      if (calls >= maxCalls) break;
    }
  }
}
