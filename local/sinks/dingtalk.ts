// A DingTalk custom robot on 127.0.0.1: HTTP 200 with `{"errcode":0}`, or HTTP 200 with the vendor's
// code: 310000 for a bad signature, a timestamp more than an hour off or a missing keyword; 130101
// over 20 messages a minute, after which the robot stays muted for 10 minutes; 460101 above 20,000
// bytes. The signature check is written here from DingTalk's documentation, independently of the
// sender. Flags `at.isAtAll`, `atMobiles`/`atUserIds`, links and bare URLs.
import { createHmac } from 'node:crypto';
import type { Clock } from '../../lib/log';
import { systemClock } from '../../lib/log';
import { json, scanText, startSink, type Answer, type Sink, type SinkRequest, urlFixture } from './base';

export const DINGTALK_SINK_PATH =
  '/robot/send?access_token=0000000000000000000000000000000000000000000000000000000000000000';
const DINGTALK_MAX_BYTES = 20_000;
const DINGTALK_MUTE_MS = 10 * 60_000;

const MESSAGES: Record<number, string> = {
  130101: 'send too fast, exceed 20 times per minute',
  310000: 'sign not match, more: [keywords not in content | timestamp expired | ip not allowed]',
  460101: 'message too long, exceed 20000 bytes',
  300001: 'token is not exist',
};

const vendor = (code: number): Answer =>
  json(200, { errcode: code, errmsg: MESSAGES[code] ?? `error ${code}` }, { accepted: false });

/** The documented check: `sign` (URL-decoded) = base64(HMAC-SHA256(key = secret, message = timestamp + "\n" + secret)). */
export function dingtalkSignatureValid(secret: string, timestamp: string, sign: string): boolean {
  const expected = createHmac('sha256', Buffer.from(secret, 'utf8'))
    .update(Buffer.from(`${timestamp}\n${secret}`, 'utf8'))
    .digest()
    .toString('base64');
  return expected === sign;
}

/** The markdown title and text (or text content). */
function dingtalkVisibleText(req: SinkRequest): string {
  const m = req.json as
    { markdown?: { title?: unknown; text?: unknown }; text?: { content?: unknown } } | undefined;
  return [m?.markdown?.title, m?.markdown?.text, m?.text?.content]
    .filter((s) => typeof s === 'string')
    .join('\n');
}

/** Starts a DingTalk-like robot; with `secret` it checks `timestamp` + `sign`, with `keyword` it requires that word. */
export function startDingtalkSink(
  opts: { secret?: string; keyword?: string; clock?: Clock } = {},
): Promise<Sink> {
  const clock = opts.clock ?? systemClock;
  return startSink({
    path: DINGTALK_SINK_PATH,
    clock,
    notFound: vendor(300001),
    answer(req) {
      if (Buffer.byteLength(req.body) > DINGTALK_MAX_BYTES) return vendor(460101);
      if (req.json === undefined)
        return json(200, { errcode: 43004, errmsg: 'invalid json' }, { accepted: false });
      if (opts.secret !== undefined) {
        const query = new URL(req.path, 'http://x').searchParams;
        const ts = query.get('timestamp') ?? '';
        const sign = query.get('sign') ?? '';
        const stale = !/^\d{12,14}$/.test(ts) || Math.abs(clock() - Number(ts)) > 3_600_000;
        if (stale || !dingtalkSignatureValid(opts.secret, ts, sign)) return vendor(310000);
      }
      if (opts.keyword !== undefined && !dingtalkVisibleText(req).includes(opts.keyword))
        return vendor(310000);
      return json(200, { errcode: 0, errmsg: 'ok' });
    },
    vendorError: vendor,
    rateLimit: {
      windows: [{ windowMs: 60_000, max: 20 }],
      muteMs: DINGTALK_MUTE_MS,
      answer: () => vendor(130101),
    },
    flags(req) {
      const m = req.json as
        { at?: { isAtAll?: unknown; atMobiles?: unknown[]; atUserIds?: unknown[] } } | undefined;
      const flags = scanText(dingtalkVisibleText(req), { links: [/\[[^\]]*\]\(([^)]*)\)/g] });
      if (m?.at?.isAtAll === true) flags.push('at.isAtAll');
      if ((m?.at?.atMobiles ?? []).length > 0 || (m?.at?.atUserIds ?? []).length > 0)
        flags.push('at.atMobiles/atUserIds');
      return flags;
    },
    visibleText: dingtalkVisibleText,
  });
}

const SECRET = 'SEC0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef';

/**
 * The conformance suite's view of DingTalk: signed, with the keyword `HSS`.
 * @public Found by name (`channelFixture`), never imported.
 */
export const dingtalkFixture = urlFixture(
  'dingtalk',
  { url: 'DINGTALK_WEBHOOK_URL', secret: 'DINGTALK_SECRET' },
  (clock) => startDingtalkSink({ secret: SECRET, keyword: 'HSS', clock }),
  { secret: SECRET, markdown: true, maxBodyBytes: DINGTALK_MAX_BYTES, rateLimited: true, vendorFaults: [] },
);
