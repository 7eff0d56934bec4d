// The benchmark's data: the windows of tasks served by the emulator, the schedule ticks the polls
// run at, and the "1% changed + 20 new failures" mutation. Deterministic: same input, same tasks.
import { makeTasks, type EmulatedTask } from '../local/hss-emulator';
import type { KnownStatus, Scope } from '../lib/task';

/** Window sizes measured (tasks in the look-back window). */
export const SIZES = [100, 1_000, 10_000] as const;

/** Schedule period of the deployed function (serverless.yml `periodSeconds`). */
export const PERIOD_MS = 300_000;

/** Virtual time of the bench: a multiple of two periods, so tick 0 sweeps `running` (lib/poll.ts sweepStatus). */
export const T_BASE = Date.UTC(2026, 0, 15, 12, 0, 0);

/** Where tick `k` of the schedule fires: one minute into its period. */
export function tickTime(k: number): number {
  return T_BASE + k * PERIOD_MS + 60_000;
}

/** The emulator's default project, and the scope every poll runs for. */
export const PROJECT_ID = 'demo-project';
export const SCOPE: Scope = { projectId: PROJECT_ID, enterpriseProjectId: '0', region: 'ap-southeast-1' };
/** The deployed defaults (serverless.yml params): a one-day window, alerts on failed and timeout. */
export const LAST_DAYS = 1;
export const ALERT_STATUSES: readonly KnownStatus[] = ['failed', 'timeout'];
/** Credentials the emulator accepts by default. */
export const EMULATOR_AUTH = { kind: 'aksk', ak: 'EMULATORAK', sk: 'EMULATORSK' } as const;

/** Status mixes: `realistic` is the one the tables use; `heavy` is makeTasks' own default mix. */
export const MIXES = {
  /** Per 200 tasks: 2 failed, 1 timeout, 3 running, 2 waiting, 2 skipped, 190 success. */
  realistic: 'realistic',
  /** makeTasks' default: 70% success, 6% each of failed, timeout, running, waiting, skipped. */
  heavy: 'heavy',
} as const;
export type Mix = keyof typeof MIXES;

/** Shares of the realistic mix, in tasks per 200 (the API's page size, so the arithmetic stays visible). */
const REALISTIC_PER_200: ReadonlyArray<readonly [string, number]> = [
  ['failed', 2],
  ['timeout', 1],
  ['running', 3],
  ['waiting', 2],
  ['skipped', 2],
];

/** Status of task `i` in the realistic mix: a fixed share per 200, spread over the window by a multiplicative hash. */
export function realisticStatus(i: number): string {
  let bucket = (i * 7919) % 200;
  for (const [status, count] of REALISTIC_PER_200) {
    if (bucket < count) return status;
    bucket -= count;
  }
  return 'success';
}

/** A fresh window of `n` tasks started within 20 h before T_BASE, newest first. */
export function windowTasks(n: number, mix: Mix = 'realistic'): EmulatedTask[] {
  return makeTasks(n, { now: T_BASE, seed: 7, ...(mix === 'realistic' ? { status: realisticStatus } : {}) });
}

/** Count of tasks per status in a window. */
export function statusCounts(tasks: readonly EmulatedTask[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const t of tasks) counts[t.status] = (counts[t.status] ?? 0) + 1;
  return counts;
}

/** What scenario (c) did to the window. */
export interface Mutation {
  changed: number;
  /** How many of the changed tasks moved into an alert status. */
  changedIntoAlert: number;
  newFailures: number;
  /** Alerts a correct poller must raise for this mutation. */
  expectedAlerts: number;
}

// Only unfinished tasks change in real life; the cycle says what each changed task becomes.
const CHANGE_CYCLE = [
  'running>success',
  'running>success',
  'running>success',
  'running>success',
  'running>success',
  'waiting>running',
  'waiting>running',
  'running>failed',
  'running>failed',
  'running>timeout',
] as const;

/**
 * Scenario (c): changes 1% of the window (at least one task) and adds 20 tasks that started in the
 * last minutes and already failed. Edits `tasks` in place, because the emulator reads it live.
 */
export function mutateWindow(tasks: EmulatedTask[], now: number): Mutation {
  const count = Math.max(1, Math.round(tasks.length / 100));
  const running = tasks.filter((t) => t.status === 'running');
  const waiting = tasks.filter((t) => t.status === 'waiting');
  let changedIntoAlert = 0;
  let changed = 0;
  for (let k = 0; k < count; k++) {
    let [from, to] = CHANGE_CYCLE[k % CHANGE_CYCLE.length]!.split('>') as [string, string];
    // When a list runs dry the other one supplies the task (as a finish), so the count holds.
    if (from === 'waiting' && waiting.length === 0) [from, to] = ['running', 'success'];
    if (from === 'running' && running.length === 0)
      [from, to] = ['waiting', to === 'success' ? 'running' : to];
    const task = (from === 'waiting' ? waiting : running).shift();
    if (!task) break;
    finish(task, to, now);
    changed += 1;
    if ((ALERT_STATUSES as readonly string[]).includes(to)) changedIntoAlert += 1;
  }
  const fresh = makeTasks(20, { now, status: 'failed', hostPrefix: 'ecs-new-', seed: 99 }).map((t, i) => {
    // makeTasks spreads tasks over 20 h; new failures are recent ones.
    const started = Math.floor((now - (i + 2) * 60_000) / 1000) * 1000;
    return { ...t, started_at: iso(started), ended_at: iso(started + 45_000) };
  });
  tasks.unshift(...fresh);
  return {
    changed,
    changedIntoAlert,
    newFailures: fresh.length,
    expectedAlerts: changedIntoAlert + fresh.length,
  };
}

function finish(task: EmulatedTask, status: string, now: number): void {
  task.status = status;
  if (status === 'running') {
    task.process = 35;
    return;
  }
  task.ended_at = iso(Math.floor(now / 1000) * 1000 - 30_000);
  task.process = status === 'success' ? 100 : 60;
  task.error_info =
    status === 'failed'
      ? { code: 'BACKUP.0002', message: 'Backup failed: the HSS agent is offline' }
      : status === 'timeout'
        ? { code: 'BACKUP.0099', message: 'The task did not finish within the time limit' }
        : { code: '', message: '' };
}

function iso(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}
