// Cards: a message (or a batch of them) becomes a channel-neutral Card (title, facts, error, list,
// link, footer) that each channel then writes in its own markup, so Slack, Teams, Feishu, ... say the
// same things. The words come from lib/wording.ts; every string in a Card is treated as untrusted by
// the channels (it may hold API text), so our own words and HSS's are made inert alike.
import type {
  AlertMessage,
  AlertStatus,
  Message,
  NoticeKind,
  NoticeMessage,
  ReminderMessage,
  ResolvedMessage,
  Scope,
  SummaryMessage,
  Task,
} from '../model';
import {
  alertTitle,
  durationText,
  endedText,
  hostText,
  NO_ROUTE_TEXT,
  ordinal,
  plural,
  scopeText,
  startedText,
  stuckText,
  transitionText,
  utcTime,
} from '../wording';
import type { RenderContext } from './destination';
import { bytes, clip } from './inert';

/** A batch with more alerts (or resolved messages) than this becomes ONE digest on chat channels and SMN. */
const DIGEST_THRESHOLD = 5;

/** Colour/urgency of a card; each channel maps it to its own colours or emoji. */
export type Tone = 'failed' | 'timeout' | 'stuck' | 'resolved' | 'reminder' | 'info' | 'warning' | 'critical';

/** A labelled value; `mono` values are identifiers (shown as code where the channel can). */
interface Fact {
  label: string;
  value: string;
  mono?: boolean;
}

/** What a channel renders: channel-neutral, every string possibly API text. */
export interface Card {
  tone: Tone;
  /** One line naming what happened and where ("Restore/backup failed on web-03"). */
  title: string;
  /** A paragraph under the title (digest counts, notice summary, how an alert was resolved). */
  text?: string;
  facts: Fact[];
  /** HSS's error of the task. */
  error?: { code?: string; message?: string };
  /** Digest lines, one per task (the first N of the batch). */
  lines?: string[];
  /** How many of the batch `lines` leaves out (shown as `…and M more`). */
  more?: number;
  /** Our own link (the HSS console); channels put it in their link/button syntax. */
  link?: { url: string; label: string };
  /** Ids and detection time, small print. */
  footer: string;
  /** One line for notifications, SMS and screen readers. */
  fallback: string;
}

/** One card and the batch indexes it carries. */
export interface CardGroup {
  covers: number[];
  card: Card;
  /** The single message of the group, when it is not a digest (Google Chat threads by it). */
  message?: Message;
}

// else would be pasted into a link, so it gets no link at all.
const REGION = /^[a-z]{2}(-[a-z0-9]+){1,3}$/;

/**
 * Link to the HSS console's ransomware backup page for `scope.region` (`console.eu.huaweicloud.com`
 * for eu-west-101); undefined when the region is absent or not a region name.
 */
export function hssConsoleUrl(scope: { region?: string } | undefined): string | undefined {
  const region = scope?.region;
  if (!region || !REGION.test(region)) return undefined;
  const host = region === 'eu-west-101' ? 'console.eu.huaweicloud.com' : 'console.huaweicloud.com';
  return `https://${host}/hss/?region=${region}&locale=en-us#/hss/ransomware/backup`;
}

const TONE_OF_STATUS: Readonly<Partial<Record<AlertStatus, Tone>>> = {
  failed: 'failed',
  timeout: 'timeout',
  stuck: 'stuck',
};

/** Tone of an alert status: failed red, timeout orange, stuck yellow, others warning. */
function toneOf(status: AlertStatus): Tone {
  return TONE_OF_STATUS[status] ?? 'warning';
}

/** The facts of one task (host, id, backup, progress, times): the same in alerts, resolved and reminders. */
function taskFacts(task: Task): Fact[] {
  return [
    { label: 'Host', value: hostText(task) },
    { label: 'Host ID', value: task.hostId || '—', mono: true },
    { label: 'Backup', value: task.backupName || '—' },
    { label: 'Progress', value: task.process === undefined ? 'unknown' : `${task.process}%` },
    { label: 'Started', value: startedText(task) },
    { label: 'Ended', value: endedText(task) },
  ];
}

function taskError(task: Task): Card['error'] {
  if (!task.errorCode && !task.errorMessage) return undefined;
  return {
    ...(task.errorCode ? { code: task.errorCode } : {}),
    ...(task.errorMessage ? { message: task.errorMessage } : {}),
  };
}

