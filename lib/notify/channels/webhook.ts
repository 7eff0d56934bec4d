// Generic webhook: one signed JSON POST per message (Standard Webhooks headers through the official
// `standardwebhooks` package), for receivers that file tickets, page people or feed a SIEM. API text
// is sent verbatim (JSON-escaped): receivers get exact values to match on and render it themselves;
// only characters that are invisible or change the text's direction (U+2028/U+2029, bidi controls)
// become spaces, as on every channel.
//
// Body schema, version "1" (additive changes only: receivers must ignore fields they do not know; a
// breaking change bumps `version`). Every POST has `content-type: application/json`, `webhook-id`
// (= `id`, the receiver's dedup key: a retried delivery repeats it), `webhook-timestamp` (unix
// seconds) and, with a `whsec_` secret, `webhook-signature: v1,<base64 HMAC-SHA256 of
// "{webhook-id}.{webhook-timestamp}.{body}">` (verify with any official Standard Webhooks library).
//
// Shared shapes:
//   scope  { id: "region/project/ep", project_id, enterprise_project_id, region: string | null }
//   task   { host_id, host_name, backup_name: string,
//            status: "success"|"skipped"|"failed"|"running"|"timeout"|"waiting"|"unknown",
//            raw_status: string (as HSS sent it), process: number 0..100 | null,
//            started_at: string (as sent), ended_at: string | null (as sent),
//            started_at_utc, ended_at_utc: ISO-8601 UTC | null (parsed; null when unreadable),
//            error_code: string | null, error_message: string | null }
//   stuck  { process: number | null, stalled_ms: number, running_ms: number }
//
// `hss.task.status_alert` (a task entered an alert status; one per task, status and episode):
//   version "1", type, id, detected_at (ISO-8601 UTC), scope, task,
//   previous_status: string | null (null: first seen in `status`), status (an alert status, `stuck` included),
//   reason: "first-seen"|"moved"|"re-entered"|"resolved-after-window"|"stuck-no-progress"|"stuck-too-long",
//   episode: number (1, then 2 after the task left the alert status and re-entered it, ...),
//   task_ref: string (stable per task, whatever the status), stuck: stuck | null, was_stuck: stuck | null,
//   console_url: string | null (the HSS console's ransomware backup page of the scope's region),
//   no_route: boolean (true: no destination's routing matched; sent here as the `fallback` destination)
// `hss.task.resolved`: version, type, id, at, scope, alert_id (the original alert's id), alert_status,
//   alert_at, task, task_ref, no_route, how: "later-success"|"finished", resolved_by: task | null
// `hss.task.reminder`: version, type, id (`{alert_id}.r{n}`), at, scope, alert_id, alert_status,
//   alert_at, task, task_ref, no_route, n (1 for the first reminder)
// `hss.daily_summary`: version, type, id, at, day (YYYY-MM-DD in time_zone), time_zone,
//   scopes: [{ scope, succeeded, failed, timed_out, stuck, resolved, still_open }],
//   slowest: [{ scope, task, duration_ms }]
// `hss.monitoring.<kind>` (kind: test, monitoring-down, monitoring-recovered, possible-loss,
//   lost-track, records-rejected, destination-failing, destination-recovered, destination-degraded,
//   no-route): version, type, id, at, scope | null,
//   summary: string, detail: string | null, facts: [{ label, value }], incident_key: string | null
import { refuse, rule, webhookUrl, type Rule } from '../../rules';
import type { AboutAlert, Message, Scope, StuckFacts, Task } from '../../model';
import { classifyHttp } from '../classify';
import type { ChannelLimits, ChannelRequest } from '../destination';
import { hssConsoleUrl } from '../cards';
import { createWebhookSigner } from '../standard-webhooks';
import { destinationBase } from './base';
import { defineChannel, webhookConfig, type SignedUrlConfig } from './spec';

const WEBHOOK_SCHEMA_VERSION = '1';

/** No vendor limit; a light pace keeps a slow receiver from being flooded. */
const WEBHOOK_RATE: ChannelLimits = { minIntervalMs: 10, perMinute: 6000 };

const iso = (ms: number | undefined): string | null =>
  ms === undefined || !Number.isFinite(ms) ? null : new Date(ms).toISOString();

function scopeJson(scope: Scope) {
  return {
    id: scope.id,
    project_id: scope.projectId,
    enterprise_project_id: scope.enterpriseProjectId,
    region: scope.region ?? null,
  };
}

/** What a resolved notice or a reminder says about the alert it follows up. */
function aboutAlertJson(m: AboutAlert) {
  return {
    scope: scopeJson(m.scope),
    alert_id: m.alertId,
    alert_status: m.alertStatus,
    alert_at: new Date(m.alertAt).toISOString(),
    task: taskJson(m.task),
    task_ref: m.taskRef,
    no_route: m.noRoute === true,
  };
}

function taskJson(t: Task) {
  return {
    host_id: t.hostId,
    host_name: t.hostName,
    backup_name: t.backupName,
    status: t.status,
    raw_status: t.rawStatus,
    process: t.process ?? null,
    started_at: t.startedAt,
    ended_at: t.endedAt ?? null,
    started_at_utc: iso(t.startedMs),
    ended_at_utc: iso(t.endedMs),
    error_code: t.errorCode || null,
    error_message: t.errorMessage || null,
  };
}

