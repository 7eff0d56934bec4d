// The outbox's own DynamoDB cost on DynamoDB Local (which charges the due index's writes as the
// service does): enqueue 1, 500 and 3,000 alerts, deliver them to a Slack and a webhook destination
// (the real channels, to local sinks, on a virtual clock), then a run with nothing due.
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { silentLog } from '../lib/log';
import type { AlertMessage, Scope } from '../lib/model';
import { createDestinations } from '../lib/notify/channels';
import { createPostJson } from '../lib/notify/http';
import { createOutbox } from '../lib/outbox';
import { createStateTable } from '../lib/state/table';
import { createTableClient } from '../lib/state/table-client';
import { startSlackSink, startWebhookSink } from '../local/sinks';
import { countDynamo, minus, type DynamoUse } from './protocol';
import { HOUR, REGION, T_BASE, WEBHOOK_SECRET } from './scenarios';

const OUTBOX_COUNTS = [1, 500, 3_000] as const;

export interface OutboxStep {
  alerts: number;
  step: 'enqueue' | 'deliver' | 'nothing due';
  dynamo: DynamoUse;
  /** HTTP requests to the destinations (deliver only). */
  httpRequests: number;
  /** Wall time, ms, and virtual time (channel pacing), ms. */
  wallMs: number;
  virtualMs: number;
  /** Deliveries answered 2xx. */
  sent: number;
}

const SCOPE: Scope = {
  id: `${REGION}/demo-project/0`,
  region: REGION,
  projectId: 'demo-project',
  enterpriseProjectId: '0',
  credential: 'default',
};

function alerts(count: number): AlertMessage[] {
  return Array.from({ length: count }, (_, n) => {
    const host = `host-${String(n).padStart(4, '0')}`;
    return {
      kind: 'alert',
      id: `alert-${host}`,
      at: T_BASE + n,
      scope: SCOPE,
      task: {
        hostId: `${host}-id`,
        hostName: host,
        backupName: 'nightly',
        status: 'failed',
        rawStatus: 'failed',
        startedAt: new Date(T_BASE - HOUR).toISOString(),
        startedMs: T_BASE - HOUR,
        errorCode: 'BACKUP.0002',
        errorMessage: 'Backup failed: the HSS agent is offline',
      },
      status: 'failed',
      reason: 'first-seen',
      episode: 1,
      taskRef: `ref-${host}`,
    };
  });
}

export async function measureOutbox(
  dynamo: DynamoDBClient,
  newClient: () => DynamoDBClient,
): Promise<OutboxStep[]> {
  const time = { now: T_BASE };
  const clock = () => time.now;
  const sleep = async (ms: number) => {
    time.now += Math.max(0, ms);
  };
  const slack = await startSlackSink({ clock });
  const webhook = await startWebhookSink({ secret: WEBHOOK_SECRET, clock });
  const destinations = createDestinations(
    [
      { type: 'slack', name: 'slack', url: slack.url, routing: {} },
      { type: 'webhook', name: 'webhook', url: webhook.url, secret: WEBHOOK_SECRET, routing: {} },
    ],
    { credentials: {} },
  );
  const steps: OutboxStep[] = [];
  try {
    for (const count of OUTBOX_COUNTS) {
      const tableName = `bench-outbox-${count}`;
      await createStateTable(dynamo, tableName);
      const client = newClient();
      const counter = countDynamo(client);
      const outbox = createOutbox({
        table: createTableClient({ client, tableName, sleep }),
        namespace: 'bench',
        destinations,
        post: createPostJson(),
        clock,
        sleep,
        log: silentLog,
        random: () => 0.5,
        // createApp's lease for the 1-minute schedule.
        leaseMs: 60_000,
      });
      const measure = async (step: OutboxStep['step'], run: () => Promise<number>): Promise<void> => {
        const before = { ...counter.all };
        const http = slack.attempts.length + webhook.attempts.length;
        const virtual = time.now;
        const wall = performance.now();
        const sent = await run();
        steps.push({
          alerts: count,
          step,
          dynamo: minus(counter.all, before),
          httpRequests: slack.attempts.length + webhook.attempts.length - http,
          wallMs: performance.now() - wall,
          virtualMs: time.now - virtual,
          sent,
        });
      };
      await measure('enqueue', async () => (await outbox.enqueue(alerts(count))).created.length);
      await measure('deliver', async () => (await outbox.deliver(time.now + 24 * HOUR)).sent);
      await measure('nothing due', async () => (await outbox.deliver(time.now + 24 * HOUR)).sent);
      client.destroy();
    }
    return steps;
  } finally {
    await slack.close();
    await webhook.close();
  }
}
