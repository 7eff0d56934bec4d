// A Huawei Cloud SMN publish endpoint on 127.0.0.1: 200 `{request_id, message_id}` for a publish
// signed with SDK-HMAC-SHA256 (content-type, host and x-sdk-date signed, date within 15 minutes) or
// carrying the expected X-Auth-Token; 401 APIGW.0301 otherwise; 400 for a subject above 512 bytes, a
// message_structure that is not a JSON string with `default`, or an SMS above 490 characters or with
// `[]`/`【】`; 429 APIGW.0308 over 5 publishes a second. The signature check is written here from the
// published algorithm (pinned to its test vectors in the sink tests), independently of lib/huaweicloud/signer.
import { createHash, createHmac } from 'node:crypto';
import type { Clock } from '../../lib/log';
import { systemClock } from '../../lib/log';
import {
  json,
  scanText,
  startSink,
  type Answer,
  type Sink,
  type SinkRequest,
  type ChannelFixture,
} from './base';

export const SMN_PROJECT_ID = '0123456789abcdef0123456789abcdef';
export const SMN_TOPIC_URN = `urn:smn:ap-southeast-1:${SMN_PROJECT_ID}:hss-restore-alerts`;

const unauthorized = (why: string): Answer =>
  json(401, { error_code: 'APIGW.0301', error_msg: `Incorrect IAM authentication information: ${why}` });
const invalid = (why: string): Answer => json(400, { error_code: 'SMN.00010004', error_msg: why });

function encode(s: string): string {
  let out = '';
  for (const byte of Buffer.from(s, 'utf8')) {
    const c = String.fromCharCode(byte);
    out += /[A-Za-z0-9\-_.~]/.test(c) ? c : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/**
 * The SDK-HMAC-SHA256 signature (hex) of a request as received: path segments percent-decoded then
 * encoded (unreserved kept), a trailing `/`; query sorted; signed headers `name:trimmed value\n`;
 * hex SHA-256 of the body; string to sign `SDK-HMAC-SHA256\n{date}\n{hex sha256(canonical)}`.
 */
export function sdkHmacSignature(
  method: string,
  pathAndQuery: string,
  headers: Record<string, string>,
  signedHeaders: string[],
  body: string,
  date: string,
  sk: string,
): string {
  const [path = '/', query = ''] = pathAndQuery.split('?', 2);
  let uri = path
    .split('/')
    .map((seg) => encode(decodeURIComponent(seg)))
    .join('/');
  if (!uri.endsWith('/')) uri += '/';
  const pairs = query
    .split('&')
    .filter(Boolean)
    .map((kv) => {
      const [k = '', v = ''] = kv.split('=', 2);
      return [
        encode(decodeURIComponent(k.replace(/\+/g, ' '))),
        encode(decodeURIComponent(v.replace(/\+/g, ' '))),
      ];
    })
    .sort((a, b) => (a[0] === b[0] ? (a[1]! < b[1]! ? -1 : 1) : a[0]! < b[0]! ? -1 : 1));
  const names = signedHeaders.map((h) => h.toLowerCase()).sort();
  const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v.trim()]));
  const canonical = [
    method.toUpperCase(),
    uri,
    pairs.map(([k, v]) => `${k}=${v}`).join('&'),
    names.map((n) => `${n}:${lower[n] ?? ''}\n`).join(''),
    names.join(';'),
    createHash('sha256').update(body, 'utf8').digest('hex'),
  ].join('\n');
  const toSign = `SDK-HMAC-SHA256\n${date}\n${createHash('sha256').update(canonical, 'utf8').digest('hex')}`;
  return createHmac('sha256', sk).update(toSign, 'utf8').digest('hex');
}

function sdkDateMs(value: string): number {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value);
  return m ? Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!) : NaN;
}

/** Subject and every protocol's text of the message structure. */
function smnVisibleText(req: SinkRequest): string {
  const b = req.json as { subject?: unknown; message_structure?: unknown } | undefined;
  const out: unknown[] = [b?.subject];
  if (typeof b?.message_structure === 'string') {
    try {
      out.push(...Object.values(JSON.parse(b.message_structure) as Record<string, unknown>));
    } catch {
      // Invalid structures are refused by the answer; nothing to show.
    }
  }
  return out.filter((s) => typeof s === 'string').join('\n');
}

export interface SmnSinkOptions {
  /** AK/SK the publish must be signed with, or the token it must carry. */
  auth: { ak: string; sk: string } | { token: string };
  clock?: Clock;
}

