// PagerDuty Events API v2: one event per message. An alert triggers an incident keyed by the task
// (`dedup_key` = taskRef, so later alerts of the same task update it) and its resolved message
// resolves it; a monitoring-down notice triggers a critical incident per outage that the matching
// monitoring-recovered resolves; a test notice triggers a clearly marked TEST event (severity info).
// Reminders and daily summaries are not pages: this destination does not accept them. Summaries are
// plain text (shown in SMS and push), at most 1,024 characters.
import { oneOf, refuse, rule, serviceUrl, shown, type Rule } from '../../rules';
import type { AlertStatus, DeliveryOutcome, Message, NoticeMessage } from '../../model';
import { classifyHttp } from '../classify';
import type { ChannelLimits, ChannelRequest } from '../destination';
import {
  NO_ROUTE_TEXT,
  alertTitle,
  endedText,
  hostText,
  scopeText,
  startedText,
  stuckText,
  transitionText,
} from '../../wording';
import { hssConsoleUrl } from '../cards';
import { clip, inert } from '../inert';
import type { HttpAnswer } from '../http';
import { destinationBase } from './base';
import { defineChannel } from './spec';

const PAGERDUTY_EVENTS_URL = 'https://events.pagerduty.com/v2/enqueue';
const PAGERDUTY_SUMMARY_MAX = 1024;

/** About 120 events per minute per routing key (rolling 60 s, 429 above): stay under. */
const PAGERDUTY_RATE: ChannelLimits = { minIntervalMs: 600, perMinute: 100 };

/** Backoff after a 429: PagerDuty asks for minutes, not seconds. */
const PAGERDUTY_THROTTLE_BACKOFF_MS = 120_000;

type Severity = 'critical' | 'error' | 'warning' | 'info';

const DEFAULT_SEVERITY: Readonly<Partial<Record<AlertStatus, Severity>>> = {
  failed: 'error',
  timeout: 'warning',
  stuck: 'warning',
};

const NOTICE_SEVERITY: Readonly<Record<NoticeMessage['notice'], Severity>> = {
  test: 'info',
  'monitoring-down': 'critical',
  'monitoring-recovered': 'info',
  'possible-loss': 'critical',
  'lost-track': 'warning',
  'records-rejected': 'warning',
  'destination-failing': 'error',
  'destination-recovered': 'info',
  'destination-degraded': 'error',
  'no-route': 'error',
};

/** Plain text for a summary or detail: inert (no links, no control characters), bounded. */
const text = (s: string, max = PAGERDUTY_SUMMARY_MAX): string => clip(inert(s), max);

/** dedup_key of a notice: its incident key, else one per scope (or deployment) and notice family. */
function noticeDedupKey(m: NoticeMessage): string {
  if (
    m.notice === 'test' ||
    m.notice === 'lost-track' ||
    m.notice === 'possible-loss' ||
    m.notice === 'records-rejected'
  )
    return m.id;
  if (m.incidentKey) return m.incidentKey;
  const family = m.notice.startsWith('destination-') ? 'destination' : 'monitoring';
  return `hss-restore-alerts/${family}/${m.scope?.id ?? 'all'}`;
}

const links = (scope: { region?: string } | undefined) => {
  const url = hssConsoleUrl(scope);
  return url ? [{ href: url, text: 'HSS console: ransomware backups' }] : [];
};

