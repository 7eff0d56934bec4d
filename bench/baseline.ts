// The naive poller the benchmark compares against: what a typical first version does. Every tick it
// reads the whole window (no status filter, every page of 200), then for each task one GetItem of
// its last status and one PutItem of the current one, and alerts when a task moved into (or was
// first seen in) an alert status. It is correct, just expensive; it is never used outside bench/.
import {
  CreateTableCommand,
  GetItemCommand,
  PutItemCommand,
  type AttributeValue,
  type ConsumedCapacity,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { alertId, type Alert } from '../lib/diff/alert';
import type { TaskSource } from '../lib/hss/types';
import type { Clock } from '../lib/log';
import type { Notifier } from '../lib/notify/types';
import { taskKey, type KnownStatus, type Scope, type Task } from '../lib/task';

export interface BaselineDeps {
  hss: TaskSource;
  dynamo: DynamoDBClient;
  tableName: string;
  notifiers: readonly Notifier[];
  clock: Clock;
  /** Tasks in flight at once (default 16): kinder to the baseline's wall time than a plain loop; counts are the same. */
  concurrency?: number;
}

export interface BaselineOptions {
  scope: Scope;
  lastDays: number;
  alertStatuses: readonly KnownStatus[];
}

/** The same counters as lib/poll.ts PollSummary, counted by hand. */
export interface BaselineSummary {
  tasksSeen: number;
  alertsNew: number;
  alertsSent: number;
  hssCalls: number;
  dynamoRequests: number;
  readCapacity: number;
  writeCapacity: number;
  durationMs: number;
}

/** A one-key table: `pk` = task key. */
export async function createBaselineTable(client: DynamoDBClient, tableName: string): Promise<void> {
  await client.send(
    new CreateTableCommand({
      TableName: tableName,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
    }),
  );
}

/** One naive poll: fetch everything, GetItem + PutItem per task, alert on moves into an alert status. */
export async function baselinePoll(deps: BaselineDeps, options: BaselineOptions): Promise<BaselineSummary> {
  const { dynamo, tableName, clock } = deps;
  const startedAt = clock();
  const summary: BaselineSummary = {
    tasksSeen: 0,
    alertsNew: 0,
    alertsSent: 0,
    hssCalls: 0,
    dynamoRequests: 0,
    readCapacity: 0,
    writeCapacity: 0,
    durationMs: 0,
  };
  const units = (c: ConsumedCapacity | undefined): number => c?.CapacityUnits ?? 0;

  const list = await deps.hss.listTasks({ lastDays: options.lastDays });
  summary.hssCalls = list.calls;
  summary.tasksSeen = list.tasks.length;

  const alerts: Alert[] = [];
  async function handle(task: Task): Promise<void> {
    const key = taskKey(task);
    const got = await dynamo.send(
      new GetItemCommand({ TableName: tableName, Key: { pk: { S: key } }, ReturnConsumedCapacity: 'TOTAL' }),
    );
    summary.dynamoRequests += 1;
    summary.readCapacity += units(got.ConsumedCapacity);
    const previous = got.Item?.status?.S;
    if (previous !== task.status && (options.alertStatuses as readonly string[]).includes(task.status)) {
      alerts.push({
        id: alertId(options.scope, task, task.status),
        scope: options.scope,
        task,
        status: task.status,
        ...(previous ? { previousStatus: previous as Task['status'] } : {}),
        reason: previous ? 'moved' : 'first-seen',
        detectedAt: clock(),
      });
    }
    const put = await dynamo.send(
      new PutItemCommand({
        TableName: tableName,
        Item: itemOf(key, task, clock()),
        ReturnConsumedCapacity: 'TOTAL',
      }),
    );
    summary.dynamoRequests += 1;
    summary.writeCapacity += units(put.ConsumedCapacity);
  }

  const concurrency = deps.concurrency ?? 16;
  for (let i = 0; i < list.tasks.length; i += concurrency) {
    await Promise.all(list.tasks.slice(i, i + concurrency).map(handle));
  }

  summary.alertsNew = alerts.length;
  // One batch per destination at the end, through the same notifiers as the real poll, so the
  // latency difference measures fetching and state, not message formatting.
  for (const notifier of deps.notifiers) {
    if (alerts.length === 0) break;
    const outcomes = await notifier.deliver(alerts);
    summary.alertsSent += outcomes.filter((o) => o.kind === 'ok').length;
  }
  summary.durationMs = clock() - startedAt;
  return summary;
}

function itemOf(key: string, task: Task, now: number): Record<string, AttributeValue> {
  const item: Record<string, AttributeValue> = {
    pk: { S: key },
    status: { S: task.status },
    hostName: { S: task.hostName },
    backupName: { S: task.backupName },
    startedAt: { S: task.startedAt },
    seenAt: { N: String(now) },
  };
  if (task.endedAt) item.endedAt = { S: task.endedAt };
  if (task.errorCode) item.errorCode = { S: task.errorCode };
  return item;
}
