// Slack incoming-webhook channel: one Block Kit message per alert (paced to ~1/s), or one digest
// when a poll finds many; every piece of API text is escaped so a host name cannot ping or phish.
import type { Alert } from '../diff/alert';
import { realSleep, silentLog, systemClock, type Clock, type Log, type Sleep } from '../log';
import { classifyHttp, classifyNetworkError, sendInOrder, type SendResult } from './classify';
import { formatUtc, hssConsoleUrl, statusText, transitionText } from './format';
import { createPostJson, requireDeliveryUrl, type HttpAnswer, type PostJson } from './http';
import { redactUrl, scrubUrls } from './redact';
import type { DeliveryOutcome, Notice, Notifier } from './types';

/** Block Kit limits (characters / counts) that every payload built here stays within. */
export const SLACK_LIMITS = {
  blocks: 50,
  headerText: 150,
  sectionText: 3000,
  fieldsPerSection: 10,
  fieldText: 2000,
  contextElements: 10,
  /** Top-level `text`: Slack truncates long ones; 3000 keeps notifications readable. */
  text: 3000,
} as const;

/** How many alerts a digest lists one line each before `…and N more`. */
export const DIGEST_LISTED = 15;

type PlainText = { type: 'plain_text'; text: string; emoji: boolean };
type Mrkdwn = { type: 'mrkdwn'; text: string };

/** The Block Kit blocks this module emits. */
export type SlackBlock =
  | { type: 'header'; text: PlainText }
  | { type: 'section'; text?: Mrkdwn; fields?: Mrkdwn[] }
  | { type: 'context'; elements: Mrkdwn[] }
  | { type: 'divider' };

/** An incoming-webhook body: `text` is the notification / screen-reader fallback of `blocks`. */
export interface SlackPayload {
  text: string;
  blocks: SlackBlock[];
}

export interface SlackNotifierOptions {
  /** Incoming webhook URL (a secret: only its scheme and host are ever logged); https, or http to loopback. */
  url: string;
  /** Destination id, the key of delivery state; default `slack`. */
  id?: string;
  /** Per-request deadline in ms; default 10000. */
  timeoutMs?: number;
  /** More alerts than this in one deliver() are sent as ONE digest; default 5. */
  digestThreshold?: number;
  /** Minimum ms between two messages to this webhook (Slack allows ~1/s); default 1000. */
  minIntervalMs?: number;
  /** Total ms one deliver() may wait on 429 Retry-After before leaving the rest to the next poll; default 30000. */
  maxRetryAfterMs?: number;
  clock?: Clock;
  sleep?: Sleep;
  log?: Log;
  /** Console link for an alert (default: the HSS ransomware backup page of its region); undefined = no link. */
  consoleUrl?: (alert: Alert) => string | undefined;
  /** HTTP client; default `createPostJson()`. */
  post?: PostJson;
}

const DEFAULTS = {
  id: 'slack',
  timeoutMs: 10_000,
  digestThreshold: 5,
  minIntervalMs: 1000,
  maxRetryAfterMs: 30_000,
} as const;

// A message is re-sent at most this often after a 429 before the rest waits for the next poll.
const MAX_RETRIES_AFTER_429 = 2;