/** The Events v2 body of one message (reminders and summaries are never rendered: not accepted). */
function pagerdutyEvent(
  m: Message,
  routingKey: string,
  severity: Partial<Record<AlertStatus, Severity>>,
): Record<string, unknown> | undefined {
  const base = { routing_key: routingKey, client: 'hss-restore-alerts' };
  switch (m.kind) {
    case 'alert': {
      const t = m.task;
      const error = [t.errorCode, t.errorMessage].filter(Boolean).join(': ');
      return {
        ...base,
        event_action: 'trigger',
        dedup_key: m.taskRef,
        payload: {
          summary: text(
            `${alertTitle(m)}: backup ${t.backupName || '—'}, ${transitionText(m)}${error ? `, HSS error ${error}` : ''}`,
          ),
          // PagerDuty refuses an event without a source: a name that is all control characters is none.
          source: text(hostText(t), 255).trim() || text(t.hostId, 255).trim() || '(no host)',
          severity: severity[m.status] ?? DEFAULT_SEVERITY[m.status] ?? 'warning',
          component: text(t.backupName || 'backup', 255),
          group: text(scopeText(m.scope), 255),
          class: `hss-restore-${m.status}`,
          timestamp: new Date(m.at).toISOString(),
          custom_details: {
            ...(m.noRoute ? { routing: NO_ROUTE_TEXT } : {}),
            host: text(t.hostName, 1000),
            host_id: text(t.hostId, 1000),
            backup: text(t.backupName, 1000),
            status: transitionText(m),
            progress: t.process ?? null,
            started: startedText(t),
            ended: endedText(t),
            error_code: t.errorCode ? text(t.errorCode, 200) : null,
            error_message: t.errorMessage ? text(t.errorMessage, 4000) : null,
            stuck: m.stuck ? stuckText(m.stuck) : null,
            was_stuck: m.wasStuck ? stuckText(m.wasStuck) : null,
            episode: m.episode,
            region: m.scope.region ?? null,
            project_id: m.scope.projectId,
            enterprise_project_id: m.scope.enterpriseProjectId,
            alert_id: m.id,
          },
        },
        links: links(m.scope),
      };
    }
    case 'resolved':
      return { ...base, event_action: 'resolve', dedup_key: m.taskRef };
    case 'notice': {
      const resolves = m.notice === 'monitoring-recovered' || m.notice === 'destination-recovered';
      if (resolves) return { ...base, event_action: 'resolve', dedup_key: noticeDedupKey(m) };
      const isTest = m.notice === 'test';
      return {
        ...base,
        event_action: 'trigger',
        dedup_key: noticeDedupKey(m),
        payload: {
          summary: text(
            `${isTest ? 'TEST (no action needed): ' : ''}${m.summary}${m.detail ? `: ${m.detail}` : ''}`,
          ),
          // custom_details and summary are shown as text, but PagerDuty's apps link bare URLs: inert.
          source: 'hss-restore-alerts',
          severity: NOTICE_SEVERITY[m.notice],
          component: 'monitoring',
          class: `hss-monitoring-${m.notice}`,
          timestamp: new Date(m.at).toISOString(),
          custom_details: {
            notice: m.notice,
            notice_id: m.id,
            ...(m.scope ? { scope: scopeText(m.scope) } : {}),
            ...Object.fromEntries(
              (m.facts ?? []).map(([label, value]) => [text(label, 100), text(value, 1000)]),
            ),
          },
        },
        links: links(m.scope),
      };
    }
    default:
      return undefined;
  }
}

/** 202 ok; 400 permanent (never resend); 429 retryable after minutes; others as classifyHttp. */
export function classifyPagerduty(answer: HttpAnswer, now: number): DeliveryOutcome {
  const outcome = classifyHttp(answer.status, answer.headers, answer.bodyText, now);
  if (answer.status === 429 && outcome.kind === 'retryable') {
    return { ...outcome, retryAfterMs: Math.max(outcome.retryAfterMs ?? 0, PAGERDUTY_THROTTLE_BACKOFF_MS) };
  }
  return outcome;
}

const PAGE_KINDS: ReadonlySet<Message['kind']> = new Set(['alert', 'resolved', 'notice']);

/** PagerDuty Events v2 integration (routing) key. */
const routingKeyRule: Rule<string> = rule('32 characters of A-Z a-z 0-9', 'hidden', (t) =>
  /^[A-Za-z0-9]{32}$/.test(t) ? t : refuse(`${t.length} characters`),
);

const severityRule: Rule<Severity> = oneOf(['critical', 'error', 'warning', 'info']);

