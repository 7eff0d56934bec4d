// A Discord webhook on 127.0.0.1: 200 with the message when `?wait=true` (204 without); 400 code 50035
// "Invalid Form Body" past the embed limits; 429 with a JSON `retry_after` (float seconds) over 5
// requests per 2 seconds. Flags a missing or permissive `allowed_mentions`, unescaped `<@`/`<#`
// mentions, masked links and bare URLs.
import type { Clock } from '../../lib/log';
import { json, scanText, startSink, type Sink, type SinkRequest, urlFixture } from './base';

export const DISCORD_SINK_PATH = '/api/webhooks/123456789012345678/TOKEN-IS-A-SECRET';

type Embed = {
  title?: string;
  description?: string;
  fields?: Array<{ name?: string; value?: string }>;
  footer?: { text?: string };
  author?: { name?: string };
};
type Message = {
  content?: string;
  embeds?: Embed[];
  allowed_mentions?: { parse?: unknown[]; users?: unknown[]; roles?: unknown[] };
};

/** What breaks Discord's limits, or undefined. */
function discordProblem(m: Message): string | undefined {
  if ((m.content ?? '').length > 2000) return 'content over 2000';
  const embeds = m.embeds ?? [];
  if (embeds.length > 10) return 'more than 10 embeds';
  let total = 0;
  for (const e of embeds) {
    if ((e.title ?? '').length > 256) return 'title over 256';
    if ((e.description ?? '').length > 4096) return 'description over 4096';
    if ((e.fields ?? []).length > 25) return 'more than 25 fields';
    for (const f of e.fields ?? []) {
      if ((f.name ?? '').length > 256 || (f.value ?? '').length > 1024) return 'field over limits';
      if (!f.name || !f.value) return 'empty field';
      total += f.name.length + f.value.length;
    }
    if ((e.footer?.text ?? '').length > 2048) return 'footer over 2048';
    total +=
      (e.title ?? '').length +
      (e.description ?? '').length +
      (e.footer?.text ?? '').length +
      (e.author?.name ?? '').length;
  }
  if (total > 6000) return `embeds total ${total} over 6000`;
  if (!m.content && embeds.length === 0) return 'empty message';
  return undefined;
}

/** Content, embed titles, descriptions, fields and footers. */
function discordVisibleText(req: SinkRequest): string {
  const m = req.json as Message | undefined;
  const out: unknown[] = [m?.content];
  for (const e of m?.embeds ?? []) {
    out.push(e.title, e.description, e.footer?.text, e.author?.name);
    for (const f of e.fields ?? []) out.push(f.name, f.value);
  }
  return out.filter((s) => typeof s === 'string').join('\n');
}

/** Starts a Discord-like webhook. */
export function startDiscordSink(opts: { clock?: Clock } = {}): Promise<Sink> {
  let id = 1_000_000;
  return startSink({
    path: DISCORD_SINK_PATH,
    clock: opts.clock,
    notFound: json(404, { message: 'Unknown Webhook', code: 10015 }),
    answer(req) {
      const m = req.json as Message | undefined;
      const problem = m === undefined ? 'not JSON' : discordProblem(m);
      if (problem) return json(400, { code: 50035, message: 'Invalid Form Body', errors: { problem } });
      if (new URL(req.path, 'http://x').searchParams.get('wait') !== 'true') return { status: 204, body: '' };
      return json(200, { id: String(++id), type: 0, content: m?.content ?? '', embeds: m?.embeds ?? [] });
    },
    vendorError: (code) => json(code, { message: `error ${code}`, code: 0 }),
    rateLimit: {
      windows: [{ windowMs: 2000, max: 5 }],
      answer: (ms) =>
        json(
          429,
          { message: 'You are being rate limited.', retry_after: ms / 1000, global: false },
          {
            headers: {
              'content-type': 'application/json',
              'retry-after': String(Math.ceil(ms / 1000)),
              'x-ratelimit-scope': 'user',
            },
          },
        ),
    },
    flags(req) {
      const m = req.json as Message | undefined;
      const flags = scanText(discordVisibleText(req), {
        links: [/(?<!\\)\[[^\]]*?(?<!\\)\]\(([^)]*)\)/g],
        mentions: [/(?<!\\)<[@#]/],
      });
      const am = m?.allowed_mentions;
      if (
        !am ||
        !Array.isArray(am.parse) ||
        am.parse.length > 0 ||
        (am.users ?? []).length > 0 ||
        (am.roles ?? []).length > 0
      ) {
        flags.push('allowed_mentions does not forbid pings');
      }
      return flags;
    },
    visibleText: discordVisibleText,
  });
}

/**
 * The conformance suite's view of Discord.
 * @public Found by name (`channelFixture`), never imported.
 */
export const discordFixture = urlFixture(
  'discord',
  { url: 'DISCORD_WEBHOOK_URL' },
  (clock) => startDiscordSink({ clock }),
  {
    markdown: true,
    maxBodyBytes: 60_000,
    rateLimited: true,
    vendorFaults: [
      [{ kind: 'vendor', code: 404 }, 'permanent'],
      [{ kind: 'vendor', code: 500 }, 'retryable'],
    ],
  },
);
