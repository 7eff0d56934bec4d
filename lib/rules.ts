// The rule of every configuration value, in one place: what a good value looks like (the words the
// README and every error message use) and the zod parser that turns the text into the typed value.
// An environment variable and the same field in the destinations file share one rule. A leaf: the
// channels (lib/notify/channels/) write their variables with these rules and lib/config reads them.
import picomatch from 'picomatch';
import * as z from 'zod/mini';
import { redactUrl } from './redact';
import type { AlertStatus } from './model';
import { TASK_STATUSES, isKnownStatus, type KnownStatus } from './task';
import { isLoopbackHost, parseUrl } from './url';

/** How a refused value may appear in a message: as text (cut), as `scheme://host/…`, or not at all. */
export type Shown = 'value' | 'url' | 'hidden';

export interface Rule<T> {
  /** What a good value is, in words ("an integer 1..30"): README rule column and error messages. */
  readonly expected: string;
  readonly shown: Shown;
  /** Parses a trimmed, non-empty text; an issue's message is a safe detail ("" when there is none). */
  readonly schema: z.ZodMiniType<T, string>;
  /** Said after every refusal (how to make a good value). */
  readonly hint?: string;
}

/**
 * A configuration variable as its owner writes it (a channel module, or the variables table in
 * lib/config/variables.ts): its rule, its words for the README, and how it is read.
 */
export interface VariableSpec<T> {
  readonly rule: Rule<T>;
  /** One or two sentences for the README. */
  readonly doc: string;
  /** Never shown in logs or errors; may be read from an SSM SecureString named by `<NAME>_PARAM`. */
  readonly secret?: true;
  /** Applied when the variable is unset or blank (and to go on checking when its value is refused). */
  readonly default?: string;
  /** The default in words, when it is computed rather than fixed. */
  readonly defaultDoc?: string;
  readonly required?: true;
  /** Also given per named credential as `<NAME>__<CREDENTIAL>` (`CLOUD_SDK_SK__ACME`). */
  readonly perCredential?: true;
}

/** The parsed value of variable `V`: its rule's type, never undefined when it has a default. */
export type ValueOf<V> = V extends { rule: Rule<infer T> }
  ? V extends { default: string }
    ? T
    : T | undefined
  : never;

/** Returned by a rule's parse to refuse a value; `detail` replaces "got <value>" and never holds a secret. */
export interface Refused {
  readonly refused: true;
  readonly detail?: string;
}
export const refuse = (detail?: string): Refused => ({
  refused: true,
  ...(detail !== undefined && { detail }),
});
const isRefused = (v: unknown): v is Refused =>
  typeof v === 'object' && v !== null && (v as Partial<Refused>).refused === true;

// zod replaces an empty issue message with its own words; this marks "no detail" instead.
const NO_DETAIL = '\u0000';

/** Builds a rule from a parse function (text -> value, or refuse()). */
export function rule<T>(
  expected: string,
  shown: Shown,
  parse: (text: string) => T | Refused,
  hint?: string,
): Rule<T> {
  const schema = z.pipe(
    z.string(),
    z.transform((text: string, ctx) => {
      const out = parse(text);
      if (!isRefused(out)) return out;
      // `input` is left empty on purpose: issues must never carry a secret.
      ctx.issues.push({ code: 'custom', input: '', message: out.detail ?? NO_DETAIL });
      return z.NEVER;
    }),
  );
  return { expected, shown, schema, ...(hint !== undefined && { hint }) };
}

export type Checked<T> = { ok: true; value: T } | { ok: false; problem: string };

/** Applies `r` to `text`; a refusal reads `<where> must be <expected>, got <value as r shows it>[ (hint)]`. */
export function check<T>(r: Rule<T>, text: string, where: string): Checked<T> {
  const parsed = r.schema.safeParse(text);
  if (parsed.success) return { ok: true, value: parsed.data };
  const message = parsed.error.issues[0]?.message;
  const detail = message === NO_DETAIL ? undefined : message;
  const got =
    r.shown === 'hidden'
      ? detail === undefined
        ? ' (value not shown)'
        : `, got ${detail} (value not shown)`
      : `, got ${detail ?? (r.shown === 'url' ? redactUrl(text) : shown(text))}`;
  return { ok: false, problem: `${where} must be ${r.expected}${got}${r.hint ? ` (${r.hint})` : ''}` };
}

