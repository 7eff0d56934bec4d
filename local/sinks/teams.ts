// A Teams Workflows webhook on 127.0.0.1: 202 Accepted for a `message` with an Adaptive Card
// attachment; 413 "Request Entity Too Large" above 28 KB; 400 for another shape; 429 over ~4 per
// second. Flags unescaped Markdown links, `msteams.entities` mentions and bare URLs.
import type { Clock } from '../../lib/log';
import { json, scanText, startSink, type Sink, type SinkRequest, urlFixture } from './base';

export const TEAMS_SINK_PATH =
  '/workflows/0123456789abcdef/triggers/manual/paths/invoke?api-version=1&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=SIGNATURE-IS-THE-SECRET';
const TEAMS_MAX_BYTES = 28 * 1024;

type CardElement = {
  type?: string;
  text?: unknown;
  facts?: Array<{ title?: unknown; value?: unknown }>;
  url?: unknown;
  title?: unknown;
};

function content(
  req: SinkRequest,
): { body?: CardElement[]; actions?: CardElement[]; msteams?: { entities?: unknown[] } } | undefined {
  const m = req.json as
    { type?: unknown; attachments?: Array<{ contentType?: unknown; content?: unknown }> } | undefined;
  const a = m?.attachments?.[0];
  if (m?.type !== 'message' || a?.contentType !== 'application/vnd.microsoft.card.adaptive') return undefined;
  const c = a.content as { type?: unknown } | undefined;
  return c?.type === 'AdaptiveCard' ? (c as ReturnType<typeof content>) : undefined;
}

/** TextBlocks, FactSet titles and values, action titles. */
function teamsVisibleText(req: SinkRequest): string {
  const c = content(req);
  const out: string[] = [];
  for (const e of c?.body ?? []) {
    if (typeof e.text === 'string') out.push(e.text);
    for (const f of e.facts ?? []) out.push(`${String(f.title)}: ${String(f.value)}`);
  }
  for (const a of c?.actions ?? []) if (typeof a.title === 'string') out.push(a.title);
  return out.join('\n');
}

const RULES = {
  // An unescaped Markdown link `[text](url)`; escaped brackets (`\[`) render as text.
  links: [/(?<!\\)\[[^\]]*?(?<!\\)\]\(([^)]*)\)/g],
};

/** Starts a Teams-Workflows-like webhook. */
export function startTeamsSink(opts: { clock?: Clock } = {}): Promise<Sink> {
  return startSink({
    path: TEAMS_SINK_PATH,
    clock: opts.clock,
    answer(req) {
      if (Buffer.byteLength(req.body) > TEAMS_MAX_BYTES) {
        return json(413, { error: { code: 'RequestEntityTooLarge', message: 'Request Entity Too Large' } });
      }
      if (!content(req))
        return json(400, {
          error: { code: 'InvalidRequestContent', message: 'not an Adaptive Card message' },
        });
      return { status: 202, body: '' };
    },
    vendorError: (code) =>
      code === 413
        ? json(413, { error: { code: 'RequestEntityTooLarge', message: 'Request Entity Too Large' } })
        : json(code, { error: { code: `Error${code}`, message: `error ${code}` } }),
    rateLimit: {
      windows: [{ windowMs: 1000, max: 4 }],
      answer: (ms) =>
        json(
          429,
          { error: { code: 'TooManyRequests', message: 'Rate limit is exceeded.' } },
          {
            headers: {
              'content-type': 'application/json',
              'retry-after': String(Math.max(1, Math.ceil(ms / 1000))),
            },
          },
        ),
    },
    flags(req) {
      const c = content(req);
      const flags = scanText(teamsVisibleText(req), RULES);
      if ((c?.msteams?.entities ?? []).length > 0) flags.push('msteams.entities mention');
      for (const a of c?.actions ?? []) flags.push(...scanText(`[x](${String(a.url)})`, RULES));
      return flags;
    },
    visibleText: teamsVisibleText,
  });
}

/**
 * The conformance suite's view of Teams.
 * @public Found by name (`channelFixture`), never imported.
 */
export const teamsFixture = urlFixture(
  'teams',
  { url: 'TEAMS_WEBHOOK_URL' },
  (clock) => startTeamsSink({ clock }),
  {
    markdown: true,
    maxBodyBytes: TEAMS_MAX_BYTES,
    rateLimited: true,
    vendorFaults: [
      [{ kind: 'vendor', code: 413 }, 'permanent'],
      [{ kind: 'status', status: 400, body: 'Request Entity Too Large' }, 'permanent'],
      [{ kind: 'vendor', code: 429 }, 'retryable'],
    ],
  },
);
