// The naive poller the benchmark compares against: what a typical first version does. Every poll it
// reads the whole window (no status filter, every page of 200, through the same page reader and a
// 5-a-minute call budget), then for each task one GetItem of its last status and one PutItem of the
// current one, and alerts when a task moved into (or was first seen in) an alert status, sending
// straight to the destinations (no outbox) once the window is read. It is correct, just expensive;
// it is never used outside bench/.
import {
  CreateTableCommand,
  GetItemCommand,
  PutItemCommand,
  type AttributeValue,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import type { PageReader } from '../lib/hss/pages';
import { stableId } from '../lib/ids';
import type { Clock, Sleep } from '../lib/log';
import type { AlertMessage, KnownStatus, Scope, Task } from '../lib/model';
import type { Destination } from '../lib/notify/destination';
import type { PostJson } from '../lib/notify/http';
import { mapBounded } from '../lib/state/table-client';
import { taskKey } from '../lib/task';

export interface BaselineDeps {
  reader: PageReader;
  dynamo: DynamoDBClient;
  tableName: string;
  destinations: readonly Destination[];
  post: PostJson;
  clock: Clock;
  sleep: Sleep;
  /** Tasks in flight at once (default 32): kinder to its wall time than a plain loop; counts are the same. */
  concurrency?: number;
}

export interface BaselineOptions {
  scope: Scope;
  lastDays: number;
  alertStatuses: readonly KnownStatus[];
}

/** What one naive poll did. */
export interface BaselineSummary {
  tasksSeen: number;
  alertsNew: number;
  /** Requests the destinations answered 2xx. */
  requestsSent: number;
  requestsFailed: number;
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

const PAGE = 200;

/** One naive poll: fetch everything, GetItem + PutItem per task, alert on moves into an alert status. */
export async function baselinePoll(deps: BaselineDeps, options: BaselineOptions): Promise<BaselineSummary> {
  const { dynamo, tableName, clock } = deps;
  const { scope } = options;
  const target = {
    projectId: scope.projectId,
    ...(scope.region ? { region: scope.region } : {}),
    enterpriseProjectId: scope.enterpriseProjectId,
    credential: scope.credential,
  };
  const tasks: Task[] = [];
  for (let offset = 0; ; offset += PAGE) {
    const result = await deps.reader.fetchPage(
      target,
      { lastDays: options.lastDays },
      offset,
      Infinity,
      PAGE,
    );
    if (result.kind !== 'page')
      throw new Error('the naive poller has no deadline: out-of-time cannot happen');
    tasks.push(...result.page.tasks);
    if (result.page.rows < PAGE) break;
  }

  const alerts: AlertMessage[] = [];
  await mapBounded(tasks, deps.concurrency ?? 32, async (task) => {
    const key = taskKey(task);
    const got = await dynamo.send(
      new GetItemCommand({ TableName: tableName, Key: { pk: { S: key } }, ReturnConsumedCapacity: 'TOTAL' }),
    );
    const previous = got.Item?.status?.S;
    if (previous !== task.status && (options.alertStatuses as readonly string[]).includes(task.status)) {
      alerts.push(alertOf(scope, key, task, previous, clock()));
    }
    await dynamo.send(
      new PutItemCommand({
        TableName: tableName,
        Item: itemOf(key, task, clock()),
        ReturnConsumedCapacity: 'TOTAL',
      }),
    );
  });

  // Straight to each destination, paced as the channel asks, once the whole window is read.
  let requestsSent = 0;
  let requestsFailed = 0;
  for (const destination of deps.destinations) {
    const batch = alerts.filter((a) => destination.accepts(a));
    if (batch.length === 0) continue;
    let last = -Infinity;
    for (const request of destination.render(batch, { now: clock() })) {
      const wait = last + destination.limits.minIntervalMs - clock();
      if (wait > 0) await deps.sleep(wait);
      last = clock();
      const signed = destination.sign ? destination.sign(request, clock()) : request;
      const answer = await deps.post(
        signed.url,
        signed.body,
        signed.headers ? { headers: signed.headers } : {},
      );
      if (destination.classify(answer, clock()).kind === 'ok') requestsSent += 1;
      else requestsFailed += 1;
    }
  }
  return { tasksSeen: tasks.length, alertsNew: alerts.length, requestsSent, requestsFailed };
}

function alertOf(
  scope: Scope,
  key: string,
  task: Task,
  previous: string | undefined,
  now: number,
): AlertMessage {
  const status = task.status as KnownStatus;
  return {
    kind: 'alert',
    id: stableId('alert', scope.projectId, key, status, 1),
    at: now,
    scope,
    task,
    status,
    ...(previous ? { previousStatus: previous as Task['status'] } : {}),
    reason: previous ? 'moved' : 'first-seen',
    episode: 1,
    taskRef: stableId('task', scope.projectId, key),
  };
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
