// The typed configuration every part of lib/ trusts: parsed once, at start, from the environment
// (and DESTINATIONS_FILE); lib/ never re-validates these values.
import type { HssAuth } from '../huaweicloud/credentials';
import type { KnownStatus } from '../model';
import type { DestinationConfig } from '../notify/channels';

/** One scope as configured (`region/project_id[/enterprise_project_id]`, optionally `@credential`). */
export interface ScopeConfig {
  /** Region id (`cn-north-4`); absent only in the one-scope form with HSS_ENDPOINT and no HSS_REGION. */
  region?: string;
  projectId: string;
  /** Default `0`; `all_granted_eps` = every enterprise project the credential may see. */
  enterpriseProjectId: string;
  /** Credential name; `default` unless the scope names another. */
  credential: string;
}

/** Alert lifecycle settings (stuck tasks, resolution, reminders, daily summary). */
export interface LifecycleConfig {
  /** A running/waiting task whose progress has not moved this long alerts as stuck (default 60). */
  stuckAfterMinutes: number;
  /** A task running longer than this alerts as stuck (default 6). */
  stuckMaxHours: number;
  /** Send "resolved" notices (default true). */
  notifyResolved: boolean;
  /** Remind of open alerts every this many hours; 0 = never (default 24). */
  remindAfterHours: number;
  /** Daily summary time, when enabled (`DAILY_SUMMARY_AT=09:00`, `DAILY_SUMMARY_TZ=Asia/Shanghai`, default UTC). */
  dailySummary?: { at: string; timeZone: string };
}

/** Everything the product needs, parsed once at start; see parseConfig. */
export interface Config {
  /** At least one; ids unique. */
  scopes: ScopeConfig[];
  /** Credentials by name; every scope's (and SMN destination's) credential is here; `default` is the unnamed one. */
  credentials: Record<string, HssAuth>;
  /** HSS base URL override (no trailing slash) serving every scope (emulators, private endpoints). */
  endpoint?: string;
  /** HSS calls allowed per minute per credential (HSS enforces 5 per user); default 5. */
  ratePerMinute: number;
  /** Look-back window in days, 1..30 (default 1). */
  lastDays: number;
  /** Schedule period in seconds, 60..86400 (default 60). */
  periodSeconds: number;
  /** Checks per minute an invocation makes while the call budget allows, 1..5 (default 1). */
  checksPerMinute: number;
  /** CLI only: seconds one poll may run (default: the period less the safety margin). */
  pollBudgetSeconds?: number;
  /** Statuses that alert, without duplicates, in the order given (default failed, timeout). */
  alertStatuses: KnownStatus[];
  stateTable: string;
  /** Prefix of every state item but the rate budget, so stacks may share a table (default `default`). */
  stateNamespace: string;
  dynamodbEndpoint?: string;
  awsRegion: string;
  /** At least one; names unique; at most one with `routing.fallback`. From the per-channel variables and DESTINATIONS_FILE (lib/notify/channels/). */
  destinations: DestinationConfig[];
  /** A destination with messages waiting and no 2xx for this long is degraded, minutes (default 30). */
  destinationDegradedAfterMinutes: number;
  /** Record the current window without alerting. */
  baseline: boolean;
  lifecycle: LifecycleConfig;
  /** Powertools log level, upper case. */
  logLevel?: string;
}
