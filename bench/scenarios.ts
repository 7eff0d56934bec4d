// The benchmark's data, deterministic (same input, same tasks): the windows of one large scope
// (realistic days with a flow of new tasks, and incidents), the small scopes most projects are, the
// 20 new failures, the latency probes' failed records, and the retried restores.
import { makeTasks, type EmulatedTask } from '../local/hss-emulator';

/** Virtual time every run starts at (a whole minute). */
export const T_BASE = Date.UTC(2026, 0, 15, 12, 0, 0);
export const MIN = 60_000;
export const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
/** The emulator's project when a run has one scope. */
export const PROJECT_ID = 'demo-project';
export const REGION = 'cn-north-4';
/** Credentials the emulator accepts by default. */
export const EMULATOR_AK = 'EMULATORAK';
export const EMULATOR_SK = 'EMULATORSK';
export const WEBHOOK_SECRET = 'whsec_YmVuY2gtd2ViaG9vay1zZWNyZXQtMDEyMzQ1Njc4OQ==';

export type ListOrder = 'newest-first' | 'oldest-first';

/**
 * One window of a large scope. `realistic`: a day's history (`failed` and `timeout` already in it,
 * to be alerted once), and new tasks arriving all the time at the day's pace (`size` a day), each
 * waiting 2 minutes, running 8 and succeeding, so some are always in flight; its steady polls are
 * counted (medians over `steadyPolls`). Otherwise an incident: a fixed window with `inFlight` tasks
 * (half running, half waiting) that does not move.
 */
export interface Scenario {
  id: string;
  title: string;
  size: number;
  failed: number;
  timeout: number;
  inFlight: number;
  realistic: boolean;
  /** Polls counted once it has caught up (0: none, an incident is judged by its first polls and its latency). */
  steadyPolls: number;
  /** List orders the worst case is measured in. */
  orders: ReadonlyArray<ListOrder>;
}

const BOTH: ReadonlyArray<ListOrder> = ['newest-first', 'oldest-first'];

/** Steady polls counted per realistic window: medians over at least 100, not one sampled poll. */
const STEADY_POLLS = 120;

function realistic(size: number, label: string): Scenario {
  return {
    id: label,
    title: `${size.toLocaleString('en-US')} tasks a day: 2% failed, 1% timed out, a flow of new tasks`,
    size,
    failed: Math.round(size * 0.02),
    timeout: Math.round(size * 0.01),
    inFlight: 0,
    realistic: true,
    steadyPolls: STEADY_POLLS,
    orders: BOTH,
  };
}

/**
 * The grid: three realistic days (1k, 10k, 50k tasks), then the three ways a night goes wrong at
 * 10,000 tasks (a busy night, a storage incident, a fleet-wide backup window) and all of it at 50,000.
 */
export const SCENARIOS: readonly Scenario[] = [
  realistic(1_000, '1k'),
  realistic(10_000, '10k'),
  realistic(50_000, '50k'),
  {
    id: '10k-busy',
    title: '10,000 tasks: 500 failed, 2,000 in flight (a busy night)',
    size: 10_000,
    failed: 500,
    timeout: 0,
    inFlight: 2_000,
    realistic: false,
    steadyPolls: 0,
    orders: BOTH,
  },
  {
    id: '10k-incident',
    title: '10,000 tasks: 3,000 failed (a storage incident)',
    size: 10_000,
    failed: 3_000,
    timeout: 0,
    inFlight: 0,
    realistic: false,
    steadyPolls: 0,
    orders: BOTH,
  },
  {
    id: '10k-backups',
    title: '10,000 tasks: 5,000 in flight (a fleet-wide backup window)',
    size: 10_000,
    failed: 0,
    timeout: 0,
    inFlight: 5_000,
    realistic: false,
    steadyPolls: 0,
    orders: BOTH,
  },
  {
    id: '50k-all',
    title: '50,000 tasks: 3,000 failed, 5,000 in flight',
    size: 50_000,
    failed: 3_000,
    timeout: 0,
    inFlight: 5_000,
    realistic: false,
    steadyPolls: 0,
    orders: BOTH,
  },
];

