// Microsoft Teams through a Workflows webhook ("Send webhook alerts to a channel"): an Adaptive Card
// 1.4 in a `message` attachment (title, FactSet, HSS error, digest lines, console button), at most
// 28 KB. TextBlocks and FactSet values render Markdown, so API text has `\ [ ] ( ) * _ ~ `` and a
// leading `# > - +` backslash-escaped; a mention needs an `msteams.entities` entry we never send.
import { httpsOn, httpsUnder, webhookUrl } from '../../rules';
import type { DeliveryOutcome } from '../../model';
import { classifyHttp } from '../classify';
import type { ChannelLimits } from '../destination';
import { moreText, type Card, type Tone } from '../cards';
import { clip, inert } from '../inert';
import type { HttpAnswer } from '../http';
import { cardDestination } from './base';
import { defineChannel, webhookConfig, type UrlConfig } from './spec';

/** The Workflows trigger refuses bodies above ~28 KB ("Request Entity Too Large"); 27,000 bytes leaves room. */
const TEAMS_MAX_BODY_BYTES = 27_000;

/** Teams rate limits for Workflows webhooks are unpublished (~4/s seen); one per second is conservative. */
const TEAMS_RATE: ChannelLimits = { minIntervalMs: 1000, perMinute: 60 };

const LISTED = 20;

const COLOR: Readonly<Record<Tone, string>> = {
  failed: 'attention',
  timeout: 'warning',
  stuck: 'warning',
  resolved: 'good',
  reminder: 'accent',
  info: 'accent',
  warning: 'warning',
  critical: 'attention',
};

/** API text for Teams Markdown: inert, then `\ [ ] ( ) * _ ~ `` and a leading `# > - +` (or `1.`) escaped with a backslash. */
export function teamsText(text: string): string {
  return inert(text)
    .replace(/[\\[\]()*_~`]/g, (c) => `\\${c}`)
    .replace(/^(\s*)([#>+-]|\d+\.)/, '$1\\$2');
}

type Element = Record<string, unknown>;

const block = (text: string, extra: Element = {}): Element => ({
  type: 'TextBlock',
  text,
  wrap: true,
  ...extra,
});

/** The Workflows body of one card. */
function teamsBody(card: Card): string {
  const body: Element[] = [
    block(clip(teamsText(card.title), 400), { size: 'Large', weight: 'Bolder', color: COLOR[card.tone] }),
  ];
  if (card.text) body.push(block(clip(teamsText(card.text), 4000)));
  if (card.facts.length > 0) {
    body.push({
      type: 'FactSet',
      facts: card.facts.map((f) => ({
        title: clip(teamsText(f.label), 200),
        value: clip(teamsText(f.value), 1000),
      })),
    });
  }
  if (card.error) {
    const code = card.error.code ? ` ${teamsText(card.error.code)}` : '';
    body.push(block(clip(`**HSS error**${code}`, 400), { color: 'attention' }));
    if (card.error.message) body.push(block(clip(teamsText(card.error.message), 4000)));
  }
  if (card.lines && card.lines.length > 0) {
    body.push(block(card.lines.map((l) => `- ${clip(teamsText(l), 300)}`).join('\n')));
  }
  const more = moreText(card.more);
  if (more) body.push(block(more, { weight: 'Bolder' }));
  body.push(block(clip(teamsText(card.footer), 500), { isSubtle: true, size: 'Small' }));
  const content: Element = {
    $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
    type: 'AdaptiveCard',
    version: '1.4',
    msteams: { width: 'Full' },
    body,
  };
  if (card.link && /^https:\/\//.test(card.link.url)) {
    content.actions = [{ type: 'Action.OpenUrl', title: card.link.label, url: card.link.url }];
  }
  return JSON.stringify({
    type: 'message',
    summary: clip(inert(card.fallback), 200),
    attachments: [{ contentType: 'application/vnd.microsoft.card.adaptive', contentUrl: null, content }],
  });
}

/** 2xx (202 Accepted) ok; 413 or a "Request Entity Too Large" answer permanent; others as classifyHttp. */
export function classifyTeams(answer: HttpAnswer, now: number): DeliveryOutcome {
  if (answer.status >= 400 && /request entity too large/i.test(answer.bodyText)) {
    return {
      kind: 'permanent',
      error: `HTTP ${answer.status}: Request Entity Too Large (the card exceeds the workflow's limit)`,
    };
  }
  return classifyHttp(answer.status, answer.headers, answer.bodyText, now);
}

/** Microsoft Teams: a Workflows webhook URL ("Send webhook alerts to a channel"). */
export const teamsChannel = defineChannel<UrlConfig>()({
  type: 'teams',
  displayName: 'Microsoft Teams',
  doc: 'Workflows webhook: an Adaptive Card',
  ...webhookConfig({
    variable: 'TEAMS_WEBHOOK_URL',
    rule: webhookUrl({
      doc: 'a Teams Workflows URL on https://*.logic.azure.com, https://*.environment.api.powerplatform.com or https://api.powerautomate.com',
      matches: (u) =>
        httpsUnder(u, '.logic.azure.com', '.environment.api.powerplatform.com') ||
        httpsOn(u, 'api.powerautomate.com'),
    }),
    doc: 'Microsoft Teams Workflows webhook ("Send webhook alerts to a channel").',
  }),
  answers: { kind: 'http' },
  limits: TEAMS_RATE,
  heldByQuietHours: true,
  digests: true,
  create: (config) =>
    cardDestination(
      config,
      { listed: LISTED, maxBodyBytes: TEAMS_MAX_BODY_BYTES, body: teamsBody },
      classifyTeams,
    ),
});
