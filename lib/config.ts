import * as z from 'zod/mini';
import { ConfigError } from './errors';
import { redactUrl } from './notify/redact';
import { TASK_STATUSES, isKnownStatus, type KnownStatus } from './task';
import { isLoopbackHost, parseUrl } from './url';

/** Everything the poll needs, parsed once at start from the environment; see parseConfig. */
export interface Config {
  /** Huawei Cloud project id (the `{project_id}` of the HSS path). */
  projectId: string;
  /** Enterprise project queried: `0` = default, `all_granted_eps` = every one the caller may see. */
  enterpriseProjectId: string;
  /** HSS region; absent only when `endpoint` is set. Not checked against the known list here. */
  region?: string;
  /** Base URL override for HSS (no trailing slash), e.g. a local emulator. */
  endpoint?: string;
  auth: { kind: 'aksk'; ak: string; sk: string; securityToken?: string } | { kind: 'token'; token: string };
  /** HSS calls allowed per minute for the operation-logs API (HSS enforces 5 per user). */
  ratePerMinute: number;
  /** Look-back window in days, 1..30. */
  lastDays: number;
  /** Schedule period in seconds (60..86400): picks each tick's in-flight sweep and the delivery lease. */
  periodSeconds: number;
  /** Statuses that alert, without duplicates, in the order given. */
  alertStatuses: KnownStatus[];
  stateTable: string;
  dynamodbEndpoint?: string;
  awsRegion: string;
  slackWebhookUrl?: string;
  webhookUrl?: string;
  /** Standard Webhooks signing secret: `whsec_<base64 key>`, or a raw secret of 24+ characters. */
  webhookSecret?: string;
  /** Record the first window without alerting. */
  baseline: boolean;
  /** Powertools log level, upper case. */
  logLevel?: string;
}

/** Variables whose values must never reach a log line or an error message. */
export const SECRET_VARIABLES = [
  'CLOUD_SDK_AK',
  'CLOUD_SDK_SK',
  'CLOUD_SDK_SECURITY_TOKEN',
  'HSS_AUTH_TOKEN',
  'SLACK_WEBHOOK_URL',
  'WEBHOOK_URL',
  'WEBHOOK_SECRET',
] as const;
export type SecretVariable = (typeof SECRET_VARIABLES)[number];

/** Defaults applied when a variable is unset or blank. */
export const CONFIG_DEFAULTS = {
  HSS_ENTERPRISE_PROJECT_ID: '0',
  HSS_RATE_LIMIT_PER_MINUTE: 5,
  LAST_DAYS: 1,
  SCHEDULE_PERIOD_SECONDS: 300,
  ALERT_STATUSES: ['failed', 'timeout'] as KnownStatus[],
  AWS_REGION: 'us-east-1',
  BASELINE: false,
} as const;

/** Log levels Powertools Logger understands. */
export const LOG_LEVELS = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'CRITICAL', 'SILENT'] as const;

const REDACTED = '[redacted]';

/** Parses the environment into a Config; throws one ConfigError listing every problem, never echoing a secret. */
export function parseConfig(env: Record<string, string | undefined>): Config {
  const clean = presentValues(env);
  const problems: string[] = [];

  const parsed = fields.safeParse(clean);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) problems.push(`${String(issue.path[0])} ${issue.message}`);
  }
  problems.push(...crossFieldProblems(clean));

  if (!parsed.success || problems.length > 0) {
    const message = scrubSecrets(`Invalid configuration: ${problems.join('; ')}`, clean);
    // Name the variable only when there is exactly one, so callers can point at it.
    const only = problems.length === 1 ? problems[0]?.split(' ')[0] : undefined;
    // The ZodError is deliberately not attached as `cause`: its issues could carry input values.
    throw new ConfigError(message, only);
  }

  const f = parsed.data;
  const auth: Config['auth'] =
    f.HSS_AUTH_TOKEN !== undefined
      ? { kind: 'token', token: f.HSS_AUTH_TOKEN }
      : {
          kind: 'aksk',
          ak: f.CLOUD_SDK_AK ?? '',
          sk: f.CLOUD_SDK_SK ?? '',
          ...(f.CLOUD_SDK_SECURITY_TOKEN !== undefined && { securityToken: f.CLOUD_SDK_SECURITY_TOKEN }),
        };
  return withoutUndefined({
    projectId: f.HSS_PROJECT_ID,
    enterpriseProjectId: f.HSS_ENTERPRISE_PROJECT_ID,
    region: f.HSS_REGION,
    endpoint: f.HSS_ENDPOINT,
    auth,
    ratePerMinute: f.HSS_RATE_LIMIT_PER_MINUTE,
    lastDays: f.LAST_DAYS,
    periodSeconds: f.SCHEDULE_PERIOD_SECONDS,
    alertStatuses: f.ALERT_STATUSES,
    stateTable: f.STATE_TABLE,
    dynamodbEndpoint: f.DYNAMODB_ENDPOINT,
    // Lambda always sets AWS_REGION; the CLI may not, and AWS_DEFAULT_REGION is the CLI's own spelling.
    awsRegion: f.AWS_REGION ?? f.AWS_DEFAULT_REGION ?? CONFIG_DEFAULTS.AWS_REGION,
    slackWebhookUrl: f.SLACK_WEBHOOK_URL,
    webhookUrl: f.WEBHOOK_URL,
    webhookSecret: f.WEBHOOK_SECRET,
    baseline: f.BASELINE,
    logLevel: f.LOG_LEVEL,
  });
}