/** Status of task `i` of a scenario: fixed counts, spread over the window by a multiplicative hash. */
function statusOf(s: Scenario, i: number): string {
  const bucket = (i * 7919) % s.size;
  if (bucket < s.failed) return 'failed';
  if (bucket < s.failed + s.timeout) return 'timeout';
  if (bucket < s.failed + s.timeout + s.inFlight / 2) return 'running';
  if (bucket < s.failed + s.timeout + s.inFlight) return 'waiting';
  return 'success';
}

const iso = (ms: number) => new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');

/**
 * The window of a scenario at `now`: `size` tasks started within 20 h before it; an incident's
 * in-flight tasks started within the last 2 h (a backup window, not a stuck fleet).
 */
export function windowTasks(s: Scenario, now = T_BASE): EmulatedTask[] {
  const tasks = makeTasks(s.size, { now, seed: 7, status: (i) => statusOf(s, i) });
  tasks.forEach((t, i) => {
    if (t.status !== 'running' && t.status !== 'waiting') return;
    const ago = 2 * MIN + ((i * 7919) % 1_000) * ((2 * HOUR - 2 * MIN) / 1_000);
    t.started_at = iso(now - ago);
  });
  return tasks;
}

/** How long a new task of a realistic day waits, then runs, before it succeeds. */
const WAITS_MS = 2 * MIN;
const RUNS_MS = 8 * MIN;

/**
 * The flow of a realistic day: a new task every `DAY / size` (its host `flow-N`), waiting, then
 * running, then in success; `advance(now)` brings `tasks` to `now` (the emulator's task list: call it
 * before every page and every tick). Starts with the tasks of the last 10 minutes already there.
 */
export function taskFlow(
  s: Scenario,
  tasks: EmulatedTask[],
  start: number,
  projectId?: string,
): { advance(now: number): void } {
  const every = DAY / s.size;
  const live: Array<{ task: EmulatedTask; startedAt: number }> = [];
  let seq = Math.ceil((start - WAITS_MS - RUNS_MS) / every);
  const advance = (now: number): void => {
    for (; seq * every <= now; seq++) {
      const startedAt = Math.floor((seq * every) / 1000) * 1000;
      const task: EmulatedTask = {
        host_id: `flow-${seq}-id`,
        host_name: `flow-${seq}`,
        backup_name: 'daily',
        process: 0,
        status: 'waiting',
        started_at: iso(startedAt),
        error_info: { code: '', message: '' },
        ...(projectId !== undefined ? { project_id: projectId } : {}),
      };
      tasks.push(task);
      live.push({ task, startedAt });
    }
    for (let i = live.length - 1; i >= 0; i--) {
      const { task, startedAt } = live[i]!;
      const age = now - startedAt;
      if (age >= WAITS_MS + RUNS_MS) {
        Object.assign(task, {
          status: 'success',
          process: 100,
          ended_at: iso(startedAt + WAITS_MS + RUNS_MS),
        });
        live.splice(i, 1);
      } else if (age >= WAITS_MS && task.status === 'waiting') {
        Object.assign(task, { status: 'running', process: 10 + Math.floor((age - WAITS_MS) / MIN) * 10 });
      } else if (task.status === 'running') {
        task.process = 10 + Math.floor((age - WAITS_MS) / MIN) * 10;
      }
    }
  };
  advance(start);
  return { advance };
}

/** Count of tasks per status. */
export function statusCounts(tasks: readonly EmulatedTask[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const t of tasks) counts[t.status] = (counts[t.status] ?? 0) + 1;
  return counts;
}

