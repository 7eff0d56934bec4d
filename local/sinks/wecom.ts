// A WeCom group robot on 127.0.0.1: HTTP 200 with `{"errcode":0}`, or HTTP 200 with the vendor's code:
// 40058 when markdown content is above 4,096 bytes (UTF-8), 45009 over 20 messages a minute, 93000
// for an unknown key. Flags `<@userid>` mentions, `mentioned_list`, links and bare URLs.
import type { Clock } from '../../lib/log';
import { json, scanText, startSink, type Answer, type Sink, type SinkRequest, urlFixture } from './base';

export const WECOM_SINK_PATH = '/cgi-bin/webhook/send?key=00000000-0000-4000-8000-000000000000';
const WECOM_MAX_CONTENT_BYTES = 4096;

const MESSAGES: Record<number, string> = {
  40058: 'markdown.content exceed max length 4096. invalid Request Parameter',
  45009: 'api freq out of limit',
  93000: 'invalid webhook url',
};

const vendor = (code: number): Answer =>
  json(200, { errcode: code, errmsg: MESSAGES[code] ?? `error ${code}` }, { accepted: false });

/** The markdown (or text) content. */
function wecomVisibleText(req: SinkRequest): string {
  const m = req.json as { markdown?: { content?: unknown }; text?: { content?: unknown } } | undefined;
  return [m?.markdown?.content, m?.text?.content].filter((s) => typeof s === 'string').join('\n');
}

/** Starts a WeCom-like group robot. */
export function startWecomSink(opts: { clock?: Clock } = {}): Promise<Sink> {
  return startSink({
    path: WECOM_SINK_PATH,
    clock: opts.clock,
    notFound: vendor(93000),
    answer(req) {
      const m = req.json as { msgtype?: unknown; markdown?: { content?: unknown } } | undefined;
      if (m === undefined || typeof m.msgtype !== 'string')
        return json(200, { errcode: 40008, errmsg: 'invalid message type' }, { accepted: false });
      const content = m.markdown?.content;
      if (
        m.msgtype === 'markdown' &&
        (typeof content !== 'string' || Buffer.byteLength(content) > WECOM_MAX_CONTENT_BYTES)
      ) {
        return vendor(40058);
      }
      return json(200, { errcode: 0, errmsg: 'ok' });
    },
    vendorError: vendor,
    rateLimit: { windows: [{ windowMs: 60_000, max: 20 }], answer: () => vendor(45009) },
    flags(req) {
      const m = req.json as
        { text?: { mentioned_list?: unknown[]; mentioned_mobile_list?: unknown[] } } | undefined;
      const flags = scanText(wecomVisibleText(req), { links: [/\[[^\]]*\]\(([^)]*)\)/g], mentions: [/<@/] });
      if ((m?.text?.mentioned_list ?? []).length > 0 || (m?.text?.mentioned_mobile_list ?? []).length > 0) {
        flags.push('mentioned_list');
      }
      return flags;
    },
    visibleText: wecomVisibleText,
  });
}

/**
 * The conformance suite's view of WeCom.
 * @public Found by name (`channelFixture`), never imported.
 */
export const wecomFixture = urlFixture(
  'wecom',
  { url: 'WECOM_WEBHOOK_URL' },
  (clock) => startWecomSink({ clock }),
  // The vendor counts the markdown content (4,096 bytes); the body around it stays far below this.
  { markdown: true, maxBodyBytes: 8192, rateLimited: true, vendorFaults: [] },
);
