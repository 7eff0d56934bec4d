// Properties of the pure parts every promise rests on, by fast-check: whatever records HSS sends, the
// page parser never throws and keeps every record it can identify; observing a task is idempotent
// and never alerts the same (status, episode) twice; the 40-byte digest codec round-trips; a list
// scan continued over polls while records are inserted and removed between its pages misses nothing
// that stays in the list; and whatever text a task carries, every channel's message neither pings
// nor links anyone and fits the vendor's limits (checked by the vendor's local sink).
import fc from 'fast-check';
import { ALERTING, observe, type DecideContext } from '../../lib/diff/decide';
import {
  ALERT_BITS,
  decodeEntries,
  encodeEntries,
  ENTRY_BYTES,
  ENTRY_STATUSES,
  type Entry,
} from '../../lib/state/entry';
import { clipText, FIELD_LIMITS, parsePage } from '../../lib/hss/parse';
import type { Page } from '../../lib/hss/pages';
import type { AlertStatus, KnownStatus, Message, Task } from '../../lib/model';
import { CHANNELS, createDestination } from '../../lib/notify/channels';
import type { AnyChannelSpec } from '../../lib/notify/channels/spec';
import { createScan } from '../../lib/poll/scan';
import type { ListCursor } from '../../lib/state/records';
import { TASK_STATUSES } from '../../lib/task';
import { channelFixture, type Sink } from '../../local/sinks';
import { alert, burst, HOSTILE, notice, T0 } from '../notify/support/messages';
import { createTestSender, virtualClock } from '../notify/support/send';

// ---- arbitraries ----------------------------------------------------------------------------------

/** Strings as hostile as text gets: any Unicode, raw code units (lone surrogates), markup and mentions. */
const hostileText = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)), maxLength: 40 }),
  fc
    .array(
      fc.constantFrom(
        ...HOSTILE.split(' '),
        '<!channel>',
        '<@U123>',
        '<http://evil.example|click>',
        '[x](https://evil.example)',
        'www.evil.example',
        '@everyone',
        '<at user_id="all"></at>',
        '\u001b[31m',
        '\u202e',
        '\n',
        '*',
        '_',
        '`',
        '~',
        '|',
        '&',
        ' ',
      ),
      { maxLength: 16 },
    )
    .map((parts) => parts.join('')),
  fc.string({ minLength: 1000, maxLength: 4000 }),
);

/** Any JSON, with record-like objects (fields of any type) weighed in. */
const anyRecord: fc.Arbitrary<unknown> = fc.oneof(
  fc.jsonValue({ maxDepth: 2 }),
  fc.record(
    {
      host_id: fc.oneof(
        fc.string({ maxLength: 12 }),
        fc.integer(),
        fc.constant(''),
        fc.constant(null),
        hostileText,
      ),
      host_name: fc.oneof(hostileText, fc.jsonValue({ maxDepth: 1 })),
      backup_name: fc.oneof(hostileText, fc.integer(), fc.constant(null), fc.boolean()),
      status: fc.oneof(
        fc.constantFrom(...TASK_STATUSES, 'FAILED', ' timeout ', 'cancelled', ''),
        fc.jsonValue({ maxDepth: 1 }),
      ),
      process: fc.oneof(fc.integer({ min: -5, max: 105 }), fc.string({ maxLength: 4 }), fc.double()),
      started_at: fc.oneof(
        fc.integer({ min: 0, max: 2 ** 42 }),
        fc.constantFrom(
          '2026-11-27T11:00:00Z',
          '2026-11-27 11:00:00',
          '1795000000',
          '2026-02-30T00:00:00Z',
          '',
        ),
        hostileText,
      ),
      ended_at: fc.oneof(fc.integer(), hostileText, fc.constant(null)),
      updated_at: fc.oneof(fc.integer(), hostileText),
      error_info: fc.oneof(
        fc.record({
          code: fc.jsonValue({ maxDepth: 1 }),
          message: fc.oneof(hostileText, fc.jsonValue({ maxDepth: 1 })),
        }),
        fc.jsonValue({ maxDepth: 1 }),
      ),
    },
    { requiredKeys: [] },
  ),
);

/** A field as text the way the API means it: a string (lone surrogates made U+FFFD) or a finite number. */
function text(v: unknown): string | undefined {
  if (typeof v === 'string')
    return v.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD');
  return typeof v === 'number' && Number.isFinite(v) ? String(v) : undefined;
}

