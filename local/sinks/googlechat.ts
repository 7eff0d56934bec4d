// A Google Chat incoming webhook on 127.0.0.1: 200 with the created message (in the thread named by
// `thread.threadKey`); 400 INVALID_ARGUMENT above 32,000 bytes; 429 RESOURCE_EXHAUSTED over 60 writes
// a minute. Flags `<users/all>`-style mentions, links (text `<url|label>`, card `<a href>`) and bare URLs.
import type { Clock } from '../../lib/log';
import { json, scanText, startSink, type Answer, type Sink, type SinkRequest, urlFixture } from './base';

export const GOOGLECHAT_SINK_PATH =
  '/v1/spaces/AAAAAAAAAAA/messages?key=KEY-IS-A-SECRET&token=TOKEN-IS-A-SECRET';
const GOOGLECHAT_MAX_BYTES = 32_000;

const error = (code: number, status: string, message: string): Answer =>
  json(code, { error: { code, message, status } });

type Widget = {
  textParagraph?: { text?: unknown };
  decoratedText?: { topLabel?: unknown; text?: unknown };
  buttonList?: { buttons?: Array<{ text?: unknown; onClick?: { openLink?: { url?: unknown } } }> };
};
type Message = {
  text?: unknown;
  cardsV2?: Array<{
    card?: { header?: { title?: unknown; subtitle?: unknown }; sections?: Array<{ widgets?: Widget[] }> };
  }>;
  thread?: { threadKey?: unknown };
};

function widgets(m: Message | undefined): Widget[] {
  return (m?.cardsV2 ?? []).flatMap((c) => (c.card?.sections ?? []).flatMap((s) => s.widgets ?? []));
}

/** The message text, card header and every widget's text. */
function googleChatVisibleText(req: SinkRequest): string {
  const m = req.json as Message | undefined;
  const out: unknown[] = [m?.text];
  for (const c of m?.cardsV2 ?? []) out.push(c.card?.header?.title, c.card?.header?.subtitle);
  for (const w of widgets(m)) {
    out.push(w.textParagraph?.text, w.decoratedText?.topLabel, w.decoratedText?.text);
    for (const b of w.buttonList?.buttons ?? []) out.push(b.text);
  }
  return out.filter((s) => typeof s === 'string').join('\n');
}

/** Starts a Google-Chat-like webhook; `threads` counts messages per thread key. */
export async function startGoogleChatSink(
  opts: { clock?: Clock } = {},
): Promise<Sink & { threads: Map<string, number> }> {
  const threads = new Map<string, number>();
  let n = 0;
  const sink = await startSink({
    path: GOOGLECHAT_SINK_PATH,
    clock: opts.clock,
    answer(req) {
      if (Buffer.byteLength(req.body) > GOOGLECHAT_MAX_BYTES)
        return error(400, 'INVALID_ARGUMENT', 'Message too large');
      const m = req.json as Message | undefined;
      if (m === undefined || (typeof m.text !== 'string' && !m.cardsV2))
        return error(400, 'INVALID_ARGUMENT', 'Message cannot be empty');
      const key = typeof m.thread?.threadKey === 'string' ? m.thread.threadKey : `auto-${++n}`;
      threads.set(key, (threads.get(key) ?? 0) + 1);
      return json(200, {
        name: `spaces/AAAAAAAAAAA/messages/${++n}`,
        text: m.text ?? '',
        thread: { name: `spaces/AAAAAAAAAAA/threads/${key}` },
      });
    },
    vendorError: (code) =>
      error(code, code === 429 ? 'RESOURCE_EXHAUSTED' : 'FAILED_PRECONDITION', `error ${code}`),
    rateLimit: {
      windows: [{ windowMs: 60_000, max: 60 }],
      answer: () => error(429, 'RESOURCE_EXHAUSTED', 'Resource has been exhausted (e.g. check quota).'),
    },
    flags(req) {
      const flags = scanText(googleChatVisibleText(req), {
        links: [/<(https?:\/\/[^|>]*)\|[^>]*>/g, /<a\s+href="([^"]*)"/g],
        mentions: [/<users\//],
      });
      for (const w of widgets(req.json as Message | undefined)) {
        for (const b of w.buttonList?.buttons ?? [])
          flags.push(
            ...scanText(`<${String(b.onClick?.openLink?.url)}|x>`, { links: [/<([^|>]*)\|[^>]*>/g] }),
          );
      }
      return flags;
    },
    visibleText: googleChatVisibleText,
  });
  return Object.assign(sink, { threads });
}

/**
 * The conformance suite's view of Google Chat.
 * @public Found by name (`channelFixture`), never imported.
 */
export const googlechatFixture = urlFixture(
  'googlechat',
  { url: 'GOOGLE_CHAT_WEBHOOK_URL' },
  (clock) => startGoogleChatSink({ clock }),
  {
    markdown: false,
    maxBodyBytes: GOOGLECHAT_MAX_BYTES,
    rateLimited: true,
    vendorFaults: [
      [{ kind: 'vendor', code: 429 }, 'retryable'],
      [{ kind: 'vendor', code: 403 }, 'permanent'],
    ],
  },
);
