// Wording shared by every channel, so Slack, Teams, Feishu, ... say the same things: a message (or a
// batch of them) becomes a channel-neutral Card (title, facts, error, list, link, footer) that each
// channel then writes in its own markup. Every string in a Card is treated as untrusted by the
// channels (it may hold API text), so our own words and HSS's are escaped alike.
import type {
  AlertMessage,
  AlertStatus,
  Message,
  NoticeKind,
  NoticeMessage,
  ReminderMessage,
  ResolvedMessage,
  Scope,
  StuckFacts,
  SummaryMessage,
  Task,
  TaskStatus,
} from '../model';
import type { RenderContext } from './destination';

/** A batch with more alerts (or resolved messages) than this becomes ONE digest on chat channels and SMN. */
export const DIGEST_THRESHOLD = 5;

/** Colour/urgency of a card; each channel maps it to its own colours or emoji. */
export type Tone = 'failed' | 'timeout' | 'stuck' | 'resolved' | 'reminder' | 'info' | 'warning' | 'critical';

/** A labelled value; `mono` values are identifiers (shown as code where the channel can). */
export interface Fact {
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

// ---------------------------------------------------------------------------------------------
// Text neutralisation shared by every channel.

// ANSI/VT escape sequences (CSI ... final byte, OSC ... BEL/ST, and two-byte ESC forms).
// eslint-disable-next-line no-control-regex
const ANSI = /\u001b(?:\[[0-?]*[ -/]*[@-~]|\][^\u0007\u001b]*(?:\u0007|\u001b\\)|[@-Z\\-_])/g;
// Every other control character (C0, DEL, C1) and the bidi overrides that can disguise text.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]+/g;
// No word boundary before the scheme or `www.`: `_https://x` and `_www.x` are auto-linked all the
// same once a channel escapes the `_` (a look-alike, a backslash) and so makes a boundary there.
const URL_SCHEME = /([a-z][a-z0-9+.-]{0,30}):\/\//gi;
const WWW = /www\./gi;
// `@everyone`, `@here`, `@all`, `@channel`: defused with a zero-width space so no channel reads a mention.
const AT_WORD = /@(?=[\p{L}\p{N}_])/gu;

/**
 * API text made inert for any reader: escape sequences removed, control characters and newlines
 * turned into spaces, `scheme://` broken into `scheme[:]//` and `www.` into `www[.]` (no channel
 * auto-links them), `<` and `>` replaced by the look-alikes `‹ ›` (no `<!channel>`, `<at id=all>`,
 * `<users/all>`, `<@U1>` or `<url|label>` in any markup, nor once a page is forwarded to chat), and
 * a zero-width space after `@` (no `@all`/`@everyone` mention). Channels then escape their own
 * markup characters on top.
 */
export function inert(text: string): string {
  return text
    .replace(ANSI, '')
    .replace(CONTROL, ' ')
    .replace(/ {2,}/g, ' ')
    .replace(URL_SCHEME, '$1[:]//')
    .replace(WWW, 'www[.]')
    .replace(/</g, '‹')
    .replace(/>/g, '›')
    .replace(AT_WORD, '@\u200b');
}

/** Characters replaced by look-alikes in channels whose markdown has no documented escape (DingTalk, WeCom, Google Chat text). */
const LOOKALIKES: Readonly<Record<string, string>> = {
  '[': '［',
  ']': '］',
  '<': '‹',
  '>': '›',
  '*': '∗',
  _: 'ˍ',
  '~': '∼',
  '`': 'ˋ',
  '#': '＃',
  '|': '│',
};

/**
 * Replaces each of `chars` (a subset of `[ ] < > * _ ~ \` # |`) in `text` with its look-alike. An `_`
 * between two letters or digits (`autobk_web-03`) is kept: it cannot open or close emphasis, and
 * names with underscores are common and copied from alerts.
 */
export function lookalike(text: string, chars: string): string {
  const cs = [...text];
  let out = '';
  cs.forEach((c, i) => {
    const intraword =
      c === '_' && /[\p{L}\p{N}]/u.test(cs[i - 1] ?? '') && /[\p{L}\p{N}]/u.test(cs[i + 1] ?? '');
    out += chars.includes(c) && LOOKALIKES[c] && !intraword ? LOOKALIKES[c] : c;
  });
  return out;
}

/**
 * `text` cut to at most `max` units (UTF-16 code units, or UTF-8 bytes when `unit` is `bytes`),
 * ending in `…` when cut; never splits a surrogate pair, an `&amp;`-style entity or a `\x` escape.
 */
export function clip(text: string, max: number, unit: 'chars' | 'bytes' = 'chars'): string {
  const size = (s: string): number => (unit === 'bytes' ? Buffer.byteLength(s, 'utf8') : s.length);
  if (size(text) <= max) return text;
  const room = max - size('…');
  if (room <= 0) return '';
  let cut: string;
  if (unit === 'chars') {
    cut = text.slice(0, room);
  } else {
    // Cut on the bytes, then drop a partly cut character (TextDecoder would leave U+FFFD).
    const bytes = Buffer.from(text, 'utf8').subarray(0, room);
    cut = bytes.toString('utf8').replace(/\uFFFD$/, '');
  }
  if (/[\uD800-\uDBFF]$/.test(cut)) cut = cut.slice(0, -1);
  cut = cut.replace(/&[a-z0-9#]*$/i, '');
  // An odd number of trailing backslashes would escape the ellipsis (or whatever markup follows).
  if (/(?:^|[^\\])(?:\\\\)*\\$/.test(cut)) cut = cut.slice(0, -1);
  return `${cut}…`;
}

/** UTF-8 size of `text`. */
export function bytes(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

// ---------------------------------------------------------------------------------------------
// Words.

/** A status as people read it: the documented name, `unknown (<raw>)` for an undocumented one. */
export function statusText(status: TaskStatus | AlertStatus, rawStatus?: string): string {
  return status === 'unknown' && rawStatus ? `unknown (${rawStatus})` : status;
}

/** The change that raised an alert: `running → failed`, or `first seen failed`. */
export function transitionText(alert: {
  status: TaskStatus | AlertStatus;
  previousStatus?: TaskStatus | AlertStatus;
  task: Pick<Task, 'rawStatus'>;
}): string {
  // `stuck` is our status, not HSS's: the raw status of a stuck task says `running`.
  const current = statusText(alert.status, alert.status === 'unknown' ? alert.task.rawStatus : undefined);
  return alert.previousStatus === undefined
    ? `first seen ${current}`
    : `${statusText(alert.previousStatus)} → ${current}`;
}

/** `2 h 10 min`, `41 min`, `3 d 4 h`, `0 min` for a duration in ms (rounded down to the minute). */
export function durationText(ms: number): string {
  const minutes = Math.max(0, Math.floor(ms / 60_000));
  const d = Math.floor(minutes / 1440);
  const h = Math.floor((minutes % 1440) / 60);
  const m = minutes % 60;
  if (d > 0) return h > 0 ? `${d} d ${h} h` : `${d} d`;
  if (h > 0) return m > 0 ? `${h} h ${m} min` : `${h} h`;
  return `${m} min`;
}

/** `41% for 2 h 10 min, running 5 h 3 min` (or `no progress reported for ...`). */
export function stuckText(facts: StuckFacts): string {
  const at = facts.process === undefined ? 'no progress reported' : `${facts.process}%`;
  return `${at} for ${durationText(facts.stalledMs)}, running ${durationText(facts.runningMs)}`;
}

/** `2025-03-06 05:26:18 UTC` for epoch ms. */
export function utcText(ms: number): string {
  const d = new Date(ms);
  return Number.isNaN(d.getTime()) ? String(ms) : `${d.toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

// The zone designator that ends an ISO time (`Z`, `+08:00`, `-0500`, `+08`).
const ZONE_AT_END = /\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)$/i;
const EPOCH_TEXT = /^\d{10,13}(?:\.\d+)?$/;

/**
 * A task time: from the parsed epoch ms as UTC, noting how a time sent without a zone was read (as
 * UTC, or in the zone of `other`, the task's other time, when that had an offset: lib/hss/parse.ts
 * reads it so), else the raw value marked `(as sent)`, else `—`. Start and end are always rendered
 * the same way, so a task never seems to end before it starts. `zoneless`: the task had such a time.
 */
export function taskTimeText(
  ms: number | undefined,
  raw: string | undefined,
  zoneless?: boolean,
  other?: string,
): string {
  if (ms !== undefined && Number.isFinite(ms)) {
    const text = raw?.trim() ?? '';
    if (!zoneless || ZONE_AT_END.test(text) || EPOCH_TEXT.test(text)) return utcText(ms);
    const zone = ZONE_AT_END.exec(other?.trim() ?? '')?.[1];
    return zone !== undefined && zone.toUpperCase() !== 'Z'
      ? `${utcText(ms)} (sent without a zone, read in the other time's zone, UTC${zone})`
      : `${utcText(ms)} (sent without a zone, read as UTC)`;
  }
  if (raw !== undefined && raw.trim() !== '') return `${raw} (as sent)`;
  return '—';
}

// Region names as Huawei Cloud writes them (`cn-north-4`, `ap-southeast-1`, `eu-west-101`); anything
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

/** `cn-north-4 · project 0a1b… · enterprise project 0` */
export function scopeText(scope: Pick<Scope, 'region' | 'projectId' | 'enterpriseProjectId'>): string {
  const parts = [`project ${scope.projectId}`, `enterprise project ${scope.enterpriseProjectId}`];
  return (scope.region ? [scope.region, ...parts] : parts).join(' · ');
}

/** The host as people know it: its name, or its id when HSS sent no name. */
export function hostText(task: Pick<Task, 'hostName' | 'hostId'>): string {
  return task.hostName || task.hostId || '(no host)';
}

const WHAT: Readonly<Partial<Record<AlertStatus, string>>> = {
  failed: 'failed',
  timeout: 'timed out',
  stuck: 'is stuck',
};

/** `failed`, `timed out`, `is stuck`, `is skipped`... for a headline. */
function whatHappened(status: AlertStatus, rawStatus?: string): string {
  return WHAT[status] ?? `is ${statusText(status, rawStatus)}`;
}

// The task list mixes backup and restore tasks and no field says which, so the wording names both.
/** `Restore/backup failed on web-03` */
export function alertTitle(message: Pick<AlertMessage, 'status' | 'task'>): string {
  return `Restore/backup ${whatHappened(message.status, message.task.rawStatus)} on ${hostText(message.task)}`;
}

function ordinal(n: number): string {
  const s = n % 100 >= 11 && n % 100 <= 13 ? 'th' : (['th', 'st', 'nd', 'rd'][n % 10] ?? 'th');
  return `${n}${s}`;
}

function plural(n: number, word: string, many = `${word}s`): string {
  return `${n} ${n === 1 ? word : many}`;
}

const TONE_OF_STATUS: Readonly<Partial<Record<AlertStatus, Tone>>> = {
  failed: 'failed',
  timeout: 'timeout',
  stuck: 'stuck',
};

/** Tone of an alert status: failed red, timeout orange, stuck yellow, others warning. */
export function toneOf(status: AlertStatus): Tone {
  return TONE_OF_STATUS[status] ?? 'warning';
}

/** The facts of one task (host, id, backup, progress, times): the same in alerts, resolved and reminders. */
function taskFacts(task: Task): Fact[] {
  return [
    { label: 'Host', value: hostText(task) },
    { label: 'Host ID', value: task.hostId || '—', mono: true },
    { label: 'Backup', value: task.backupName || '—' },
    { label: 'Progress', value: task.process === undefined ? 'unknown' : `${task.process}%` },
    { label: 'Started', value: taskTimeText(task.startedMs, task.startedAt, task.zoneless, task.endedAt) },
    { label: 'Ended', value: taskTimeText(task.endedMs, task.endedAt, task.zoneless, task.startedAt) },
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
export const NO_ROUTE_TEXT = "no destination's routing matched: sent here, to the fallback destination";

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
    footer: `${BRAND} · alert ${m.id} · detected ${utcText(m.at)}`,
    fallback: `${alertTitle(m)}: backup ${m.task.backupName || '—'}, ${status}${errorText}`,
  };
}

const HOW: Readonly<Record<ResolvedMessage['how'], string>> = {
  'later-success': 'a later backup/restore of the same host and backup succeeded',
  finished: 'the task finished',
};

/** The card of one resolved alert: short, green, naming the original alert and how it was resolved. */
export function resolvedCard(m: ResolvedMessage): Card {
  const title = `Resolved: restore/backup on ${hostText(m.task)} no longer ${m.alertStatus}`;
  const text = `The ${m.alertStatus} alert of ${utcText(m.alertAt)} is resolved: ${HOW[m.how]}.`;
  const facts: Fact[] = [
    ...noRouteFacts([m]),
    { label: 'Host', value: hostText(m.task) },
    { label: 'Backup', value: m.task.backupName || '—' },
    { label: 'Alert', value: m.alertId, mono: true },
  ];
  if (m.resolvedBy) {
    facts.push({
      label: 'Resolved by',
      value: `${m.resolvedBy.status} task started ${taskTimeText(m.resolvedBy.startedMs, m.resolvedBy.startedAt, m.resolvedBy.zoneless, m.resolvedBy.endedAt)}`,
    });
  }
  facts.push({ label: 'Scope', value: scopeText(m.scope) });
  return {
    tone: 'resolved',
    title,
    text,
    facts,
    ...(consoleLink(m.scope) ? { link: consoleLink(m.scope) } : {}),
    footer: `${BRAND} · resolves alert ${m.alertId} · ${utcText(m.at)}`,
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
    footer: `${BRAND} · ${n} alerts · detected ${utcText(first.at)}${n > 1 ? ` to ${utcText(alerts[n - 1]!.at)}` : ''}`,
    fallback: `${title}: ${byStatus}${context.listsIncomplete ? ' (more may follow)' : ''}. First: ${shown
      .slice(0, 5)
      .map((a) => hostText(a.task))
      .join(', ')}${n > 5 ? ', …' : ''}`,
  };
}

/** ONE card for many resolved alerts. */
export function resolvedDigestCard(resolved: readonly ResolvedMessage[], listed: number): Card {
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
        `${hostText(r.task)} · ${r.task.backupName || '—'} · was ${r.alertStatus} since ${utcText(r.alertAt)}`,
    ),
    more: n - shown.length,
    ...(consoleLink(resolved[0]!.scope) ? { link: consoleLink(resolved[0]!.scope) } : {}),
    footer: `${BRAND} · ${utcText(resolved[0]!.at)}`,
    fallback: `${title}: ${shown
      .slice(0, 5)
      .map((r) => hostText(r.task))
      .join(', ')}${n > 5 ? ', …' : ''}`,
  };
}

/** ONE card for every reminder of a batch: "3 restore/backup tasks still failing: …". */
export function reminderDigestCard(reminders: readonly ReminderMessage[], listed: number): Card {
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
        `${hostText(r.task)} · ${r.task.backupName || '—'} · ${r.alertStatus} since ${utcText(r.alertAt)} (reminder ${r.n})`,
    ),
    more: n - shown.length,
    ...(consoleLink(reminders[0]!.scope) ? { link: consoleLink(reminders[0]!.scope) } : {}),
    footer: `${BRAND} · ${utcText(reminders[0]!.at)}`,
    fallback: `${title}: ${hosts}${n > 5 ? ', …' : ''}`,
  };
}

/** The daily summary: counts per scope, the slowest tasks. */
export function summaryCard(m: SummaryMessage, listed: number): Card {
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
        `Slow: ${hostText(s.task)} · ${s.task.backupName || '—'} · ${durationText(s.durationMs)} (started ${taskTimeText(s.task.startedMs, s.task.startedAt, s.task.zoneless, s.task.endedAt)})`,
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
  'destination-failing': 'warning',
  'destination-recovered': 'resolved',
  'destination-degraded': 'warning',
  'no-route': 'warning',
};

/** Tone of a notice kind. */
export function noticeTone(kind: NoticeKind): Tone {
  return NOTICE_TONE[kind];
}

/** A notice about the monitoring itself: summary, detail, facts, scope. */
export function noticeCard(m: NoticeMessage): Card {
  const facts: Fact[] = (m.facts ?? []).map(([label, value]) => ({ label, value }));
  if (m.scope) facts.push({ label: 'Scope', value: scopeText(m.scope) });
  facts.push({ label: 'At', value: utcText(m.at) });
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