/** What parse.ts can identify a record by: an object with host_id, started_at and backup_name as text. */
function identifiable(record: unknown): boolean {
  if (typeof record !== 'object' || record === null || Array.isArray(record)) return false;
  const r = record as Record<string, unknown>;
  return (
    (text(r.host_id)?.trim() ?? '') !== '' &&
    (text(r.started_at)?.trim() ?? '') !== '' &&
    text(r.backup_name) !== undefined
  );
}

// ---- the page parser --------------------------------------------------------------------------------

describe('the page parser', () => {
  it('never throws on any records and keeps every record it can identify, in order', () => {
    fc.assert(
      fc.property(
        fc.array(anyRecord, { maxLength: 12 }),
        fc.nat(50),
        fc.nat(1000),
        (records, totalNum, offset) => {
          const { page } = parsePage({ total_num: totalNum, data_list: records }, offset);
          expect(page.rows).toBe(records.length);
          expect(page.tasks.length + page.rejected.length).toBe(records.length);
          const kept = records.filter(identifiable);
          expect(page.tasks.map((t) => [t.hostId, t.backupName])).toEqual(
            kept.map((r) => [
              clipText(text((r as { host_id: unknown }).host_id)!, FIELD_LIMITS.hostId),
              clipText(text((r as { backup_name: unknown }).backup_name)!, FIELD_LIMITS.backupName),
            ]),
          );
          expect(page.rejected.map((r) => r.index)).toEqual(
            records.flatMap((r, i) => (identifiable(r) ? [] : [i])),
          );
        },
      ),
      { numRuns: 300 },
    );
  });
});

// ---- observe --------------------------------------------------------------------------------------

const STATUSES: readonly Task['status'][] = [...TASK_STATUSES, 'unknown'];

/** One observation of the same task (identity fixed): status, progress, end time and error vary. */
const observation = fc.record({
  status: fc.constantFrom(...STATUSES),
  process: fc.option(fc.integer({ min: 0, max: 100 }), { nil: undefined }),
  endedAt: fc.option(fc.constantFrom('2026-11-27T12:00:00Z', '2026-11-27T13:00:00Z'), { nil: undefined }),
  errorMessage: fc.option(fc.constantFrom('agent offline', 'vault full'), { nil: undefined }),
});

type Observation = { status: Task['status']; process?: number; endedAt?: string; errorMessage?: string };

function taskOf({ status, process, endedAt, errorMessage }: Observation): Task {
  return {
    hostId: 'h-1',
    hostName: 'web-01',
    backupName: 'nightly',
    status,
    rawStatus: status === 'unknown' ? 'cancelled' : status,
    startedAt: '2026-11-27T11:00:00Z',
    startedMs: T0 - 3_600_000,
    ...(process === undefined ? {} : { process }),
    ...(endedAt === undefined ? {} : { endedAt }),
    ...(errorMessage === undefined ? {} : { errorMessage }),
  };
}

const alertStatuses = fc.subarray<KnownStatus>(['failed', 'timeout', 'skipped', 'success'], { minLength: 1 });

