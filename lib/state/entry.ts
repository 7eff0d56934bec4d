// What a scope remembers of each task its lists showed, in 44 bytes: enough to decide every change
// (alert, status change, progress, vanished, follow-up due, stuck) without reading an item per task.
// A scope's entries are kept in a few digest items (lib/state/scope-store.ts), so a poll reads its
// whole last-seen state in one Query of a few RCU whatever the window holds.
import { createHash } from 'node:crypto';
import type { AlertStatus, TaskStatus } from '../model';
import { TASK_STATUSES } from '../task';

/** The statuses an entry can hold, by code (index), `unknown` last. */
export const ENTRY_STATUSES: readonly TaskStatus[] = [...TASK_STATUSES, 'unknown'];
/** Alert statuses, by bit of `Entry.alerted` (`stuck` is bit 6). */
export const ALERT_BITS: readonly AlertStatus[] = [...TASK_STATUSES, 'stuck'];

/** One task as last seen by a scope. All times are epoch seconds (0 = unknown). */
export interface Entry {
  /** 16 hex digits: the first 8 bytes of sha256(project + task key). */
  key: string;
  status: TaskStatus;
  /** Progress, percent; undefined when HSS sent none. */
  process?: number;
  /** Hash of everything HSS showed (status, raw status, process, end, error): unchanged hash, nothing to do. */
  stateHash: number;
  /** Hash of the end time and error alone: a new one in the same alert status means it failed again. */
  detailHash: number;
  /** Alert statuses already alerted in the current episode. */
  alerted: AlertStatus[];
  /** Alert episodes so far: 1 after the first entry into an alert status, 2 after a re-entry, ... */
  episode: number;
  /** True while the task is in an alert status (an episode is open). */
  inAlert: boolean;
  /** Parsed start (epoch s); 0 when unreadable. */
  startedSec: number;
  /** The start time had no zone (read as UTC): window-edge decisions allow +-14 h. */
  zoneless: boolean;
  /** When `process` last changed (or the task was first seen), epoch s. */
  progressSec: number;
  /** When this entry last changed, epoch s (merges keep the newer). */
  changedSec: number;
  /** Left its in-flight list near the window edge: a follow-up query must say how it ended. */
  followUp: boolean;
  /** Follow-up queries tried so far. */
  tries: number;
  /** Last follow-up try, epoch s (least recently tried goes first). */
  triedSec: number;
  /**
   * When a whole cycle of its in-flight list last missed it, epoch s (0 = seen). It is judged
   * (finished, or a follow-up) only once the alert lists were read after that: a task that failed
   * meanwhile shows up there instead of looking finished.
   */
  goneSec: number;
  /**
   * A second whole cycle missed it too: a task hidden once by records shifting between pages is
   * seen again by the next cycle, so only a task missed twice is judged.
   */
  goneConfirmed: boolean;
}

export const ENTRY_BYTES = 44;

const FLAG_IN_ALERT = 1;
const FLAG_ZONELESS = 2;
const FLAG_FOLLOW_UP = 4;
const FLAG_GONE_CONFIRMED = 8;
const NO_PROCESS = 255;

/** The digest key of a task: 16 hex digits of sha256(project id + task key). */
export function entryKey(projectId: string, taskKey: string): string {
  return createHash('sha256').update(`${projectId}\n${taskKey}`).digest('hex').slice(0, 16);
}

/** A 32-bit hash of `parts`; equal hashes mean nothing changed. */
export function hash32(...parts: ReadonlyArray<string | number | undefined>): number {
  return createHash('sha256')
    .update(parts.map((p) => String(p ?? '')).join('\n'))
    .digest()
    .readUInt32BE(0);
}

