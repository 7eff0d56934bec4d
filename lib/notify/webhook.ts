// Generic webhook channel: one signed JSON POST per alert (Standard Webhooks headers), for receivers
// that file tickets, page people or feed a SIEM. The body schema is versioned and documented below.
import type { Alert, AlertReason } from '../diff/alert';
import { silentLog, systemClock, type Clock, type Log } from '../log';
import type { Scope } from '../task';
import { classifyHttp, classifyNetworkError, sendInOrder, type SendResult } from './classify';
import { createPostJson, requireDeliveryUrl, type PostJson } from './http';
import { redactUrl } from './redact';
import { signStandardWebhook, standardWebhookKey } from './standard-webhooks';
import type { DeliveryOutcome, Notice, Notifier } from './types';

/**
 * Webhook body schema, version "1". Receivers should ignore fields they do not know; a breaking change
 * bumps `version`. Every POST has `content-type: application/json`, `webhook-id` (= `id`, the dedup
 * key: a retried delivery repeats it) and `webhook-timestamp` (unix seconds); with a secret configured
 * also `webhook-signature: v1,<base64 HMAC-SHA256 of "{webhook-id}.{webhook-timestamp}.{body}">`.
 *
 * Alert (`type: "hss.task.status_alert"`), one per task that entered an alert status:
 *   version          "1"
 *   type             "hss.task.status_alert"
 *   id               string, stable for the same scope + task + status (hex)
 *   detected_at      string, ISO-8601 UTC, when this product saw the change
 *   scope            { project_id: string, enterprise_project_id: string, region: string | null }
 *   task             { host_id, host_name, backup_name: string,
 *                      status: "success"|"skipped"|"failed"|"running"|"timeout"|"waiting"|"unknown",
 *                      raw_status: string (as HSS sent it), process: number 0..100 | null,
 *                      started_at: string (as HSS sent it), ended_at: string | null,
 *                      error_code: string | null, error_message: string | null }
 *   previous_status  string | null (null: first seen already in `status`)
 *   status           string, same as task.status
 *   reason           "first-seen" | "moved" | "resolved-after-window"
 *
 * Notice (`type: "hss.monitoring.test" | "hss.monitoring.monitoring-down" | "hss.monitoring.monitoring-recovered"`):
 *   version, type, id, at (ISO-8601 UTC), scope (as above), summary: string, detail: string | null
 */
export const WEBHOOK_SCHEMA_VERSION = '1';

export interface WebhookScope {
  project_id: string;
  enterprise_project_id: string;
  region: string | null;
}

export interface WebhookAlertEvent {
  version: typeof WEBHOOK_SCHEMA_VERSION;
  type: 'hss.task.status_alert';
  id: string;
  detected_at: string;
  scope: WebhookScope;
  task: {
    host_id: string;
    host_name: string;
    backup_name: string;
    status: string;
    raw_status: string;
    process: number | null;
    started_at: string;
    ended_at: string | null;
    error_code: string | null;
    error_message: string | null;
  };
  previous_status: string | null;
  status: string;
  reason: AlertReason;
}

export interface WebhookNoticeEvent {
  version: typeof WEBHOOK_SCHEMA_VERSION;
  type: `hss.monitoring.${Notice['kind']}`;
  id: string;
  at: string;
  scope: WebhookScope;
  summary: string;
  detail: string | null;
}

/** Any body this channel posts. */
export type WebhookEvent = WebhookAlertEvent | WebhookNoticeEvent;

export interface WebhookNotifierOptions {
  /** Receiver URL: https, or http to loopback for local tests. Only its scheme and host are logged. */
  url: string;
  /** Standard Webhooks secret (`whsec_<base64>`, or any other string used as raw key bytes); unset = unsigned. */
  secret?: string;
  /** Destination id, the key of delivery state; default `webhook`. */
  id?: string;
  /** Per-request deadline in ms; default 15000. */
  timeoutMs?: number;
  clock?: Clock;
  log?: Log;
  /** HTTP client; default `createPostJson()`. */
  post?: PostJson;
}

