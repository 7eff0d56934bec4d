// Reads one operation-logs page body into Tasks. Bad input loses nothing: a record that cannot be
// identified is set aside (with its index and why), every other field is read leniently, and only a
// page whose shape is wrong (no data_list array, total_num not a number) fails as a whole.
import { createHash } from 'node:crypto';
import { isKnownStatus, type Task } from '../task';
import { HssResponseError } from './errors';
import type { Page } from './pages';

/**
 * Longest text kept of each field, characters: a record is bounded before anything stores it, so
 * no item (task detail, outbox message, open alert) can outgrow DynamoDB's 400 KB, whatever HSS sends.
 */
export const FIELD_LIMITS = {
  hostId: 256,
  hostName: 256,
  backupName: 256,
  time: 64,
  status: 64,
  errorCode: 128,
  errorMessage: 2000,
} as const;

/** Ends a value clipped on arrival (clip-json.ts arrivalMarker): how many characters it dropped. */
const ARRIVAL_MARKER = /… \[(\d+) more characters on arrival, #[0-9a-f]{8}\]$/;

/**
 * `value` if it fits `max` characters; otherwise its start, then `… [N more characters, #hash]`
 * within `max`: the clipping shows in every message, and the hash of the whole keeps two long
 * values that share a start apart (a clipped host id or backup name still names one task).
 */
export function clipText(value: string, max: number): string {
  if (value.length <= max) return value;
  const hash = createHash('sha256').update(value).digest('hex').slice(0, 8);
  // A value the transport already clipped on arrival (clip-json.ts) counts what it dropped too.
  const arrival = ARRIVAL_MARKER.exec(value);
  const length = arrival === null ? value.length : arrival.index + Number(arrival[1]);
  const tail = (kept: number) => `… [${length - kept} more characters, #${hash}]`;
  let kept = Math.max(0, max - tail(0).length);
  // Do not cut a surrogate pair in two.
  if (kept > 0 && /[\uD800-\uDBFF]/.test(value[kept - 1]!)) kept -= 1;
  return value.slice(0, kept) + tail(kept);
}

/** A timestamp as epoch ms; `zoneless` when the text named no zone and was read as UTC. */
export interface ParsedTime {
  ms: number;
  zoneless: boolean;
}

/** A page and what the reader should tell the operator about it (the reader logs, parse does not). */
export interface PageReading {
  page: Page;
  /** Distinct status strings the API does not document (their tasks have status `unknown`). */
  unknownStatuses: string[];
  /** One zone-less time seen on the page (read as UTC), for the once-per-reader warning. */
  zonelessExample?: string;
  /** One time in no known format (its task keeps the raw text but no epoch ms). */
  unreadableTimeExample?: string;
}

// `2026-11-29T17:00:03`, `2026-11-29 17:00:03.123`, `...Z`, `...+08:00`, `...+0800`, `...+08`.
const ISO =
  /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/i;
const EPOCH_MS = /^\d{13}$/;
const EPOCH_S = /^\d{10}(?:\.\d{1,9})?$/;
/** UTC offsets in use run from -12:00 to +14:00. */
const MAX_OFFSET_MINUTES = 14 * 60;

/**
 * Reads an API timestamp: epoch ms (number or 13 digits), epoch seconds (10 digits, optional
 * fraction), ISO-8601 with `Z` or an offset (`+08:00`, `+0800`, `+08`), or zone-less ISO (`T` or a
 * space, optional fraction; read as UTC, `zoneless: true`). Undefined for anything else.
 */
export function parseTime(value: unknown): ParsedTime | undefined {
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0) return undefined;
    return epoch(String(Math.trunc(value)).length, value);
  }
  if (typeof value !== 'string') return undefined;
  const text = value.trim();
  if (EPOCH_MS.test(text) || EPOCH_S.test(text)) return epoch(text.split('.')[0]!.length, Number(text));
  const m = ISO.exec(text);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s = '0', fraction = '', zone] = m;
  const ms = Number(fraction.padEnd(3, '0').slice(0, 3));
  const local = Date.UTC(+y!, +mo! - 1, +d!, +h!, +mi!, +s, ms);
  const back = new Date(local);
  // Date.UTC rolls 2026-02-30 over into March; a real timestamp never needs that.
  if (
    back.getUTCFullYear() !== +y! ||
    back.getUTCMonth() !== +mo! - 1 ||
    back.getUTCDate() !== +d! ||
    back.getUTCHours() !== +h! ||
    back.getUTCMinutes() !== +mi! ||
    +s > 59
  ) {
    return undefined;
  }
  if (zone === undefined) return { ms: local, zoneless: true };
  if (zone.toUpperCase() === 'Z') return { ms: local, zoneless: false };
  const digits = zone.slice(1).replace(':', '');
  const minutes = Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2) || '0');
  if (Number(digits.slice(2) || '0') > 59 || minutes > MAX_OFFSET_MINUTES) return undefined;
  return { ms: local - (zone[0] === '-' ? -1 : 1) * minutes * 60_000, zoneless: false };
}

