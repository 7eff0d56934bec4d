// Discord webhook: one embed per card, `allowed_mentions: {parse: []}` on every message (nothing in
// it can ping), `?wait=true` so Discord answers 200 with the message. API text has Discord's
// Markdown (`\ * _ ~ ` | < > [ ] ( )`, a leading `# -`) backslash-escaped. Embed limits: title 256,
// description 4,096, 25 fields (name 256, value 1,024), footer 2,048, 6,000 characters in all.
import { httpsOn, webhookUrl } from '../../rules';
import type { DeliveryOutcome } from '../../model';
import { classifyHttp, parseObject } from '../classify';
import type { ChannelLimits } from '../destination';
import { moreText, type Card, type Tone } from '../cards';
import { clip, inert } from '../inert';
import type { HttpAnswer } from '../http';
import { cardDestination } from './base';
import { defineChannel, webhookConfig, type UrlConfig } from './spec';

/** Embed limits (characters) every payload stays within. */
const DISCORD_LIMITS = {
  content: 2000,
  title: 256,
  description: 4096,
  fields: 25,
  fieldName: 256,
  fieldValue: 1024,
  footer: 2048,
  embedTotal: 6000,
  bodyBytes: 60_000,
} as const;

/** 5 requests per 2 s per webhook, and about 30 messages per minute per channel: one every 2 s. */
const DISCORD_RATE: ChannelLimits = { minIntervalMs: 2000, perMinute: 30 };

const LISTED = 10;

const COLOR: Readonly<Record<Tone, number>> = {
  failed: 0xd32f2f,
  timeout: 0xf57c00,
  stuck: 0xfbc02d,
  resolved: 0x388e3c,
  reminder: 0x1976d2,
  info: 0x1976d2,
  warning: 0xf57c00,
  critical: 0xb71c1c,
};

/** API text for Discord Markdown: inert, markup characters backslash-escaped. */
function discordText(text: string): string {
  return inert(text)
    .replace(/[\\*_~`|<>[\]()]/g, (c) => `\\${c}`)
    .replace(/^(\s*)([#-])/, '$1\\$2');
}

/** The webhook body of one card; the embed stays within 6,000 characters by construction. */
function discordBody(card: Card): string {
  const title = clip(discordText(card.title), DISCORD_LIMITS.title);
  const fields = card.facts.slice(0, 12).map((f) => ({
    name: clip(discordText(f.label), 100) || '—',
    value: clip((f.mono ? `\`${discordText(f.value)}\`` : discordText(f.value)) || '—', 300),
    inline: f.value.length <= 40,
  }));
  const footer = clip(discordText(card.footer), 300);
  const used = title.length + footer.length + fields.reduce((n, f) => n + f.name.length + f.value.length, 0);
  const parts: string[] = [];
  if (card.text) parts.push(discordText(card.text));
  if (card.error) {
    const code = card.error.code ? ` \`${discordText(card.error.code)}\`` : '';
    parts.push(`**HSS error**${code}${card.error.message ? `\n${discordText(card.error.message)}` : ''}`);
  }
  if (card.lines && card.lines.length > 0)
    parts.push(card.lines.map((l) => `• ${clip(discordText(l), 200)}`).join('\n'));
  const more = moreText(card.more);
  if (more) parts.push(more);
  const link =
    card.link && /^https:\/\/[^\s()]+$/.test(card.link.url)
      ? `[${card.link.label}](${card.link.url})`
      : undefined;
  const budget = Math.min(DISCORD_LIMITS.description, DISCORD_LIMITS.embedTotal - 100 - used);
  // The link goes after the clipped text, whole: clipped, its `(` would stay open for API text to close.
  const text = clip(parts.join('\n\n'), link ? Math.max(0, budget - link.length - 2) : budget);
  const description = link ? [text, link].filter(Boolean).join('\n\n') : text;
  return JSON.stringify({
    allowed_mentions: { parse: [] },
    embeds: [
      {
        title,
        description,
        color: COLOR[card.tone],
        fields,
        footer: { text: footer },
      },
    ],
  });
}

/** 2xx ok; 429 retryable after the body's `retry_after` (float seconds) or `Retry-After`; others as classifyHttp. */
export function classifyDiscord(answer: HttpAnswer, now: number): DeliveryOutcome {
  const outcome = classifyHttp(answer.status, answer.headers, answer.bodyText, now);
  if (answer.status !== 429 || outcome.kind !== 'retryable') return outcome;
  const retryAfter = parseObject(answer.bodyText)?.retry_after;
  if (typeof retryAfter !== 'number' || !Number.isFinite(retryAfter) || retryAfter < 0) return outcome;
  return { ...outcome, retryAfterMs: Math.ceil(retryAfter * 1000) };
}

/** The webhook URL with `wait=true`: Discord then answers 200 with the message (204 without). */
function discordUrl(url: string): string {
  const u = new URL(url);
  u.searchParams.set('wait', 'true');
  return u.href;
}

/** Discord: a channel webhook URL (its token is the secret). */
export const discordChannel = defineChannel<UrlConfig>()({
  type: 'discord',
  displayName: 'Discord',
  doc: 'channel webhook: one embed, mentions disabled',
  ...webhookConfig({
    variable: 'DISCORD_WEBHOOK_URL',
    rule: webhookUrl({
      doc: 'a webhook URL https://discord.com/api/webhooks/{id}/{token} (or discordapp.com)',
      matches: (u) =>
        httpsOn(u, 'discord.com', 'discordapp.com') &&
        /^\/api(\/v\d+)?\/webhooks\/\d+\/[^/]+$/.test(u.pathname),
    }),
    doc: 'Discord channel webhook.',
  }),
  answers: { kind: 'http' },
  limits: DISCORD_RATE,
  heldByQuietHours: true,
  digests: true,
  create: (config) =>
    cardDestination(
      config,
      {
        listed: LISTED,
        maxBodyBytes: DISCORD_LIMITS.bodyBytes,
        body: discordBody,
        url: discordUrl(config.url),
      },
      classifyDiscord,
    ),
});
