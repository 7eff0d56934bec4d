// One conformance suite for every destination, run against each channel's local sink: every message
// kind renders and is delivered exactly once, bursts are digested (chat, SMN) or sent one by one
// (PagerDuty, webhook), hostile API text neither pings nor links, size limits hold, answers are
// classified as the vendor means them (every code or word its spec lists among them), and pacing at
// `limits.minIntervalMs` never meets the vendor's rate limit. Every row runs twice: with a small test
// sender, and through the product's outbox (recorded in DynamoDB, paced, sent, classified and
// recorded). The rows are CHANNELS, each with the fixture its sink module exports
// (local/sinks/<type>.ts): a new channel is covered without a change here.
import type { HssAuth } from '../../lib/huaweicloud/credentials';
import type { Message } from '../../lib/model';
import { CHANNELS, createDestination } from '../../lib/notify/channels';
import type { AnyChannelSpec, VendorAnswers } from '../../lib/notify/channels/spec';
import type { Destination } from '../../lib/notify/destination';
import { channelFixture, type ChannelFixture, type Sink, type SinkFault } from '../../local/sinks';
import {
  alert,
  burst,
  CONSOLE_URL,
  HOSTILE,
  HOSTILE_FORMATTING,
  HOSTILE_MARKERS,
  INVISIBLE_MARKS,
  notice,
  reminder,
  resolved,
  SCOPE,
  summary,
  T0,
} from './support/messages';
import { useEngine } from '../support/engines';
import { createOutboxSender, createTestSender, virtualClock, type Sender } from './support/send';

type Clock = ReturnType<typeof virtualClock>;

interface Row {
  type: string;
  spec: AnyChannelSpec;
  fixture: ChannelFixture;
}

const SPECS: readonly AnyChannelSpec[] = CHANNELS;
const ROWS: Row[] = SPECS.flatMap((spec) => {
  const fixture = channelFixture(spec.type);
  return fixture ? [{ type: spec.type, spec, fixture }] : [];
});

/** The answers a spec lists (body codes, error words), each with the outcome its meaning says. */
function listedAnswers(answers: VendorAnswers): Array<readonly [SinkFault, 'retryable' | 'permanent']> {
  switch (answers.kind) {
    case 'codes':
      return Object.entries(answers.rules.codes).map(
        ([code, meaning]) => [{ kind: 'vendor', code: Number(code) }, meaning.kind] as const,
      );
    case 'words':
      // A 2xx whose whole body is the word: the vendor's way of refusing with a success status.
      return Object.entries(answers.words).map(
        ([word, meaning]) =>
          [
            { kind: 'status', status: 200, body: word },
            meaning.refuses === 'nothing' ? 'retryable' : 'permanent',
          ] as const,
      );
    case 'http':
      return [];
  }
}

describe('the list of channels', () => {
  it("has a fixture next to every channel's sink, so that each runs the whole suite", () => {
    expect(SPECS.filter((spec) => channelFixture(spec.type) === undefined).map((s) => s.type)).toEqual([]);
    expect(ROWS.map((r) => r.type)).toEqual(SPECS.map((s) => s.type));
  });
});

/** Every kind of message, in one batch. */
function everyKind(): Message[] {
  return [
    alert(1),
    alert(2, { status: 'timeout', previousStatus: 'running' }, { status: 'timeout', rawStatus: 'timeout' }),
    resolved(1),
    reminder(3),
    reminder(4),
    reminder(5),
    summary(),
    notice('test'),
    notice('monitoring-down'),
    notice('monitoring-recovered'),
  ];
}

// Every row runs with the test sender and again through the outbox (issue 11: "deliver exactly once
// per alert in the normal case, through the shared outbox").
const engine = useEngine('dynalite');
let tableName: string;
beforeAll(async () => {
  tableName = await engine.freshTable('conformance');
});

const SENDERS: Array<{ name: string; create(clock: Clock): Sender }> = [
  { name: 'the test sender', create: (clock) => createTestSender(clock) },
  {
    name: 'the outbox',
    create: (clock) => createOutboxSender({ ...clock, dynamo: engine.client(), tableName }),
  },
];

/** A sink and its destination, fresh for each test. */
function useChannel(fixture: ChannelFixture): { clock: Clock; sink: Sink; destination: Destination } {
  const at: { clock: Clock; sink: Sink; destination: Destination } = {} as never;
  beforeEach(async () => {
    at.clock = virtualClock(T0 + 2 * 3_600_000);
    const started = await fixture.start(at.clock);
    at.sink = started.sink;
    const credentials: Record<string, HssAuth> = fixture.credentials ?? {};
    at.destination = createDestination(started.config, { credentials });
  });
  afterEach(async () => {
    await at.sink.close();
  });
  return at;
}

