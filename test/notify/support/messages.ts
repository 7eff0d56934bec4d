// Builders for the messages every channel renders, with parsed times as the poll produces them.
import type {
  AlertMessage,
  NoticeKind,
  NoticeMessage,
  ReminderMessage,
  ResolvedMessage,
  Scope,
  SummaryMessage,
  Task,
} from '../../../lib/model';

export const T0 = Date.UTC(2026, 10, 29, 18, 0, 0);
const MIN = 60_000;
export const HOUR = 3_600_000;

export const SCOPE: Scope = {
  id: 'cn-north-4/0a1b2c3d4e5f60718293a4b5c6d7e8f9/0',
  region: 'cn-north-4',
  projectId: '0a1b2c3d4e5f60718293a4b5c6d7e8f9',
  enterpriseProjectId: '0',
  credential: 'default',
};

export const CONSOLE_URL =
  'https://console.huaweicloud.com/hss/?region=cn-north-4&locale=en-us#/hss/ransomware/backup';

/** Every markup trick a host, backup or error text could carry. */
export const HOSTILE = [
  '<!channel>',
  '<at user_id="all">',
  '<at id=all></at>',
  '@all',
  '<@all>',
  '<users/all>',
  '@everyone',
  '@here',
  '[x](https://evil)',
  '<https://evil|click>',
  '`code`',
  '*bold* _it_ ~s~',
  'https://evil.example/x',
  'line1\nline2\r\n\u001b[31mred\u001b[0m\u202eoverride',
].join(' ');

/** Pieces of HOSTILE that must never appear verbatim in what a markup channel shows. */
export const HOSTILE_MARKERS = [
  '<!channel>',
  '<at user_id="all">',
  '<at id=all>',
  '<@all>',
  '<users/all>',
  '@everyone',
  '@here',
  '@all',
  '](https://evil)',
  '<https://evil',
  'https://evil',
  '\u001b',
  '\u202e',
];

/**
 * Characters that are invisible or turn the text around them, by name: the line and paragraph
 * separators and every bidi control (marks, embeddings and overrides, isolates).
 */
export const INVISIBLE_MARKS: ReadonlyArray<[name: string, char: string]> = [
  ['LINE SEPARATOR', '\u2028'],
  ['PARAGRAPH SEPARATOR', '\u2029'],
  ['LRM', '\u200e'],
  ['RLM', '\u200f'],
  ['ALM', '\u061c'],
  ['LRE', '\u202a'],
  ['RLE', '\u202b'],
  ['PDF', '\u202c'],
  ['LRO', '\u202d'],
  ['RLO', '\u202e'],
  ['LRI', '\u2066'],
  ['RLI', '\u2067'],
  ['FSI', '\u2068'],
  ['PDI', '\u2069'],
];

/** Formatting pieces that must not appear verbatim on channels whose text is Markdown/mrkdwn. */
export const HOSTILE_FORMATTING = ['`code`', '*bold*', '_it_', '~s~'];

function task(overrides: Partial<Task> = {}): Task {
  return {
    hostId: 'a1b2c3d4-0000-4000-8000-000000000003',
    hostName: 'web-03',
    backupName: 'autobk_web-03',
    status: 'failed',
    rawStatus: 'failed',
    process: 41,
    startedAt: '2026-11-29T17:00:03Z',
    endedAt: '2026-11-29T17:41:10Z',
    startedMs: Date.UTC(2026, 10, 29, 17, 0, 3),
    endedMs: Date.UTC(2026, 10, 29, 17, 41, 10),
    errorCode: 'HSS.0102',
    errorMessage: 'restore failed: vault not reachable',
    ...overrides,
  };
}

export function alert(
  i = 0,
  overrides: Partial<AlertMessage> = {},
  taskOverrides: Partial<Task> = {},
): AlertMessage {
  const t = task({ hostName: `web-${String(i).padStart(2, '0')}`, hostId: `host-id-${i}`, ...taskOverrides });
  return {
    kind: 'alert',
    id: `alert-${i}-${'f'.repeat(20)}`,
    at: T0 + i,
    scope: SCOPE,
    task: t,
    status: t.status === 'timeout' ? 'timeout' : 'failed',
    previousStatus: 'running',
    reason: 'moved',
    episode: 1,
    taskRef: `task-ref-${i}`,
    ...overrides,
  };
}

