// Destinations from the per-channel variables (one each, named after its type) and from the
// destinations file (any number, with routing). Secrets in the file are SSM parameter names only
// (`url_param`, `secret_param`, `routing_key_param`): the file is bundled with the code and kept in
// git. The one exception is a destination on loopback (local sinks in tests and the demo).
import type { AlertStatus } from '../model';
import { DESTINATION_TYPES, type DestinationType } from '../notify/destination';
import type { KnownStatus } from '../task';
import { isLoopbackUrl } from '../url';
import type { FileReader } from './file';
import type { Problem } from './problems';
import {
  CHANNEL_URL,
  baseUrl,
  boolean,
  credentialName,
  destinationName,
  dingtalkSecret,
  feishuSecret,
  glob,
  oneOf,
  pagerdutyRoutingKey,
  pagerdutySeverity,
  serviceUrl,
  shown,
  smnTopicUrn,
  timeOfDay,
  timeZone,
  webhookSecret,
  type PagerDutySeverity,
  type Rule,
  type SmnTopic,
} from './rules';
import { DEFAULT_CREDENTIAL, ENTERPRISE_PROJECT_ID } from './scopes';
import type { DestinationConfig, GlobFilter, Routing } from './types';
import type { Input, Values } from './variables';

/** A destination and how messages name it. */
export interface PlacedDestination {
  destination: DestinationConfig;
  where: string;
  variable: string;
}

type Severity = Extract<DestinationConfig, { type: 'pagerduty' }>['severity'];

/** The SMN publish endpoint of the URN's region (`SMN_ENDPOINT` overrides it). */
function smnEndpoint(topic: SmnTopic): string {
  return `https://smn.${topic.region}.myhuaweicloud.com`;
}

/** Variables that turn a destination on, by type. */
const ENABLING: Record<DestinationType, string> = {
  slack: 'SLACK_WEBHOOK_URL',
  webhook: 'WEBHOOK_URL',
  teams: 'TEAMS_WEBHOOK_URL',
  feishu: 'FEISHU_WEBHOOK_URL',
  dingtalk: 'DINGTALK_WEBHOOK_URL',
  wecom: 'WECOM_WEBHOOK_URL',
  pagerduty: 'PAGERDUTY_ROUTING_KEY',
  smn: 'SMN_TOPIC_URN',
  googlechat: 'GOOGLE_CHAT_WEBHOOK_URL',
  discord: 'DISCORD_WEBHOOK_URL',
};

/** The destinations the per-channel variables turn on, each named after its type, routed everything. */
export function envDestinations(v: Values): PlacedDestination[] {
  const routing: Routing = {};
  const out: PlacedDestination[] = [];
  const add = (destination: DestinationConfig) =>
    out.push({ destination, where: ENABLING[destination.type], variable: ENABLING[destination.type] });
  const url = (type: 'slack' | 'teams' | 'wecom' | 'googlechat' | 'discord', value: string | undefined) => {
    if (value !== undefined) add({ type, name: type, url: value, routing });
  };
  const signed = (
    type: 'webhook' | 'feishu' | 'dingtalk',
    value: string | undefined,
    secret: string | undefined,
  ) => {
    if (value !== undefined)
      add({ type, name: type, url: value, routing, ...(secret !== undefined && { secret }) });
  };
  url('slack', v.SLACK_WEBHOOK_URL);
  signed('webhook', v.WEBHOOK_URL, v.WEBHOOK_SECRET);
  url('teams', v.TEAMS_WEBHOOK_URL);
  signed('feishu', v.FEISHU_WEBHOOK_URL, v.FEISHU_SECRET);
  signed('dingtalk', v.DINGTALK_WEBHOOK_URL, v.DINGTALK_SECRET);
  url('wecom', v.WECOM_WEBHOOK_URL);
  if (v.PAGERDUTY_ROUTING_KEY !== undefined)
    add({
      type: 'pagerduty',
      name: 'pagerduty',
      routingKey: v.PAGERDUTY_ROUTING_KEY,
      eventsUrl: v.PAGERDUTY_EVENTS_URL,
      severity: defaultSeverity(v),
      routing,
    });
  if (v.SMN_TOPIC_URN !== undefined)
    add({
      type: 'smn',
      name: 'smn',
      topicUrn: v.SMN_TOPIC_URN.urn,
      endpoint: v.SMN_ENDPOINT ?? smnEndpoint(v.SMN_TOPIC_URN),
      projectId: v.SMN_TOPIC_URN.projectId,
      credential: v.SMN_CREDENTIAL,
      routing,
    });
  url('googlechat', v.GOOGLE_CHAT_WEBHOOK_URL);
  url('discord', v.DISCORD_WEBHOOK_URL);
  return out;
}