/** Starts an SMN-like publish endpoint for SMN_TOPIC_URN; the sink's URL is the endpoint (no path). */
export async function startSmnSink(opts: SmnSinkOptions): Promise<Sink & { endpoint: string }> {
  const clock = opts.clock ?? systemClock;
  const path = `/v2/${SMN_PROJECT_ID}/notifications/topics/${SMN_TOPIC_URN}/publish`;
  let n = 0;
  const sink = await startSink({
    path,
    clock,
    notFound: json(404, { error_code: 'SMN.00010008', error_msg: 'topic not found' }),
    answer(req) {
      if ('token' in opts.auth) {
        if (req.headers['x-auth-token'] !== opts.auth.token) return unauthorized('token invalid');
      } else {
        const m =
          /^SDK-HMAC-SHA256\s+Access=([^,\s]+),\s*SignedHeaders=([^,\s]+),\s*Signature=([0-9a-f]+)$/.exec(
            req.headers.authorization ?? '',
          );
        const date = req.headers['x-sdk-date'] ?? '';
        if (!m || m[1] !== opts.auth.ak) return unauthorized('unknown AK or no signature');
        const signed = m[2]!.split(';');
        for (const need of ['content-type', 'host', 'x-sdk-date']) {
          if (!signed.includes(need)) return unauthorized(`${need} not signed`);
        }
        if (!(Math.abs(clock() - sdkDateMs(date)) <= 15 * 60_000)) return unauthorized('request expired');
        const expected = sdkHmacSignature(
          'POST',
          req.path,
          req.headers,
          signed,
          req.body,
          date,
          opts.auth.sk,
        );
        if (expected !== m[3]) return unauthorized('verify aksk signature fail');
      }
      const b = req.json as { subject?: unknown; message_structure?: unknown } | undefined;
      if (typeof b?.subject === 'string' && Buffer.byteLength(b.subject) > 512)
        return invalid('subject is longer than 512 bytes');
      if (typeof b?.message_structure !== 'string') return invalid('message_structure must be a JSON string');
      let structure: Record<string, unknown>;
      try {
        structure = JSON.parse(b.message_structure) as Record<string, unknown>;
      } catch {
        return invalid('message_structure is not JSON');
      }
      if (typeof structure.default !== 'string' || structure.default === '')
        return invalid('message_structure needs default');
      const sms = structure.sms;
      if (sms !== undefined && (typeof sms !== 'string' || sms.length > 490 || /[[\]【】]/.test(sms))) {
        return invalid('sms must be at most 490 characters without [] or 【】');
      }
      return json(200, { request_id: `req-${++n}`, message_id: `msg-${n}` });
    },
    vendorError: (code) =>
      code === 429
        ? json(429, { error_code: 'APIGW.0308', error_msg: 'The throttling threshold has been reached' })
        : json(code, { error_code: `SMN.${code}`, error_msg: `error ${code}` }),
    rateLimit: {
      windows: [{ windowMs: 1000, max: 5 }],
      answer: () =>
        json(429, { error_code: 'APIGW.0308', error_msg: 'The throttling threshold has been reached' }),
    },
    // Plain text: only the HSS console may appear as a URL.
    flags: (req) => scanText(smnVisibleText(req), { links: [/(https?:\/\/\S+)/g] }),
    visibleText: smnVisibleText,
  });
  return Object.assign(sink, { endpoint: sink.url.slice(0, sink.url.indexOf('/v2/')) });
}

const AK = { ak: 'AKEXAMPLE0000000000', sk: 'sk-example-secret-key-0000000000000000000' };

/**
 * The conformance suite's view of SMN: the publish signed with an AK/SK credential.
 * @public Found by name (`channelFixture`), never imported.
 */
export const smnFixture: ChannelFixture = {
  type: 'smn',
  async start(clock) {
    const sink = await startSmnSink({ auth: AK, clock: clock.now });
    return {
      sink,
      config: {
        type: 'smn',
        name: 'smn',
        topicUrn: SMN_TOPIC_URN,
        endpoint: sink.endpoint,
        projectId: SMN_PROJECT_ID,
        credential: 'default',
        routing: {},
      },
      env: { SMN_TOPIC_URN, SMN_ENDPOINT: sink.endpoint },
    };
  },
  credentials: { default: { kind: 'aksk', ...AK } },
  secrets: [AK.sk],
  markdown: false,
  maxBodyBytes: 256 * 1024,
  rateLimited: true,
  vendorFaults: [
    [{ kind: 'vendor', code: 429 }, 'retryable'],
    [{ kind: 'vendor', code: 403 }, 'permanent'],
  ],
};
