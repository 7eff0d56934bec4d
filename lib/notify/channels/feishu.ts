// Feishu / Lark custom bot: an interactive card (schema 2.0; red header for failed, orange for
// timeout), at most 20 KB. API text goes only into `plain_text` elements (Feishu parses `<at>` and
// Markdown in `lark_md`/`markdown` only), with `<` replaced by a look-alike for good measure.
// With a secret, `timestamp` (unix seconds) and `sign` = base64(HMAC-SHA256(key = timestamp + "\n" +
// secret, message = "")) are added to the body just before sending. Feishu answers HTTP 200 with
// `{"code":0}`; any other code is a failure.
import { createHmac } from 'node:crypto';
import { httpsOn, refuse, rule, webhookUrl, type Rule } from '../../rules';
import type { DeliveryOutcome } from '../../model';
import { classifyBodyCode, type BodyCodeRules } from '../classify';
import type { ChannelLimits } from '../destination';
import { moreText, type Card, type Tone } from '../cards';
import { clip, inert, lookalike } from '../inert';
import type { HttpAnswer } from '../http';
import { cardDestination } from './base';
import { defineChannel, webhookConfig, type SignedUrlConfig } from './spec';

/** Feishu refuses request bodies above 20 KB; 19,000 bytes leaves room for `timestamp` and `sign`. */
const FEISHU_MAX_BODY_BYTES = 19_000;

/** 5 per second and 100 per minute per bot: 650 ms apart stays under both. */
const FEISHU_RATE: ChannelLimits = { minIntervalMs: 650, perMinute: 90 };

const LISTED = 20;

const TEMPLATE: Readonly<Record<Tone, string>> = {
  failed: 'red',
  timeout: 'orange',
  stuck: 'yellow',
  resolved: 'green',
  reminder: 'blue',
  info: 'blue',
  warning: 'orange',
  critical: 'carmine',
};

/** API text for a plain_text element: inert, `<` as a look-alike. */
function feishuText(text: string): string {
  return lookalike(inert(text), '<');
}

const plain = (content: string): Record<string, unknown> => ({
  tag: 'div',
  text: { tag: 'plain_text', content },
});

/** The bot body of one card (without timestamp/sign). */
function feishuBody(card: Card): string {
  const elements: Array<Record<string, unknown>> = [];
  if (card.text) elements.push(plain(clip(feishuText(card.text), 2000)));
  if (card.facts.length > 0) {
    elements.push(
      plain(
        card.facts
          .map((f) => `${clip(feishuText(f.label), 200)}: ${clip(feishuText(f.value), 500)}`)
          .join('\n'),
      ),
    );
  }
  if (card.error) {
    elements.push({ tag: 'hr' });
    const code = card.error.code ? ` ${feishuText(card.error.code)}` : '';
    const message = card.error.message ? `\n${feishuText(card.error.message)}` : '';
    elements.push(plain(clip(`HSS error${code}${message}`, 5000)));
  }
  if (card.lines && card.lines.length > 0) {
    elements.push({ tag: 'hr' });
    elements.push(plain(card.lines.map((l) => `• ${clip(feishuText(l), 300)}`).join('\n')));
  }
  const more = moreText(card.more);
  if (more) elements.push(plain(more));
  if (card.link && /^https:\/\//.test(card.link.url)) {
    elements.push({
      tag: 'button',
      text: { tag: 'plain_text', content: card.link.label },
      type: 'primary',
      behaviors: [{ type: 'open_url', default_url: card.link.url }],
    });
  }
  elements.push(plain(clip(feishuText(card.footer), 500)));
  return JSON.stringify({
    msg_type: 'interactive',
    card: {
      schema: '2.0',
      config: { update_multi: true },
      header: {
        title: { tag: 'plain_text', content: clip(feishuText(card.title), 200) },
        template: TEMPLATE[card.tone],
      },
      body: { elements },
    },
  });
}

/** `sign` for `timestampSec`: base64(HMAC-SHA256(key = `${timestamp}\n${secret}`, message = "")). */
export function feishuSign(secret: string, timestampSec: number): string {
  return createHmac('sha256', `${timestampSec}\n${secret}`).update('').digest('base64');
}

/** Feishu's answer codes (HTTP 200 with `code`; older endpoints say `StatusCode`). */
const FEISHU_CODES: BodyCodeRules = {
  vendor: 'Feishu',
  fields: ['code', 'StatusCode'],
  messageFields: ['msg', 'StatusMessage'],
  codes: {
    11232: { kind: 'retryable', hint: 'throttled (5/s, 100/min per bot)', afterMs: 60_000 },
    19001: { kind: 'permanent', hint: 'the webhook token is invalid (the bot was removed)', endpoint: true },
    19021: {
      kind: 'permanent',
      hint: 'signature refused (wrong secret, or the clock is off by more than 1 h)',
      endpoint: true,
    },
    19022: { kind: 'permanent', hint: 'this IP is not on the bot allow-list', endpoint: true },
    19024: {
      kind: 'permanent',
      hint: 'the message lacks the keyword the bot requires (use "HSS")',
      endpoint: true,
    },
    9499: { kind: 'permanent', hint: 'bad request (the card was refused)' },
  },
};

/**
 * HTTP 200 with code 0 ok; 11232 retryable; 19001/19021/19022/19024 permanent for the endpoint (the
 * destination is reported failing), 9499 for the message; unknown codes retryable.
 */
export function classifyFeishu(answer: HttpAnswer, now: number): DeliveryOutcome {
  return classifyBodyCode(answer, now, FEISHU_CODES);
}

/** Feishu / Lark bot signing secret, as the bot's security settings show it. */
const feishuSecret: Rule<string> = rule('1..128 characters without spaces', 'hidden', (t) =>
  t.length <= 128 && !/\s/.test(t) ? t : refuse(),
);

/** Feishu / Lark: a custom bot's webhook URL, and its signature secret when signing is on. */
export const feishuChannel = defineChannel<SignedUrlConfig>()({
  type: 'feishu',
  displayName: 'Feishu',
  doc: 'custom bot (Lark too): an interactive card, signed when a secret is given',
  ...webhookConfig(
    {
      variable: 'FEISHU_WEBHOOK_URL',
      rule: webhookUrl({
        doc: 'a bot URL https://open.feishu.cn/open-apis/bot/v2/hook/… (Lark: open.larksuite.com)',
        matches: (u) =>
          httpsOn(u, 'open.feishu.cn', 'open.larksuite.com') &&
          /^\/open-apis\/bot\/v2\/hook\/[^/]+$/.test(u.pathname),
      }),
      doc: 'Feishu / Lark custom bot.',
    },
    { variable: 'FEISHU_SECRET', rule: feishuSecret, doc: "The bot's signature secret, when signing is on." },
  ),
  answers: { kind: 'codes', rules: FEISHU_CODES },
  limits: FEISHU_RATE,
  heldByQuietHours: true,
  digests: true,
  create: (config) => {
    const secret = config.secret;
    return {
      ...cardDestination(
        config,
        { listed: LISTED, maxBodyBytes: FEISHU_MAX_BODY_BYTES, body: feishuBody },
        classifyFeishu,
      ),
      ...(secret
        ? {
            sign(request, now) {
              const timestamp = Math.floor(now / 1000);
              // Spread first: a request signed before (a retry) gets a fresh timestamp and sign.
              const parsed = JSON.parse(request.body) as Record<string, unknown>;
              const body = { ...parsed, timestamp: String(timestamp), sign: feishuSign(secret, timestamp) };
              return { ...request, body: JSON.stringify(body) };
            },
          }
        : {}),
    };
  },
});
