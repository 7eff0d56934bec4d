// Configuration, parsed once at start from the environment (and the destinations file) into the
// typed Config that lib/ trusts. Every problem is reported at once, in one ConfigError line that
// names each variable (or file path) and what was expected, and never shows a secret.
import { channelOf } from '../notify/channels';
import { redactUrl } from '../redact';
import { checkCredentialUse, buildCredentials } from './credentials';
import { checkDestinations, envDestinations, fileDestinations } from './destinations';
import { readDestinationsFile, readTextFile, type ReadFile } from './file';
import { readInputs, type SsmParameters } from './inputs';
import { configError, type Problem } from './problems';
import { buildScopes } from './scopes';
import type { Config } from './types';
import type { DestinationConfig } from '../notify/channels';
import type { HssAuth } from '../huaweicloud/credentials';
import { parseVariables } from './variables';

export type * from './types';
export type { SsmParameters } from './inputs';
export { isSecretVariable } from './variables';

/**
 * The AWS region of the function and the variable that named it: AWS_REGION (Lambda always sets
 * it), else AWS_DEFAULT_REGION (the AWS CLI's spelling, for the CLI), else `us-east-1` (no source).
 * Blank values count as unset.
 */
export function awsRegionOf(env: { AWS_REGION?: string; AWS_DEFAULT_REGION?: string }): {
  region: string;
  source?: 'AWS_REGION' | 'AWS_DEFAULT_REGION';
} {
  for (const source of ['AWS_REGION', 'AWS_DEFAULT_REGION'] as const) {
    const region = env[source]?.trim();
    if (region) return { region, source };
  }
  return { region: 'us-east-1' };
}

export interface ParseOptions {
  /** Reads DESTINATIONS_FILE (default: UTF-8 from disk, relative to the working directory). */
  readFile?: ReadFile;
  /**
   * The SSM parameters that `X_PARAM` variables, DESTINATIONS_FILE_PARAM and the file's `*_param`
   * fields name, as resolveSecretParams read them; without it any such reference is a problem.
   */
  parameters?: SsmParameters;
}

/**
 * Parses the environment (and the destinations file it names) into a Config; throws one ConfigError
 * listing every problem, never echoing a secret. Makes no network call: resolve `_PARAM`
 * references first with resolveSecretParams (lib/secrets.ts) and pass them as `parameters`.
 */
export function parseConfig(env: Record<string, string | undefined>, options: ParseOptions = {}): Config {
  const problems: Problem[] = [];
  const { inputs, secrets } = readInputs(env, options.parameters, problems);
  const v = parseVariables(inputs, problems);
  const file = readDestinationsFile(
    v,
    { readFile: options.readFile ?? readTextFile, parameters: options.parameters },
    problems,
  );
  const scopes = buildScopes(v, inputs, file, problems);
  const destinations = [...envDestinations(v), ...(file ? fileDestinations(file, v) : [])];
  // A file with problems was reported: do not also say that there is no destination.
  const fileMayList =
    (file?.destinations?.length ?? 0) > 0 || problems.some((p) => p.variable.startsWith('DESTINATIONS_FILE'));
  checkDestinations(destinations, inputs, fileMayList, problems);
  const credentials = buildCredentials(v, inputs, file, problems);
  checkCredentialUse(
    credentials,
    [
      ...scopes.map(({ scope, where, variable }) => ({ credential: scope.credential, where, variable })),
      ...destinations.flatMap(({ destination: d, where, variable }) => {
        const credential = channelOf(d.type).credential?.(d);
        return credential === undefined ? [] : [{ credential, where, variable }];
      }),
    ],
    problems,
  );
  if (problems.length > 0) throw configError(problems, [...secrets, ...(file?.reader.secrets ?? [])]);

  return {
    scopes: scopes.map((s) => s.scope),
    credentials: Object.fromEntries(
      [...credentials].flatMap(([name, c]) => (c.auth ? [[name, c.auth] as const] : [])),
    ),
    ...(v.HSS_ENDPOINT !== undefined && { endpoint: v.HSS_ENDPOINT }),
    ratePerMinute: v.HSS_RATE_LIMIT_PER_MINUTE,
    lastDays: v.LAST_DAYS,
    periodSeconds: v.SCHEDULE_PERIOD_SECONDS,
    checksPerMinute: v.CHECKS_PER_MINUTE,
    ...(v.POLL_BUDGET_SECONDS !== undefined && { pollBudgetSeconds: v.POLL_BUDGET_SECONDS }),
    alertStatuses: v.ALERT_STATUSES,
    // Required, so present once there is no problem.
    stateTable: v.STATE_TABLE!,
    stateNamespace: v.STATE_NAMESPACE,
    ...(v.DYNAMODB_ENDPOINT !== undefined && { dynamodbEndpoint: v.DYNAMODB_ENDPOINT }),
    awsRegion: awsRegionOf(v).region,
    destinations: destinations.map((d) => d.destination),
    destinationDegradedAfterMinutes: v.DESTINATION_DEGRADED_AFTER_MINUTES,
    baseline: v.BASELINE,
    lifecycle: {
      stuckAfterMinutes: v.STUCK_AFTER_MINUTES,
      stuckMaxHours: v.STUCK_MAX_HOURS,
      notifyResolved: v.NOTIFY_RESOLVED,
      remindAfterHours: v.REMIND_AFTER_HOURS,
      ...(v.DAILY_SUMMARY_AT !== undefined && {
        dailySummary: { at: v.DAILY_SUMMARY_AT, timeZone: v.DAILY_SUMMARY_TZ },
      }),
    },
    ...(v.LOG_LEVEL !== undefined && { logLevel: v.LOG_LEVEL }),
  };
}

const REDACTED = '[redacted]';

/** The config as it may be logged: keys, tokens and secrets `[redacted]`, every URL cut to `scheme://host/…`. */
export function describeConfig(c: Config): Record<string, unknown> {
  return {
    ...c,
    credentials: Object.fromEntries(
      Object.entries(c.credentials).map(([name, auth]) => [name, describeAuth(auth)]),
    ),
    ...(c.dynamodbEndpoint !== undefined && { dynamodbEndpoint: redactUrl(c.dynamodbEndpoint) }),
    destinations: c.destinations.map(describeDestination),
  };
}

function describeAuth(auth: HssAuth): Record<string, string> {
  if (auth.kind === 'token') return { kind: 'token', token: REDACTED };
  return {
    kind: 'aksk',
    ak: REDACTED,
    sk: REDACTED,
    ...(auth.securityToken !== undefined && { securityToken: REDACTED }),
  };
}

function describeDestination(d: DestinationConfig): Record<string, unknown> {
  const { redact } = channelOf(d.type);
  const view = new Map<string, unknown>(Object.entries(d));
  for (const key of [...(redact.secretUrls ?? []), ...(redact.urls ?? [])]) {
    const url = view.get(String(key));
    if (typeof url === 'string') view.set(String(key), redactUrl(url));
  }
  for (const key of redact.secrets ?? [])
    if (view.get(String(key)) !== undefined) view.set(String(key), REDACTED);
  return Object.fromEntries(view);
}
