// What a channel is, in one object: its type and name, the variables and destinations-file keys that
// configure it, its URL rule, its vendor's answer codes, its pace and the factory of its Destination.
// Each channel module exports one; `CHANNELS` (./index.ts) lists them, and config parsing, the
// variables table, display names, the factory, the README's destination table and the conformance
// suite all read that list. Adding a channel is one module and one line in the list.
import type { Routing } from '../routing';
import type { HssAuth } from '../../huaweicloud/credentials';
import type { Rule, ValueOf, VariableSpec } from '../../rules';
import type { Log } from '../../log';
import type { AlertStatus } from '../../model';
import type { BodyCodeRules, ErrorWords } from '../classify';
import type { ChannelLimits, Destination } from '../destination';

/** What every destination's config holds, whatever its channel. */
export interface DestinationCommon {
  /** Unique id: the delivery-state key; defaults to the type (`slack`), must be given when a type repeats. */
  name: string;
  routing: Routing;
}

/** One channel's destination config: its type, the common fields, and the channel's own fields `C`. */
type ChannelConfig<T extends string, C> = { type: T } & DestinationCommon & C;

/** A channel variable as its module writes it: the variables table adds its group and `needs`. */
export type ChannelVariable<T = unknown> = VariableSpec<T>;

/** The parsed values of a channel's variables (a variable with a default always has one). */
type ValuesOf<V> = { -readonly [K in keyof V]: ValueOf<V[K]> };

/**
 * One entry of the destinations file as a channel reads its own keys; every problem it reports names
 * the file, the entry's path and the key.
 */
export interface DestinationEntry {
  /** A plain key checked by `rule`; undefined when absent, or refused (reported). */
  value<T>(key: string, rule: Rule<T>): T | undefined;
  /** A value found inside a key (a mapping's key or value), checked by `rule`; `at` names it (`severity.failed`). */
  check<T>(raw: unknown, at: string, rule: Rule<T>): T | undefined;
  /**
   * A secret: `<key>_param` names the SSM SecureString holding it; `<key>` itself is accepted only
   * next to a URL on loopback. `what` names it in messages (`webhook URL`); `required` reports its absence.
   */
  secret<T>(key: string, rule: Rule<T>, what: string, required: boolean): T | undefined;
  /** A mapping of any keys (`severity: {failed: critical}`); undefined when absent, or not a mapping (reported). */
  mapping(key: string, of: string): Record<string, unknown> | undefined;
  /** Reports a problem with `key` (`is required (...)`). */
  problem(key: string, text: string): void;
  /** True when the entry gives `key` at all. */
  has(key: string): boolean;
  /** The alert statuses a destination may name (the alerting ones and `stuck`). */
  readonly alertStatus: Rule<AlertStatus>;
}

/** What a destination may need besides its config: credentials (SMN signs with an HSS credential) and a logger. */
export interface DestinationDeps {
  credentials: Record<string, HssAuth>;
  log?: Log;
}

/**
 * What a channel's factory builds; createDestination adds the pace (`limits`), the quiet-hours hold,
 * the redaction of echoed secrets and the removal of invisible characters.
 */
export type ChannelDestination = Omit<Destination, 'limits' | 'holdUntil'>;

/** What a vendor's answers mean beyond their HTTP status: codes in a JSON body, or error words. */
export type VendorAnswers =
  { kind: 'codes'; rules: BodyCodeRules } | { kind: 'words'; words: ErrorWords } | { kind: 'http' };