const DEFAULT_ID = 'webhook';
const DEFAULT_TIMEOUT_MS = 15_000;

function webhookScope(scope: Scope): WebhookScope {
  return {
    project_id: scope.projectId,
    enterprise_project_id: scope.enterpriseProjectId,
    region: scope.region ?? null,
  };
}

/** The versioned JSON body for one alert (schema above). */
export function webhookEvent(alert: Alert): WebhookAlertEvent {
  const t = alert.task;
  return {
    version: WEBHOOK_SCHEMA_VERSION,
    type: 'hss.task.status_alert',
    id: alert.id,
    detected_at: new Date(alert.detectedAt).toISOString(),
    scope: webhookScope(alert.scope),
    task: {
      host_id: t.hostId,
      host_name: t.hostName,
      backup_name: t.backupName,
      status: t.status,
      raw_status: t.rawStatus,
      process: t.process ?? null,
      started_at: t.startedAt,
      ended_at: t.endedAt ?? null,
      error_code: t.errorCode || null,
      error_message: t.errorMessage || null,
    },
    previous_status: alert.previousStatus ?? null,
    status: alert.status,
    reason: alert.reason,
  };
}

/** The versioned JSON body for a notice about the monitoring itself (schema above). */
export function webhookNoticeEvent(n: Notice): WebhookNoticeEvent {
  return {
    version: WEBHOOK_SCHEMA_VERSION,
    type: `hss.monitoring.${n.kind}`,
    id: n.id,
    at: new Date(n.at).toISOString(),
    scope: webhookScope(n.scope),
    summary: n.summary,
    detail: n.detail ?? null,
  };
}

/**
 * A Notifier posting one signed JSON event per alert, sequentially; throws ConfigError when the URL
 * is not https (or http to loopback) or the secret is malformed. 410 is permanent ("endpoint gone").
 */
export function createWebhookNotifier(o: WebhookNotifierOptions): Notifier {
  requireDeliveryUrl(o.url, 'webhook URL');
  // Validated now so a bad secret fails at start, not at the first alert.
  if (o.secret !== undefined) standardWebhookKey(o.secret);
  const id = o.id ?? DEFAULT_ID;
  const timeoutMs = o.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const clock = o.clock ?? systemClock;
  const log = o.log ?? silentLog;
  const post = o.post ?? createPostJson({ log });
  const target = redactUrl(o.url);

  async function send(eventId: string, event: WebhookEvent): Promise<SendResult> {
    const body = JSON.stringify(event);
    const timestamp = Math.floor(clock() / 1000);
    // webhook-id goes out even unsigned: it is the receiver's dedup key when a delivery is retried.
    const headers: Record<string, string> = { 'webhook-id': eventId, 'webhook-timestamp': String(timestamp) };
    if (o.secret !== undefined)
      headers['webhook-signature'] = signStandardWebhook(o.secret, eventId, timestamp, body);
    try {
      const answer = await post(o.url, body, { headers, timeoutMs });
      return {
        outcome: classifyHttp(answer.status, answer.headers, answer.bodyText, clock()),
        status: answer.status,
      };
    } catch (err) {
      return { outcome: classifyNetworkError(err) };
    }
  }

  function report(outcome: DeliveryOutcome, eventId: string): void {
    if (outcome.kind !== 'ok')
      log.warn('Webhook delivery failed', { notifier: id, target, eventId, ...outcome });
  }

  return {
    id,
    description: `webhook ${target}${o.secret !== undefined ? ' (signed)' : ''}`,
    async deliver(alerts, onOutcome) {
      const outcomes = await sendInOrder(alerts, (alert) => send(alert.id, webhookEvent(alert)), onOutcome);
      outcomes.forEach((outcome, i) => report(outcome, alerts[i]!.id));
      return outcomes;
    },
    async notice(n) {
      const { outcome } = await send(n.id, webhookNoticeEvent(n));
      report(outcome, n.id);
      return outcome;
    },
  };
}
