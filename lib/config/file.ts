// The destinations file (DESTINATIONS_FILE, or DESTINATIONS_FILE_PARAM naming an SSM parameter that
// holds it): YAML or JSON, read with the `yaml` package. This module reads the text and walks it with
// paths (`destinations[2].url`) so that every problem names the file, the place and what was expected.
import { readFileSync } from 'node:fs';
import { lookupParameter, type SsmParameters } from './inputs';
import type { Problem } from './problems';
import { check, type Rule } from '../rules';
import type { Values } from './variables';

/** Reads a file as UTF-8 text (relative paths from the working directory); throws when it cannot. */
export type ReadFile = (path: string) => string;

export const readTextFile: ReadFile = (path) => readFileSync(path, 'utf8');

const FILE_SECTIONS = ['destinations', 'scopes', 'credentials'] as const;

/** Path-aware checks over the parsed file; every problem is prefixed with the file's label. */
export class FileReader {
  constructor(
    /** `DESTINATIONS_FILE=config/destinations.yaml` or `DESTINATIONS_FILE_PARAM=/x/destinations`. */
    readonly label: string,
    readonly variable: 'DESTINATIONS_FILE' | 'DESTINATIONS_FILE_PARAM',
    private readonly problems: Problem[],
    private readonly parameters: SsmParameters | undefined,
    /** Secret values read for the file: scrubbed from every message. */
    readonly secrets: string[],
  ) {}

  problem(path: string, text: string): void {
    this.problems.push({ variable: this.variable, text: `${this.label}${path ? `: ${path}` : ''} ${text}` });
  }

  /** A scalar (string or number) checked by `r`; undefined (after a problem when it is wrong) or absent. */
  value<T>(raw: unknown, path: string, r: Rule<T>): T | undefined {
    if (raw === undefined || raw === null) return undefined;
    if (typeof raw !== 'string' && typeof raw !== 'number' && typeof raw !== 'boolean') {
      this.problem(
        path,
        `must be ${r.expected} (one value, not a ${Array.isArray(raw) ? 'list' : 'mapping'})`,
      );
      return undefined;
    }
    const checked = check(r, String(raw).trim(), `${this.label}: ${path}`);
    if (checked.ok) return checked.value;
    this.problems.push({ variable: this.variable, text: checked.problem });
    return undefined;
  }

  /** The value of the SSM SecureString named at `path` (a `*_param` field), checked by `r`. */
  secretParam<T>(raw: unknown, path: string, r: Rule<T>): T | undefined {
    if (raw === undefined || raw === null) return undefined;
    if (typeof raw !== 'string') {
      this.problem(path, 'must be an SSM parameter name');
      return undefined;
    }
    const where = `${this.label}: ${path} (${raw.trim()})`;
    const found = lookupParameter(raw.trim(), this.parameters, where, true);
    if (!found.ok) {
      this.problems.push({ variable: this.variable, text: found.problem });
      return undefined;
    }
    this.secrets.push(found.value);
    const checked = check(r, found.value, where);
    if (checked.ok) return checked.value;
    this.problems.push({ variable: this.variable, text: checked.problem });
    return undefined;
  }

  /** A mapping with only `keys` (any keys when undefined); undefined (after a problem) when it is something else. */
  mapping(
    raw: unknown,
    path: string,
    keys: readonly string[] | undefined,
    of?: string,
  ): Record<string, unknown> | undefined {
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
      this.problem(path, `must be a mapping ${keys ? `with ${keys.join(', ')}` : `of ${of}`}`);
      return undefined;
    }
    if (keys === undefined) return raw as Record<string, unknown>;
    const unknown = Object.keys(raw).filter((k) => !keys.includes(k));
    if (unknown.length > 0) {
      this.problem(
        path,
        `has unknown ${unknown.length === 1 ? 'key' : 'keys'} ${unknown.map((k) => JSON.stringify(k)).join(', ')}: expected ${keys.join(', ')}`,
      );
    }
    return raw as Record<string, unknown>;
  }

  /** A list; undefined (after a problem) when it is something else, or when absent. */
  list(raw: unknown, path: string, of: string): unknown[] | undefined {
    if (raw === undefined || raw === null) return undefined;
    if (!Array.isArray(raw)) {
      this.problem(path, `must be a list of ${of}`);
      return undefined;
    }
    return raw;
  }
}

/** The parsed file, its sections still unchecked. */
export interface DestinationsFile {
  reader: FileReader;
  destinations?: unknown[];
  scopes?: unknown[];
  credentials?: Record<string, unknown>;
}