/** One channel. `C` is its own config fields, `V` its variables (the first turns it on). */
export interface ChannelSpec<T extends string, C extends object, V extends Record<string, ChannelVariable>> {
  /** `type:` in the destinations file, the name of a destination configured by variables. */
  readonly type: T;
  /** As people name it: `WeCom`, `Microsoft Teams`. */
  readonly displayName: string;
  /** What it is, after its display name, for the README's destination table (`group robot: markdown ...`). */
  readonly doc: string;
  /** Its variables; the first one turns the destination on, the others only apply with it. */
  readonly variables: V;
  /** Its keys in a destinations-file entry (besides `type`, `name` and the routing keys). */
  readonly fileKeys: readonly string[];
  /** The rule of its webhook URL, for channels configured by one (env variable and file key alike). */
  readonly url?: Rule<string>;
  /** What its vendor's answers mean. */
  readonly answers: VendorAnswers;
  /** Its pace: at it the vendor's rate limit is never met. */
  readonly limits: ChannelLimits;
  /** Chat channels: quiet hours hold their messages. Pages, webhooks and SMN never wait. */
  readonly heldByQuietHours: boolean;
  /** Bursts become one digest (chat channels, SMN); otherwise one request per message. */
  readonly digests: boolean;
  /**
   * Config fields never shown whole: `secretUrls` (webhook URLs: the path or query is the credential)
   * and `urls` (endpoints) are shown as `scheme://host/…`; `secrets` are never shown, and neither
   * they nor a secret URL (or its long parts) may come back in an error a receiver echoes.
   */
  readonly redact: {
    readonly secretUrls?: ReadonlyArray<keyof C>;
    readonly urls?: ReadonlyArray<keyof C>;
    readonly secrets?: ReadonlyArray<keyof C>;
  };
  /** The credential it signs with, when it signs with one (checked to exist, its keys redacted). */
  credential?(config: C): string;
  /** Its fields from its variables, once the first is set; undefined when a value was refused (reported). */
  fromEnv(values: ValuesOf<V>): C | undefined;
  /** Its fields from a file entry (the variables' values serve as defaults); undefined after a problem. */
  fromFile(entry: DestinationEntry, values: ValuesOf<V>): C | undefined;
  /** Its Destination; throws ConfigError when the config names something missing (a credential). */
  create(config: ChannelConfig<T, C>, deps: DestinationDeps): ChannelDestination;
}

/** Any channel's spec, as the list holds them. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- each spec is checked by defineChannel; the list only needs the shape
export type AnyChannelSpec = ChannelSpec<string, any, Record<string, ChannelVariable>>;

/**
 * Types a channel's spec whose own config fields are `C`: `defineChannel<SmnConfig>()({ type: 'smn', ... })`
 * (the type and variables are inferred from the spec).
 */
export function defineChannel<C extends object>() {
  return <const T extends string, const V extends Record<string, ChannelVariable>>(
    spec: ChannelSpec<T, C, V>,
  ): ChannelSpec<T, C, V> => spec;
}

/** The config of a channel configured by a webhook URL alone. */
export interface UrlConfig {
  url: string;
}

/** The config of a channel configured by a webhook URL and an optional signing secret. */
export interface SignedUrlConfig extends UrlConfig {
  secret?: string;
}

/** A secret string variable of a webhook channel. */
type SecretText = { rule: Rule<string>; secret: true; doc: string };

/** What webhookConfig fills in of a spec. */
type WebhookPart<U extends string, S extends string> = Pick<
  ChannelSpec<string, [S] extends [never] ? UrlConfig : SignedUrlConfig, Record<U | S, SecretText>>,
  'variables' | 'fileKeys' | 'url' | 'redact' | 'fromEnv' | 'fromFile'
>;

/**
 * The config part of a channel configured by its webhook URL (variable `url.variable`, file key
 * `url`/`url_param`) and, with `secret`, an optional signing secret (variable `secret.variable`, file
 * key `secret`/`secret_param`).
 */
export function webhookConfig<const U extends string, const S extends string = never>(
  url: { variable: U; rule: Rule<string>; doc: string },
  secret?: { variable: S; rule: Rule<string>; doc: string },
): WebhookPart<U, S> {
  const variables = {
    [url.variable]: { rule: url.rule, secret: true, doc: url.doc },
    ...(secret && { [secret.variable]: { rule: secret.rule, secret: true, doc: secret.doc } }),
  } as Record<U | S, SecretText>;
  const part: WebhookPart<string, string> = {
    variables,
    fileKeys: ['url', 'url_param', ...(secret ? ['secret', 'secret_param'] : [])],
    url: url.rule,
    redact: { secretUrls: ['url'], secrets: secret ? ['secret'] : [] },
    fromEnv(values) {
      const u = values[url.variable];
      const s = secret ? values[secret.variable] : undefined;
      return u === undefined ? undefined : { url: u, ...(s !== undefined && { secret: s }) };
    },
    fromFile(entry) {
      const u = entry.secret('url', url.rule, 'webhook URL', true);
      const s = secret ? entry.secret('secret', secret.rule, 'signing secret', false) : undefined;
      return u === undefined ? undefined : { url: u, ...(s !== undefined && { secret: s }) };
    },
  };
  return part as unknown as WebhookPart<U, S>;
}