function epoch(integerDigits: number, value: number): ParsedTime | undefined {
  if (integerDigits === 13) return { ms: Math.trunc(value), zoneless: false };
  if (integerDigits === 10) return { ms: Math.round(value * 1000), zoneless: false };
  return undefined;
}

/**
 * Reads one page body (parsed JSON) fetched at `offset`. `rows` is `data_list.length` as sent;
 * records that cannot be identified (no host_id, no started_at, no backup_name, not an object) go
 * to `rejected`; an undocumented status becomes `unknown` (raw text kept). Throws HssResponseError
 * naming the field when the body is not an object, `total_num` is not a number, or `data_list` is
 * not an array (a missing or null `data_list` is read as empty only when `total_num` is 0).
 */
export function parsePage(body: unknown, offset: number): PageReading {
  const where = `at offset ${offset}`;
  if (!isRecord(body)) {
    throw new HssResponseError(`HSS page is not a JSON object (got ${describe(body)}) ${where}`);
  }
  const totalNum = body.total_num;
  if (typeof totalNum !== 'number' || !Number.isFinite(totalNum)) {
    const problem = totalNum === undefined ? 'is missing' : `is not a number (got ${describe(totalNum)})`;
    throw new HssResponseError(`HSS page: total_num ${problem} ${where}`);
  }
  let records = body.data_list;
  if (records == null && totalNum === 0) records = [];
  if (!Array.isArray(records)) {
    const problem = records === undefined ? 'is missing' : `is not an array (got ${describe(records)})`;
    throw new HssResponseError(
      `HSS page: data_list ${problem} (expected an array; total_num is ${totalNum}) ${where}`,
    );
  }

  const reading: PageReading = {
    page: { rows: records.length, tasks: [], rejected: [], totalNum },
    unknownStatuses: [],
  };
  const unknown = new Set<string>();
  records.forEach((record: unknown, index) => {
    const read = toTask(record);
    if (typeof read === 'string') {
      reading.page.rejected.push({ index, reason: read, sample: sampleOf(record) });
      return;
    }
    const { task, zonelessValue, unreadableValue } = read;
    if (task.status === 'unknown') unknown.add(task.rawStatus);
    if (zonelessValue !== undefined) reading.zonelessExample ??= zonelessValue;
    if (unreadableValue !== undefined) reading.unreadableTimeExample ??= unreadableValue;
    reading.page.tasks.push(task);
  });
  reading.unknownStatuses = [...unknown];
  return reading;
}

interface TaskReading {
  task: Task;
  zonelessValue?: string;
  unreadableValue?: string;
}