/** A view of the config that is safe to log: secrets replaced by `[redacted]`, webhook URLs cut to scheme and host. */
export function describeConfig(c: Config): Record<string, unknown> {
  return withoutUndefined({
    projectId: c.projectId,
    enterpriseProjectId: c.enterpriseProjectId,
    region: c.region,
    endpoint: c.endpoint,
    auth:
      c.auth.kind === 'token'
        ? { kind: 'token', token: REDACTED }
        : {
            kind: 'aksk',
            ak: REDACTED,
            sk: REDACTED,
            ...(c.auth.securityToken !== undefined && { securityToken: REDACTED }),
          },
    ratePerMinute: c.ratePerMinute,
    lastDays: c.lastDays,
    periodSeconds: c.periodSeconds,
    alertStatuses: c.alertStatuses,
    stateTable: c.stateTable,
    dynamodbEndpoint: c.dynamodbEndpoint,
    awsRegion: c.awsRegion,
    slackWebhookUrl: c.slackWebhookUrl === undefined ? undefined : redactUrl(c.slackWebhookUrl),
    webhookUrl: c.webhookUrl === undefined ? undefined : redactUrl(c.webhookUrl),
    webhookSecret: c.webhookSecret === undefined ? undefined : REDACTED,
    baseline: c.baseline,
    logLevel: c.logLevel,
  });
}

// ---- per-variable rules -------------------------------------------------------------------------

