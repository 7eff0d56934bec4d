// A Feishu/Lark custom bot on 127.0.0.1: HTTP 200 with `{"code":0}`, or HTTP 200 with the vendor's
// error code: 19021 for a bad signature or a timestamp more than an hour off, 19024 when the
// required keyword is missing, 11232 over 5 per second or 100 per minute; 9499 (HTTP 400) for a
// body that is not JSON or is above 20 KB. The signature check is written here from Feishu's
// documentation, independently of the sender. Flags `<at` mentions, links and bare URLs.
import { createHmac } from 'node:crypto';
import type { Clock } from '../../lib/log';
import { systemClock } from '../../lib/log';
import {
  json,
  scanText,
  startSink,
  stringsIn,
  type Answer,
  type Sink,
  type SinkRequest,
  urlFixture,
} from './base';

export const FEISHU_SINK_PATH = '/open-apis/bot/v2/hook/00000000-0000-4000-8000-000000000000';
const FEISHU_MAX_BYTES = 20 * 1024;

const MESSAGES: Record<number, string> = {
  9499: 'Bad Request',
  11232: 'frequency limited psm[lark.oapi.app_platform_runtime]appID[1]',
  19021: 'sign match fail or timestamp is not within one hour from current time',
  19022: 'Ip Not Allowed',
  19024: 'Key Words Not Found',
};

const vendor = (code: number, status = 200): Answer =>
  json(status, { code, data: {}, msg: MESSAGES[code] ?? `error ${code}` }, { accepted: false });

/** True when `sign` is base64(HMAC-SHA256) keyed with `timestamp + "\n" + secret` over an empty message. */
export function feishuSignatureValid(secret: string, timestamp: string, sign: string): boolean {
  const hmac = createHmac('sha256', Buffer.from(`${timestamp}\n${secret}`, 'utf8'));
  return hmac.digest('base64') === sign;
}

/** Every string of the card: header, elements, buttons. */
function feishuVisibleText(req: SinkRequest): string {
  const m = req.json as { card?: unknown; content?: unknown } | undefined;
  return stringsIn(m?.card ?? m?.content).join('\n');
}

/** Starts a Feishu-like bot; with `secret` it checks `timestamp` + `sign`, with `keyword` it requires that word. */
export function startFeishuSink(
  opts: { secret?: string; keyword?: string; clock?: Clock } = {},
): Promise<Sink> {
  const clock = opts.clock ?? systemClock;
  return startSink({
    path: FEISHU_SINK_PATH,
    clock,
    notFound: json(404, { code: 19001, msg: 'param invalid: incoming webhook access token invalid' }),
    answer(req) {
      if (req.json === undefined || Buffer.byteLength(req.body) > FEISHU_MAX_BYTES) return vendor(9499, 400);
      const body = req.json as { timestamp?: unknown; sign?: unknown; msg_type?: unknown };
      if (opts.secret !== undefined) {
        const ts = typeof body.timestamp === 'string' ? body.timestamp : '';
        const stale = !/^\d{9,11}$/.test(ts) || Math.abs(clock() / 1000 - Number(ts)) > 3600;
        if (stale || typeof body.sign !== 'string' || !feishuSignatureValid(opts.secret, ts, body.sign)) {
          return vendor(19021);
        }
      }
      if (opts.keyword !== undefined && !feishuVisibleText(req).includes(opts.keyword)) return vendor(19024);
      if (typeof body.msg_type !== 'string') return vendor(9499, 400);
      return json(200, { code: 0, data: {}, msg: 'success' });
    },
    vendorError: (code) => vendor(code, code === 9499 ? 400 : 200),
    rateLimit: {
      windows: [
        { windowMs: 1000, max: 5 },
        { windowMs: 60_000, max: 100 },
      ],
      answer: () => vendor(11232),
    },
    flags(req) {
      // plain_text shows text as is (no links, no mentions); lark_md and markdown parse both.
      const m = req.json as { card?: unknown } | undefined;
      const flags: string[] = [];
      walk(m?.card, (node) => {
        const content = typeof node.content === 'string' ? node.content : undefined;
        if (node.tag === 'plain_text' && content !== undefined)
          flags.push(...scanText(content, { mentions: [/<at\b/i] }));
        if ((node.tag === 'lark_md' || node.tag === 'markdown') && content !== undefined) {
          flags.push(...scanText(content, { links: [/\[[^\]]*\]\(([^)]*)\)/g], mentions: [/<at\b/i] }));
        }
        if (typeof node.default_url === 'string')
          flags.push(...scanText(node.default_url, { links: [/^(\S+)$/g] }));
      });
      return flags;
    },
    visibleText: feishuVisibleText,
  });
}

function walk(value: unknown, visit: (node: Record<string, unknown>) => void): void {
  if (Array.isArray(value)) for (const v of value) walk(v, visit);
  else if (typeof value === 'object' && value !== null) {
    visit(value as Record<string, unknown>);
    for (const v of Object.values(value)) walk(v, visit);
  }
}

const SECRET = 'feishu-secret-for-tests';

/**
 * The conformance suite's view of Feishu: signed, with the keyword `HSS`.
 * @public Found by name (`channelFixture`), never imported.
 */
export const feishuFixture = urlFixture(
  'feishu',
  { url: 'FEISHU_WEBHOOK_URL', secret: 'FEISHU_SECRET' },
  (clock) => startFeishuSink({ secret: SECRET, keyword: 'HSS', clock }),
  { secret: SECRET, markdown: false, maxBodyBytes: FEISHU_MAX_BYTES, rateLimited: true, vendorFaults: [] },
);
