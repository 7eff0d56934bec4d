// The one description of the state table: every item the product writes, its keys, the prefixes of
// its sort keys (each prefix means one thing), its attributes and how long it is kept. Every store
// builds its keys here; the README's state table (test/state/layout-table.ts) describes each item.
import { DAY_MS, HOUR_MS } from '../time';

/** Table key attribute names (`pk`, `sk`), the sparse index's (`g1pk`, `g1sk`) and the TTL attribute. */
export const KEY = { pk: 'pk', sk: 'sk', gsiPk: 'g1pk', gsiSk: 'g1sk', ttl: 'ttl' } as const;
/** The sparse global secondary index: due outbox deliveries and due reminders. */
export const GSI_NAME = 'gsi1';

/** The API's longest look-back window, days. */
export const MAX_WINDOW_DAYS = 30;

/**
 * How long each kind of state is kept after its last write (DynamoDB TTL), and when a delivery is
 * given up. Alerts outlive the longest window the API allows (30 days) plus margin, so no later
 * configuration (a wider LAST_DAYS, another enterprise project filter, a gap catch-up) can alert the
 * same task and status again.
 */
export const RETENTION = {
  /** Alert messages (the dedup record of a task + status + episode), open alerts, swallowed alerts: 30 days + 2. */
  alertDays: MAX_WINDOW_DAYS + 2,
  /** Every other message (notices, reminders, resolved, summaries) and day counters: long enough to dedupe retries. */
  messageDays: 7,
  /** A delivery still failing this long after it became due is given up (expired). */
  deliveryRetryMs: 24 * HOUR_MS,
  /**
   * A scope's state item and the deployment markers: a year and a month after the last write, so a
   * poller stopped for longer than the API's 30 days still finds its watermark and announces the
   * possible loss; the state of a scope no longer polled is dropped after that.
   */
  scopeStateDays: 400,
  /** A scope's digest shards and list pages: the API's 30 days + 5 after the last write. */
  digestDays: MAX_WINDOW_DAYS + 5,
  /** A task's detail item: the API's 30 days + 2 after it was last written. */
  taskDays: MAX_WINDOW_DAYS + 2,
  /** Alerts of a UTC day that matched no route (status shows them): two days. */
  unroutedDays: 2,
  /** A credential's call-budget item: a day after its last write or its throttle hold (it matters for a minute). */
  budgetDays: 1,
} as const;

/** TTL (epoch seconds) of an item written at `now` (epoch ms) and kept `days`. */
export function ttlAfter(now: number, days: number): number {
  return Math.ceil((now + days * DAY_MS) / 1000);
}

/** Partition keys. Every item but the call budget is namespaced, so stacks can share a table. */
export const PK = {
  /** One scope's state: its state item, digest shards, list pages, open alerts, day counters. */
  scope: (ns: string, scopeId: string) => `${ns}#S#${scopeId}`,
  /** One project's task details (a task's identity is project-level). */
  project: (ns: string, projectId: string) => `${ns}#P#${projectId}`,
  /** Deployment-wide markers (daily summary day, budget starvation). */
  deployment: (ns: string) => `${ns}#D`,
  /** The outbox: messages, destination health, the delivery lease. */
  outbox: (ns: string) => `${ns}#O`,
  /** Sparse-index partition of outbox messages with a delivery pending or held. */
  outboxDue: (ns: string) => `${ns}#O#due`,
  /** Silences. */
  silences: (ns: string) => `${ns}#X`,
  /** What one silence swallowed. */
  swallowed: (ns: string, silenceId: string) => `${ns}#W#${silenceId}`,
  /** Sparse-index partition of open alerts with a reminder due. */
  openAlerts: (ns: string) => `${ns}#open`,
  /** A credential's call budget: NOT namespaced, so every stack using the same HSS user shares it. */
  budget: (credentialHash: string) => `B#${credentialHash}`,
} as const;

/** Sort keys and sort-key prefixes; no prefix has two meanings. */
export const SK = {
  scopeState: 'C#state',
  /** Digest shard n of a scope. */
  digestShard: (n: number) => `D#${n}`,
  digestPrefix: 'D#',
  /** Prefix of the chunks of keys the cycle of a list that started at `cycleStart` has seen (a cycle spanning polls). */
  seenCycle: (list: string, cycleStart: number) => `V#${list}#${cycleStart}#`,
  /** The row hashes of a list's last complete cycle. */
  sketch: (list: string) => `K#${list}`,
  task: (entryKey: string) => `T#${entryKey}`,
  taskPrefix: 'T#',
  /** An open alert: grouped by host + backup (resolution looks them up by that). */
  openAlert: (hostBackupHash: string, entryKey: string) => `A#${hostBackupHash}#${entryKey}`,
  openAlertPrefix: 'A#',
  openAlertsOf: (hostBackupHash: string) => `A#${hostBackupHash}#`,
  dayCounters: (day: string) => `Y#${day}`,
  markers: 'N#markers',
  outboxMessage: (id: string) => `M#${id}`,
  outboxMessagePrefix: 'M#',
  destinationHealth: (destination: string) => `H#${destination}`,
  destinationHealthPrefix: 'H#',
  /** A destination answering only retryable failures (degraded once old enough). */
  destinationStreakPrefix: 'R#',
  /** Alerts of a UTC day that matched no destination's routing. */
  unroutedDayPrefix: 'U#',
  lease: 'L#deliver',
  silence: (id: string) => `X#${id}`,
  silencePrefix: 'X#',
  swallowedAlert: (alertId: string) => `W#${alertId}`,
  swallowedPrefix: 'W#',
  budget: 'B',
} as const;

/** Attribute names shared by several modules. */
export const ATTRIBUTE = {
  /** `delivery#{destination}`: one delivery state per destination on an outbox message. */
  delivery: 'delivery#',
} as const;