/** A non-secret value as it may appear in a message: quoted, and cut so a pasted blob stays one line. */
function shown(value: unknown): string {
  const text = String(value);
  return JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}…` : text);
}

/** https anywhere, http only to this machine (local emulators and sinks); no credentials in the URL. */
function isSecureUrl(raw: string): boolean {
  const url = parseUrl(raw);
  if (url === undefined || url.username !== '' || url.password !== '') return false;
  return url.protocol === 'https:' || (url.protocol === 'http:' && isLoopbackHost(url.hostname));
}

const required = (expected: string) => z.string({ error: `is required (${expected})` });

const textOfLength = (min: number, max: number) =>
  z.string().check(
    z.refine((v) => v.length >= min && v.length <= max, {
      error: (issue) => `must be ${min}..${max} characters, got ${String(issue.input).length} characters`,
    }),
  );

const intBetween = (min: number, max: number, fallback: number) =>
  z._default(
    z.pipe(
      z.string().check(
        z.refine((v) => /^\d+$/.test(v) && Number(v) >= min && Number(v) <= max, {
          error: (issue) => `must be an integer ${min}..${max}, got ${shown(issue.input)}`,
        }),
      ),
      z.transform(Number),
    ),
    fallback,
  );

/** A secret: checked for shape only, and its messages never include the value. */
const secretToken = (maxLength: number) =>
  z.string().check(
    z.refine((v) => v.length <= maxLength && !/\s/.test(v), {
      error: `must be at most ${maxLength} characters with no spaces (value not shown)`,
    }),
  );

const secretUrl = z.string().check(
  z.refine(isSecureUrl, {
    error: (issue) =>
      `must be an https URL (http only to 127.0.0.0/8, ::1 or localhost) without credentials, got ${redactUrl(String(issue.input))}`,
  }),
);

// Standard Webhooks keys are `whsec_` + base64; a raw secret must be long enough to resist guessing.
const webhookSecret = z
  .string()
  .check(
    z.refine(
      (v) =>
        v.startsWith('whsec_')
          ? /^[A-Za-z0-9+/]+={0,2}$/.test(v.slice(6)) && Buffer.from(v.slice(6), 'base64').length >= 16
          : v.length >= 24,
      { error: 'must be whsec_<base64 key of 16+ bytes> or at least 24 characters (value not shown)' },
    ),
  );

const fields = z.object({
  HSS_PROJECT_ID: required('1..256 characters').check(
    z.refine((v) => v.length <= 256, {
      error: (issue) => `must be 1..256 characters, got ${String(issue.input).length} characters`,
    }),
  ),
  // Only the shape is checked here; hssEndpoint(region) owns the list of regions HSS serves.
  HSS_REGION: z.optional(
    z.pipe(
      z.string().check(
        z.refine((v) => /^[a-z]{2}(-[a-z]+)+-\d+$/i.test(v), {
          error: (issue) =>
            `must be a region id such as cn-north-4 or ap-southeast-1, got ${shown(issue.input)}`,
        }),
      ),
      // Case is copy-paste damage that never changes which region is meant.
      z.transform((v) => v.toLowerCase()),
    ),
  ),
  // Scheme and host only: the HSS client builds every path itself and would drop one given here.
  HSS_ENDPOINT: z.optional(
    z.pipe(
      z.string().check(
        z.refine(
          (v) => isSecureUrl(v) && ['', '/'].includes(parseUrl(v)?.pathname ?? '') && !/[?#]/.test(v),
          {
            error: (issue) =>
              `must be an https URL of scheme and host only (http only to 127.0.0.0/8, ::1 or localhost), got ${redactUrl(String(issue.input))}`,
          },
        ),
      ),
      z.transform((v) => parseUrl(v)?.origin ?? v),
    ),
  ),
  HSS_ENTERPRISE_PROJECT_ID: z._default(textOfLength(1, 256), CONFIG_DEFAULTS.HSS_ENTERPRISE_PROJECT_ID),
  CLOUD_SDK_AK: z.optional(secretToken(256)),
  CLOUD_SDK_SK: z.optional(secretToken(256)),
  CLOUD_SDK_SECURITY_TOKEN: z.optional(secretToken(16384)),
  HSS_AUTH_TOKEN: z.optional(secretToken(65536)),
  HSS_RATE_LIMIT_PER_MINUTE: intBetween(1, 600, CONFIG_DEFAULTS.HSS_RATE_LIMIT_PER_MINUTE),
  LAST_DAYS: intBetween(1, 30, CONFIG_DEFAULTS.LAST_DAYS),
  SCHEDULE_PERIOD_SECONDS: intBetween(60, 86_400, CONFIG_DEFAULTS.SCHEDULE_PERIOD_SECONDS),
  ALERT_STATUSES: z._default(
    z.pipe(
      z.string(),
      z.transform((raw: string, ctx) => {
        const items = raw
          .split(',')
          .map((s) => s.trim().toLowerCase())
          .filter((s) => s !== '');
        const unknown = items.filter((s) => !isKnownStatus(s));
        if (items.length === 0 || unknown.length > 0) {
          const got = items.length === 0 ? 'an empty list' : unknown.map(shown).join(', ');
          ctx.issues.push({
            code: 'custom',
            input: raw,
            message: `must be a comma-separated list of ${TASK_STATUSES.join('/')}, got ${got}`,
          });
          return z.NEVER;
        }
        return [...new Set(items as KnownStatus[])];
      }),
    ),
    () => [...CONFIG_DEFAULTS.ALERT_STATUSES],
  ),
  STATE_TABLE: required('a DynamoDB table name').check(
    z.refine((v) => /^[A-Za-z0-9_.-]{3,255}$/.test(v), {
      error: (issue) =>
        `must be a DynamoDB table name (3..255 of A-Z a-z 0-9 _ . -), got ${shown(issue.input)}`,
    }),
  ),
  // Any host: DynamoDB-compatible servers (dynalite, LocalStack) commonly run in another container.
  DYNAMODB_ENDPOINT: z.optional(
    z.string().check(
      z.refine((v) => ['http:', 'https:'].includes(parseUrl(v)?.protocol ?? ''), {
        error: (issue) => `must be an http(s) URL, got ${redactUrl(String(issue.input))}`,
      }),
    ),
  ),
  AWS_REGION: z.optional(
    z.string().check(
      z.refine((v) => /^[a-z]{2}(-[a-z]+)+-\d+$/.test(v), {
        error: (issue) => `must be an AWS region id such as us-east-1, got ${shown(issue.input)}`,
      }),
    ),
  ),
  AWS_DEFAULT_REGION: z.optional(z.string()),
  SLACK_WEBHOOK_URL: z.optional(secretUrl),
  WEBHOOK_URL: z.optional(secretUrl),
  WEBHOOK_SECRET: z.optional(webhookSecret),
  BASELINE: z._default(
    z.pipe(
      z.string().check(
        z.refine((v) => /^(true|false)$/i.test(v), {
          error: (issue) => `must be true or false, got ${shown(issue.input)}`,
        }),
      ),
      z.transform((v) => v.toLowerCase() === 'true'),
    ),
    CONFIG_DEFAULTS.BASELINE,
  ),
  LOG_LEVEL: z.optional(
    z.pipe(
      z.string().check(
        z.refine((v) => (LOG_LEVELS as readonly string[]).includes(v.toUpperCase()), {
          error: (issue) => `must be one of ${LOG_LEVELS.join('/')}, got ${shown(issue.input)}`,
        }),
      ),
      z.transform((v) => v.toUpperCase()),
    ),
  ),
});

/** Rules that span variables: where HSS is, exactly one way to authenticate, at least one destination. */
function crossFieldProblems(env: Record<string, string>): string[] {
  // A variable whose `_PARAM` is set counts as present here: its own problem is reported once, below.
  const has = (name: string) => env[name] !== undefined || env[`${name}_PARAM`] !== undefined;
  const problems: string[] = [];
  if (!has('HSS_REGION') && !has('HSS_ENDPOINT')) {
    problems.push('HSS_REGION is required (an HSS region such as cn-north-4) unless HSS_ENDPOINT is set');
  }
  const aksk = has('CLOUD_SDK_AK') || has('CLOUD_SDK_SK');
  if (aksk && has('HSS_AUTH_TOKEN')) {
    problems.push(
      'HSS_AUTH_TOKEN must not be set together with CLOUD_SDK_AK/CLOUD_SDK_SK (choose one auth mode)',
    );
  } else if (!aksk && !has('HSS_AUTH_TOKEN')) {
    problems.push('CLOUD_SDK_AK and CLOUD_SDK_SK are required (or HSS_AUTH_TOKEN for token auth)');
  } else if (has('CLOUD_SDK_AK') && !has('CLOUD_SDK_SK')) {
    problems.push('CLOUD_SDK_SK is required when CLOUD_SDK_AK is set');
  } else if (has('CLOUD_SDK_SK') && !has('CLOUD_SDK_AK')) {
    problems.push('CLOUD_SDK_AK is required when CLOUD_SDK_SK is set');
  }
  if (has('CLOUD_SDK_SECURITY_TOKEN') && !aksk) {
    problems.push(
      'CLOUD_SDK_SECURITY_TOKEN needs CLOUD_SDK_AK and CLOUD_SDK_SK (it belongs to temporary AK/SK)',
    );
  }
  if (!has('SLACK_WEBHOOK_URL') && !has('WEBHOOK_URL')) {
    problems.push('SLACK_WEBHOOK_URL or WEBHOOK_URL is required (at least one destination)');
  }
  for (const name of SECRET_VARIABLES) {
    if (env[`${name}_PARAM`] !== undefined && env[name] === undefined) {
      problems.push(
        `${name}_PARAM is set but ${name} was not read from SSM (resolveSecretParams runs before parseConfig)`,
      );
    }
  }
  if (has('WEBHOOK_SECRET') && !has('WEBHOOK_URL')) {
    problems.push('WEBHOOK_SECRET is set but WEBHOOK_URL is not (the secret signs webhook deliveries)');
  }
  return problems;
}

/** Trimmed values, with blank ones dropped: deployment tools write unset optional values as "". */
function presentValues(env: Record<string, string | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    const trimmed = value?.trim();
    if (trimmed) out[name] = trimmed;
  }
  return out;
}

/** Last line of defence: a secret pasted into the wrong variable must not be echoed back. */
function scrubSecrets(message: string, env: Record<string, string>): string {
  let out = message;
  for (const name of SECRET_VARIABLES) {
    const value = env[name];
    // Very short values would garble unrelated text; such values are not usable secrets anyway.
    if (value === undefined || value.length < 6) continue;
    out = out.split(value).join(REDACTED);
    // shown() cuts long values to their first 40 characters.
    if (value.length > 40) out = out.split(value.slice(0, 40)).join(REDACTED);
  }
  return out;
}

function withoutUndefined<T extends Record<string, unknown>>(obj: T): T {
  return Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== undefined)) as T;
}
