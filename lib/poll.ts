// Placeholder signature so entry points can be wired while the engine is written; replaced by the real poll.
import type { Clock, Log, Sleep } from './log';
import type { TaskSource } from './hss/types';
import type { Notifier } from './notify/types';
import type { KnownStatus, Scope } from './task';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';

export interface PollOptions {
  scope: Scope;
  /** Look-back window in days, 1..30. */
  lastDays: number;
  /** Statuses that alert (default failed, timeout). */
  alertStatuses: readonly KnownStatus[];
  /** Record the window without alerting (for users who do not want the backlog). */
  baseline?: boolean;
  /** Fetch and decide, write nothing and send nothing; the summary lists what would be sent. */
  dryRun?: boolean;
}

export interface PollDeps {
  hss: TaskSource;
  dynamo: DynamoDBClient;
  tableName: string;
  notifiers: readonly Notifier[];
  clock: Clock;
  sleep: Sleep;
  log: Log;
}

export interface PollSummary {
  tasksSeen: number;
  transitions: number;
  alertsSent: number;
  hssCalls: number;
}

export async function poll(_deps: PollDeps, _options: PollOptions): Promise<PollSummary> {
  throw new Error('not implemented yet');
}