const CONSOLE_LABEL = 'Open ransomware backups in the HSS console';
// Every chat message contains `HSS` (the footer), so a Feishu/DingTalk keyword `HSS` always matches.
const BRAND = 'HSS restore alerts';

function consoleLink(scope: Scope | undefined): Card['link'] {
  const url = hssConsoleUrl(scope);
  return url ? { url, label: CONSOLE_LABEL } : undefined;
}

/** What the fallback destination says of an alert (or follow-up) that no destination's routing matched. */

/** A `Routing` fact when some of `messages` matched no route (none otherwise). */
function noRouteFacts(messages: ReadonlyArray<{ noRoute?: true }>): Fact[] {
  const n = messages.filter((m) => m.noRoute).length;
  if (n === 0) return [];
  const value = messages.length === 1 ? NO_ROUTE_TEXT : `${n} of ${messages.length}: ${NO_ROUTE_TEXT}`;
  return [{ label: 'Routing', value }];
}

/** The card of one alert: headline, task facts, transition (and stuck facts), HSS error, scope, console link, alert id. */
export function alertCard(m: AlertMessage): Card {
  const [host, hostId, backup, ...rest] = taskFacts(m.task);
  let status = transitionText(m);
  if (m.episode > 1) status += ` (${ordinal(m.episode)} time: it was retried and is ${m.status} again)`;
  const facts: Fact[] = [...noRouteFacts([m]), host!, hostId!, backup!, { label: 'Status', value: status }];
  if (m.stuck) facts.push({ label: 'Stuck', value: stuckText(m.stuck) });
  if (m.wasStuck) facts.push({ label: 'Was stuck', value: stuckText(m.wasStuck) });
  facts.push(...rest, { label: 'Scope', value: scopeText(m.scope) });
  const error = taskError(m.task);
  const errorText = error ? `, HSS error ${[error.code, error.message].filter(Boolean).join(': ')}` : '';
  return {
    tone: toneOf(m.status),
    title: alertTitle(m),
    facts,
    ...(error ? { error } : {}),
    ...(consoleLink(m.scope) ? { link: consoleLink(m.scope) } : {}),
    footer: `${BRAND} · alert ${m.id} · detected ${utcTime(m.at)}`,
    fallback: `${alertTitle(m)}: backup ${m.task.backupName || '—'}, ${status}${errorText}`,
  };
}

const HOW: Readonly<Record<ResolvedMessage['how'], string>> = {
  'later-success': 'a later backup/restore of the same host and backup succeeded',
  finished: 'the task finished',
};

/** The card of one resolved alert: short, green, naming the original alert and how it was resolved. */
function resolvedCard(m: ResolvedMessage): Card {
  const title = `Resolved: restore/backup on ${hostText(m.task)} no longer ${m.alertStatus}`;
  const text = `The ${m.alertStatus} alert of ${utcTime(m.alertAt)} is resolved: ${HOW[m.how]}.`;
  const facts: Fact[] = [
    ...noRouteFacts([m]),
    { label: 'Host', value: hostText(m.task) },
    { label: 'Backup', value: m.task.backupName || '—' },
    { label: 'Alert', value: m.alertId, mono: true },
  ];
  if (m.resolvedBy) {
    facts.push({
      label: 'Resolved by',
      value: `${m.resolvedBy.status} task started ${startedText(m.resolvedBy)}`,
    });
  }
  facts.push({ label: 'Scope', value: scopeText(m.scope) });
  return {
    tone: 'resolved',
    title,
    text,
    facts,
    ...(consoleLink(m.scope) ? { link: consoleLink(m.scope) } : {}),
    footer: `${BRAND} · resolves alert ${m.alertId} · ${utcTime(m.at)}`,
    fallback: `${title}. ${text}`,
  };
}

/** `web-03 · backup_1 · running → failed · HSS.1234` */
function alertLine(m: AlertMessage): string {
  const code = m.task.errorCode ? ` · ${m.task.errorCode}` : '';
  const stuck = m.stuck ? ` · ${stuckText(m.stuck)}` : '';
  return `${hostText(m.task)} · ${m.task.backupName || '—'} · ${transitionText(m)}${stuck}${code}`;
}