/** Packs entries into one buffer, ENTRY_BYTES each, sorted by key (stable bytes for equal content). */
export function encodeEntries(entries: Iterable<Entry>): Buffer {
  const list = [...entries].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const buf = Buffer.alloc(list.length * ENTRY_BYTES);
  list.forEach((e, i) => {
    const o = i * ENTRY_BYTES;
    buf.write(e.key, o, 8, 'hex');
    buf.writeUInt8(Math.max(0, ENTRY_STATUSES.indexOf(e.status)), o + 8);
    buf.writeUInt8(e.process === undefined ? NO_PROCESS : clampByte(e.process), o + 9);
    buf.writeUInt8(
      e.alerted.reduce((m, s) => m | (1 << ALERT_BITS.indexOf(s)), 0),
      o + 10,
    );
    buf.writeUInt8(clampByte(e.episode), o + 11);
    buf.writeUInt32BE(e.stateHash >>> 0, o + 12);
    buf.writeUInt32BE(clampU32(e.startedSec), o + 16);
    buf.writeUInt32BE(clampU32(e.progressSec), o + 20);
    buf.writeUInt32BE(clampU32(e.changedSec), o + 24);
    buf.writeUInt32BE(clampU32(e.triedSec), o + 28);
    buf.writeUInt8(
      (e.inAlert ? FLAG_IN_ALERT : 0) |
        (e.zoneless ? FLAG_ZONELESS : 0) |
        (e.followUp ? FLAG_FOLLOW_UP : 0) |
        (e.goneConfirmed ? FLAG_GONE_CONFIRMED : 0),
      o + 32,
    );
    buf.writeUInt8(clampByte(e.tries), o + 33);
    buf.writeUInt32BE(e.detailHash >>> 0, o + 36);
    buf.writeUInt32BE(clampU32(e.goneSec), o + 40);
  });
  return buf;
}

/** Unpacks a buffer written by encodeEntries; throws RangeError when its length is not a whole number of entries. */
export function decodeEntries(buf: Uint8Array): Entry[] {
  if (buf.length % ENTRY_BYTES !== 0) {
    throw new RangeError(
      `digest of ${buf.length} bytes is not a whole number of ${ENTRY_BYTES}-byte entries`,
    );
  }
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.length);
  const out: Entry[] = [];
  for (let o = 0; o < b.length; o += ENTRY_BYTES) {
    const mask = b.readUInt8(o + 10);
    const flags = b.readUInt8(o + 32);
    const process = b.readUInt8(o + 9);
    out.push({
      key: b.toString('hex', o, o + 8),
      status: ENTRY_STATUSES[b.readUInt8(o + 8)] ?? 'unknown',
      ...(process === NO_PROCESS ? {} : { process }),
      alerted: ALERT_BITS.filter((_, bit) => (mask & (1 << bit)) !== 0),
      episode: b.readUInt8(o + 11),
      stateHash: b.readUInt32BE(o + 12),
      startedSec: b.readUInt32BE(o + 16),
      progressSec: b.readUInt32BE(o + 20),
      changedSec: b.readUInt32BE(o + 24),
      triedSec: b.readUInt32BE(o + 28),
      inAlert: (flags & FLAG_IN_ALERT) !== 0,
      zoneless: (flags & FLAG_ZONELESS) !== 0,
      followUp: (flags & FLAG_FOLLOW_UP) !== 0,
      tries: b.readUInt8(o + 33),
      detailHash: b.readUInt32BE(o + 36),
      goneSec: b.readUInt32BE(o + 40),
      goneConfirmed: (flags & FLAG_GONE_CONFIRMED) !== 0,
    });
  }
  return out;
}

function clampByte(n: number): number {
  return Math.max(0, Math.min(255, Math.round(n)));
}
function clampU32(n: number): number {
  return Math.max(0, Math.min(0xffffffff, Math.floor(n)));
}

/** Epoch seconds of an epoch-ms time (0 for undefined). */
export function toSec(ms: number | undefined): number {
  return ms === undefined || !Number.isFinite(ms) ? 0 : Math.floor(ms / 1000);
}