function defaultSeverity(v: Values): Severity {
  return {
    failed: v.PAGERDUTY_SEVERITY_FAILED,
    timeout: v.PAGERDUTY_SEVERITY_TIMEOUT,
    stuck: v.PAGERDUTY_SEVERITY_STUCK,
  };
}

const ROUTING_KEYS = [
  'statuses',
  'hosts',
  'backups',
  'enterprise_projects',
  'quiet_hours',
  'fallback',
] as const;
const URL_KEYS = ['url', 'url_param'] as const;
const SIGNED_KEYS = [...URL_KEYS, 'secret', 'secret_param'] as const;
const TYPE_KEYS: Record<DestinationType, readonly string[]> = {
  slack: URL_KEYS,
  webhook: SIGNED_KEYS,
  teams: URL_KEYS,
  feishu: SIGNED_KEYS,
  dingtalk: SIGNED_KEYS,
  wecom: URL_KEYS,
  pagerduty: ['routing_key', 'routing_key_param', 'events_url', 'severity'],
  smn: ['topic_urn', 'endpoint', 'credential'],
  googlechat: URL_KEYS,
  discord: URL_KEYS,
};

/** The destinations listed in the file. */
export function fileDestinations(
  file: { reader: FileReader; destinations?: unknown[] },
  v: Values,
): PlacedDestination[] {
  const { reader } = file;
  return (file.destinations ?? []).flatMap((raw, i) => {
    const path = `destinations[${i}]`;
    const destination = fileDestination(raw, path, reader, v);
    return destination ? [{ destination, where: `${reader.label}: ${path}`, variable: reader.variable }] : [];
  });
}

const destinationType: Rule<DestinationType> = oneOf(DESTINATION_TYPES);