export function resolved(i = 0, overrides: Partial<ResolvedMessage> = {}): ResolvedMessage {
  return {
    kind: 'resolved',
    id: `resolved-${i}`,
    at: T0 + HOUR,
    scope: SCOPE,
    alertId: `alert-${i}-${'f'.repeat(20)}`,
    alertStatus: 'failed',
    alertAt: T0,
    task: task({ hostName: `web-${String(i).padStart(2, '0')}` }),
    taskRef: `task-ref-${i}`,
    how: 'later-success',
    resolvedBy: task({
      status: 'success',
      rawStatus: 'success',
      startedMs: T0 + 30 * MIN,
      startedAt: new Date(T0 + 30 * MIN).toISOString(),
    }),
    ...overrides,
  };
}

export function reminder(i = 0, overrides: Partial<ReminderMessage> = {}): ReminderMessage {
  return {
    kind: 'reminder',
    id: `alert-${i}.r1`,
    at: T0 + 24 * HOUR,
    scope: SCOPE,
    alertId: `alert-${i}`,
    alertStatus: 'failed',
    alertAt: T0,
    task: task({ hostName: `web-${String(i).padStart(2, '0')}` }),
    taskRef: `task-ref-${i}`,
    n: 1,
    ...overrides,
  };
}

export function summary(overrides: Partial<SummaryMessage> = {}): SummaryMessage {
  return {
    kind: 'daily-summary',
    id: 'summary-2026-11-29',
    at: T0 + 15 * HOUR,
    day: '2026-11-29',
    timeZone: 'Asia/Shanghai',
    scopes: [{ scope: SCOPE, succeeded: 120, failed: 3, timedOut: 1, stuck: 1, resolved: 2, stillOpen: 3 }],
    slowest: [
      {
        scope: SCOPE,
        task: task({ status: 'success', rawStatus: 'success' }),
        durationMs: 5 * HOUR + 12 * MIN,
      },
    ],
    ...overrides,
  };
}

export function notice(kind: NoticeKind, overrides: Partial<NoticeMessage> = {}): NoticeMessage {
  const summaries: Record<NoticeKind, string> = {
    test: 'Test notification from hss-restore-alerts: this destination works',
    'monitoring-down': 'Monitoring is NOT working for cn-north-4: 3 polls failed in a row',
    'monitoring-recovered': 'Monitoring works again for cn-north-4 after 2 h 10 min; the gap was read',
    'possible-loss': 'Monitoring was blind for 31 days: failures in that gap may never be seen',
    'lost-track': 'Lost track of a task on web-03',
    'records-rejected': 'HSS sent 2 records that cannot be read for cn-north-4 today: they are skipped',
    'destination-failing': 'Slack is failing permanently since 2026-11-29 17:00 UTC; 3 alerts undelivered',
    'destination-recovered': 'Slack works again',
    'destination-degraded': 'Slack has delivered nothing for 30 min (since 2026-11-29 17:00 UTC)',
    'no-route': "Alerts matched no destination's routing and reached no one today",
  };
  return {
    kind: 'notice',
    notice: kind,
    id: `notice-${kind}`,
    at: T0,
    ...(kind === 'test' || kind.startsWith('destination') ? {} : { scope: SCOPE }),
    summary: summaries[kind],
    detail: kind === 'monitoring-down' ? 'HSS answered 503 Service Unavailable' : undefined,
    facts: kind === 'monitoring-down' ? [['Blind since', '2026-11-29 17:00 UTC']] : undefined,
    ...(kind.startsWith('monitoring') ? { incidentKey: `${SCOPE.id}#outage-1` } : {}),
    ...overrides,
  };
}

/** 60 alerts: 40 failed, 20 timed out, over two scopes. */
export function burst(n = 60, errorMessage?: string): AlertMessage[] {
  const other: Scope = { ...SCOPE, id: 'ap-southeast-1/p2/0', region: 'ap-southeast-1', projectId: 'p2' };
  return Array.from({ length: n }, (_, i) =>
    alert(
      i,
      { scope: i % 2 === 0 ? SCOPE : other, status: i % 3 === 2 ? 'timeout' : 'failed' },
      {
        status: i % 3 === 2 ? 'timeout' : 'failed',
        rawStatus: i % 3 === 2 ? 'timeout' : 'failed',
        ...(errorMessage ? { errorMessage } : {}),
      },
    ),
  );
}
