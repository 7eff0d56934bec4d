// The few exports of the previous release (commit 02e0dc6, "today's design") that
// bench/legacy-child.ts uses. The code itself is never in this repository: bench/legacy.ts extracts it
// with `git archive` at bench time and esbuild resolves `legacy-release/*` to that copy.
declare module 'legacy-release/lib/config' {
  /** Parses the environment into the release's Config; throws one ConfigError. */
  export function parseConfig(env: Record<string, string | undefined>): unknown;
}

declare module 'legacy-release/lib/app' {
  import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';

  interface LegacyLog {
    debug(message: string): void;
    info(message: string): void;
    warn(message: string): void;
    error(message: string): void;
  }

  export interface LegacyApp {
    dynamo: DynamoDBClient;
    hss: { readonly stats: { calls: number; throttled: number; retries: number } };
  }

  export interface LegacyPollSummary {
    tasksSeen: number;
    transitions: number;
    alertsNew: number;
    alertsSent: number;
    deliveriesPending: number;
    hssCalls: number;
    dynamoRequests: number;
  }

  export function createApp(
    config: unknown,
    overrides: { log: LegacyLog; clock?: () => number; sleep?: (ms: number) => Promise<void> },
  ): LegacyApp;

  /** One poll as the release's handler ran it (no deadline: the function timeout ended a long one). */
  export function runPoll(app: LegacyApp): Promise<LegacyPollSummary>;
}
