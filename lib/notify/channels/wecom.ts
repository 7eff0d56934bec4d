// WeCom (WeChat Work) group robot: a markdown message of at most 4,096 BYTES (UTF-8). No signing:
// the `key` in the URL is the secret. WeCom markdown pings with `<@userid>` and takes `<font>` tags,
// so API text has `<` and the other markup characters replaced by look-alikes. WeCom answers HTTP
// 200 with `{"errcode":0}`; 45009 is its frequency limit.
import { httpsOn, webhookUrl } from '../../rules';
import type { DeliveryOutcome } from '../../model';
import { classifyBodyCode, type BodyCodeRules } from '../classify';
import type { ChannelLimits } from '../destination';
import { cardGroups, fitCard, moreText, type Card, type Tone } from '../cards';
import { clip, inert, lookalike } from '../inert';
import type { HttpAnswer } from '../http';
import { destinationBase } from './base';
import { defineChannel, webhookConfig, type UrlConfig } from './spec';

/** WeCom refuses markdown content above 4,096 bytes (UTF-8). */
const WECOM_MAX_CONTENT_BYTES = 4096;

/** 20 messages per minute per robot (45009 above): stay under. */
const WECOM_RATE: ChannelLimits = { minIntervalMs: 3200, perMinute: 18 };

const LISTED = 10;

const FONT: Readonly<Record<Tone, string>> = {
  failed: 'warning',
  timeout: 'warning',
  stuck: 'warning',
  resolved: 'info',
  reminder: 'comment',
  info: 'info',
  warning: 'warning',
  critical: 'warning',
};

/** API text for WeCom markdown: inert, markup characters (`<` first of all) as look-alikes. */
function wecomText(text: string): string {
  return lookalike(inert(text), '[]<>*_~`#|');
}

/** The markdown content of one card (the body wraps it). */
function wecomContent(card: Card): string {
  const parts = [`<font color="${FONT[card.tone]}">**${clip(wecomText(card.title), 200)}**</font>`];
  if (card.text) parts.push(clip(wecomText(card.text), 1000));
  for (const f of card.facts) {
    parts.push(
      `> ${clip(wecomText(f.label), 100)}: <font color="comment">${clip(wecomText(f.value), 300)}</font>`,
    );
  }
  if (card.error) {
    const code = card.error.code ? ` ${wecomText(card.error.code)}` : '';
    const message = card.error.message ? `\n${wecomText(card.error.message)}` : '';
    parts.push(clip(`**HSS error**${code}${message}`, 1500));
  }
  for (const l of card.lines ?? []) parts.push(`- ${clip(wecomText(l), 200)}`);
  const more = moreText(card.more);
  if (more) parts.push(more);
  if (card.link && /^https:\/\/[^\s()]+$/.test(card.link.url))
    parts.push(`[${card.link.label}](${card.link.url})`);
  parts.push(`<font color="comment">${clip(wecomText(card.footer), 300)}</font>`);
  return parts.join('\n');
}

const wrap = (content: string): string => JSON.stringify({ msgtype: 'markdown', markdown: { content } });

/** WeCom's answer codes (HTTP 200 with `errcode`). */
const WECOM_CODES: BodyCodeRules = {
  vendor: 'WeCom',
  fields: ['errcode'],
  messageFields: ['errmsg'],
  codes: {
    45009: { kind: 'retryable', hint: 'frequency limit (20/min per robot)', afterMs: 60_000 },
    93000: { kind: 'permanent', hint: 'invalid webhook URL (the robot was removed)', endpoint: true },
  },
};

/** HTTP 200 with errcode 0 ok; 45009 retryable after a minute; 93000 permanent for the endpoint; unknown codes retryable. */
export function classifyWecom(answer: HttpAnswer, now: number): DeliveryOutcome {
  return classifyBodyCode(answer, now, WECOM_CODES);
}

/** WeCom: a group robot's webhook URL (its `key` is the secret; WeCom has no signing). */
export const wecomChannel = defineChannel<UrlConfig>()({
  type: 'wecom',
  displayName: 'WeCom',
  doc: 'group robot (WeChat Work): markdown of at most 4,096 bytes',
  ...webhookConfig({
    variable: 'WECOM_WEBHOOK_URL',
    rule: webhookUrl({
      doc: 'a robot URL https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…',
      matches: (u) =>
        httpsOn(u, 'qyapi.weixin.qq.com') &&
        u.pathname === '/cgi-bin/webhook/send' &&
        !!u.searchParams.get('key'),
    }),
    doc: 'WeCom group robot.',
  }),
  answers: { kind: 'codes', rules: WECOM_CODES },
  limits: WECOM_RATE,
  heldByQuietHours: true,
  digests: true,
  create: (config) => ({
    ...destinationBase(config, config.url),
    render: (batch, context) =>
      cardGroups(batch, context, LISTED).map((group) => ({
        covers: group.covers,
        url: config.url,
        // The limit is on the markdown content, in bytes: fit the content, then wrap it.
        body: wrap(fitCard(group.card, wecomContent, WECOM_MAX_CONTENT_BYTES)),
      })),
    classify: classifyWecom,
  }),
});
