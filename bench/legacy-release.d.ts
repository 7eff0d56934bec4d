// The few exports of the previous release (bench/children.ts RELEASE) that bench/legacy-child.ts
// uses. The code itself is never in this repository: bench/children.ts extracts it with
// `git archive` at bench time and esbuild resolves `legacy-release/*` to that copy.
declare module 'legacy-release/lib/config' {
  export interface LegacyConfig {
    scopes: unknown[];
    alertStatuses: string[];
    ratePerMinute: number;
    periodSeconds: number;
  }
  /** Parses the environment into the release's Config; throws one ConfigError. */
  export function parseConfig(env: Record<string, string | undefined>): LegacyConfig;
}

declare module 'legacy-release/lib/app' {
  import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
  import type { LegacyConfig } from 'legacy-release/lib/config';

  interface LegacyLog {
    debug(message: string): void;
    info(message: string): void;
    warn(message: string): void;
    error(message: string): void;
  }

  export interface LegacyApp {
    dynamo: DynamoDBClient;
    reader: { readonly stats: { calls: number; throttled: number } };
  }

  export interface LegacyPollSummary {
    scopesFailed: Array<{ scope: string; error: string }>;
    alertsNew: number;
    changes: number;
    left: Array<{ scope: string; list: string; offset: number }>;
    hssCalls: number;
    dynamoRequests: number;
    delivery: { pending: number };
    lifecycle?: { resolved: number };
  }

  export function createApp(
    config: LegacyConfig,
    overrides: { log: LegacyLog; clock?: () => number; sleep?: (ms: number) => Promise<void> },
  ): LegacyApp;

  /** One poll that must end by `end` (epoch ms), as the release's handler ran it. */
  export function runPoll(app: LegacyApp, end: number): Promise<LegacyPollSummary>;
}

declare module 'legacy-release/lib/poll/plan' {
  /** The release's promise: the longest a new failure in any scope can wait to be read, ms. */
  export function latencyBoundMs(
    scopes: number,
    alertLists: number,
    ratePerMinute: number,
    periodMs: number,
  ): number;
}