describe('observe', () => {
  it('is idempotent: observing the same task again changes nothing', () => {
    fc.assert(
      fc.property(fc.array(observation, { minLength: 1, maxLength: 20 }), alertStatuses, (seq, statuses) => {
        let entry: Entry | undefined;
        let now = T0;
        for (const o of seq) {
          const ctx: DecideContext = { now: (now += 60_000), alertStatuses: statuses, baseline: false };
          entry = observe(entry, taskOf(o), 'k', ctx).entry;
          const again = observe(entry, taskOf(o), 'k', { ...ctx, now: now + 30_000 });
          expect(again.decision).toBe('unchanged');
          expect(again.alert).toBeUndefined();
          expect(again.entry).toBe(entry);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('never alerts the same (status, episode) twice, and alerts a task first seen in, or coming back from running or waiting into, an alert status', () => {
    fc.assert(
      fc.property(fc.array(observation, { minLength: 1, maxLength: 30 }), alertStatuses, (seq, statuses) => {
        let entry: Entry | undefined;
        let now = T0;
        const raised = new Set<string>();
        let previous: Task['status'] | undefined;
        for (const o of seq) {
          const ctx: DecideContext = { now: (now += 60_000), alertStatuses: statuses, baseline: false };
          const result = observe(entry, taskOf(o), 'k', ctx);
          entry = result.entry;
          if (result.alert) {
            const id = `${result.alert.status}#${result.alert.episode}`;
            expect(raised.has(id)).toBe(false);
            raised.add(id);
            expect(ALERTING.has(result.decision)).toBe(true);
          }
          // First seen, or back from running/waiting, in an alert status: that always alerts.
          const alerting = o.status !== 'unknown' && (statuses as readonly string[]).includes(o.status);
          const fromQuiet = previous === undefined || previous === 'running' || previous === 'waiting';
          expect({ previous, status: o.status, alerted: result.alert?.status }).toEqual({
            previous,
            status: o.status,
            alerted: alerting && fromQuiet ? o.status : result.alert?.status,
          });
          previous = o.status;
        }
      }),
      { numRuns: 300 },
    );
  });
});

// ---- the digest codec -----------------------------------------------------------------------------

const u32 = fc.integer({ min: 0, max: 0xffffffff });
const entry: fc.Arbitrary<Entry> = fc
  .record({
    key: fc.stringMatching(/^[0-9a-f]{16}$/),
    status: fc.constantFrom(...ENTRY_STATUSES),
    process: fc.option(fc.integer({ min: 0, max: 100 }), { nil: undefined }),
    stateHash: u32,
    detailHash: u32,
    alerted: fc.subarray<AlertStatus>([...ALERT_BITS]),
    episode: fc.integer({ min: 0, max: 255 }),
    inAlert: fc.boolean(),
    startedSec: u32,
    zoneless: fc.boolean(),
    progressSec: u32,
    changedSec: u32,
    followUp: fc.boolean(),
    tries: fc.integer({ min: 0, max: 255 }),
    triedSec: u32,
    goneSec: u32,
    goneConfirmed: fc.boolean(),
  })
  .map(({ process, ...rest }) => (process === undefined ? rest : { ...rest, process }));

describe('the digest codec', () => {
  it('decodes what it encoded, entry for entry (sorted by key)', () => {
    fc.assert(
      fc.property(fc.uniqueArray(entry, { selector: (e) => e.key, maxLength: 40 }), (entries) => {
        const buf = encodeEntries(entries);
        expect(buf.length).toBe(entries.length * ENTRY_BYTES);
        const sorted = [...entries].sort((a, b) => (a.key < b.key ? -1 : 1));
        expect(decodeEntries(buf)).toEqual(sorted);
        expect(encodeEntries(decodeEntries(buf)).equals(buf)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('reads any bytes of whole entries without throwing', () => {
    const whole = fc
      .integer({ min: 0, max: 10 })
      .chain((n) => fc.uint8Array({ minLength: n * ENTRY_BYTES, maxLength: n * ENTRY_BYTES }));
    fc.assert(
      fc.property(whole, (bytes) => {
        expect(decodeEntries(bytes)).toHaveLength(bytes.length / ENTRY_BYTES);
      }),
    );
  });

  it('refuses a partial entry with a RangeError', () => {
    const partial = fc
      .uint8Array({ minLength: 1, maxLength: 400 })
      .filter((b) => b.length % ENTRY_BYTES !== 0);
    fc.assert(
      fc.property(partial, (bytes) => {
        expect(() => decodeEntries(bytes)).toThrow(RangeError);
      }),
    );
  });
});

// ---- list scans -----------------------------------------------------------------------------------

const PAGE = 10;

/** Between two page reads: a record inserted somewhere (at the head most often), or one removed. */
const churn = fc.oneof(
  {
    weight: 2,
    arbitrary: fc.record({ op: fc.constant('insert' as const), at: fc.oneof(fc.constant(0), fc.nat(80)) }),
  },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('remove' as const), at: fc.nat(80) }) },
  { weight: 3, arbitrary: fc.constant({ op: 'none' as const, at: 0 }) },
);

describe('a list scan continued over polls', () => {
  it('sees every record that stays in the list, and a cycle without removals misses nothing', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 5, max: 60 }),
        fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 12 }),
        fc.array(churn, { maxLength: 60 }),
        fc.boolean(),
        (initial, budgets, churns, rereadHead) => {
          // The list, newest first; records never come back once removed.
          let next = 0;
          const list = Array.from({ length: initial }, () => `r${next++}`);
          const present = new Set(list);
          const everRemoved = new Set<string>();
          const seenEver = new Set<string>();
          let cursor: ListCursor | undefined;
          let now = T0;
          let c = 0;
          // The cycle in progress: what was there when it started, what it read, what was removed.
          let cycle = { start: new Set(list), read: new Set<string>(), removals: 0 };
          const problems: string[] = [];
          const change = () => {
            const ch = churns[c++];
            if (!ch || ch.op === 'none') return;
            if (ch.op === 'insert') {
              const key = `r${next++}`;
              list.splice(Math.min(ch.at, list.length), 0, key);
              present.add(key);
            } else if (list.length > 0) {
              const [gone] = list.splice(ch.at % list.length, 1);
              present.delete(gone!);
              everRemoved.add(gone!);
              cycle.removals += 1;
            }
          };
          const poll = (calls: number, churning: boolean): number => {
            const scan = createScan({
              list: 'failed',
              cursor,
              lastDays: 1,
              pageSize: PAGE,
              rereadHead,
              stepBack: true,
              periodMs: 60_000,
            });
            let cycles = 0;
            for (let i = 0; i < calls; i++) {
              const at = scan.next();
              if (at === undefined) break;
              if (churning) change();
              const keys = list.slice(at, at + PAGE);
              const page: Page = { rows: keys.length, tasks: [], rejected: [], totalNum: list.length };
              for (const k of keys) {
                seenEver.add(k);
                cycle.read.add(k);
              }
              const step = scan.accept(at, page, keys.length * 1000 + at, keys, (now += 1000));
              if (step.complete) {
                const missed = [...cycle.start].filter((k) => present.has(k) && !cycle.read.has(k));
                if (cycle.removals === 0 && missed.length > 0)
                  problems.push(`a cycle with no removals missed ${missed.join(', ')}`);
                cycles += 1;
                cycle = { start: new Set(list), read: new Set(), removals: 0 };
              }
            }
            ({ cursor } = scan.save((now += 60_000)));
            return cycles;
          };

          // Act: polls with churn, then polls without until two cycles completed (or far too many polls).
          for (const calls of budgets) poll(calls, true);
          let completed = 0;
          for (let i = 0; i < 200 && completed < 2; i++) completed += poll(1, false);

          // Assess
          expect(completed).toBe(2);
          expect(problems).toEqual([]);
          const stayed = [...present].filter((k) => !everRemoved.has(k));
          expect(stayed.filter((k) => !seenEver.has(k))).toEqual([]);
        },
      ),
      { numRuns: 300 },
    );
  });
});

// ---- channel rendering ----------------------------------------------------------------------------

type Clock = ReturnType<typeof virtualClock>;

/** Every channel, with the fixture its sink module exports. */
const CHANNEL_FIXTURES = (CHANNELS as readonly AnyChannelSpec[]).flatMap((spec) => {
  const fixture = channelFixture(spec.type);
  return fixture ? [{ type: spec.type, fixture }] : [];
});

/** One message of any kind carrying hostile text where API text goes (a single alert, a digest, a notice). */
const hostileBatch: fc.Arbitrary<Message[]> = fc
  .record({
    host: hostileText,
    backup: hostileText,
    code: hostileText,
    message: hostileText,
    shape: fc.constantFrom('alert', 'digest', 'notice'),
  })
  .map(({ host, backup, code, message, shape }): Message[] => {
    const text = { hostName: host, backupName: backup, errorCode: code, errorMessage: message };
    if (shape === 'alert') return [alert(1, {}, text)];
    if (shape === 'notice')
      return [notice('monitoring-down', { detail: message, facts: [['From HSS', code]] })];
    return burst(8).map((a) => ({ ...a, task: { ...a.task, ...text } }));
  });

describe.each(CHANNEL_FIXTURES)('$type messages, whatever text a task carries', ({ fixture }) => {
  let clock: Clock;
  let sink: Sink;
  let send: ReturnType<typeof createTestSender>;
  let destination: ReturnType<typeof createDestination>;
  beforeAll(async () => {
    clock = virtualClock(T0 + 2 * 3_600_000);
    const started = await fixture.start(clock);
    sink = started.sink;
    destination = createDestination(started.config, { credentials: fixture.credentials ?? {} });
    send = createTestSender(clock);
  });
  afterAll(async () => {
    await sink.close();
  });

  it('are taken by the vendor, ping and link no one, and fit its size limit', async () => {
    await fc.assert(
      fc.asyncProperty(hostileBatch, async (batch) => {
        // Well past every vendor's rate window (and DingTalk's 10-minute mute).
        clock.advance(11 * 60_000);
        const before = sink.received.length;
        const report = await send(destination, batch);
        const received = sink.received.slice(before);
        expect(report.outcomes.filter((o) => o.kind !== 'ok')).toEqual([]);
        expect(received.flatMap((r) => r.flags)).toEqual([]);
        expect(
          received.filter((r) => Buffer.byteLength(r.body) > fixture.maxBodyBytes).map((r) => r.body.length),
        ).toEqual([]);
      }),
      { numRuns: 150 },
    );
  });
});
