// What every channel shares: id, description and routing from its config, and rendering a batch card
// by card within a size limit.
import type { Message } from '../../model';
import { cardGroups, fitCard, type Card, type CardGroup } from '../cards';
import type { Destination } from '../destination';
import { redactUrl } from '../../redact';
import { compileRouting } from '../routing';
import type { ChannelDestination, DestinationCommon } from './spec';

/** The parts of a Destination that come from its config alone. */
export type DestinationBase = Pick<Destination, 'id' | 'type' | 'description' | 'accepts' | 'takesUnrouted'>;

/**
 * id, type, description (`teams "ops" https://prod-01.westus.logic.azure.com/…`: never a path or key)
 * and routing (`kinds` = the message kinds this channel takes at all).
 */
export function destinationBase(
  config: DestinationCommon & { type: string },
  target: string,
  kinds: ReadonlySet<Message['kind']> = ALL_KINDS,
): DestinationBase {
  const routes = compileRouting(config.routing);
  const named = config.name !== config.type ? ` "${config.name}"` : '';
  return {
    id: config.name,
    type: config.type,
    description: `${config.type}${named} ${redactUrl(target)}`,
    accepts: (message) => kinds.has(message.kind) && routes(message, config.name),
    ...(config.routing.fallback ? { takesUnrouted: (message: Message) => kinds.has(message.kind) } : {}),
  };
}

const ALL_KINDS: ReadonlySet<Message['kind']> = new Set([
  'alert',
  'resolved',
  'reminder',
  'daily-summary',
  'notice',
]);

/** How a chat channel writes one card: the request body for it, and where it goes. */
export interface CardWriter {
  /** Tasks a digest names one by one. */
  listed: number;
  /** Largest body in UTF-8 bytes; fitCard shrinks a card until its body fits. */
  maxBodyBytes: number;
  /** The JSON body for `card` (already neutralised and clipped per field). */
  body(card: Card, group: CardGroup): string;
  /** URL every request goes to (default the configured URL; the description always shows that one). */
  url?: string;
}

/**
 * A chat destination: each batch rendered as cards (digests per cards.cardGroups), one request per
 * card, each body within the writer's size limit, answers judged by `classify`.
 */
export function cardDestination(
  config: DestinationCommon & { type: string; url: string },
  writer: CardWriter,
  classify: ChannelDestination['classify'],
): ChannelDestination {
  const url = writer.url ?? config.url;
  return {
    ...destinationBase(config, config.url),
    render: (batch, context) =>
      cardGroups(batch, context, writer.listed).map((group) => ({
        covers: group.covers,
        url,
        body: fitCard(group.card, (card) => writer.body(card, group), writer.maxBodyBytes),
      })),
    classify,
  };
}
