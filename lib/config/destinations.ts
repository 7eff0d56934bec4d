// Destinations from each channel's variables (one each, named after its type) and from the
// destinations file (any number, with routing). What a channel reads is its spec's business
// (lib/notify/channels/); this module reads what every destination has (type, name, routing) and
// hands the channel its own keys. Secrets in the file are SSM parameter names only (`url_param`,
// `secret_param`, `routing_key_param`): the file is bundled with the code and kept in git. The one
// exception is a destination on loopback (local sinks in tests and the demo).
import {
  CHANNELS,
  DESTINATION_TYPES,
  channelOf,
  type DestinationConfig,
  type DestinationType,
} from '../notify/channels';
import type { AnyChannelSpec, DestinationCommon, DestinationEntry } from '../notify/channels/spec';
import type { KnownStatus } from '../task';
import { isLoopbackUrl } from '../url';
import type { FileReader } from './file';
import type { Problem } from './problems';
import {
  alertStatus,
  boolean,
  destinationName,
  glob,
  oneOf,
  shown,
  timeOfDay,
  timeZone,
  type Rule,
} from '../rules';
import { ENTERPRISE_PROJECT_ID } from './scopes';
import type { GlobFilter, Routing } from '../notify/routing';
import type { Input, Values } from './variables';

/** A destination and how messages name it. */
export interface PlacedDestination {
  destination: DestinationConfig;
  where: string;
  variable: string;
}

const channels: readonly AnyChannelSpec[] = CHANNELS;

/** The variable that turns a channel's one destination on: the first of its variables. */
function enablingVariable(channel: AnyChannelSpec): string {
  return Object.keys(channel.variables)[0]!;
}

/** The destinations the channels' variables turn on, each named after its type, routed everything. */
export function envDestinations(v: Values): PlacedDestination[] {
  return channels.flatMap((channel) => {
    // Undefined when the enabling variable is unset, or refused (reported by parseVariables).
    const fields: object | undefined = channel.fromEnv(v);
    if (fields === undefined) return [];
    const variable = enablingVariable(channel);
    const destination = { type: channel.type, name: channel.type, routing: {}, ...fields };
    return [{ destination: destination as DestinationConfig, where: variable, variable }];
  });
}

/**
 * The keys every entry of the file may have besides its channel's own: what the destination is
 * (`type`, `name`) and which messages it gets (the routing keys). A key every destination takes is
 * added to one of these lists, to readCommon and to DestinationCommon.
 */
const NAMING_KEYS = ['type', 'name'] as const;
const ROUTING_KEYS = [
  'statuses',
  'hosts',
  'backups',
  'enterprise_projects',
  'quiet_hours',
  'fallback',
] as const;

/** The fields every destination has, from its entry: `name` (default: the type) and routing. */
function readCommon(
  m: Record<string, unknown>,
  path: string,
  type: DestinationType,
  reader: FileReader,
  v: Values,
): DestinationCommon {
  return {
    name: reader.value(m.name, `${path}.name`, destinationName) ?? type,
    routing: readRouting(m, path, reader, v.ALERT_STATUSES),
  };
}

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
  const channel = channelOf(type);
  const m = reader.mapping(raw, path, [...NAMING_KEYS, ...channel.fileKeys, ...ROUTING_KEYS]) ?? loose;
  const common = readCommon(m, path, type, reader, v);
  const fields: object | undefined = channel.fromFile(entryReader(m, path, reader, v), v);
  return fields === undefined ? undefined : ({ type, ...common, ...fields } as DestinationConfig);
}

/** A channel's view of one entry: its keys, read with paths, secrets only as SSM parameters. */
function entryReader(
  m: Record<string, unknown>,
  path: string,
  reader: FileReader,
  v: Values,
): DestinationEntry {
  const given = (x: unknown) => x !== undefined && x !== null;
  // A raw secret is accepted only next to a URL of this machine: there is nothing to leak.
  const onLoopback = Object.entries(m).some(
    ([key, value]) =>
      (key === 'url' || key.endsWith('_url')) && typeof value === 'string' && isLoopbackUrl(value.trim()),
  );
  return {
    value: (key, rule) => reader.value(m[key], `${path}.${key}`, rule),
    check: (raw, at, rule) => reader.value(raw, `${path}.${at}`, rule),
    secret(key, rule, what, required) {
      const at = `${path}.${key}`;
      const [direct, param] = [m[key], m[`${key}_param`]];
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
    },
    mapping: (key, of) =>
      given(m[key]) ? reader.mapping(m[key], `${path}.${key}`, undefined, of) : undefined,
    problem: (key, text) => reader.problem(`${path}.${key}`, text),
    has: (key) => given(m[key]),
    alertStatus: alertStatus(v.ALERT_STATUSES),
  };
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
    const statusRule = alertStatus(alertStatuses);
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
  const enabling = channels.map(enablingVariable);
  const anyGiven = fileListed || enabling.some((name) => inputs.has(name));
  if (all.length === 0 && !anyGiven) {
    problems.push({
      variable: enabling[0]!,
      text: `no destination: set one of ${enabling.join(', ')}, or list destinations in DESTINATIONS_FILE (at least one destination)`,
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