/** A non-secret value as a message may show it: quoted, and cut so a pasted blob stays one line. */
export function shown(value: unknown, max = 40): string {
  const text = String(value);
  return JSON.stringify(text.length > max ? `${text.slice(0, max)}…` : text);
}

// ---- scalar rules -------------------------------------------------------------------------------

export const integer = (min: number, max: number): Rule<number> =>
  rule(`an integer ${min}..${max}`, 'value', (t) =>
    /^\d+$/.test(t) && Number(t) >= min && Number(t) <= max ? Number(t) : refuse(),
  );

export const boolean: Rule<boolean> = rule('true or false', 'value', (t) =>
  /^(true|false)$/i.test(t) ? t.toLowerCase() === 'true' : refuse(),
);

/** Text of `min..max` characters, optionally from a character class (`pattern` tests the whole text). */
export function text(min: number, max: number, pattern?: { re: RegExp; doc: string }): Rule<string> {
  return rule(`${min}..${max} characters${pattern ? `, ${pattern.doc}` : ''}`, 'value', (t) => {
    if (t.length < min || t.length > max) return refuse(`${t.length} characters`);
    return pattern === undefined || pattern.re.test(t) ? t : refuse();
  });
}

/** One of `values`, case-insensitive; returned as written in `values`. */
export function oneOf<const V extends string>(values: readonly V[]): Rule<V> {
  return rule(`one of ${values.join('/')}`, 'value', (t) => {
    const found = values.find((v) => v.toLowerCase() === t.toLowerCase());
    return found ?? refuse();
  });
}

/** A region id's shape (`cn-north-4`, `eu-west-101`), lower-cased; which regions HSS serves is checked with the scopes. */
export const regionId: Rule<string> = rule(
  'a region id such as cn-north-4 or ap-southeast-1',
  'value',
  (t) => (/^[a-z]{2}(-[a-z]+)+-\d+$/i.test(t) ? t.toLowerCase() : refuse()),
);

export const awsRegion: Rule<string> = rule('an AWS region id such as us-east-1', 'value', (t) =>
  /^[a-z]{2}(-[a-z]+)+-\d+$/.test(t) ? t : refuse(),
);

/** `HH:MM` on a 24-hour clock; `9:00` is read as `09:00`. */
export const timeOfDay: Rule<string> = rule('a time HH:MM (24-hour clock)', 'value', (t) => {
  const m = /^([01]?\d|2[0-3]):([0-5]\d)$/.exec(t);
  return m ? `${m[1]!.padStart(2, '0')}:${m[2]}` : refuse();
});

/** An IANA time zone known to this runtime's Intl, in its canonical spelling (`asia/shanghai` -> `Asia/Shanghai`). */
export const timeZone: Rule<string> = rule('an IANA time zone such as Asia/Shanghai or UTC', 'value', (t) => {
  try {
    return new Intl.DateTimeFormat('en-US', { timeZone: t }).resolvedOptions().timeZone;
  } catch {
    return refuse();
  }
});

/** A comma-separated list of documented task statuses, lower-cased, without duplicates, in the order given. */
export const statusList: Rule<KnownStatus[]> = rule(
  `a comma-separated list of ${TASK_STATUSES.join('/')}`,
  'value',
  (t) => {
    const items = t
      .split(',')
      .map((s) => s.trim().toLowerCase())
      .filter((s) => s !== '');
    const unknown = items.filter((s) => !isKnownStatus(s));
    if (items.length === 0) return refuse('an empty list');
    if (unknown.length > 0) return refuse(unknown.map((s) => shown(s)).join(', '));
    return [...new Set(items as KnownStatus[])];
  },
);

/** An alert status a destination may route or page on: one of the alerting `statuses`, or `stuck`. */
export function alertStatus(statuses: readonly KnownStatus[]): Rule<AlertStatus> {
  return oneOf<AlertStatus>([...statuses, 'stuck']);
}

/** A credential name (`acme`, `prod-cn`): lower-cased. */
export const credentialName: Rule<string> = rule('a credential name of 1..32 a-z 0-9 _ -', 'value', (t) =>
  /^[a-z0-9_-]{1,32}$/i.test(t) ? t.toLowerCase() : refuse(),
);

/** A destination name: the delivery-state key. */
export const destinationName: Rule<string> = text(1, 64, {
  re: /^[A-Za-z0-9_.-]+$/,
  doc: 'A-Z a-z 0-9 _ . -',
});

