// The one table of environment variables: each row says what the variable is for, whether it is a
// secret (never shown; may come from SSM with the `_PARAM` suffix), its default and its rule. The
// parser, the secret list, the SSM resolver and the README's configuration table all read it. A
// channel's variables are written in its spec (lib/notify/channels/) and joined in here; any other
// variable is one row of CORE_VARIABLES.
import type { Problem } from './problems';
import { CHANNELS } from '../notify/channels';
import type { ChannelVariable } from '../notify/channels/spec';
import {
  anyHttpUrl,
  awsRegion,
  baseUrl,
  boolean,
  check,
  integer,
  oneOf,
  regionId,
  secretToken,
  ssmParameterName,
  statusList,
  text,
  timeOfDay,
  timeZone,
  type ValueOf,
  type VariableSpec,
} from '../rules';
import { PROJECT_ID, ENTERPRISE_PROJECT_ID, scopeList } from './scopes';

export const GROUPS = ['Scopes', 'Credentials', 'Polling and state', 'Destinations', 'Lifecycle'] as const;

/** A row of the table: a variable's spec, its README group, and the variable it only applies with. */
export interface Variable<T> extends VariableSpec<T> {
  readonly group: (typeof GROUPS)[number];
  /** Only meaningful together with this variable: setting it alone is an error. */
  readonly needs?: string;
}

const v = <const S extends Variable<unknown>>(spec: S): S => spec;

