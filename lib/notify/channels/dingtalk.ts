// DingTalk custom robot: a markdown message, `at.isAtAll` always false and no `atMobiles` (only the
// `at` object pings, and it never comes from task data). DingTalk's markdown documents no escape, so
// API text has its markup characters (`[ ] < > * _ ~ ` # |`) replaced by look-alikes. With a secret,
// `timestamp` (ms) and `sign` = urlencode(base64(HMAC-SHA256(key = secret, message = timestamp +
// "\n" + secret))) are added as query parameters just before sending. DingTalk answers HTTP 200 with
// `{"errcode":0}`; any other errcode is a failure.
import { createHmac } from 'node:crypto';
import { httpsOn, refuse, rule, webhookUrl, type Rule } from '../../rules';
import type { DeliveryOutcome } from '../../model';
import { classifyBodyCode, type BodyCodeRules } from '../classify';
import type { ChannelLimits } from '../destination';
import { moreText, type Card } from '../cards';
import { clip, inert, lookalike } from '../inert';
import type { HttpAnswer } from '../http';
import { cardDestination } from './base';
import { defineChannel, webhookConfig, type SignedUrlConfig } from './spec';

/** DingTalk publishes no body limit for markdown; 20,000 bytes is conservative. */
const DINGTALK_MAX_BODY_BYTES = 20_000;

/** 20 messages per minute per robot, and a robot over it is muted for 10 minutes: stay well under. */
const DINGTALK_RATE: ChannelLimits = { minIntervalMs: 3200, perMinute: 18 };

const LISTED = 15;

/** API text for DingTalk markdown: inert, markup characters as look-alikes. */
function dingtalkText(text: string): string {
  return lookalike(inert(text), '[]<>*_~`#|');
}

/** The robot body of one card. */
function dingtalkBody(card: Card): string {
  const title = clip(dingtalkText(card.title), 200);
  const parts = [`### ${title}`];
  if (card.text) parts.push(clip(dingtalkText(card.text), 2000));
  if (card.facts.length > 0) {
    parts.push(
      card.facts
        .map((f) => `- **${clip(dingtalkText(f.label), 200)}**: ${clip(dingtalkText(f.value), 500)}`)
        .join('\n'),
    );
  }
  if (card.error) {
    const code = card.error.code ? ` ${dingtalkText(card.error.code)}` : '';
    parts.push(clip(`**HSS error**${code}`, 300));
    if (card.error.message) parts.push(`> ${clip(dingtalkText(card.error.message), 5000)}`);
  }
  if (card.lines && card.lines.length > 0) {
    parts.push(card.lines.map((l) => `- ${clip(dingtalkText(l), 300)}`).join('\n'));
  }
  const more = moreText(card.more);
  if (more) parts.push(more);
  if (card.link && /^https:\/\/[^\s()]+$/.test(card.link.url))
    parts.push(`[${card.link.label}](${card.link.url})`);
  parts.push(clip(dingtalkText(card.footer), 500));
  return JSON.stringify({
    msgtype: 'markdown',
    markdown: { title, text: parts.join('\n\n') },
    at: { isAtAll: false },
  });
}

/** `sign` for `timestampMs` before URL encoding: base64(HMAC-SHA256(key = secret, message = `${timestamp}\n${secret}`)). */
export function dingtalkSign(secret: string, timestampMs: number): string {
  return createHmac('sha256', secret).update(`${timestampMs}\n${secret}`).digest('base64');
}

/** DingTalk's answer codes (HTTP 200 with `errcode`). */
const DINGTALK_CODES: BodyCodeRules = {
  vendor: 'DingTalk',
  fields: ['errcode'],
  messageFields: ['errmsg'],
  codes: {
    130101: {
      kind: 'retryable',
      hint: 'sending too fast: the robot is muted for 10 minutes',
      afterMs: 600_000,
    },
    300001: {
      kind: 'permanent',
      hint: 'the access token does not exist (the robot was removed)',
      endpoint: true,
    },
    310000: {
      kind: 'permanent',
      hint: 'refused by the robot security settings (keyword "HSS", signature/secret, clock, or IP allow-list)',
      endpoint: true,
    },
  },
};

/** HTTP 200 with errcode 0 ok; 130101 retryable after 10 min; 300001/310000 permanent for the endpoint; unknown codes retryable. */
export function classifyDingtalk(answer: HttpAnswer, now: number): DeliveryOutcome {
  return classifyBodyCode(answer, now, DINGTALK_CODES);
}

/** DingTalk robot signing secret (`SEC` + hex, as the robot's security settings show it). */
const dingtalkSecret: Rule<string> = rule(
  'the robot secret starting with SEC (up to 128 characters, no spaces)',
  'hidden',
  (t) => (t.startsWith('SEC') && t.length <= 128 && !/\s/.test(t) ? t : refuse()),
);

/** DingTalk: a custom robot's webhook URL, and its signing secret (`SEC...`) when signing is on. */
export const dingtalkChannel = defineChannel<SignedUrlConfig>()({
  type: 'dingtalk',
  displayName: 'DingTalk',
  doc: 'custom robot: markdown, signed when a secret is given',
  ...webhookConfig(
    {
      variable: 'DINGTALK_WEBHOOK_URL',
      rule: webhookUrl({
        doc: 'a robot URL https://oapi.dingtalk.com/robot/send?access_token=…',
        matches: (u) =>
          httpsOn(u, 'oapi.dingtalk.com') &&
          u.pathname === '/robot/send' &&
          !!u.searchParams.get('access_token'),
      }),
      doc: 'DingTalk custom robot.',
    },
    {
      variable: 'DINGTALK_SECRET',
      rule: dingtalkSecret,
      doc: "The robot's signing secret, when signing is on.",
    },
  ),
  answers: { kind: 'codes', rules: DINGTALK_CODES },
  limits: DINGTALK_RATE,
  heldByQuietHours: true,
  digests: true,
  create: (config) => {
    const secret = config.secret;
    return {
      ...cardDestination(
        config,
        { listed: LISTED, maxBodyBytes: DINGTALK_MAX_BODY_BYTES, body: dingtalkBody },
        classifyDingtalk,
      ),
      ...(secret
        ? {
            sign(request, now) {
              const url = new URL(request.url);
              // set(), not append(): a retried request gets a fresh timestamp instead of a second one.
              url.searchParams.set('timestamp', String(now));
              url.searchParams.set('sign', dingtalkSign(secret, now));
              return { ...request, url: url.href };
            },
          }
        : {}),
    };
  },
});
