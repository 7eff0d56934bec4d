import { createHash } from 'node:crypto';

/** Statuses the HSS API documents for a backup or restore task. */
export const TASK_STATUSES = ['success', 'skipped', 'failed', 'running', 'timeout', 'waiting'] as const;
export type KnownStatus = (typeof TASK_STATUSES)[number];
/** A status string the API sent that is not documented; `rawStatus` keeps the value. */
export type TaskStatus = KnownStatus | 'unknown';

/** A list the operation-logs API can give: the tasks of one status, or `all` of them (no status filter). */
export type ListName = KnownStatus | 'all';

/** Statuses of a task that has not finished yet. */
export const IN_FLIGHT_STATUSES: readonly KnownStatus[] = ['running', 'waiting'];

export function isKnownStatus(value: string): value is KnownStatus {
  return (TASK_STATUSES as readonly string[]).includes(value);
}

/** One backup or restore task as read from the operation-logs API, validated and normalised. */
export interface Task {
  hostId: string;
  hostName: string;
  backupName: string;
  status: TaskStatus;
  /** The status string exactly as the API sent it. */
  rawStatus: string;
  /** Progress in percent (0..100), absent when the API omits it. */
  process?: number;
  /** Start time as the API sent it (the identity of the task, so never rewritten). */
  startedAt: string;
  /** End time (`ended_at`, or `updated_at` when `ended_at` is missing), as sent. */
  endedAt?: string;
  /** `startedAt` as epoch ms (ISO with zone, epoch ms/s as number or digits; zone-less read as UTC); undefined when unreadable. */
  startedMs?: number;
  /** `endedAt` as epoch ms, read like `startedMs`. */
  endedMs?: number;
  /** True when a time had no zone and was read as UTC: window-edge decisions then allow +-14 h. */
  zoneless?: boolean;
  errorCode?: string;
  errorMessage?: string;
}

/** Longest task key (ASCII); DynamoDB caps a sort key, which holds the key, at 1024 bytes. */
const TASK_KEY_MAX_LENGTH = 768;

/**
 * The API gives no task id: a task is identified by host id + backup name + start time. A key
 * longer than TASK_KEY_MAX_LENGTH keeps its first 700 characters and a SHA-256 of the whole.
 */
export function taskKey(task: Pick<Task, 'hostId' | 'backupName' | 'startedAt'>): string {
  const key = [task.hostId, task.backupName, task.startedAt].map(encodeURIComponent).join('#');
  if (key.length <= TASK_KEY_MAX_LENGTH) return key;
  // Unbounded API text (a 4000-character backup name) must not make every poll fail on the key limit.
  return `${key.slice(0, 700)}~${createHash('sha256').update(key).digest('hex').slice(0, 40)}`;
}
