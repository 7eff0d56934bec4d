// Google Chat incoming webhook: `text` (the notification line) plus a cardsV2 card, one thread per task
// (`thread.threadKey` = the task's ref, `messageReplyOption=REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD`), at
// most 32,000 bytes. Card texts are HTML: API text has `& < > "` escaped; in `text`, where
// `<users/all>` pings everyone and `*_~\`` format, those characters are replaced by look-alikes.
import { httpsOn, webhookUrl } from '../../rules';
import { classifyHttp } from '../classify';
import type { ChannelLimits } from '../destination';
import { moreText, type Card, type CardGroup } from '../cards';
import { clip, inert, lookalike } from '../inert';
import { cardDestination } from './base';
import { defineChannel, webhookConfig, type UrlConfig } from './spec';

/** Google Chat refuses messages above 32,000 bytes including cards; 30,000 leaves room. */
const GOOGLECHAT_MAX_BODY_BYTES = 30_000;

/** 60 writes per minute per space (429 above): stay under. */
const GOOGLECHAT_RATE: ChannelLimits = { minIntervalMs: 1100, perMinute: 54 };

const LISTED = 20;

/** API text for card HTML: inert, `& < > "` as entities. */
function googleChatHtml(text: string): string {
  return inert(text)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');
}

/** API text for the message `text`: inert, `< > * _ ~ \`` as look-alikes. */
function googleChatText(text: string): string {
  return lookalike(inert(text), '<>*_~`');
}

type Widget = Record<string, unknown>;

/** The webhook body of one card; single-task cards carry the task's thread key. */
function googleChatBody(card: Card, group?: CardGroup): string {
  const widgets: Widget[] = [];
  if (card.text) widgets.push({ textParagraph: { text: clip(googleChatHtml(card.text), 2000) } });
  for (const f of card.facts) {
    widgets.push({
      decoratedText: {
        topLabel: clip(googleChatHtml(f.label), 200),
        text: clip(googleChatHtml(f.value), 1000) || '—',
        wrapText: true,
      },
    });
  }
  if (card.error) {
    const code = card.error.code ? ` ${googleChatHtml(card.error.code)}` : '';
    widgets.push({
      decoratedText: {
        topLabel: clip(`HSS error${code}`, 300),
        text: clip(googleChatHtml(card.error.message ?? ''), 5000) || '—',
        wrapText: true,
      },
    });
  }
  if (card.lines && card.lines.length > 0) {
    widgets.push({
      textParagraph: { text: card.lines.map((l) => `• ${clip(googleChatHtml(l), 300)}`).join('<br>') },
    });
  }
  const more = moreText(card.more);
  if (more) widgets.push({ textParagraph: { text: `<b>${more}</b>` } });
  if (card.link && /^https:\/\//.test(card.link.url)) {
    widgets.push({
      buttonList: { buttons: [{ text: card.link.label, onClick: { openLink: { url: card.link.url } } }] },
    });
  }
  widgets.push({
    textParagraph: { text: `<font color="#80868b">${clip(googleChatHtml(card.footer), 500)}</font>` },
  });
  const message = group?.message;
  const threadKey =
    message && (message.kind === 'alert' || message.kind === 'resolved') ? message.taskRef : undefined;
  return JSON.stringify({
    text: clip(googleChatText(card.fallback), 1000),
    cardsV2: [
      {
        cardId: 'hss-restore-alerts',
        card: {
          header: { title: clip(googleChatText(card.title), 200), subtitle: 'HSS backup/restore alerts' },
          sections: [{ widgets }],
        },
      },
    ],
    ...(threadKey ? { thread: { threadKey } } : {}),
  });
}

/** The webhook URL with `messageReplyOption` set, so a thread key replies in the task's thread (or starts one). */
function googleChatUrl(url: string): string {
  const u = new URL(url);
  u.searchParams.set('messageReplyOption', 'REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD');
  return u.href;
}

/** Google Chat: a space's incoming webhook URL (its `key` and `token` are the secrets). */
export const googleChatChannel = defineChannel<UrlConfig>()({
  type: 'googlechat',
  displayName: 'Google Chat',
  doc: 'space incoming webhook: text and a card, one thread per task',
  ...webhookConfig({
    variable: 'GOOGLE_CHAT_WEBHOOK_URL',
    rule: webhookUrl({
      doc: 'a space webhook URL https://chat.googleapis.com/v1/spaces/…/messages?key=…&token=…',
      matches: (u) => httpsOn(u, 'chat.googleapis.com') && /^\/v1\/spaces\/[^/]+\/messages$/.test(u.pathname),
    }),
    doc: 'Google Chat space incoming webhook.',
  }),
  answers: { kind: 'http' },
  limits: GOOGLECHAT_RATE,
  heldByQuietHours: true,
  digests: true,
  create: (config) =>
    cardDestination(
      config,
      {
        listed: LISTED,
        maxBodyBytes: GOOGLECHAT_MAX_BODY_BYTES,
        body: googleChatBody,
        url: googleChatUrl(config.url),
      },
      (answer, now) => classifyHttp(answer.status, answer.headers, answer.bodyText, now),
    ),
});