function countBy<T>(items: readonly T[], key: (item: T) => string): Array<[string, number]> {
  const counts = new Map<string, number>();
  for (const item of items) counts.set(key(item), (counts.get(key(item)) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
}

/** Scopes a digest names one by one before `…and k other scopes`. */
const DIGEST_SCOPES = 5;

function scopeFacts<T>(
  items: readonly T[],
  scopeOf: (item: T) => Scope,
  what: (group: T[]) => string,
): Fact[] {
  const groups = new Map<string, { scope: Scope; items: T[] }>();
  for (const item of items) {
    const scope = scopeOf(item);
    const group = groups.get(scope.id) ?? { scope, items: [] };
    group.items.push(item);
    groups.set(scope.id, group);
  }
  const sorted = [...groups.values()].sort((a, b) => b.items.length - a.items.length);
  const facts = sorted
    .slice(0, DIGEST_SCOPES)
    .map((g) => ({ label: scopeText(g.scope), value: what(g.items) }));
  if (sorted.length > DIGEST_SCOPES) {
    const others = sorted.slice(DIGEST_SCOPES).reduce((n, g) => n + g.items.length, 0);
    facts.push({
      label: `…and ${sorted.length - DIGEST_SCOPES} other scopes`,
      value: plural(others, 'task'),
    });
  }
  return facts;
}

const STILL_BEING_READ =
  'The alert lists are still being read (an incident bigger than one poll): more may follow.';

/** ONE card for many alerts: how many need attention, by status, by scope, the first `listed`, `…and M more`. */
export function alertDigestCard(
  alerts: readonly AlertMessage[],
  listed: number,
  context: RenderContext,
): Card {
  const n = alerts.length;
  const byStatus = countBy(alerts, (a) => a.status)
    .map(([s, c]) => `${c} ${s}`)
    .join(' · ');
  const title = `${plural(n, 'restore/backup task')} need${n === 1 ? 's' : ''} attention`;
  const text = context.listsIncomplete ? `${byStatus}. ${STILL_BEING_READ}` : byStatus;
  const shown = alerts.slice(0, listed);
  const first = alerts[0]!;
  return {
    tone: alerts.some((a) => a.status === 'failed') ? 'failed' : toneOf(first.status),
    title,
    text,
    facts: [
      ...noRouteFacts(alerts),
      ...scopeFacts(
        alerts,
        (a) => a.scope,
        (group) =>
          countBy(group, (a) => a.status)
            .map(([s, c]) => `${c} ${s}`)
            .join(', '),
      ),
    ],
    lines: shown.map(alertLine),
    more: n - shown.length,
    ...(consoleLink(first.scope) ? { link: consoleLink(first.scope) } : {}),
    footer: `${BRAND} · ${n} alerts · detected ${utcTime(first.at)}${n > 1 ? ` to ${utcTime(alerts[n - 1]!.at)}` : ''}`,
    fallback: `${title}: ${byStatus}${context.listsIncomplete ? ' (more may follow)' : ''}. First: ${shown
      .slice(0, 5)
      .map((a) => hostText(a.task))
      .join(', ')}${n > 5 ? ', …' : ''}`,
  };
}

/** ONE card for many resolved alerts. */
function resolvedDigestCard(resolved: readonly ResolvedMessage[], listed: number): Card {
  const n = resolved.length;
  const shown = resolved.slice(0, listed);
  const title = `${plural(n, 'restore/backup alert')} resolved`;
  return {
    tone: 'resolved',
    title,
    facts: [
      ...noRouteFacts(resolved),
      ...scopeFacts(
        resolved,
        (r) => r.scope,
        (group) => plural(group.length, 'alert'),
      ),
    ],
    lines: shown.map(
      (r) =>
        `${hostText(r.task)} · ${r.task.backupName || '—'} · was ${r.alertStatus} since ${utcTime(r.alertAt)}`,
    ),
    more: n - shown.length,
    ...(consoleLink(resolved[0]!.scope) ? { link: consoleLink(resolved[0]!.scope) } : {}),
    footer: `${BRAND} · ${utcTime(resolved[0]!.at)}`,
    fallback: `${title}: ${shown
      .slice(0, 5)
      .map((r) => hostText(r.task))
      .join(', ')}${n > 5 ? ', …' : ''}`,
  };
}

/** ONE card for every reminder of a batch: "3 restore/backup tasks still failing: …". */
function reminderDigestCard(reminders: readonly ReminderMessage[], listed: number): Card {
  const n = reminders.length;
  const statuses = new Set(reminders.map((r) => r.alertStatus));
  const only = statuses.size === 1 ? [...statuses][0]! : undefined;
  const state =
    only === 'failed'
      ? 'still failing'
      : only === 'timeout'
        ? 'still timed out'
        : only === 'stuck'
          ? 'still stuck'
          : 'still need attention';
  const shown = reminders.slice(0, listed);
  const hosts = shown
    .slice(0, 5)
    .map((r) => hostText(r.task))
    .join(', ');
  const title = `${plural(n, 'restore/backup task')} ${n === 1 ? state.replace('need ', 'needs ') : state}`;
  return {
    tone: 'reminder',
    title,
    text: `Reminder: these alerts are still open. ${hosts}${n > 5 ? ', …' : ''}`,
    facts: [
      ...noRouteFacts(reminders),
      ...scopeFacts(
        reminders,
        (r) => r.scope,
        (group) => plural(group.length, 'open alert'),
      ),
    ],
    lines: shown.map(
      (r) =>
        `${hostText(r.task)} · ${r.task.backupName || '—'} · ${r.alertStatus} since ${utcTime(r.alertAt)} (reminder ${r.n})`,
    ),
    more: n - shown.length,
    ...(consoleLink(reminders[0]!.scope) ? { link: consoleLink(reminders[0]!.scope) } : {}),
    footer: `${BRAND} · ${utcTime(reminders[0]!.at)}`,
    fallback: `${title}: ${hosts}${n > 5 ? ', …' : ''}`,
  };
}

/** The daily summary: counts per scope, the slowest tasks. */
function summaryCard(m: SummaryMessage, listed: number): Card {
  const total = m.scopes.reduce(
    (t, s) => ({ failed: t.failed + s.failed + s.timedOut + s.stuck, open: t.open + s.stillOpen }),
    { failed: 0, open: 0 },
  );
  const title = `Daily restore/backup summary for ${m.day} (${m.timeZone})`;
  const facts = m.scopes.slice(0, 10).map((s) => ({
    label: scopeText(s.scope),
    value: `${s.succeeded} succeeded · ${s.failed} failed · ${s.timedOut} timed out · ${s.stuck} stuck · ${s.resolved} resolved · ${s.stillOpen} still open`,
  }));
  if (m.scopes.length > 10) facts.push({ label: `…and ${m.scopes.length - 10} other scopes`, value: '' });
  const slowest = m.slowest.slice(0, listed);
  return {
    tone: total.failed > 0 || total.open > 0 ? 'warning' : 'info',
    title,
    text: `${plural(total.failed, 'task')} failed, timed out or got stuck; ${plural(total.open, 'alert')} still open.`,
    facts,
    lines: slowest.map(
      (s) =>
        `Slow: ${hostText(s.task)} · ${s.task.backupName || '—'} · ${durationText(s.durationMs)} (started ${startedText(s.task)})`,
    ),
    more: m.slowest.length - slowest.length,
    ...(consoleLink(m.scopes[0]?.scope) ? { link: consoleLink(m.scopes[0]?.scope) } : {}),
    footer: `${BRAND} · summary ${m.id}`,
    fallback: `${title}: ${plural(total.failed, 'task')} failed, timed out or got stuck; ${plural(total.open, 'alert')} still open`,
  };
}

const NOTICE_TONE: Readonly<Record<NoticeKind, Tone>> = {
  test: 'info',
  'monitoring-down': 'critical',
  'monitoring-recovered': 'resolved',
  'possible-loss': 'critical',
  'lost-track': 'warning',
  'records-rejected': 'warning',
  'destination-failing': 'warning',
  'destination-recovered': 'resolved',
  'destination-degraded': 'warning',
  'no-route': 'warning',
};

/** Tone of a notice kind. */
function noticeTone(kind: NoticeKind): Tone {
  return NOTICE_TONE[kind];
}

/** A notice about the monitoring itself: summary, detail, facts, scope. */
function noticeCard(m: NoticeMessage): Card {
  const facts: Fact[] = (m.facts ?? []).map(([label, value]) => ({ label, value }));
  if (m.scope) facts.push({ label: 'Scope', value: scopeText(m.scope) });
  facts.push({ label: 'At', value: utcTime(m.at) });
  const title = m.notice === 'test' && !/test/i.test(m.summary) ? `Test: ${m.summary}` : m.summary;
  return {
    tone: noticeTone(m.notice),
    title,
    ...(m.detail ? { text: m.detail } : {}),
    facts,
    ...(consoleLink(m.scope) ? { link: consoleLink(m.scope) } : {}),
    footer: `${BRAND} · notice ${m.id}`,
    fallback: m.detail ? `${title}: ${m.detail}` : title,
  };
}

/**
 * Groups a batch into cards the way every chat channel (and SMN) sends them: more than
 * DIGEST_THRESHOLD alerts become ONE digest (likewise resolved messages; more than one when quiet
 * hours held the batch), all reminders ONE digest, each summary and notice its own card. `listed` is how many tasks a digest names.
 * Every index of `batch` is in exactly one group; `skip` indexes (not accepted) are in none.
 */
export function cardGroups(
  batch: readonly Message[],
  context: RenderContext,
  listed: number,
  skip: ReadonlySet<number> = new Set(),
): CardGroup[] {
  const alerts: number[] = [];
  const resolved: number[] = [];
  const reminders: number[] = [];
  const singles: CardGroup[] = [];
  batch.forEach((m, i) => {
    if (skip.has(i)) return;
    if (m.kind === 'alert') alerts.push(i);
    else if (m.kind === 'resolved') resolved.push(i);
    else if (m.kind === 'reminder') reminders.push(i);
    else if (m.kind === 'daily-summary')
      singles.push({ covers: [i], card: summaryCard(m, listed), message: m });
    else singles.push({ covers: [i], card: noticeCard(m), message: m });
  });
  const groups: CardGroup[] = [];
  const pick = <T extends Message>(indexes: number[]): T[] => indexes.map((i) => batch[i] as T);
  // Held by quiet hours, a batch ends its quiet period in one message.
  const digestFrom = context.released ? 1 : DIGEST_THRESHOLD;
  if (alerts.length > digestFrom) {
    groups.push({ covers: alerts, card: alertDigestCard(pick<AlertMessage>(alerts), listed, context) });
  } else {
    for (const i of alerts) {
      const m = batch[i] as AlertMessage;
      groups.push({ covers: [i], card: alertCard(m), message: m });
    }
  }
  if (resolved.length > digestFrom) {
    groups.push({ covers: resolved, card: resolvedDigestCard(pick<ResolvedMessage>(resolved), listed) });
  } else {
    for (const i of resolved) {
      const m = batch[i] as ResolvedMessage;
      groups.push({ covers: [i], card: resolvedCard(m), message: m });
    }
  }
  if (reminders.length > 0) {
    groups.push({ covers: reminders, card: reminderDigestCard(pick<ReminderMessage>(reminders), listed) });
  }
  return [...groups, ...singles];
}

/**
 * Shrinks `card` step by step until `render(card)` fits `maxBytes` (UTF-8): the HSS error message to
 * 1,000 then 200 characters, digest lines halved down to 3, facts and text clipped to 200, then no
 * lines and no text; the last resort is title, link and footer only. Returns the rendered body.
 */
export function fitCard(card: Card, render: (card: Card) => string, maxBytes: number): string {
  const steps: Array<(c: Card) => Card> = [
    (c) => c,
    (c) => withError(c, 1000),
    ...[0.5, 0.25, 0.125].map(
      (f) => (c: Card) => withLines(c, Math.max(3, Math.floor((c.lines?.length ?? 0) * f))),
    ),
    (c) => ({
      ...withError(c, 200),
      ...(c.text ? { text: clip(c.text, 200) } : {}),
      facts: c.facts.map((f) => ({ ...f, label: clip(f.label, 100), value: clip(f.value, 200) })),
    }),
    (c) => withLines({ ...c, text: undefined }, 0),
    (c) => ({
      tone: c.tone,
      title: clip(c.title, 200),
      facts: [],
      ...(c.link ? { link: c.link } : {}),
      footer: clip(c.footer, 300),
      fallback: clip(c.fallback, 200),
    }),
  ];
  let current = card;
  let body = '';
  for (const step of steps) {
    current = step(current);
    body = render(current);
    if (bytes(body) <= maxBytes) return body;
  }
  return body;
}

function withError(c: Card, max: number): Card {
  if (!c.error?.message) return c;
  return { ...c, error: { ...c.error, message: clip(c.error.message, max) } };
}

function withLines(c: Card, keep: number): Card {
  if (!c.lines || c.lines.length <= keep) return c;
  return { ...c, lines: c.lines.slice(0, keep), more: (c.more ?? 0) + c.lines.length - keep };
}

/** `…and 45 more` (empty for none). */
export function moreText(more: number | undefined): string {
  return more && more > 0 ? `…and ${more} more` : '';
}