function stuckJson(s: StuckFacts | undefined) {
  return s ? { process: s.process ?? null, stalled_ms: s.stalledMs, running_ms: s.runningMs } : null;
}

/** The versioned JSON event of one message (schema above). */
export function webhookEvent(m: Message): Record<string, unknown> {
  const v = WEBHOOK_SCHEMA_VERSION;
  switch (m.kind) {
    case 'alert':
      return {
        version: v,
        type: 'hss.task.status_alert',
        id: m.id,
        detected_at: new Date(m.at).toISOString(),
        scope: scopeJson(m.scope),
        task: taskJson(m.task),
        previous_status: m.previousStatus ?? null,
        status: m.status,
        reason: m.reason,
        episode: m.episode,
        task_ref: m.taskRef,
        stuck: stuckJson(m.stuck),
        was_stuck: stuckJson(m.wasStuck),
        console_url: hssConsoleUrl(m.scope) ?? null,
        no_route: m.noRoute === true,
      };
    case 'resolved':
      return {
        version: v,
        type: 'hss.task.resolved',
        id: m.id,
        at: new Date(m.at).toISOString(),
        ...aboutAlertJson(m),
        how: m.how,
        resolved_by: m.resolvedBy ? taskJson(m.resolvedBy) : null,
      };
    case 'reminder':
      return {
        version: v,
        type: 'hss.task.reminder',
        id: m.id,
        at: new Date(m.at).toISOString(),
        ...aboutAlertJson(m),
        n: m.n,
      };
    case 'daily-summary':
      return {
        version: v,
        type: 'hss.daily_summary',
        id: m.id,
        at: new Date(m.at).toISOString(),
        day: m.day,
        time_zone: m.timeZone,
        scopes: m.scopes.map((s) => ({
          scope: scopeJson(s.scope),
          succeeded: s.succeeded,
          failed: s.failed,
          timed_out: s.timedOut,
          stuck: s.stuck,
          resolved: s.resolved,
          still_open: s.stillOpen,
        })),
        slowest: m.slowest.map((s) => ({
          scope: scopeJson(s.scope),
          task: taskJson(s.task),
          duration_ms: s.durationMs,
        })),
      };
    case 'notice':
      return {
        version: v,
        type: `hss.monitoring.${m.notice}`,
        id: m.id,
        at: new Date(m.at).toISOString(),
        scope: m.scope ? scopeJson(m.scope) : null,
        summary: m.summary,
        detail: m.detail ?? null,
        facts: (m.facts ?? []).map(([label, value]) => ({ label, value })),
        incident_key: m.incidentKey ?? null,
      };
  }
}

/** Standard Webhooks secret: `whsec_` + base64 of a key of 24 bytes or more. */
const webhookSecret: Rule<string> = rule(
  'whsec_ followed by the base64 of a key of at least 24 bytes (Standard Webhooks)',
  'hidden',
  (t) => {
    const key = t.startsWith('whsec_') ? t.slice(6) : undefined;
    const ok =
      key !== undefined && /^[A-Za-z0-9+/]+={0,2}$/.test(key) && Buffer.from(key, 'base64').length >= 24;
    return ok ? t : refuse();
  },
  `make one with: node -e "console.log('whsec_'+require('crypto').randomBytes(32).toString('base64'))"`,
);

/** The generic webhook: any https URL, signed per Standard Webhooks when a `whsec_` secret is given. */
export const webhookChannel = defineChannel<SignedUrlConfig>()({
  type: 'webhook',
  displayName: 'Webhook',
  doc: 'any JSON receiver: one versioned event per message, signed per Standard Webhooks',
  ...webhookConfig(
    { variable: 'WEBHOOK_URL', rule: webhookUrl(), doc: 'Generic JSON webhook (one POST per message).' },
    {
      variable: 'WEBHOOK_SECRET',
      rule: webhookSecret,
      doc: 'Signs webhook deliveries per Standard Webhooks.',
    },
  ),
  answers: { kind: 'http' },
  limits: WEBHOOK_RATE,
  heldByQuietHours: false,
  digests: false,
  create: (config) => {
    const signer = config.secret !== undefined ? createWebhookSigner(config.secret) : undefined;
    const base = destinationBase(config, config.url);
    return {
      ...base,
      description: `${base.description}${signer ? ' (signed)' : ''}`,
      render: (batch) =>
        batch.map((m, i): ChannelRequest => ({
          covers: [i],
          url: config.url,
          body: JSON.stringify(webhookEvent(m)),
          // webhook-id goes out even unsigned: it is the receiver's dedup key when a delivery is retried.
          headers: { 'webhook-id': m.id },
        })),
      sign(request, now) {
        const timestamp = Math.floor(now / 1000);
        const headers: Record<string, string> = {
          ...request.headers,
          'webhook-timestamp': String(timestamp),
        };
        const id = headers['webhook-id'] ?? '';
        if (signer) headers['webhook-signature'] = signer(id, timestamp, request.body);
        return { ...request, headers };
      },
      classify: (answer, now) => classifyHttp(answer.status, answer.headers, answer.bodyText, now),
    };
  },
});
