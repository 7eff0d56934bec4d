// A Slack incoming webhook on 127.0.0.1: 200 `ok`; 400 `invalid_payload`/`no_text`/`invalid_blocks`
// as Slack answers them; 404 `no_service` off its path; 429 with Retry-After over ~1 message per
// second (short bursts of 3 tolerated, 60 a minute). Flags `<!channel>`-style mentions and links.
import type { Clock } from '../../lib/log';
import { scanText, startSink, type Answer, type Sink, type SinkRequest, urlFixture } from './base';

export const SLACK_SINK_PATH = '/services/T000/B000/XXXXXXXXXXXXXXXXXXXXXXXX';

/**
 * What breaks Slack's Block Kit limits in `blocks` (50 blocks; header 150; section text 3000;
 * 10 fields of 2000; 10 context elements), or undefined when nothing does.
 */
function blockProblem(blocks: unknown): string | undefined {
  if (!Array.isArray(blocks)) return 'blocks is not an array';
  if (blocks.length > 50) return `${blocks.length} blocks (max 50)`;
  for (const [i, block] of blocks.entries()) {
    const b = block as { type?: unknown; text?: { text?: unknown }; fields?: unknown; elements?: unknown };
    const text = typeof b.text?.text === 'string' ? b.text.text : undefined;
    if (b.type === 'header' && (text === undefined || text.length > 150)) return `block ${i}: header text`;
    if (b.type === 'section') {
      if (text === undefined && b.fields === undefined) return `block ${i}: section without text or fields`;
      if (text !== undefined && text.length > 3000) return `block ${i}: section text over 3000`;
      if (b.fields !== undefined) {
        if (!Array.isArray(b.fields) || b.fields.length > 10) return `block ${i}: more than 10 fields`;
        for (const f of b.fields as { text?: unknown }[]) {
          if (typeof f.text !== 'string' || f.text.length > 2000) return `block ${i}: field over 2000`;
        }
      }
    }
    if (b.type === 'context') {
      if (!Array.isArray(b.elements) || b.elements.length === 0 || b.elements.length > 10) {
        return `block ${i}: context elements`;
      }
      for (const e of b.elements as { text?: unknown }[]) {
        if (typeof e.text !== 'string' || e.text.length > 3000) return `block ${i}: context text`;
      }
    }
  }
  return undefined;
}

/** The mrkdwn a person reads: `text`, header, sections, fields, context. */
function slackVisibleText(request: SinkRequest): string {
  const payload = request.json as { text?: unknown; blocks?: unknown } | undefined;
  const out: string[] = [];
  if (typeof payload?.text === 'string') out.push(payload.text);
  if (Array.isArray(payload?.blocks)) {
    for (const b of payload.blocks as Array<{
      text?: { text?: unknown };
      fields?: unknown;
      elements?: unknown;
    }>) {
      if (typeof b.text?.text === 'string') out.push(b.text.text);
      for (const f of (Array.isArray(b.fields) ? b.fields : []) as Array<{ text?: unknown }>) {
        if (typeof f.text === 'string') out.push(f.text);
      }
      for (const e of (Array.isArray(b.elements) ? b.elements : []) as Array<{ text?: unknown }>) {
        if (typeof e.text === 'string') out.push(e.text);
      }
    }
  }
  return out.join('\n');
}

const SLACK_RULES = {
  links: [/<(https?:\/\/[^|>]*)(?:\|[^>]*)?>/g],
  // Escaped text has no `<` left: any other `<...>` is a mention (`<!channel>`, `<@U1>`, `<#C1>`) or worse.
  mentions: [/</],
};

/** Starts a Slack-like incoming webhook. */
export function startSlackSink(
  opts: {
    clock?: Clock;
    /** Answer every request (tests of other things on a real clock). */ unlimited?: boolean;
  } = {},
): Promise<Sink> {
  return startSink({
    path: SLACK_SINK_PATH,
    clock: opts.clock,
    notFound: { status: 404, body: 'no_service' },
    answer(req): Answer {
      if (typeof req.json !== 'object' || req.json === null || Array.isArray(req.json)) {
        return { status: 400, body: 'invalid_payload' };
      }
      const payload = req.json as { text?: unknown; blocks?: unknown };
      if (typeof payload.text !== 'string' || payload.text.trim() === '')
        return { status: 400, body: 'no_text' };
      if (payload.blocks !== undefined && blockProblem(payload.blocks) !== undefined) {
        return { status: 400, body: 'invalid_blocks' };
      }
      return { status: 200, body: 'ok' };
    },
    vendorError(code) {
      const words: Record<number, Answer> = {
        400: { status: 400, body: 'invalid_payload' },
        403: { status: 403, body: 'action_prohibited' },
        404: { status: 404, body: 'no_service' },
        410: { status: 410, body: 'channel_is_archived' },
        500: { status: 500, body: 'rollup_error' },
      };
      return words[code] ?? { status: code, body: 'unknown_error' };
    },
    rateLimit: opts.unlimited
      ? undefined
      : {
          windows: [
            { windowMs: 1000, max: 3 },
            { windowMs: 60_000, max: 60 },
          ],
          answer: (retryAfterMs) => ({
            status: 429,
            body: 'rate_limited',
            headers: { 'retry-after': String(Math.max(1, Math.ceil(retryAfterMs / 1000))) },
          }),
        },
    flags: (req) => scanText(slackVisibleText(req), SLACK_RULES),
    visibleText: slackVisibleText,
  });
}

/**
 * The conformance suite's view of Slack.
 * @public Found by name (`channelFixture`), never imported.
 */
export const slackFixture = urlFixture(
  'slack',
  { url: 'SLACK_WEBHOOK_URL' },
  (clock) => startSlackSink({ clock }),
  {
    markdown: true,
    maxBodyBytes: 40_000,
    rateLimited: true,
    vendorFaults: [
      [{ kind: 'vendor', code: 404 }, 'permanent'],
      [{ kind: 'vendor', code: 410 }, 'permanent'],
      [{ kind: 'vendor', code: 500 }, 'retryable'],
    ],
  },
);
