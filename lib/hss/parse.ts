import * as z from 'zod/mini';
import { silentLog, type Log } from '../log';
import { isKnownStatus, type Task } from '../task';
import { HssResponseError } from './errors';

/** One page of the operation-logs API, validated and normalised. */
export interface ParsedPage {
  /** `total_num`: records in the whole query, as the server counted them when it built this page. */
  totalNum: number;
  tasks: Task[];
  /** Distinct status strings on this page that the API does not document (their tasks have status `unknown`). */
  unknownStatuses: string[];
}

// Timestamps are documented as strings but no model fixes a format; numbers (epoch ms) are kept as text.
const timestamp = z.union([z.string(), z.number().check(z.refine(Number.isFinite))]);
const optionalText = z.optional(z.nullable(z.union([z.string(), z.number()])));

// Loose objects: extra fields from a newer API version must not break polling.
const recordSchema = z.looseObject({
  host_id: z.string().check(z.minLength(1)),
  host_name: z.optional(z.nullable(z.string())),
  backup_name: z.string(),
  process: z.optional(z.nullable(z.number().check(z.refine(Number.isFinite)))),
  status: z.string(),
  started_at: z.union([z.string().check(z.minLength(1)), z.number().check(z.refine(Number.isFinite))]),
  ended_at: z.optional(z.nullable(timestamp)),
  updated_at: z.optional(z.nullable(timestamp)),
  // `error_info` is `{code: "", message: ""}` on success; tolerate it empty, null, "" or missing.
  error_info: z.optional(
    z.nullable(z.union([z.looseObject({ code: optionalText, message: optionalText }), z.literal('')])),
  ),
});

const pageSchema = z.looseObject({
  total_num: z.int().check(z.nonnegative()),
  data_list: z.optional(z.nullable(z.array(recordSchema))),
});

type RawRecord = z.infer<typeof recordSchema>;

/** What each field must be, in the words used by error messages. */
const EXPECTED: Readonly<Record<string, string>> = {
  total_num: 'a whole number >= 0',
  data_list: 'an array',
  host_id: 'a non-empty string',
  host_name: 'a string',
  backup_name: 'a string',
  process: 'a number',
  status: 'a string',
  started_at: 'a non-empty string or a number',
  ended_at: 'a string or a number',
  updated_at: 'a string or a number',
  error_info: 'an object',
  code: 'a string',
  message: 'a string',
};

/**
 * Validates one page body (parsed JSON) of `GET .../operation-logs` fetched at `context.offset` and
 * maps it to Tasks; an undocumented status becomes `unknown` (kept in `rawStatus`, logged as a warning).
 * Throws HssResponseError naming the field and record when the page is not an object, `data_list`
 * is not an array, or a field has the wrong type.
 */
export function parsePage(body: unknown, context: { offset: number }, log: Log = silentLog): ParsedPage {
  const where = `at offset ${context.offset}`;
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new HssResponseError(`HSS page is not a JSON object (got ${describe(body)}) ${where}`);
  }
  const result = pageSchema.safeParse(body);
  if (!result.success) {
    throw new HssResponseError(pageProblem(body, result.error.issues, context.offset));
  }
  const { total_num: totalNum, data_list: records } = result.data;
  if (records == null && totalNum > 0) {
    // Omitting an empty list is harmless; omitting a non-empty one is not.
    throw new HssResponseError(`HSS page has no data_list but total_num is ${totalNum} ${where}`);
  }
  const unknown = new Set<string>();
  const tasks = (records ?? []).map((record) => {
    const task = toTask(record);
    if (task.status === 'unknown') unknown.add(task.rawStatus);
    return task;
  });
  const unknownStatuses = [...unknown];
  if (unknownStatuses.length > 0) {
    log.warn('HSS sent task statuses it does not document; those tasks are kept with status "unknown"', {
      statuses: unknownStatuses,
      offset: context.offset,
    });
  }
  return { totalNum, tasks, unknownStatuses };
}

function toTask(record: RawRecord): Task {
  // Status matching ignores case and padding so "FAILED " still alerts; rawStatus keeps what was sent.
  const rawStatus = wellFormed(record.status);
  const normalised = rawStatus.trim().toLowerCase();
  const task: Task = {
    hostId: wellFormed(record.host_id),
    hostName: wellFormed(record.host_name ?? ''),
    backupName: wellFormed(record.backup_name),
    status: isKnownStatus(normalised) ? normalised : 'unknown',
    rawStatus,
    startedAt: wellFormed(String(record.started_at)),
  };
  if (record.process != null) task.process = record.process;
  const endedAt = text(record.ended_at) ?? text(record.updated_at);
  if (endedAt !== undefined) task.endedAt = endedAt;
  const info = record.error_info;
  if (typeof info === 'object' && info !== null) {
    const code = text(info.code);
    const message = text(info.message);
    if (code !== undefined) task.errorCode = code;
    if (message !== undefined) task.errorMessage = message;
  }
  return task;
}

/** Non-empty text of a string or number field, undefined for null, missing or "". */
function text(value: string | number | null | undefined): string | undefined {
  if (value == null) return undefined;
  const s = wellFormed(String(value));
  return s === '' ? undefined : s;
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/**
 * `s` with each lone surrogate (JSON can carry `\ud800`; Unicode text cannot) replaced by U+FFFD:
 * the same input always gives the same task identity, and the text survives URI encoding of the
 * task key, DynamoDB's UTF-8 and the notifiers' JSON instead of failing every poll while it is in the window.
 */
function wellFormed(s: string): string {
  return s.replace(LONE_SURROGATE, '\uFFFD');
}

function pageProblem(body: object, issues: readonly z.core.$ZodIssue[], offset: number): string {
  const first = issues[0];
  if (first === undefined) return `HSS page is invalid at offset ${offset}`;
  const path = deepestPath(first);
  const field = String(path[path.length - 1] ?? 'page');
  const expected = EXPECTED[field] ?? 'valid';
  const value = valueAt(body, path);
  const index = path[0] === 'data_list' && typeof path[1] === 'number' ? path[1] : undefined;
  const record = index === undefined ? '' : ` (record ${offset + index})`;
  const more = issues.length > 1 ? `; ${issues.length - 1} more problem(s) on this page` : '';
  const problem =
    value === undefined ? `is missing (expected ${expected})` : `is not ${expected} (got ${describe(value)})`;
  return `HSS page: ${formatPath(path)} ${problem} at offset ${offset}${record}${more}`;
}

/** For a union (e.g. error_info: object or ""), the path of the branch that got furthest, so the message names the inner field. */
function deepestPath(issue: z.core.$ZodIssue): PropertyKey[] {
  if (issue.code !== 'invalid_union') return [...issue.path];
  let best: PropertyKey[] = [];
  for (const branch of issue.errors) {
    for (const inner of branch) {
      const candidate = deepestPath(inner);
      if (candidate.length > best.length) best = candidate;
    }
  }
  return [...issue.path, ...best];
}

function formatPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>(
    (out, key) =>
      typeof key === 'number' ? `${out}[${key}]` : out === '' ? String(key) : `${out}.${String(key)}`,
    '',
  );
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let value = root;
  for (const key of path) {
    if (typeof value !== 'object' || value === null) return undefined;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}

/** A short, content-free description of a value's type, safe for logs. */
function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (value === undefined) return 'nothing';
  if (typeof value === 'number') return `number ${value}`;
  if (typeof value === 'string') return value === '' ? 'empty string' : 'string';
  return typeof value;
}