function fileDestination(
  raw: unknown,
  path: string,
  reader: FileReader,
  v: Values,
): DestinationConfig | undefined {
  const loose = reader.mapping(raw, path, undefined, 'type, name, url_param, ...');
  if (loose === undefined) return undefined;
  if (loose.type === undefined || loose.type === null) {
    reader.problem(`${path}.type`, `is required (${destinationType.expected})`);
    return undefined;
  }
  const type = reader.value(loose.type, `${path}.type`, destinationType);
  if (type === undefined) return undefined;
  const m = reader.mapping(raw, path, ['type', 'name', ...TYPE_KEYS[type], ...ROUTING_KEYS]) ?? loose;

  // A raw secret is accepted only next to a URL of this machine: there is nothing to leak.
  const onLoopback = [m.url, m.events_url].some((u) => typeof u === 'string' && isLoopbackUrl(u.trim()));
  const secret = <T>(key: string, rule: Rule<T>, what: string, required: boolean): T | undefined => {
    const at = `${path}.${key}`;
    const [direct, param] = [m[key], m[`${key}_param`]];
    const given = (x: unknown) => x !== undefined && x !== null;
    if (given(direct) && given(param)) {
      reader.problem(at, `and ${key}_param are both set (set one)`);
      return undefined;
    }
    if (given(direct)) {
      if (!onLoopback) {
        reader.problem(
          at,
          `is a secret, and secrets are not written in the destinations file (it is bundled with the code and kept in git): store the ${what} as an SSM SecureString and give its name as ${key}_param (raw values are accepted only for a destination on loopback)`,
        );
        return undefined;
      }
      const value = reader.value(direct, at, rule);
      if (typeof value === 'string') reader.secrets.push(value);
      return value;
    }
    if (given(param)) return reader.secretParam(param, `${at}_param`, rule);
    if (required) reader.problem(`${at}_param`, `is required (the SSM SecureString holding the ${what})`);
    return undefined;
  };
  const name = reader.value(m.name, `${path}.name`, destinationName) ?? type;
  const routing = readRouting(m, path, reader, v.ALERT_STATUSES);

  switch (type) {
    case 'slack':
    case 'teams':
    case 'wecom':
    case 'googlechat':
    case 'discord': {
      const url = secret('url', CHANNEL_URL[type], 'webhook URL', true);
      return url === undefined ? undefined : { type, name, url, routing };
    }
    case 'webhook': {
      const url = secret('url', CHANNEL_URL.webhook, 'webhook URL', true);
      const key = secret('secret', webhookSecret, 'signing secret', false);
      return url === undefined
        ? undefined
        : { type, name, url, routing, ...(key !== undefined && { secret: key }) };
    }
    case 'feishu':
    case 'dingtalk': {
      const url = secret('url', CHANNEL_URL[type], 'webhook URL', true);
      const key = secret(
        'secret',
        type === 'feishu' ? feishuSecret : dingtalkSecret,
        'signing secret',
        false,
      );
      return url === undefined
        ? undefined
        : { type, name, url, routing, ...(key !== undefined && { secret: key }) };
    }
    case 'pagerduty': {
      const routingKey = secret('routing_key', pagerdutyRoutingKey, 'integration key', true);
      const eventsUrl =
        reader.value(m.events_url, `${path}.events_url`, serviceUrl) ?? v.PAGERDUTY_EVENTS_URL;
      const severity = readSeverity(m.severity, `${path}.severity`, reader, v);
      return routingKey === undefined ? undefined : { type, name, routingKey, eventsUrl, severity, routing };
    }
    case 'smn': {
      const topic = reader.value(m.topic_urn, `${path}.topic_urn`, smnTopicUrn);
      if (m.topic_urn === undefined || m.topic_urn === null)
        reader.problem(`${path}.topic_urn`, `is required (${smnTopicUrn.expected})`);
      const endpoint = reader.value(m.endpoint, `${path}.endpoint`, baseUrl);
      const credential =
        reader.value(m.credential, `${path}.credential`, credentialName) ?? DEFAULT_CREDENTIAL;
      if (topic === undefined) return undefined;
      return {
        type,
        name,
        topicUrn: topic.urn,
        endpoint: endpoint ?? smnEndpoint(topic),
        projectId: topic.projectId,
        credential,
        routing,
      };
    }
  }
}

/** Alert statuses a destination may route: the alerting ones and `stuck`. */
function routableStatuses(alertStatuses: readonly KnownStatus[]): Rule<AlertStatus> {
  return oneOf<AlertStatus>([...alertStatuses, 'stuck']);
}

function readSeverity(raw: unknown, path: string, reader: FileReader, v: Values): Severity {
  const severity: Severity = { ...defaultSeverity(v) };
  if (raw === undefined || raw === null) return severity;
  const m = reader.mapping(raw, path, undefined, 'alert statuses to critical/error/warning/info');
  if (m === undefined) return severity;
  const statusRule = routableStatuses(v.ALERT_STATUSES);
  for (const [status, value] of Object.entries(m)) {
    const key = reader.value(status, `${path} key ${shown(status)}`, statusRule);
    const level: PagerDutySeverity | undefined = reader.value(value, `${path}.${status}`, pagerdutySeverity);
    if (key !== undefined && level !== undefined) severity[key] = level;
  }
  return severity;
}