/** A failed record as HSS sends it. */
export function failedTask(host: string, startedAt: number, endedAt = startedAt + 45_000): EmulatedTask {
  return {
    host_id: `${host}-id`,
    host_name: host,
    backup_name: 'nightly',
    process: 60,
    status: 'failed',
    started_at: iso(startedAt),
    ended_at: iso(endedAt),
    error_info: { code: 'BACKUP.0002', message: 'Backup failed: the HSS agent is offline' },
  };
}

/** 20 new failures at `now`, one started every hour back from 30 minutes ago: spread over the whole list. */
export function newFailures(now: number): EmulatedTask[] {
  return Array.from({ length: 20 }, (_, k) => failedTask(`new-failure-${k}`, now - 30 * MIN - k * HOUR));
}

/** Oldest start any window task can have: makeTasks spreads them over 20 h before T_BASE. */
export const OLDEST_START = T_BASE - 20 * HOUR - 2 * MIN;

/** Tasks a small scope has in its window: a project with daily backups of ~150 hosts. */
const SMALL_SCOPE_TASKS = 150;

/** A small scope's day at T_BASE: 150 tasks, 3 failed and 2 timed out (alerted before measuring), the rest succeeded. */
export function smallScopeTasks(projectId: string, seed: number): EmulatedTask[] {
  return makeTasks(SMALL_SCOPE_TASKS, {
    now: T_BASE,
    seed,
    projectId,
    hostPrefix: `${projectId}-host-`,
    status: (i) => (i % 50 === 7 ? 'failed' : i % 75 === 11 ? 'timeout' : 'success'),
  });
}

/** `n` projects' names, in order. */
export function projectNames(n: number): string[] {
  return Array.from({ length: n }, (_, i) => `project-${String(i).padStart(2, '0')}`);
}

/**
 * A failed restore and its retry: the failure ends at `failedAt` (it is not in the API before), the
 * retry of the same host and backup starts a minute later and succeeds at `succeededAt`, 20 minutes
 * after the failure.
 */
export interface Retried {
  host: string;
  projectId: string;
  failedAt: number;
  retryAt: number;
  succeededAt: number;
}

/** How many retried failures each scope count gets (as the issue measured the previous release: 3, 20, 30). */
const RETRIED_FAILURES: Readonly<Record<number, number>> = { 1: 3, 10: 20, 30: 30 };

/** The retried failures of `projects` from `start`: spread over an hour, round-robin over the scopes. */
export function retriedFailures(projects: readonly string[], start: number): Retried[] {
  const count = RETRIED_FAILURES[projects.length] ?? projects.length;
  return Array.from({ length: count }, (_, k) => {
    const failedAt = start + Math.floor((k * HOUR) / count) + 17_000;
    return {
      host: `retried-${k}`,
      projectId: projects[k % projects.length]!,
      failedAt,
      retryAt: failedAt + MIN,
      succeededAt: failedAt + 20 * MIN,
    };
  });
}

/** Applies the retried failures' steps due by `now` to `tasks` (the emulator's list); idempotent. */
export function retryTimeline(retried: readonly Retried[], tasks: EmulatedTask[]): (now: number) => void {
  const state = retried.map(() => ({
    failed: false,
    retry: undefined as EmulatedTask | undefined,
    done: false,
  }));
  return (now) => {
    retried.forEach((r, i) => {
      const s = state[i]!;
      if (!s.failed && now >= r.failedAt) {
        s.failed = true;
        tasks.push({ ...failedTask(r.host, r.failedAt - 10 * MIN, r.failedAt), project_id: r.projectId });
      }
      if (!s.retry && now >= r.retryAt) {
        s.retry = {
          host_id: `${r.host}-id`,
          host_name: r.host,
          backup_name: 'nightly',
          process: 5,
          status: 'running',
          started_at: iso(r.retryAt),
          error_info: { code: '', message: '' },
          project_id: r.projectId,
        };
        tasks.push(s.retry);
      }
      if (s.retry && !s.done && now >= r.succeededAt) {
        s.done = true;
        Object.assign(s.retry, { status: 'success', process: 100, ended_at: iso(r.succeededAt) });
      }
    });
  };
}
