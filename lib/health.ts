import { createHash } from 'node:crypto';
import { oneLine } from './errors';
import type { Clock, Log } from './log';
import type { Notice, Notifier } from './notify/types';
import type { Health, StateStore } from './state/store';
import { scopeId, type Scope } from './task';

/** Consecutive failed polls after which destinations hear that monitoring is not working. */
export const DEFAULT_FAILURE_THRESHOLD = 3;

export interface HealthDeps {
  store: StateStore;
  notifiers: readonly Notifier[];
  clock: Clock;
  log: Log;
}

/**
 * Records a failed poll; once `threshold` polls in a row have failed, sends one "monitoring is not
 * working" notice per outage (whichever poll claims it first). Never throws: it runs on the failure
 * path, where the poll's own error is what the caller reports.
 */
export async function reportFailedPoll(
  deps: HealthDeps,
  scope: Scope,
  error: unknown,
  threshold = DEFAULT_FAILURE_THRESHOLD,
): Promise<Health | undefined> {
  const { store, clock, log } = deps;
  try {
    const health = await store.recordFailure(scope, clock(), oneLine(error));
    if (health.failures >= threshold && !health.noticed && (await store.claimDownNotice(scope))) {
      const since = new Date(health.since).toISOString();
      await tell(deps, {
        kind: 'monitoring-down',
        id: noticeId('down', scope, health.since),
        scope,
        summary: `HSS restore alerting is NOT working: the last ${health.failures} polls failed (since ${since}). Failed restores are not being reported until this is fixed.`,
        detail: health.lastError,
        at: clock(),
      });
    }
    return health;
  } catch (err) {
    log.error(`Could not record the failed poll: ${oneLine(err)}`);
    return undefined;
  }
}

/** Ends an outage after a successful poll; sends one "recovered" notice if the down notice went out. */
export async function reportRecovered(deps: HealthDeps, scope: Scope): Promise<void> {
  const ended = await deps.store.clearHealth(scope);
  if (!ended?.noticed) return;
  const minutes = Math.round((deps.clock() - ended.since) / 60_000);
  await tell(deps, {
    kind: 'monitoring-recovered',
    id: noticeId('recovered', scope, ended.since),
    scope,
    summary: `HSS restore alerting is working again after ${ended.failures} failed polls (about ${minutes} min). Alerts held back meanwhile follow now.`,
    at: deps.clock(),
  });
}

async function tell(deps: HealthDeps, notice: Notice): Promise<void> {
  await Promise.all(
    deps.notifiers.map(async (n) => {
      const outcome = await n.notice(notice);
      if (outcome.kind === 'ok') deps.log.info(`Sent ${notice.kind} notice`, { destination: n.description });
      else
        deps.log.error(`Could not send ${notice.kind} notice`, {
          destination: n.description,
          error: outcome.error,
        });
    }),
  );
}

function noticeId(kind: string, scope: Scope, since: number): string {
  return createHash('sha256')
    .update(`${kind}\n${scopeId(scope)}\n${since}`)
    .digest('hex')
    .slice(0, 32);
}
