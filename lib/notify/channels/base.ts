// What every channel shares: id, description and routing from its DestinationConfig, the quiet-hours
// hold of chat channels, and rendering a batch card by card within a size limit.
import type { DestinationConfig } from '../../config/types';
import type { Message } from '../../model';
import type { ChannelRequest, Destination, RenderContext } from '../destination';
import { cardGroups, fitCard, type Card, type CardGroup } from '../format';
import { redactUrl } from '../redact';
import { compileRouting, quietUntil, respectsQuietHours } from '../routing';

/** The parts of a Destination that come from its config alone. */
export type DestinationBase = Pick<
  Destination,
  'id' | 'type' | 'description' | 'accepts' | 'takesUnrouted' | 'holdUntil'
>;

/**
 * id, type, description (`teams "ops" https://prod-01.westus.logic.azure.com/…`: never a path or key),
 * routing (`kinds` = the message kinds this channel takes at all) and quiet hours (chat channels only).
 */
export function destinationBase(
  config: DestinationConfig,
  target: string,
  kinds: ReadonlySet<Message['kind']> = ALL_KINDS,
): DestinationBase {
  const routes = compileRouting(config.routing);
  const quiet = config.routing.quietHours;
  const named = config.name !== config.type ? ` "${config.name}"` : '';
  const holds = respectsQuietHours(config.type) && quiet !== undefined;
  return {
    id: config.name,
    type: config.type,
    description: `${config.type}${named} ${redactUrl(target)}`,
    accepts: (message) => kinds.has(message.kind) && routes(message, config.name),
    ...(config.routing.fallback ? { takesUnrouted: (message: Message) => kinds.has(message.kind) } : {}),
    ...(holds ? { holdUntil: (_message: Message, now: number) => quietUntil(quiet, now) } : {}),
  };
}

export const ALL_KINDS: ReadonlySet<Message['kind']> = new Set([
  'alert',
  'resolved',
  'reminder',
  'daily-summary',
  'notice',
]);

/** How a chat channel writes one card: the request body (and optionally URL/headers) for it. */
export interface CardWriter {
  /** Tasks a digest names one by one. */
  listed: number;
  /** Largest body in UTF-8 bytes; fitCard shrinks a card until its body fits. */
  maxBodyBytes: number;
  /** The JSON body for `card` (already neutralised and clipped per field). */
  body(card: Card, group: CardGroup): string;
  /** URL for this group (default the configured URL). */
  url?(group: CardGroup): string;
}

/** Renders a batch as cards (digests per format.cardGroups), one request per card, each within the size limit. */
export function renderCards(
  url: string,
  batch: readonly Message[],
  context: RenderContext,
  writer: CardWriter,
): ChannelRequest[] {
  return cardGroups(batch, context, writer.listed).map((group) => ({
    covers: group.covers,
    url: writer.url?.(group) ?? url,
    body: fitCard(group.card, (card) => writer.body(card, group), writer.maxBodyBytes),
  }));
}
