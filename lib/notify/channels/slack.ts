// Slack incoming webhook (and Slack-compatible receivers such as Mattermost): one Block Kit message
// per card, a digest for bursts. API text is escaped (`& < >` as entities) and Slack's formatting
// characters (`` ` * _ ~ ``) are replaced by look-alikes, so a host name can neither ping, link,
// nor break the bold labels and code spans around it.
import { webhookUrl } from '../../rules';
import type { DeliveryOutcome } from '../../model';
import { ERROR_WORDS, classifyHttp } from '../classify';
import type { ChannelLimits } from '../destination';
import { moreText, type Card, type Tone } from '../cards';
import { clip, inert, lookalike } from '../inert';
import type { HttpAnswer } from '../http';
import { cardDestination } from './base';
import { defineChannel, webhookConfig, type UrlConfig } from './spec';

/** Block Kit limits (characters / counts) every payload stays within. */
const SLACK_LIMITS = {
  blocks: 50,
  headerText: 150,
  sectionText: 3000,
  fieldsPerSection: 10,
  fieldText: 2000,
  /** Top-level `text`: Slack truncates long ones; 3000 keeps notifications readable. */
  text: 3000,
  /** Whole body, bytes: far above what the per-block limits allow, a backstop for fitCard. */
  bodyBytes: 40_000,
} as const;

/** About one message per second per webhook; short bursts are tolerated, 429 above. */
const SLACK_RATE: ChannelLimits = { minIntervalMs: 1000, perMinute: 60 };

/** Tasks a Slack digest names (15 lines of at most 190 characters fit one 3,000-character section). */
const LISTED = 15;
const LINE_MAX = 190;

const EMOJI: Readonly<Record<Tone, string>> = {
  failed: ':rotating_light:',
  timeout: ':hourglass_flowing_sand:',
  stuck: ':turtle:',
  resolved: ':large_green_circle:',
  reminder: ':bell:',
  info: ':information_source:',
  warning: ':warning:',
  critical: ':rotating_light:',
};

/** API text for mrkdwn: inert, `& < >` as entities, `` ` * _ ~ `` as look-alikes. */
export function slackText(text: string): string {
  const escaped = inert(text).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  return lookalike(escaped, '`*_~');
}

type Mrkdwn = { type: 'mrkdwn'; text: string };
type SlackBlock =
  | { type: 'header'; text: { type: 'plain_text'; text: string; emoji: boolean } }
  | { type: 'section'; text?: Mrkdwn; fields?: Mrkdwn[] }
  | { type: 'context'; elements: Mrkdwn[] }
  | { type: 'divider' };

const mrkdwn = (text: string, max: number = SLACK_LIMITS.sectionText): Mrkdwn => ({
  type: 'mrkdwn',
  text: clip(text, max),
});

/** `<url|label>` for our own https URL (`&` escaped); undefined for anything that could break out of the link syntax. */
function slackLink(link: Card['link']): string | undefined {
  if (!link || !/^https:\/\/[^\s<>|]+$/i.test(link.url)) return undefined;
  return `<${link.url.replace(/&/g, '&amp;')}|${slackText(link.label)}>`;
}

/** The incoming-webhook body of one card: header, text, facts (10 per section), HSS error, digest lines, context. */
function slackBody(card: Card): string {
  const blocks: SlackBlock[] = [
    {
      type: 'header',
      text: {
        type: 'plain_text',
        text: clip(`${EMOJI[card.tone]} ${slackText(card.title)}`, SLACK_LIMITS.headerText),
        emoji: true,
      },
    },
  ];
  if (card.text) blocks.push({ type: 'section', text: mrkdwn(slackText(card.text)) });
  const fields = card.facts.map((f) => {
    const value = f.mono ? `\`${slackText(f.value)}\`` : slackText(f.value);
    return mrkdwn(`*${clip(slackText(f.label), 200)}*\n${value || ' '}`, SLACK_LIMITS.fieldText);
  });
  for (let i = 0; i < fields.length; i += SLACK_LIMITS.fieldsPerSection) {
    blocks.push({ type: 'section', fields: fields.slice(i, i + SLACK_LIMITS.fieldsPerSection) });
  }
  if (card.error) {
    const code = card.error.code ? ` \`${clip(slackText(card.error.code), 200)}\`` : '';
    const message = card.error.message ? `\n${slackText(card.error.message)}` : '';
    blocks.push({ type: 'section', text: mrkdwn(`*HSS error*${code}${message}`) });
  }
  if (card.lines && card.lines.length > 0) {
    blocks.push({ type: 'divider' });
    const lines = card.lines.map((l) => clip(`• ${slackText(l)}`, LINE_MAX));
    blocks.push({ type: 'section', text: mrkdwn(lines.join('\n')) });
  }
  const context = [moreText(card.more), slackLink(card.link), slackText(card.footer)].filter(Boolean);
  blocks.push({ type: 'context', elements: [mrkdwn(context.join(' · '))] });
  return JSON.stringify({ text: clip(slackText(card.fallback), SLACK_LIMITS.text), blocks });
}

/**
 * Any 2xx is delivered (Slack answers `ok`, Slack-compatible receivers `{"ok":true}` or other bodies)
 * unless the whole body is one of Slack's error words (ERROR_WORDS: `rollup_error` retryable, the
 * others permanent, and for the webhook itself but the payload words); other statuses as
 * classifyHttp (404 `no_service`/410 permanent, 429/5xx retryable).
 */
export function classifySlack(answer: HttpAnswer, now: number): DeliveryOutcome {
  const word = answer.bodyText.trim();
  const meaning = Object.hasOwn(ERROR_WORDS, word) ? ERROR_WORDS[word] : undefined;
  if (answer.status >= 200 && answer.status < 300 && meaning !== undefined) {
    // Judged as the status Slack itself pairs with the word (rollup_error 500, the others 4xx).
    const outcome = classifyHttp(meaning.refuses === 'nothing' ? 500 : 400, {}, word, now);
    if (outcome.kind === 'ok') return outcome;
    const error = `HTTP ${answer.status} ${outcome.error.replace(/^HTTP \d+ /, '')}`;
    // no_service, channel_is_archived...: the webhook itself refuses, so the destination is failing.
    if (outcome.kind === 'permanent' && meaning.refuses === 'webhook')
      return { ...outcome, error, endpoint: true };
    return { ...outcome, error };
  }
  return classifyHttp(answer.status, answer.headers, answer.bodyText, now);
}

/** Slack: an incoming webhook's URL (Slack-compatible receivers such as Mattermost too). */
export const slackChannel = defineChannel<UrlConfig>()({
  type: 'slack',
  displayName: 'Slack',
  doc: 'incoming webhook (Slack-compatible receivers too): Block Kit',
  ...webhookConfig({ variable: 'SLACK_WEBHOOK_URL', rule: webhookUrl(), doc: 'Slack incoming webhook.' }),
  answers: { kind: 'words', words: ERROR_WORDS },
  limits: SLACK_RATE,
  heldByQuietHours: true,
  digests: true,
  create: (config) =>
    cardDestination(
      config,
      { listed: LISTED, maxBodyBytes: SLACK_LIMITS.bodyBytes, body: slackBody },
      classifySlack,
    ),
});