/** The config of a PagerDuty destination. */
interface PagerdutyConfig {
  routingKey: string;
  /** Default `https://events.pagerduty.com/v2/enqueue`. */
  eventsUrl: string;
  /** PagerDuty severity per alert status (defaults failed=error, timeout=warning, stuck=warning, others=warning). */
  severity: Partial<Record<AlertStatus, Severity>>;
}

/** PagerDuty Events API v2: an integration (routing) key; severity per alert status. */
export const pagerdutyChannel = defineChannel<PagerdutyConfig>()({
  type: 'pagerduty',
  displayName: 'PagerDuty',
  doc: 'Events API v2: an incident per task, resolved with it; no reminders or summaries',
  variables: {
    PAGERDUTY_ROUTING_KEY: {
      rule: routingKeyRule,
      secret: true,
      doc: 'PagerDuty Events v2 integration key.',
    },
    PAGERDUTY_EVENTS_URL: {
      rule: serviceUrl,
      default: PAGERDUTY_EVENTS_URL,
      doc: 'PagerDuty Events API endpoint (loopback for tests).',
    },
    PAGERDUTY_SEVERITY_FAILED: {
      rule: severityRule,
      default: 'error',
      doc: 'PagerDuty severity of a failed task.',
    },
    PAGERDUTY_SEVERITY_TIMEOUT: {
      rule: severityRule,
      default: 'warning',
      doc: 'PagerDuty severity of a timed-out task.',
    },
    PAGERDUTY_SEVERITY_STUCK: {
      rule: severityRule,
      default: 'warning',
      doc: 'PagerDuty severity of a stuck task.',
    },
  },
  fileKeys: ['routing_key', 'routing_key_param', 'events_url', 'severity'],
  answers: { kind: 'http' },
  limits: PAGERDUTY_RATE,
  heldByQuietHours: false,
  digests: false,
  redact: { urls: ['eventsUrl'], secrets: ['routingKey'] },
  fromEnv: (v) =>
    v.PAGERDUTY_ROUTING_KEY === undefined
      ? undefined
      : {
          routingKey: v.PAGERDUTY_ROUTING_KEY,
          eventsUrl: v.PAGERDUTY_EVENTS_URL,
          severity: {
            failed: v.PAGERDUTY_SEVERITY_FAILED,
            timeout: v.PAGERDUTY_SEVERITY_TIMEOUT,
            stuck: v.PAGERDUTY_SEVERITY_STUCK,
          },
        },
  fromFile(entry, v) {
    const routingKey = entry.secret('routing_key', routingKeyRule, 'integration key', true);
    const eventsUrl = entry.value('events_url', serviceUrl) ?? v.PAGERDUTY_EVENTS_URL;
    // The variables' severities are the defaults; the file's `severity` mapping overrides per status.
    const severity: PagerdutyConfig['severity'] = {
      failed: v.PAGERDUTY_SEVERITY_FAILED,
      timeout: v.PAGERDUTY_SEVERITY_TIMEOUT,
      stuck: v.PAGERDUTY_SEVERITY_STUCK,
    };
    for (const [status, value] of Object.entries(
      entry.mapping('severity', 'alert statuses to critical/error/warning/info') ?? {},
    )) {
      const key = entry.check(status, `severity key ${shown(status)}`, entry.alertStatus);
      const level = entry.check(value, `severity.${status}`, severityRule);
      if (key !== undefined && level !== undefined) severity[key] = level;
    }
    return routingKey === undefined ? undefined : { routingKey, eventsUrl, severity };
  },
  create: (config) => {
    const url = config.eventsUrl || PAGERDUTY_EVENTS_URL;
    return {
      ...destinationBase(config, url, PAGE_KINDS),
      render: (batch) =>
        batch.flatMap((m, i): ChannelRequest[] => {
          const event = pagerdutyEvent(m, config.routingKey, config.severity);
          return event ? [{ covers: [i], url, body: JSON.stringify(event) }] : [];
        }),
      classify: classifyPagerduty,
    };
  },
});
