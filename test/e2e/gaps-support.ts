// Helpers for the "no silent gaps" end-to-end tests (issue 10): reading what the local sinks got,
// moving the virtual clock the way a stopped scheduler would, and DynamoDB's TTL deletion, which
// neither dynalite nor DynamoDB Local performs, so that record lifetimes are tested for real.
import { DeleteItemCommand, ScanCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KEY } from '../../lib/state/layout';
import type { Sink, SinkRequest } from '../../local/sinks';
import type { World } from './world';

/** A webhook event as the generic webhook sink received it. */
export interface WebhookEvent {
  type: string;
  id: string;
  status?: string;
  reason?: string;
  episode?: number;
  summary?: string;
  detail?: string | null;
  facts?: Array<{ label: string; value: string }>;
  task?: {
    host_name: string;
    started_at: string;
    ended_at: string | null;
    started_at_utc: string | null;
    ended_at_utc: string | null;
    error_code: string | null;
    error_message: string | null;
  };
}

/** Events of `type` (`hss.task.status_alert`, `hss.monitoring.lost-track`, ...) the webhook sink accepted, in order. */
export function webhookEvents(
  sink: Sink,
  type: string,
): Array<{ event: WebhookEvent; request: SinkRequest }> {
  return sink.received
    .map((request) => ({ event: request.json as WebhookEvent, request }))
    .filter(({ event }) => event?.type === type);
}

/** Status alerts of `host` the webhook sink accepted, in order. */
export function webhookAlerts(sink: Sink, host: string): WebhookEvent[] {
  return webhookEvents(sink, 'hss.task.status_alert')
    .map(({ event }) => event)
    .filter((e) => e.task?.host_name === host);
}

/** What a person read in each message the sink accepted, in order. */
export function texts(sink: Sink): string[] {
  return sink.received.map((r) => sink.visibleText(r));
}

/** Messages the sink accepted whose visible text matches `pattern`. */
export function matching(sink: Sink, pattern: RegExp): string[] {
  return texts(sink).filter((t) => pattern.test(t));
}

/** The scheduler stops (or is not deployed) for `ms`: the clock moves and no poll runs. */
export function stopFor(world: World, ms: number): void {
  world.time.now += ms;
}

/**
 * Deletes every item whose `ttl` (epoch seconds) is before `now`, as DynamoDB's TTL eventually does
 * (neither dynalite nor DynamoDB Local deletes expired items). Returns how many it deleted.
 */
export async function expireItems(client: DynamoDBClient, tableName: string, now: number): Promise<number> {
  const nowSec = Math.floor(now / 1000);
  let deleted = 0;
  let start: Record<string, AttributeValue> | undefined;
  do {
    const page = await client.send(new ScanCommand({ TableName: tableName, ExclusiveStartKey: start }));
    for (const item of page.Items ?? []) {
      const ttl = item[KEY.ttl]?.N;
      if (ttl === undefined || Number(ttl) >= nowSec) continue;
      await client.send(
        new DeleteItemCommand({
          TableName: tableName,
          Key: { [KEY.pk]: item[KEY.pk]!, [KEY.sk]: item[KEY.sk]! },
        }),
      );
      deleted += 1;
    }
    start = page.LastEvaluatedKey;
  } while (start);
  return deleted;
}