function readRouting(
  m: Record<string, unknown>,
  path: string,
  reader: FileReader,
  alertStatuses: readonly KnownStatus[],
): Routing {
  const routing: Routing = {};
  const statuses = reader.list(m.statuses, `${path}.statuses`, 'alert statuses');
  if (statuses !== undefined) {
    const statusRule = routableStatuses(alertStatuses);
    const ok = statuses.map((s, i) => reader.value(s, `${path}.statuses[${i}]`, statusRule));
    routing.statuses = [...new Set(ok.filter((s) => s !== undefined))];
  }
  for (const key of ['hosts', 'backups'] as const) {
    const filter = readGlobFilter(m[key], `${path}.${key}`, reader);
    if (filter !== undefined) routing[key] = filter;
  }
  const eps = reader.list(m.enterprise_projects, `${path}.enterprise_projects`, 'enterprise project ids');
  if (eps !== undefined) {
    const ok = eps.map((e, i) => reader.value(e, `${path}.enterprise_projects[${i}]`, ENTERPRISE_PROJECT_ID));
    routing.enterpriseProjects = [...new Set(ok.filter((e) => e !== undefined))];
  }
  const quiet = readQuietHours(m.quiet_hours, `${path}.quiet_hours`, reader);
  if (quiet !== undefined) routing.quietHours = quiet;
  if (reader.value(m.fallback, `${path}.fallback`, boolean) === true) routing.fallback = true;
  return routing;
}

/** `[patterns]` (include) or `{include?: [...], exclude?: [...]}`. */
function readGlobFilter(raw: unknown, path: string, reader: FileReader): GlobFilter | undefined {
  if (raw === undefined || raw === null) return undefined;
  const globs = (list: unknown, at: string): string[] =>
    (reader.list(list, at, `glob patterns (picomatch, e.g. web-*)`) ?? [])
      .map((g, i) => reader.value(g, `${at}[${i}]`, glob))
      .filter((g) => g !== undefined);
  if (Array.isArray(raw)) return { include: globs(raw, path), exclude: [] };
  const m = reader.mapping(raw, path, ['include', 'exclude']);
  if (m === undefined) return undefined;
  return { include: globs(m.include, `${path}.include`), exclude: globs(m.exclude, `${path}.exclude`) };
}

function readQuietHours(raw: unknown, path: string, reader: FileReader): Routing['quietHours'] {
  if (raw === undefined || raw === null) return undefined;
  const m = reader.mapping(raw, path, ['start', 'end', 'time_zone']);
  if (m === undefined) return undefined;
  const start = reader.value(m.start, `${path}.start`, timeOfDay);
  const end = reader.value(m.end, `${path}.end`, timeOfDay);
  const zone = reader.value(m.time_zone, `${path}.time_zone`, timeZone);
  for (const [key, value, expected] of [
    ['start', m.start, timeOfDay.expected],
    ['end', m.end, timeOfDay.expected],
    ['time_zone', m.time_zone, timeZone.expected],
  ] as const) {
    if (value === undefined || value === null) reader.problem(`${path}.${key}`, `is required (${expected})`);
  }
  if (start === undefined || end === undefined || zone === undefined) return undefined;
  if (start === end) {
    reader.problem(
      path,
      `start and end are both ${start}: quiet hours need an end that differs from the start`,
    );
    return undefined;
  }
  return { start, end, timeZone: zone };
}

/**
 * Problems with the whole list: at least one destination, and unique names (a repeated type
 * needs names). `anyGiven` says whether a destination was asked for at all (one may have been refused).
 */
export function checkDestinations(
  all: readonly PlacedDestination[],
  inputs: ReadonlyMap<string, Input>,
  fileListed: boolean,
  problems: Problem[],
): void {
  const anyGiven = fileListed || Object.values(ENABLING).some((name) => inputs.has(name));
  if (all.length === 0 && !anyGiven) {
    problems.push({
      variable: 'SLACK_WEBHOOK_URL',
      text: `no destination: set one of ${Object.values(ENABLING).join(', ')}, or list destinations in DESTINATIONS_FILE (at least one destination)`,
    });
  }
  const fallbacks = all.filter((p) => p.destination.routing.fallback);
  for (const extra of fallbacks.slice(1)) {
    problems.push({
      variable: extra.variable,
      text: `${extra.where} has fallback: true like ${fallbacks[0]!.where}: at most one destination may be the fallback`,
    });
  }
  const seen = new Map<string, PlacedDestination>();
  for (const placed of all) {
    const first = seen.get(placed.destination.name);
    if (first === undefined) {
      seen.set(placed.destination.name, placed);
      continue;
    }
    problems.push({
      variable: placed.variable,
      text: `${placed.where} is named ${shown(placed.destination.name)} like ${first.where}: names must be unique (give a repeated type a name:)`,
    });
  }
}
