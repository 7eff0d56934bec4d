import type { Alert } from '../../lib/diff/alert';
import type { TaskQuery, TaskSource } from '../../lib/hss/types';
import type { Log } from '../../lib/log';
import type { DeliveryOutcome, Notice, Notifier, OutcomeListener } from '../../lib/notify/types';
import type { StoredTask } from '../../lib/state/store';
import { taskKey, type Scope, type Task } from '../../lib/task';

export const SCOPE: Scope = { projectId: 'proj-1', enterpriseProjectId: '0', region: 'ap-southeast-1' };
export const T0 = Date.UTC(2026, 10, 27, 12, 0, 0);
export const MIN = 60_000;

/** A clock tests move by hand. */
export function manualClock(start = T0): {
  now: () => number;
  advance: (ms: number) => void;
  set: (ms: number) => void;
} {
  let t = start;
  return { now: () => t, advance: (ms) => (t += ms), set: (ms) => (t = ms) };
}

export function task(overrides: Partial<Task> & { hostId: string }): Task {
  return {
    hostName: `ecs-${overrides.hostId}`,
    backupName: 'autobk_1',
    status: 'running',
    rawStatus: overrides.status ?? 'running',
    process: 50,
    startedAt: new Date(T0 - 3_600_000).toISOString(),
    ...overrides,
  };
}

/** An in-memory TaskSource honouring status, resource name and last_days; counts calls (200 a page). */
export function fakeTaskSource(
  clock: () => number,
): TaskSource & { tasks: Task[]; calls: number; queries: TaskQuery[] } {
  const source = {
    tasks: [] as Task[],
    calls: 0,
    queries: [] as TaskQuery[],
    async listTasks(query: TaskQuery) {
      source.queries.push(query);
      const since = clock() - (query.lastDays ?? 1) * 86_400_000;
      const tasks = source.tasks
        .filter((t) => !query.status || t.status === query.status)
        .filter((t) => !query.resourceName || t.hostName === query.resourceName)
        .filter((t) => Date.parse(t.startedAt) >= since)
        .map((t) => ({ ...t }));
      const calls = Math.max(1, Math.ceil(tasks.length / 200));
      source.calls += calls;
      return { tasks, totalNum: tasks.length, calls };
    },
  };
  return source;
}

/** A notifier that records what it was asked to deliver and answers from a script. */
export function recordingNotifier(id = 'slack'): Notifier & {
  batches: Alert[][];
  delivered: Alert[];
  notices: Notice[];
  answer: (alert: Alert) => DeliveryOutcome;
} {
  const n = {
    id,
    description: `https://${id}.example`,
    batches: [] as Alert[][],
    delivered: [] as Alert[],
    notices: [] as Notice[],
    answer: (_alert: Alert): DeliveryOutcome => ({ kind: 'ok' }),
    async deliver(alerts: readonly Alert[], onOutcome?: OutcomeListener) {
      n.batches.push([...alerts]);
      const outcomes: DeliveryOutcome[] = [];
      for (const [i, a] of alerts.entries()) {
        const outcome = n.answer(a);
        outcomes.push(outcome);
        if (outcome.kind === 'ok') n.delivered.push(a);
        await onOutcome?.(i, outcome);
      }
      return outcomes;
    },
    async notice(notice: Notice): Promise<DeliveryOutcome> {
      n.notices.push(notice);
      return { kind: 'ok' };
    },
  };
  return n;
}

export interface LogLine {
  level: string;
  message: string;
  extra?: Record<string, unknown>;
}

/** A Log that keeps every line. */
export function recordingLog(): Log & { lines: LogLine[] } {
  const lines: LogLine[] = [];
  const at =
    (level: string) =>
    (message: string, extra?: Record<string, unknown>): void => {
      lines.push({ level, message, extra });
    };
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

/**
 * Virtual time for code that waits: `sleep` advances the clock instead of waiting, so a 60-second
 * rate window passes instantly and every wait is recorded in `time.sleeps`.
 */
export function virtualTime(start = T0) {
  const time = { now: start, sleeps: [] as number[] };
  return {
    time,
    clock: () => time.now,
    sleep: async (ms: number) => {
      time.sleeps.push(ms);
      time.now += ms;
    },
  };
}

/** The stored state of `t` as the store would hold it after seeing it (tracked, nothing alerted). */
export function storedTask(t: Task, overrides: Partial<StoredTask> = {}): StoredTask {
  return {
    key: taskKey(t),
    hostId: t.hostId,
    hostName: t.hostName,
    backupName: t.backupName,
    startedAt: t.startedAt,
    status: t.status,
    rawStatus: t.rawStatus,
    alerted: [],
    tracked: true,
    changedAt: T0,
    expiresAt: Math.ceil(T0 / 1000) + 3 * 86_400,
    ...overrides,
  };
}
