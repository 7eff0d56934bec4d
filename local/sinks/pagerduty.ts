// A PagerDuty Events API v2 endpoint on 127.0.0.1: 202 for a valid event (routing key of 32
// characters, trigger with summary <= 1,024, source and severity; resolve/acknowledge with a
// dedup_key); 400 "invalid event" otherwise; 429 over 120 events a minute per routing key. Keeps the
// incidents it would hold (by dedup_key) and flags links and bare URLs in what responders read.
import type { Clock } from '../../lib/log';
import {
  json,
  scanText,
  startSink,
  stringsIn,
  type Sink,
  type SinkRequest,
  type ChannelFixture,
} from './base';

const PAGERDUTY_SINK_PATH = '/v2/enqueue';
export const PAGERDUTY_ROUTING_KEY = 'R0123456789abcdef0123456789abcde';

type Event = {
  routing_key?: unknown;
  event_action?: unknown;
  dedup_key?: unknown;
  payload?: { summary?: unknown; source?: unknown; severity?: unknown; custom_details?: unknown };
  links?: Array<{ href?: unknown }>;
};

/** What makes an event invalid, or undefined. */
function pagerdutyProblem(e: Event | undefined): string | undefined {
  if (!e) return 'not JSON';
  if (typeof e.routing_key !== 'string' || e.routing_key.length !== 32)
    return 'routing_key must be 32 characters';
  if (!['trigger', 'acknowledge', 'resolve'].includes(String(e.event_action))) return 'bad event_action';
  if (e.dedup_key !== undefined && (typeof e.dedup_key !== 'string' || e.dedup_key.length > 255))
    return 'bad dedup_key';
  if (e.event_action !== 'trigger') return e.dedup_key === undefined ? 'dedup_key required' : undefined;
  const p = e.payload;
  if (typeof p?.summary !== 'string' || p.summary.length === 0 || p.summary.length > 1024)
    return 'summary must be 1..1024 characters';
  if (typeof p.source !== 'string' || p.source.length === 0) return 'source required';
  if (!['critical', 'error', 'warning', 'info'].includes(String(p.severity))) return 'bad severity';
  return undefined;
}

/** The summary and custom details responders read. */
function pagerdutyVisibleText(req: SinkRequest): string {
  const e = req.json as Event | undefined;
  return [e?.payload?.summary, ...stringsIn(e?.payload?.custom_details)]
    .filter((s) => typeof s === 'string')
    .join('\n');
}

/** Starts a PagerDuty-like events endpoint; `incidents` maps dedup_key to its state. */
export async function startPagerdutySink(opts: { clock?: Clock } = {}): Promise<
  Sink & {
    incidents: Map<
      string,
      { state: 'triggered' | 'acknowledged' | 'resolved'; events: number; severity?: string }
    >;
  }
> {
  const incidents = new Map<
    string,
    { state: 'triggered' | 'acknowledged' | 'resolved'; events: number; severity?: string }
  >();
  let n = 0;
  const sink = await startSink({
    path: PAGERDUTY_SINK_PATH,
    clock: opts.clock,
    answer(req) {
      const e = req.json as Event | undefined;
      const problem = pagerdutyProblem(e);
      if (problem)
        return json(400, { status: 'invalid event', message: 'Event object is invalid', errors: [problem] });
      const key = typeof e!.dedup_key === 'string' ? e!.dedup_key : `auto-${++n}`;
      const state =
        e!.event_action === 'trigger'
          ? 'triggered'
          : e!.event_action === 'resolve'
            ? 'resolved'
            : 'acknowledged';
      const before = incidents.get(key);
      // Resolving or acknowledging an unknown key does nothing; a trigger (re)opens it.
      if (state === 'triggered' || before) {
        incidents.set(key, {
          state,
          events: (before?.events ?? 0) + 1,
          severity: typeof e!.payload?.severity === 'string' ? e!.payload.severity : before?.severity,
        });
      }
      return json(202, { status: 'success', message: 'Event processed', dedup_key: key });
    },
    vendorError: (code) =>
      code === 429
        ? json(429, {
            status: 'throttle event',
            message: 'Requests for this service are arriving too quickly. Please retry later.',
          })
        : json(code, { status: 'invalid event', message: `error ${code}` }),
    rateLimit: {
      windows: [{ windowMs: 60_000, max: 120 }],
      answer: () =>
        json(429, {
          status: 'throttle event',
          message: 'Requests for this service are arriving too quickly. Please retry later.',
        }),
    },
    flags(req) {
      const e = req.json as Event | undefined;
      const flags = scanText(pagerdutyVisibleText(req));
      for (const l of e?.links ?? []) flags.push(...scanText(String(l.href), { links: [/^(\S+)$/g] }));
      return flags;
    },
    visibleText: pagerdutyVisibleText,
  });
  return Object.assign(sink, { incidents });
}

/**
 * The conformance suite's view of PagerDuty.
 * @public Found by name (`channelFixture`), never imported.
 */
export const pagerdutyFixture: ChannelFixture = {
  type: 'pagerduty',
  async start(clock) {
    const sink = await startPagerdutySink({ clock: clock.now });
    return {
      sink,
      config: {
        type: 'pagerduty',
        name: 'pagerduty',
        routingKey: PAGERDUTY_ROUTING_KEY,
        eventsUrl: sink.url,
        severity: { failed: 'error', timeout: 'warning', stuck: 'warning' },
        routing: {},
      },
      env: { PAGERDUTY_ROUTING_KEY, PAGERDUTY_EVENTS_URL: sink.url },
    };
  },
  secrets: [PAGERDUTY_ROUTING_KEY],
  markdown: false,
  maxBodyBytes: 512 * 1024,
  rateLimited: true,
  vendorFaults: [
    [{ kind: 'vendor', code: 400 }, 'permanent'],
    [{ kind: 'vendor', code: 429 }, 'retryable'],
  ],
};