/** Reads and parses the destinations file, when one is configured. */
export function readDestinationsFile(
  values: Values,
  options: { readFile: ReadFile; parameters: SsmParameters | undefined },
  problems: Problem[],
): DestinationsFile | undefined {
  const path = values.DESTINATIONS_FILE;
  const param = values.DESTINATIONS_FILE_PARAM;
  if (path !== undefined && param !== undefined) {
    problems.push({
      variable: 'DESTINATIONS_FILE',
      text: 'DESTINATIONS_FILE and DESTINATIONS_FILE_PARAM are both set (set one)',
    });
    return undefined;
  }
  let text: string;
  let reader: FileReader;
  if (path !== undefined) {
    reader = new FileReader(
      `DESTINATIONS_FILE=${path}`,
      'DESTINATIONS_FILE',
      problems,
      options.parameters,
      [],
    );
    try {
      text = options.readFile(path);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      problems.push({
        variable: 'DESTINATIONS_FILE',
        text: `DESTINATIONS_FILE=${path} cannot be read (${code ?? 'unreadable'}: a relative path starts at the working directory, the function root on Lambda)`,
      });
      return undefined;
    }
  } else if (param !== undefined) {
    reader = new FileReader(
      `DESTINATIONS_FILE_PARAM=${param}`,
      'DESTINATIONS_FILE_PARAM',
      problems,
      options.parameters,
      [],
    );
    const found = lookupParameter(param, options.parameters, `DESTINATIONS_FILE_PARAM=${param}`, false);
    if (!found.ok) {
      problems.push({ variable: 'DESTINATIONS_FILE_PARAM', text: found.problem });
      return undefined;
    }
    text = found.value;
  } else {
    return undefined;
  }

  const parsed = parseText(text);
  if (!parsed.ok) {
    problems.push({
      variable: reader.variable,
      text: `${reader.label} is not valid YAML or JSON: ${parsed.error}`,
    });
    return undefined;
  }
  if (parsed.data === undefined || parsed.data === null) {
    reader.problem('', `is empty: expected a mapping with ${FILE_SECTIONS.join(', ')}`);
    return undefined;
  }
  const top = reader.mapping(parsed.data, '', FILE_SECTIONS);
  if (top === undefined) return undefined;
  const credentials =
    top.credentials === undefined || top.credentials === null
      ? undefined
      : reader.mapping(
          top.credentials,
          'credentials',
          undefined,
          'credential names to ak_param/sk_param/security_token_param/token_param',
        );
  return {
    reader,
    ...optional('destinations', reader.list(top.destinations, 'destinations', 'destinations')),
    ...optional('scopes', reader.list(top.scopes, 'scopes', 'scopes')),
    ...optional('credentials', credentials),
  };
}

function optional<K extends string, T>(key: K, value: T | undefined): Partial<Record<K, T>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, T>);
}

function parseText(text: string): { ok: true; data: unknown } | { ok: false; error: string } {
  try {
    // Required here, not imported: the YAML parser (a third of the bundle) is evaluated only when a
    // destinations file is read, never on a cold start without one.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { parse } = require('yaml') as typeof import('yaml');
    return { ok: true, data: parse(text) };
  } catch (error) {
    // The parser's message quotes the offending line after ":\n": keep only the reason and position.
    const message = error instanceof Error ? error.message.split(':\n')[0]!.trim() : String(error);
    return { ok: false, error: message };
  }
}

/**
 * Every SSM parameter the file's `*_param` fields name (for resolveSecretParams); best effort: a
 * file that does not parse names none, and parseConfig reports what is wrong with it.
 */
export function parameterNamesIn(text: string): string[] {
  const parsed = parseText(text);
  if (!parsed.ok || typeof parsed.data !== 'object' || parsed.data === null) return [];
  const top = parsed.data as Record<string, unknown>;
  const holders = [
    ...(Array.isArray(top.destinations) ? top.destinations : []),
    ...(typeof top.credentials === 'object' && top.credentials !== null
      ? Object.values(top.credentials)
      : []),
  ];
  const names: string[] = [];
  for (const holder of holders) {
    if (typeof holder !== 'object' || holder === null) continue;
    for (const [key, value] of Object.entries(holder)) {
      if (key.endsWith('_param') && typeof value === 'string' && value.trim() !== '')
        names.push(value.trim());
    }
  }
  return names;
}