/** The task of one record, or why it cannot be identified (no record content in the reason). */
function toTask(record: unknown): TaskReading | string {
  if (!isRecord(record)) return `not an object (got ${describe(record)})`;
  const hostIdText = text(record.host_id);
  if (hostIdText === undefined || hostIdText.trim() === '') return 'host_id is missing or empty';
  const startedText = text(record.started_at);
  if (startedText === undefined || startedText.trim() === '') return 'started_at is missing or empty';
  const backupText = text(record.backup_name);
  if (backupText === undefined) return 'backup_name is missing';
  const hostId = clipText(hostIdText, FIELD_LIMITS.hostId);
  const startedAt = clipText(startedText, FIELD_LIMITS.time);
  const backupName = clipText(backupText, FIELD_LIMITS.backupName);

  // Status matching ignores case and padding so "FAILED " still alerts; rawStatus keeps what was sent.
  const rawStatus = clipped(record.status, FIELD_LIMITS.status) ?? '';
  const normalised = rawStatus.trim().toLowerCase();
  const task: Task = {
    hostId,
    hostName: clipped(record.host_name, FIELD_LIMITS.hostName) ?? '',
    backupName,
    status: isKnownStatus(normalised) ? normalised : 'unknown',
    rawStatus,
    startedAt,
  };
  const process = numberOf(record.process);
  if (process !== undefined) task.process = process;
  const endedRaw = nonEmpty(record.ended_at) ?? nonEmpty(record.updated_at);
  const endedAt = clipped(endedRaw, FIELD_LIMITS.time);
  if (endedAt !== undefined && endedAt !== '') task.endedAt = endedAt;
  const info = record.error_info;
  if (isRecord(info)) {
    const code = clipped(info.code, FIELD_LIMITS.errorCode);
    const message = clipped(info.message, FIELD_LIMITS.errorMessage);
    if (code) task.errorCode = code;
    if (message) task.errorMessage = message;
  }

  const reading: TaskReading = { task };
  const times: Array<[unknown, string, 'startedMs' | 'endedMs']> = [
    [record.started_at, startedAt, 'startedMs'],
  ];
  if (task.endedAt !== undefined) times.push([endedRaw, task.endedAt, 'endedMs']);
  const zoneless: Array<'startedMs' | 'endedMs'> = [];
  let offsetMs: number | undefined;
  for (const [raw, shown, field] of times) {
    const time = parseTime(raw);
    if (time === undefined) {
      reading.unreadableValue ??= shown;
      continue;
    }
    task[field] = time.ms;
    if (time.zoneless) {
      task.zoneless = true;
      zoneless.push(field);
      reading.zonelessValue ??= shown;
    } else offsetMs ??= offsetOf(raw, time.ms);
  }
  // HSS writes both times of a task in one zone: a zone-less one is read in the other's offset when
  // that has one (else as UTC), so the start and end of a task stay in order. Still flagged zoneless.
  if (offsetMs !== undefined) for (const field of zoneless) task[field] = task[field]! - offsetMs;
  return reading;
}

/** The UTC offset (ms) of an ISO time written with an explicit offset (`+08:00` = 8 h); undefined for Z, epochs and the rest. */
function offsetOf(raw: unknown, ms: number): number | undefined {
  if (typeof raw !== 'string') return undefined;
  const text = raw.trim();
  const zone = ISO.exec(text)?.[8];
  if (zone === undefined || zone.toUpperCase() === 'Z') return undefined;
  const wall = parseTime(text.slice(0, text.length - zone.length).trim());
  return wall === undefined ? undefined : wall.ms - ms;
}

/** Text of a string or finite number field (lone surrogates made well-formed); undefined otherwise. */
function text(value: unknown): string | undefined {
  if (typeof value === 'string') return wellFormed(value);
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return undefined;
}

/** `text(value)` clipped to `max` characters. */
function clipped(value: unknown, max: number): string | undefined {
  const t = text(value);
  return t === undefined ? undefined : clipText(t, max);
}

function nonEmpty(value: unknown): unknown {
  return value === null || value === '' ? undefined : value;
}

/** A progress number (or numeric text) in 0..100; undefined otherwise. */
function numberOf(value: unknown): number | undefined {
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  return typeof n === 'number' && Number.isFinite(n) && n >= 0 && n <= 100 ? n : undefined;
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

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** At most 200 characters of a record's JSON, control characters shown as `\uXXXX`: what an operator needs to find it. */
function sampleOf(record: unknown): string {
  const json = JSON.stringify(record) ?? String(record);
  const visible = json.replace(
    // eslint-disable-next-line no-control-regex
    /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
  return clipText(visible, 200);
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