describe.each(ROWS)('$type destination against its local sink', ({ spec, fixture }) => {
  describe('sent without pacing', () => {
    const at = useChannel(fixture);

    it('meets the vendor rate limit (the sink enforces it), which pacing must avoid', async () => {
      // Prepare
      const n = Math.min(at.destination.limits.perMinute + 30, 160);
      const notices = Array.from({ length: n }, (_, i) => notice('test', { id: `t${i}` }));
      // Act
      const unpaced = await createTestSender(at.clock)(at.destination, notices, { pace: false });
      // Assess
      expect(unpaced.outcomes.some((o) => o.kind === 'retryable')).toBe(fixture.rateLimited);
    });
  });

  describe.each(SENDERS)('through $name', (sender) => {
    let clock: Clock;
    let sink: Sink;
    let destination: Destination;
    let send: Sender;
    const at = useChannel(fixture);

    beforeEach(() => {
      ({ clock, sink, destination } = at);
      send = sender.create(clock);
    });

    const accepted = (batch: readonly Message[]): Message[] => batch.filter((m) => destination.accepts(m));

    it('renders every message kind it accepts and the sink delivers each request exactly once', async () => {
      // Prepare
      const batch = accepted(everyKind());
      // Act
      const report = await send(destination, batch);
      // Assess
      expect(report.outcomes.map((o) => o.kind)).toEqual(batch.map(() => 'ok'));
      expect(report.requests.flatMap((r) => r.covers).sort((a, b) => a - b)).toEqual(batch.map((_, i) => i));
      expect(sink.attempts).toHaveLength(report.requests.length);
      expect(sink.received).toHaveLength(report.requests.length);
      expect(batch.map((m) => m.kind)).toContain('notice');
    });

    it('names the host, what happened, the transition, times, HSS error, scope, console link and alert id', async () => {
      // Act
      await send(destination, [alert(3)]);
      // Assess
      const request = sink.received[0]!;
      const text = `${request.body}\n${sink.visibleText(request)}`;
      // The console link as it is, or with `&` as an entity where the markup wants that (Slack).
      const link = [CONSOLE_URL, CONSOLE_URL.replace(/&/g, '&amp;')].find((l) => text.includes(l));
      const parts = [
        'web-03',
        'failed',
        fixture.forPrograms ? '"previous_status":"running"' : 'running → failed',
        fixture.forPrograms ? '2026-11-29T17:00:03.000Z' : '2026-11-29 17:00:03 UTC',
        fixture.forPrograms ? '2026-11-29T17:41:10.000Z' : '2026-11-29 17:41:10 UTC',
        '41',
        'HSS.0102',
        'vault not reachable',
        'cn-north-4',
        SCOPE.projectId,
        alert(3).id,
      ];
      expect(parts.filter((p) => !text.includes(p))).toEqual([]);
      expect(link).toBeDefined();
    });

    it('digests a burst of 60 alerts the way its channel should, saying how many need attention by status', async () => {
      // Act
      const report = await send(destination, burst(60), { context: { listsIncomplete: true } });
      // Assess
      expect(report.outcomes.filter((o) => o.kind !== 'ok')).toEqual([]);
      expect(sink.received).toHaveLength(spec.digests ? 1 : 60);
      expect(report.requests.map((r) => r.covers.length)).toEqual(spec.digests ? [60] : Array(60).fill(1));
      const shown = sink.received.map((r) => sink.visibleText(r)).join('\n');
      const wanted = [
        '60 restore/backup tasks need attention',
        '40 failed',
        '20 timeout',
        'more may follow',
        '…and ',
      ];
      expect(wanted.filter((w) => shown.includes(w))).toEqual(spec.digests ? wanted : []);
    });

    it('sends a batch of reminders as one digest (chat, SMN), one event each (webhook) or not at all (PagerDuty)', async () => {
      // Prepare: the reminders this destination takes at all (PagerDuty takes none: they are no pages).
      const reminders = accepted([reminder(1), reminder(2), reminder(3)]);
      // Act
      const report = await send(destination, reminders);
      // Assess
      expect(sink.received).toHaveLength(spec.digests ? 1 : reminders.length);
      const shown = sink.received.map((r) => sink.visibleText(r)).join('\n');
      expect(shown.includes('3 restore/backup tasks still failing')).toBe(spec.digests);
      expect(report.outcomes.filter((o) => o.kind !== 'ok')).toEqual([]);
    });

    it('neutralises hostile API text: nothing pings, links or formats', async () => {
      // Prepare
      const hostile = alert(
        7,
        {},
        { hostName: HOSTILE, backupName: HOSTILE, errorCode: HOSTILE, errorMessage: HOSTILE },
      );
      const digest = burst(8).map((a) => ({
        ...a,
        task: { ...a.task, hostName: HOSTILE, backupName: HOSTILE },
      }));
      const down = notice('monitoring-down', { detail: HOSTILE, facts: [['From HSS', HOSTILE]] });
      // Act
      const report = await send(destination, [hostile, down, ...digest]);
      // Assess
      expect(report.outcomes.filter((o) => o.kind !== 'ok')).toEqual([]);
      expect(sink.received.flatMap((r) => r.flags)).toEqual([]);
      // The webhook is machine data: receivers get the exact values (JSON-escaped) and render them themselves.
      const shown = fixture.forPrograms ? '' : sink.received.map((r) => sink.visibleText(r)).join('\n');
      const forbidden = [...HOSTILE_MARKERS, ...(fixture.markdown ? HOSTILE_FORMATTING : [])];
      expect(forbidden.filter((marker) => shown.includes(marker))).toEqual([]);
      // Whichever order the batch went out in (the outbox sends oldest first), the alerts arrived; on
      // the webhook verbatim but for the bidi override, which no channel lets through.
      const verbatim = JSON.stringify(HOSTILE).replace('\u202e', ' ');
      expect(sink.received.map((r) => r.body.toLowerCase()).join('\n')).toContain(
        (fixture.forPrograms ? verbatim : 'restore/backup').toLowerCase(),
      );
    });

    it('lets no invisible or direction-changing character of a host name reach its payload, next to a healthy neighbour', async () => {
      // Prepare: a clean neighbour, then one alert per character, in the host name and the HSS error.
      const neighbour = alert(1, {}, { hostName: 'neighbour-01' });
      const marked = INVISIBLE_MARKS.map(([, c], i) =>
        alert(10 + i, {}, { hostName: `web${c}-${i}`, errorMessage: `vault${c}not reachable` }),
      );
      // Act
      const report = await send(destination, [neighbour, ...marked]);
      // Assess
      expect(report.outcomes.filter((o) => o.kind !== 'ok')).toEqual([]);
      const bodies = sink.received.map((r) => r.body).join('\n');
      const reached = INVISIBLE_MARKS.filter(
        ([, c]) => bodies.includes(c) || bodies.toLowerCase().includes(JSON.stringify(c).slice(1, -1)),
      );
      expect(reached.map(([name]) => name)).toEqual([]);
      expect(sink.received.flatMap((r) => r.flags)).toEqual([]);
      expect(bodies).toContain('neighbour-01');
    });

    it('stays inside its size limits with a 4,000-character error message and with a 60-alert batch of them', async () => {
      // Prepare
      const long = `${'E'.repeat(3990)} ünïcødé`;
      // Act
      const single = await send(destination, [
        alert(1, {}, { errorMessage: long, hostName: 'h'.repeat(500) }),
      ]);
      clock.advance(60_000);
      const many = await send(destination, burst(60, long));
      // Assess
      expect([...single.outcomes, ...many.outcomes].filter((o) => o.kind !== 'ok')).toEqual([]);
      expect(sink.received.filter((r) => Buffer.byteLength(r.body) > fixture.maxBodyBytes)).toEqual([]);
      expect(sink.received).toHaveLength(spec.digests ? 2 : 61);
    });

    it('classifies the vendor answers as the vendor means them, every one its spec lists among them', async () => {
      for (const [fault, expected] of [
        ...listedAnswers(spec.answers),
        ...fixture.vendorFaults,
        [{ kind: 'reset' }, 'retryable'] as const,
        [{ kind: 'status', status: 503 }, 'retryable'] as const,
      ]) {
        // Prepare
        sink.failNext(fault);
        // Act
        const report = await send(destination, [notice('test')]);
        clock.advance(60_000);
        // Assess
        expect([fault, report.outcomes[0]!.kind]).toEqual([fault, expected]);
      }
    });

    it('never meets the vendor rate limit when paced at limits.minIntervalMs', async () => {
      // Prepare: one request per message, well past a minute of traffic.
      const n = Math.min(destination.limits.perMinute + 30, 160);
      const notices = Array.from({ length: n }, (_, i) => notice('test', { id: `t${i}` }));
      // Act
      const paced = await send(destination, notices);
      // Assess
      expect(destination.limits.minIntervalMs * destination.limits.perMinute).toBeLessThanOrEqual(60_000);
      expect(paced.outcomes.filter((o) => o.kind !== 'ok')).toEqual([]);
      expect(sink.attempts).toHaveLength(n);
    });

    it('shows neither its URL path nor its keys in its description or its errors', async () => {
      // Prepare
      sink.failNext({ kind: 'status', status: 404, body: `not here: ${sink.url}` });
      // Act
      const report = await send(destination, [notice('test')]);
      // Assess
      const said = `${destination.description} ${JSON.stringify(report.outcomes)}`;
      const url = new URL(sink.url);
      expect(said).toContain('127.0.0.1');
      expect(said).not.toContain(url.pathname);
      const secrets = [
        ...fixture.secrets,
        // Query values that are secrets (`sig=`, `key=`, `access_token=`), not `api-version=1`.
        ...[...url.searchParams.values()].filter((v) => v.length >= 8),
      ];
      expect(secrets.filter((secret) => said.includes(secret))).toEqual([]);
    });
  });
});
