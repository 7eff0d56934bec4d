import { createHash } from 'node:crypto';
import { scopeId, taskKey, type Scope, type Task, type TaskStatus } from '../task';

/** Why a task produced an alert. */
export type AlertReason = 'first-seen' | 'moved' | 'resolved-after-window';

/** One task that entered an alert status; what every notifier renders. */
export interface Alert {
  /** Stable id for this task and status (hex), the receivers' dedup key. */
  id: string;
  scope: Scope;
  /** The task as fetched when the transition was detected. */
  task: Task;
  /** Status this poll found (`failed`, `timeout`, or another configured alert status). */
  status: TaskStatus;
  /** Status last seen before, undefined when the task was first seen in `status`. */
  previousStatus?: TaskStatus;
  reason: AlertReason;
  /** When this product detected the transition, epoch ms. */
  detectedAt: number;
}

/** Stable event id: the same scope, task and status always give the same id. */
export function alertId(scope: Scope, task: Task, status: TaskStatus): string {
  return createHash('sha256')
    .update(`${scopeId(scope)}\n${taskKey(task)}\n${status}`)
    .digest('hex')
    .slice(0, 32);
}