/** Escapes exactly Slack's control characters `&`, `<`, `>` (as `&amp;`, `&lt;`, `&gt;`). */
export function escapeSlack(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/**
 * Cuts already-escaped `text` to at most `max` characters ending in `…`, never inside an `&amp;`-style
 * entity nor between the halves of a surrogate pair.
 */
export function clipSlack(text: string, max: number): string {
  if (text.length <= max) return text;
  let cut = text.slice(0, Math.max(0, max - 1));
  cut = cut.replace(/&[a-z]*$/i, '');
  if (/[\uD800-\uDBFF]$/.test(cut)) cut = cut.slice(0, -1);
  return `${cut}…`;
}

/** API text made safe for mrkdwn and bounded. */
function api(text: string | undefined, max: number): string {
  return clipSlack(escapeSlack(text ?? ''), max);
}

function field(label: string, value: string): Mrkdwn {
  return { type: 'mrkdwn', text: clipSlack(`*${label}*\n${value}`, SLACK_LIMITS.fieldText) };
}

function mrkdwn(text: string, max: number = SLACK_LIMITS.sectionText): Mrkdwn {
  return { type: 'mrkdwn', text: clipSlack(text, max) };
}

function header(text: string): SlackBlock {
  return {
    type: 'header',
    text: { type: 'plain_text', text: clipSlack(text, SLACK_LIMITS.headerText), emoji: true },
  };
}

/** `<url|label>` for a plain http(s) URL; undefined for anything that could break out of the link syntax. */
function slackLink(url: string | undefined, label: string): string | undefined {
  if (!url || !/^https?:\/\/[^\s<>|]+$/i.test(url)) return undefined;
  return `<${url.replace(/&/g, '&amp;')}|${label}>`;
}

const STATUS_EMOJI: Readonly<Partial<Record<string, string>>> = {
  failed: ':rotating_light:',
  timeout: ':hourglass_flowing_sand:',
};

// The task list mixes backup and restore tasks and no field says which, so the wording names both.
function headline(alert: Alert): string {
  const host = alert.task.hostName || alert.task.hostId;
  const what =
    alert.status === 'failed'
      ? 'failed'
      : alert.status === 'timeout'
        ? 'timed out'
        : statusText(alert.status, alert.task.rawStatus);
  return `Backup/restore ${what} on ${host}`;
}

/** The Block Kit message for one alert: host, backup, transition, progress, times, HSS error, scope, console link. */
export function slackMessage(
  alert: Alert,
  consoleUrl: string | undefined = hssConsoleUrl(alert.scope),
): SlackPayload {
  const t = alert.task;
  const emoji = STATUS_EMOJI[alert.status] ?? ':warning:';
  const hostLine = `${api(t.hostName || '(no name)', 500)}\n\`${api(t.hostId, 500)}\``;
  const fields = [
    field('Host', hostLine),
    field('Backup', api(t.backupName, 1000)),
    field('Status', api(transitionText(alert), 1000)),
    field('Progress', t.process === undefined ? 'unknown' : `${t.process}%`),
    field('Started', api(formatUtc(t.startedAt), 200)),
    field('Ended', t.endedAt ? api(formatUtc(t.endedAt), 200) : '—'),
    field('Project', `\`${api(alert.scope.projectId, 500)}\``),
    field('Enterprise project', `\`${api(alert.scope.enterpriseProjectId, 500)}\``),
  ];
  if (alert.scope.region) fields.push(field('Region', api(alert.scope.region, 200)));

  const blocks: SlackBlock[] = [
    header(`${emoji} ${escapeSlack(headline(alert))}`),
    { type: 'section', fields },
  ];
  if (t.errorCode || t.errorMessage) {
    const code = t.errorCode ? ` \`${api(t.errorCode, 200)}\`` : '';
    const message = t.errorMessage ? `\n${api(t.errorMessage, 2700)}` : '';
    blocks.push({ type: 'section', text: mrkdwn(`*HSS error*${code}${message}`) });
  }
  const link = slackLink(consoleUrl, 'Open ransomware backups in the HSS console');
  const footer = [link, `detected ${formatUtc(alert.detectedAt)}`, `alert \`${api(alert.id, 100)}\``];
  blocks.push({ type: 'context', elements: [mrkdwn(footer.filter(Boolean).join(' · '))] });

  const error = [t.errorCode, t.errorMessage].filter(Boolean).join(': ');
  const text =
    `${escapeSlack(headline(alert))} (${escapeSlack(t.hostId)}): backup ${escapeSlack(t.backupName)}, ` +
    `${escapeSlack(transitionText(alert))}${error ? `, HSS error ${escapeSlack(error)}` : ''}`;
  return { text: clipSlack(text, SLACK_LIMITS.text), blocks };
}

function countBy<T>(items: readonly T[], key: (item: T) => string): [string, number][] {
  const counts = new Map<string, number>();
  for (const item of items) counts.set(key(item), (counts.get(key(item)) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
}

// Transition names include raw undocumented statuses, so their variety is unbounded: list the top ones.
const DIGEST_TRANSITIONS = 10;
const DIGEST_SCOPES = 3;

/** ONE message for many alerts: counts by status and by transition, the first DIGEST_LISTED one line each, `…and N more`. */
export function slackDigest(
  alerts: readonly Alert[],
  consoleUrl: string | undefined = alerts[0] ? hssConsoleUrl(alerts[0].scope) : undefined,
): SlackPayload {
  const n = alerts.length;
  const byStatus = countBy(alerts, (a) => statusText(a.status));
  const byTransition = countBy(alerts, (a) => transitionText(a));
  const scopes = countBy(alerts, (a) =>
    JSON.stringify([a.scope.projectId, a.scope.enterpriseProjectId, a.scope.region ?? '']),
  );

  const statusLine = byStatus.map(([s, c]) => `*${c}* ${escapeSlack(s)}`).join(' · ');
  const transitionLines = byTransition.slice(0, DIGEST_TRANSITIONS).map(([t, c]) => `• ${api(t, 200)}: ${c}`);
  if (byTransition.length > DIGEST_TRANSITIONS) {
    transitionLines.push(`• …and ${byTransition.length - DIGEST_TRANSITIONS} other transitions`);
  }
  const scopeLines = scopes.slice(0, DIGEST_SCOPES).map(([key]) => {
    const [project, ep, region] = JSON.parse(key) as [string, string, string];
    return `Project \`${api(project, 200)}\` · enterprise project \`${api(ep, 200)}\`${region ? ` · ${api(region, 50)}` : ''}`;
  });
  if (scopes.length > DIGEST_SCOPES) scopeLines.push(`…and ${scopes.length - DIGEST_SCOPES} other scopes`);

  const listed = alerts.slice(0, DIGEST_LISTED).map((a) => {
    const code = a.task.errorCode ? ` · \`${api(a.task.errorCode, 40)}\`` : '';
    const host = a.task.hostName || a.task.hostId;
    // 15 lines of at most 190 characters stay under the 3000-character section limit.
    return clipSlack(
      `• *${api(host, 60)}* · ${api(a.task.backupName, 60)} · ${api(transitionText(a), 40)}${code}`,
      190,
    );
  });

  const blocks: SlackBlock[] = [
    header(`:rotating_light: ${n} backup/restore tasks need attention`),
    { type: 'section', text: mrkdwn(`${statusLine}\n${scopeLines.join('\n')}`) },
    { type: 'section', text: mrkdwn(`*By transition*\n${transitionLines.join('\n')}`) },
    { type: 'divider' },
    { type: 'section', text: mrkdwn(listed.join('\n')) },
  ];
  const footer: string[] = [];
  if (n > DIGEST_LISTED) footer.push(`…and ${n - DIGEST_LISTED} more`);
  const link = slackLink(consoleUrl, 'Open ransomware backups in the HSS console');
  if (link) footer.push(link);
  if (footer.length > 0) blocks.push({ type: 'context', elements: [mrkdwn(footer.join(' · '))] });

  const counts = byStatus.map(([s, c]) => `${c} ${escapeSlack(s)}`).join(', ');
  const firstHosts = alerts.slice(0, 5).map((a) => api(a.task.hostName || a.task.hostId, 60));
  const text = `${n} backup/restore tasks need attention: ${counts}. First: ${firstHosts.join(', ')}${n > 5 ? ', …' : ''}`;
  return { text: clipSlack(text, SLACK_LIMITS.text), blocks };
}

const NOTICE_EMOJI: Readonly<Record<Notice['kind'], string>> = {
  test: ':white_check_mark:',
  'monitoring-down': ':warning:',
  'monitoring-recovered': ':large_green_circle:',
};

/** The message for a notice about the monitoring itself; `summary` is ours (unescaped), `detail` is escaped. */
export function slackNotice(
  n: Notice,
  consoleUrl: string | undefined = hssConsoleUrl(n.scope),
): SlackPayload {
  const fields = [
    field('Project', `\`${api(n.scope.projectId, 500)}\``),
    field('Enterprise project', `\`${api(n.scope.enterpriseProjectId, 500)}\``),
    field('At', formatUtc(n.at)),
  ];
  if (n.scope.region) fields.push(field('Region', api(n.scope.region, 200)));
  const blocks: SlackBlock[] = [header(`${NOTICE_EMOJI[n.kind]} ${n.summary}`)];
  // The header may be cut at 150 characters; the section repeats the summary whole, with the detail.
  const detail = n.detail ? `\n${api(n.detail, 2500)}` : '';
  blocks.push({ type: 'section', text: mrkdwn(`${clipSlack(n.summary, 400)}${detail}`) });
  blocks.push({ type: 'section', fields });
  const link = slackLink(consoleUrl, 'Open the HSS console');
  blocks.push({
    type: 'context',
    elements: [mrkdwn([link, `notice \`${api(n.id, 100)}\``].filter(Boolean).join(' · '))],
  });
  const text = `${n.summary}${n.detail ? ` — ${escapeSlack(n.detail)}` : ''}`;
  return { text: clipSlack(text, SLACK_LIMITS.text), blocks };
}

/**
 * Slack's success is 200 with body `ok`; it answers errors with non-2xx statuses. A 2xx with another
 * body therefore means something else answered (a proxy, a portal, a non-Slack receiver) and delivery
 * is unconfirmed: it is retryable, preferring a possible duplicate to a possible loss.
 */
export function classifySlackAnswer(answer: HttpAnswer, nowMs: number): DeliveryOutcome {
  if (answer.status >= 200 && answer.status < 300 && answer.bodyText.trim() !== 'ok') {
    const body = scrubUrls(answer.bodyText).replace(/\s+/g, ' ').trim();
    const shown = body.length > 100 ? `${body.slice(0, 99)}…` : body;
    return {
      kind: 'retryable',
      error: `HTTP ${answer.status} with body "${shown}" instead of "ok": delivery unconfirmed`,
    };
  }
  return classifyHttp(answer.status, answer.headers, answer.bodyText, nowMs);
}

/** A Notifier posting to one Slack incoming webhook; throws ConfigError when the URL is not https (or http to loopback). */
export function createSlackNotifier(o: SlackNotifierOptions): Notifier {
  requireDeliveryUrl(o.url, 'Slack webhook URL');
  const id = o.id ?? DEFAULTS.id;
  const timeoutMs = o.timeoutMs ?? DEFAULTS.timeoutMs;
  const digestThreshold = o.digestThreshold ?? DEFAULTS.digestThreshold;
  const minIntervalMs = o.minIntervalMs ?? DEFAULTS.minIntervalMs;
  const maxRetryAfterMs = o.maxRetryAfterMs ?? DEFAULTS.maxRetryAfterMs;
  const clock = o.clock ?? systemClock;
  const sleep = o.sleep ?? realSleep;
  const log = o.log ?? silentLog;
  const post = o.post ?? createPostJson({ log });
  const consoleUrl = o.consoleUrl ?? ((alert: Alert) => hssConsoleUrl(alert.scope));
  const target = redactUrl(o.url);
  // Spacing holds across deliver() and notice() calls of this notifier: it is one webhook.
  let lastSentAt: number | undefined;

  async function paced(): Promise<void> {
    if (lastSentAt === undefined) return;
    const wait = lastSentAt + minIntervalMs - clock();
    if (wait > 0) await sleep(wait);
  }

  /** Posts one payload: waits out 429s within `budget`, resends as plain text once if Slack rejects the blocks. */
  async function send(payload: SlackPayload, budget: { waitLeftMs: number }): Promise<SendResult> {
    let body: { text: string; blocks?: SlackBlock[] } = payload;
    let retries429 = 0;
    for (;;) {
      await paced();
      let answer: HttpAnswer;
      try {
        answer = await post(o.url, JSON.stringify(body), { timeoutMs });
      } catch (err) {
        return { outcome: classifyNetworkError(err) };
      } finally {
        lastSentAt = clock();
      }
      const outcome = classifySlackAnswer(answer, clock());
      if (outcome.kind === 'retryable' && answer.status === 429) {
        const wait = outcome.retryAfterMs;
        if (wait !== undefined && retries429 < MAX_RETRIES_AFTER_429 && wait <= budget.waitLeftMs) {
          retries429 += 1;
          budget.waitLeftMs -= wait;
          log.warn('Slack rate limited the webhook; waiting as asked', {
            notifier: id,
            target,
            retryAfterMs: wait,
          });
          await sleep(wait);
          continue;
        }
      }
      if (answer.status === 400 && body.blocks !== undefined) {
        // Losing the layout beats losing the alert: the plain text still says what happened.
        log.warn('Slack rejected the blocks; resending as plain text', { notifier: id, target, ...outcome });
        body = { text: payload.text };
        continue;
      }
      return { outcome, status: answer.status };
    }
  }

  function report(outcome: DeliveryOutcome, alerts: number): void {
    if (outcome.kind !== 'ok')
      log.warn('Slack delivery failed', { notifier: id, target, alerts, ...outcome });
  }

  return {
    id,
    description: `Slack webhook ${target}`,
    async deliver(alerts, onOutcome) {
      if (alerts.length === 0) return [];
      const budget = { waitLeftMs: maxRetryAfterMs };
      if (alerts.length > digestThreshold) {
        const { outcome } = await send(slackDigest(alerts, consoleUrl(alerts[0]!)), budget);
        report(outcome, alerts.length);
        for (const i of alerts.keys()) await onOutcome?.(i, outcome);
        return alerts.map(() => outcome);
      }
      const outcomes = await sendInOrder(
        alerts,
        (alert) => send(slackMessage(alert, consoleUrl(alert)), budget),
        onOutcome,
      );
      outcomes.forEach((outcome) => report(outcome, 1));
      return outcomes;
    },
    async notice(n) {
      const { outcome } = await send(slackNotice(n), { waitLeftMs: maxRetryAfterMs });
      report(outcome, 0);
      return outcome;
    },
  };
}