/** The variables that are not a channel's. */
const CORE_VARIABLES = {
  // ---- scopes: where HSS is read ----
  HSS_SCOPES: v({
    group: 'Scopes',
    rule: scopeList,
    doc: 'Several scopes, comma-separated; `@name` picks a named credential (default `default`). Replaces HSS_REGION/HSS_PROJECT_ID/HSS_ENTERPRISE_PROJECT_ID.',
  }),
  HSS_REGION: v({
    group: 'Scopes',
    rule: regionId,
    doc: 'One-scope form: the HSS region (a region HSS serves, e.g. `cn-north-4`; `eu-west-101` uses `.myhuaweicloud.eu`). Required unless HSS_ENDPOINT is set.',
  }),
  HSS_PROJECT_ID: v({
    group: 'Scopes',
    rule: PROJECT_ID,
    doc: 'One-scope form: the project id (`{project_id}` of the HSS path).',
  }),
  HSS_ENTERPRISE_PROJECT_ID: v({
    group: 'Scopes',
    rule: ENTERPRISE_PROJECT_ID,
    defaultDoc: '`0`',
    doc: 'One-scope form: enterprise project queried; `0` = default, `all_granted_eps` = every one the credential may see.',
  }),
  HSS_ENDPOINT: v({
    group: 'Scopes',
    rule: baseUrl,
    defaultDoc: "each scope's region URL",
    doc: 'Serves every scope (emulators, private endpoints); may replace HSS_REGION in the one-scope form.',
  }),
  // ---- credentials ----
  CLOUD_SDK_AK: v({
    group: 'Credentials',
    rule: secretToken(256),
    secret: true,
    perCredential: true,
    doc: 'Access key of the `default` credential (`__NAME`: of credential `name`); requests are signed with SDK-HMAC-SHA256.',
  }),
  CLOUD_SDK_SK: v({
    group: 'Credentials',
    rule: secretToken(256),
    secret: true,
    perCredential: true,
    doc: 'Secret key that goes with CLOUD_SDK_AK.',
  }),
  CLOUD_SDK_SECURITY_TOKEN: v({
    group: 'Credentials',
    rule: secretToken(16384),
    secret: true,
    perCredential: true,
    doc: 'Security token of temporary AK/SK (only with AK/SK).',
  }),
  HSS_AUTH_TOKEN: v({
    group: 'Credentials',
    rule: secretToken(65536),
    secret: true,
    perCredential: true,
    doc: 'IAM token sent as `X-Auth-Token`, instead of AK/SK (expires within 24 h).',
  }),
  // ---- polling and state ----
  HSS_RATE_LIMIT_PER_MINUTE: v({
    group: 'Polling and state',
    rule: integer(1, 600),
    default: '5',
    doc: 'HSS calls per minute per credential, shared by every scope and stack using it; lower it when other tools use the same user.',
  }),
  LAST_DAYS: v({
    group: 'Polling and state',
    rule: integer(1, 30),
    default: '1',
    doc: 'The query window in days.',
  }),
  ALERT_STATUSES: v({
    group: 'Polling and state',
    rule: statusList,
    default: 'failed,timeout',
    doc: 'Task statuses that alert (`stuck` is separate: see STUCK_AFTER_MINUTES).',
  }),
  SCHEDULE_PERIOD_SECONDS: v({
    group: 'Polling and state',
    rule: integer(60, 86_400),
    default: '60',
    doc: "The schedule's period, set by `serverless.yml` from the schedule: paces the sweep and the delivery lease.",
  }),
  CHECKS_PER_MINUTE: v({
    group: 'Polling and state',
    rule: integer(1, 5),
    default: '1',
    doc: 'Checks each invocation makes a minute while the call budget allows (sub-minute detection; the Lambda runs most of its period, see the cost table).',
  }),
  POLL_BUDGET_SECONDS: v({
    group: 'Polling and state',
    rule: integer(10, 86_400),
    defaultDoc: 'the period less a safety margin',
    doc: 'CLI only: how long one poll may run.',
  }),
  STATE_TABLE: v({
    group: 'Polling and state',
    rule: text(3, 255, { re: /^[A-Za-z0-9_.-]+$/, doc: 'A-Z a-z 0-9 _ . -' }),
    required: true,
    doc: 'DynamoDB table of the state.',
  }),
  STATE_NAMESPACE: v({
    group: 'Polling and state',
    rule: text(1, 64, { re: /^[A-Za-z0-9_.-]+$/, doc: 'A-Z a-z 0-9 _ . -' }),
    default: 'default',
    doc: 'Prefix of every state item (but the shared rate budget), so several stacks may share one table.',
  }),
  DYNAMODB_ENDPOINT: v({
    group: 'Polling and state',
    rule: anyHttpUrl,
    doc: 'DynamoDB endpoint override (local or development DynamoDB).',
  }),
  AWS_REGION: v({
    group: 'Polling and state',
    rule: awsRegion,
    defaultDoc: 'AWS_DEFAULT_REGION, else `us-east-1`',
    doc: 'Region of the state table; Lambda always sets it.',
  }),
  AWS_DEFAULT_REGION: v({
    group: 'Polling and state',
    rule: awsRegion,
    doc: "The AWS CLI's spelling, read when AWS_REGION is unset.",
  }),
  BASELINE: v({
    group: 'Polling and state',
    rule: boolean,
    default: 'false',
    doc: '`true`: record the current window without alerting (skip the backlog).',
  }),
  LOG_LEVEL: v({
    group: 'Polling and state',
    rule: oneOf(['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'CRITICAL', 'SILENT']),
    defaultDoc: '`INFO`',
    doc: 'Powertools log level.',
  }),
  // ---- destinations ----
  DESTINATIONS_FILE: v({
    group: 'Destinations',
    rule: text(1, 4096),
    doc: 'Path of a YAML or JSON destinations file (relative to the working directory: the function root on Lambda); see below.',
  }),
  DESTINATIONS_FILE_PARAM: v({
    group: 'Destinations',
    rule: ssmParameterName,
    doc: 'Name of an SSM parameter (String or SecureString) whose value is the destinations file; instead of DESTINATIONS_FILE.',
  }),
  DESTINATION_DEGRADED_AFTER_MINUTES: v({
    group: 'Destinations',
    rule: integer(5, 1440),
    default: '30',
    doc: 'Messages waiting and no delivery for this long: the destination is degraded (the others are told).',
  }),
  // Each channel's variables come from its spec (lib/notify/channels/): see VARIABLES below.
  // ---- lifecycle ----
  STUCK_AFTER_MINUTES: v({
    group: 'Lifecycle',
    rule: integer(5, 10_080),
    default: '60',
    doc: 'A running or waiting task whose progress has not moved this long alerts as `stuck`.',
  }),
  STUCK_MAX_HOURS: v({
    group: 'Lifecycle',
    rule: integer(1, 720),
    default: '6',
    doc: 'A task running longer than this alerts as `stuck`.',
  }),
  NOTIFY_RESOLVED: v({
    group: 'Lifecycle',
    rule: boolean,
    default: 'true',
    doc: 'Send a "resolved" notice when a later task of the same host and backup succeeds.',
  }),
  REMIND_AFTER_HOURS: v({
    group: 'Lifecycle',
    rule: integer(0, 720),
    default: '24',
    doc: 'Remind of unresolved alerts every this many hours, in one digest per destination; `0` = never.',
  }),
  DAILY_SUMMARY_AT: v({
    group: 'Lifecycle',
    rule: timeOfDay,
    doc: "Send yesterday's summary at this time every day (off when unset).",
  }),
  DAILY_SUMMARY_TZ: v({
    group: 'Lifecycle',
    rule: timeZone,
    default: 'UTC',
    needs: 'DAILY_SUMMARY_AT',
    doc: 'Time zone of DAILY_SUMMARY_AT and of the day summarised.',
  }),
} as const;

type Channel = (typeof CHANNELS)[number];
type UnionToIntersection<U> = (U extends unknown ? (u: U) => void : never) extends (i: infer I) => void
  ? I
  : never;
/** Every channel's variables, in the Destinations group. */
type ChannelVariables = {
  [K in keyof UnionToIntersection<Channel['variables']>]: UnionToIntersection<Channel['variables']>[K] & {
    group: 'Destinations';
    needs?: string;
  };
};

/**
 * Every variable: the core ones, then each channel's in CHANNELS order (its first one turns the
 * destination on; the others only apply with it).
 */
export const VARIABLES = {
  ...CORE_VARIABLES,
  ...Object.fromEntries(
    CHANNELS.flatMap((channel) => {
      const entries = Object.entries(channel.variables as Record<string, ChannelVariable>);
      const first = entries[0]![0];
      return entries.map(([name, variable]) => [
        name,
        { ...variable, group: 'Destinations', ...(name !== first && { needs: first }) },
      ]);
    }),
  ),
} as typeof CORE_VARIABLES & ChannelVariables;

export type VariableName = keyof typeof VARIABLES;

/** Every variable's parsed value; a variable with a default always has one. */
export type Values = { -readonly [K in VariableName]: ValueOf<(typeof VARIABLES)[K]> };

/** Variables whose values must never reach a log line or an error message (named credentials too: `CLOUD_SDK_SK__ACME`). */
export const SECRET_VARIABLES = (Object.keys(VARIABLES) as VariableName[]).filter(
  (name) => (VARIABLES[name] as Variable<unknown>).secret,
);

/** Variables that may also be given per named credential (`CLOUD_SDK_AK__ACME`). */
export const PER_CREDENTIAL_VARIABLES = [
  'CLOUD_SDK_AK',
  'CLOUD_SDK_SK',
  'CLOUD_SDK_SECURITY_TOKEN',
  'HSS_AUTH_TOKEN',
] as const;
export type CredentialVariable = (typeof PER_CREDENTIAL_VARIABLES)[number];

/** `CLOUD_SDK_SK__ACME` -> the base variable and the credential part as written; undefined for other names. */
export function splitNamedCredential(name: string): { base: CredentialVariable; suffix: string } | undefined {
  const m = /^(CLOUD_SDK_AK|CLOUD_SDK_SK|CLOUD_SDK_SECURITY_TOKEN|HSS_AUTH_TOKEN)__(.*)$/.exec(name);
  return m ? { base: m[1] as CredentialVariable, suffix: m[2]! } : undefined;
}

/** True when `name`'s value is a secret: a secret variable of the table, or a named credential's. */
export function isSecretVariable(name: string): boolean {
  return (SECRET_VARIABLES as string[]).includes(name) || splitNamedCredential(name) !== undefined;
}

/** A value as read: its text (trimmed) and how a message names where it came from. */
export interface Input {
  text: string;
  /** `LAST_DAYS`, or `CLOUD_SDK_SK (CLOUD_SDK_SK_PARAM=/x/sk)` for a value read from SSM. */
  where: string;
  /** Named by `X_PARAM` but not read (already reported): set, without a value to check. */
  unresolved?: true;
}

/**
 * Applies each variable's rule to its input (or its default), reporting a missing required one,
 * a refused value and a variable set without the one it `needs`. A refused variable with a default
 * takes the default, so that later checks do not report the same mistake again.
 */
export function parseVariables(inputs: ReadonlyMap<string, Input>, problems: Problem[]): Values {
  const values: Record<string, unknown> = {};
  for (const [name, variable] of Object.entries(VARIABLES) as [VariableName, Variable<unknown>][]) {
    const input = inputs.get(name);
    const byDefault =
      variable.default === undefined ? undefined : check(variable.rule, variable.default, name);
    values[name] = byDefault?.ok ? byDefault.value : undefined;
    if (input === undefined) {
      if (variable.required)
        problems.push({ variable: name, text: `${name} is required (${variable.rule.expected})` });
      continue;
    }
    if (!input.unresolved) {
      const checked = check(variable.rule, input.text, input.where);
      if (checked.ok) values[name] = checked.value;
      else problems.push({ variable: name, text: checked.problem });
    }
    if (variable.needs !== undefined && !inputs.has(variable.needs)) {
      problems.push({
        variable: name,
        text: `${name} is set but ${variable.needs} is not (it only applies with ${variable.needs})`,
      });
    }
  }
  return values as Values;
}