/** An SSM parameter name, ARN or `name:version` selector, as GetParameters takes it. */
export const ssmParameterName: Rule<string> = rule(
  'an SSM parameter name such as /hss-restore-alerts/prod/cloud-sdk-sk (or its ARN)',
  'value',
  (t) => (/^[A-Za-z0-9_.\-/:]{1,2048}$/.test(t) ? t : refuse()),
);

/** A glob (picomatch, brackets checked): the options every router must compile it with. */
export const GLOB_OPTIONS = { strictBrackets: true } as const;
export const glob: Rule<string> = rule('a glob pattern such as web-* or db-0[1-3]', 'value', (t) => {
  try {
    // picomatch compiles a pattern it cannot read into a regex that matches nothing (`$^`).
    return picomatch.makeRe(t, GLOB_OPTIONS).source === '$^' ? refuse() : t;
  } catch {
    return refuse();
  }
});

// ---- secrets ------------------------------------------------------------------------------------

/** A secret token: checked for length and spaces only; its value is never shown. */
export const secretToken = (maxLength: number): Rule<string> =>
  rule(`1..${maxLength} characters without spaces`, 'hidden', (t) =>
    t.length <= maxLength && !/\s/.test(t) ? t : refuse(),
  );

// ---- URLs ---------------------------------------------------------------------------------------

/** https anywhere, http only to this machine (local emulators and sinks); never user info in the URL. */
function secureUrl(raw: string): URL | undefined {
  const url = parseUrl(raw);
  if (url === undefined || url.username !== '' || url.password !== '') return undefined;
  if (url.protocol === 'https:' || (url.protocol === 'http:' && isLoopbackHost(url.hostname))) return url;
  return undefined;
}

const LOOPBACK = 'http only to 127.0.0.0/8, ::1 or localhost';

/** What a channel's webhook URL looks like where its vendor documents it (a loopback URL always passes). */
export interface UrlShape {
  /** The shape in words, e.g. `https://open.feishu.cn/open-apis/bot/v2/hook/…`. */
  readonly doc?: string;
  readonly matches?: (url: URL) => boolean;
}

/** A webhook URL (a secret: shown as scheme and host only) of the given shape (any https URL without one). */
export function webhookUrl(shape: UrlShape = {}): Rule<string> {
  const expected = shape.doc
    ? `${shape.doc}, without user info (or any http(s) URL on loopback)`
    : `an https URL (${LOOPBACK}) without user info`;
  return rule(expected, 'url', (t) => {
    const url = secureUrl(t);
    if (url === undefined) return refuse();
    return isLoopbackHost(url.hostname) || shape.matches === undefined || shape.matches(url) ? t : refuse();
  });
}

/** True when `url` is https on one of `hosts` (lower-case). */
export const httpsOn = (url: URL, ...hosts: string[]): boolean =>
  url.protocol === 'https:' && hosts.includes(url.hostname.toLowerCase());

/** True when `url` is https on a host ending in one of `suffixes` (`.logic.azure.com`). */
export const httpsUnder = (url: URL, ...suffixes: string[]): boolean =>
  url.protocol === 'https:' && suffixes.some((s) => url.hostname.toLowerCase().endsWith(s));

/** A plain (non-secret) http(s) endpoint with a path, such as the PagerDuty events URL. */
export const serviceUrl: Rule<string> = rule(`an https URL (${LOOPBACK}) without user info`, 'url', (t) =>
  secureUrl(t) ? t : refuse(),
);

/** An endpoint override: scheme and host only, returned as `scheme://host[:port]` without trailing slash. */
export const baseUrl: Rule<string> = rule(
  `an https URL of scheme and host only (${LOOPBACK})`,
  'url',
  (t) => {
    const url = secureUrl(t);
    const bare =
      url !== undefined && ['', '/'].includes(url.pathname) && url.search === '' && url.hash === '';
    return bare && !/[?#]/.test(t) ? url.origin : refuse();
  },
);

/** Any http(s) URL: DynamoDB-compatible servers (dynalite, LocalStack) commonly run in another container. */
export const anyHttpUrl: Rule<string> = rule('an http(s) URL', 'url', (t) =>
  ['http:', 'https:'].includes(parseUrl(t)?.protocol ?? '') ? t : refuse(),
);
