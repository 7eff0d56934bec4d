// The one list of channels. Config parsing, the variables table, display names, the factory below,
// the README's destination table and the conformance suite all read it: adding a channel is its
// module (which exports its spec) and one line here.
import { credentialSecrets, type HssAuth } from '../../huaweicloud/credentials';
import type { DeliveryOutcome } from '../../model';
import type { Destination } from '../destination';
import { visibleOnly } from '../inert';
import { redactValues } from '../../redact';
import { quietUntil } from '../routing';
import { dingtalkChannel } from './dingtalk';
import { discordChannel } from './discord';
import { feishuChannel } from './feishu';
import { googleChatChannel } from './googlechat';
import { pagerdutyChannel } from './pagerduty';
import { slackChannel } from './slack';
import { smnChannel } from './smn';
import type { AnyChannelSpec, DestinationDeps } from './spec';
import { teamsChannel } from './teams';
import { webhookChannel } from './webhook';
import { wecomChannel } from './wecom';

/** Every channel, in the order the README and the variables table list them. */
export const CHANNELS = [
  slackChannel,
  webhookChannel,
  teamsChannel,
  feishuChannel,
  dingtalkChannel,
  wecomChannel,
  pagerdutyChannel,
  smnChannel,
  googleChatChannel,
  discordChannel,
] as const satisfies readonly AnyChannelSpec[];

type Channels = (typeof CHANNELS)[number];

/** A channel's type: `slack`, `webhook`, `teams`, ... */
export type DestinationType = Channels['type'];

/** Every channel's type, in list order. */
export const DESTINATION_TYPES: readonly DestinationType[] = CHANNELS.map((c) => c.type);

/** One destination's validated config, of any channel (`url`s, keys and secrets are secrets). */
export type DestinationConfig = ConfigOf<Channels>;
type ConfigOf<S> = S extends { create(config: infer X, deps: DestinationDeps): unknown } ? X : never;

/** The spec of channel `type`. */
export function channelOf(type: string): AnyChannelSpec {
  const channel = (CHANNELS as readonly AnyChannelSpec[]).find((c) => c.type === type);
  if (channel === undefined) throw new TypeError(`no channel of type ${JSON.stringify(type)}`);
  return channel;
}

/** `Slack`, or `Slack "ops-room"` when the destination has a name of its own. */
export function displayName(destination: Pick<Destination, 'id' | 'type'>): string {
  const type = (CHANNELS as readonly AnyChannelSpec[]).find((c) => c.type === destination.type);
  const name = type?.displayName ?? destination.type;
  return destination.id === destination.type ? name : `${name} "${destination.id}"`;
}

/**
 * Builds the Destination of one validated config, paced as its channel says and held by the config's
 * quiet hours when its channel is a chat channel. Throws ConfigError when the config references
 * something missing (an SMN credential) or a webhook secret is not `whsec_<base64>`. No request body
 * it renders holds a character that is invisible or changes the text's direction. What a receiver
 * answers is untrusted: any of the destination's own secrets it echoes (its URL's token, a key, the
 * signing secret) is redacted from the outcome's error, which is logged, stored and told to the
 * other destinations when this one fails.
 */
export function createDestination(config: DestinationConfig, deps: DestinationDeps): Destination {
  const channel = channelOf(config.type);
  const destination = channel.create(config, deps);
  const secrets = secretsOf(channel, config, deps.credentials);
  const quiet = config.routing.quietHours;
  const { render, classify } = destination;
  return {
    ...destination,
    limits: channel.limits,
    ...(channel.heldByQuietHours && quiet !== undefined
      ? { holdUntil: (_message, now) => quietUntil(quiet, now) }
      : {}),
    // Channels that carry API text as data (webhook, PagerDuty details) do not make it inert: nothing
    // invisible or direction-changing reaches a person through any channel all the same.
    render: (batch, context) =>
      render(batch, context).map((request) => ({ ...request, body: visibleOnly(request.body) })),
    classify: (answer, now) => withoutSecrets(classify(answer, now), secrets),
  };
}

/** Builds every destination, in config order. */
export function createDestinations(
  configs: readonly DestinationConfig[],
  deps: DestinationDeps,
): Destination[] {
  return configs.map((config) => createDestination(config, deps));
}

/**
 * A destination's secret values: its secret fields (a `whsec_` secret also without its prefix), its
 * secret URLs and the parts of them a receiver may echo alone (tokens, keys), its credential's keys.
 */
function secretsOf(
  channel: AnyChannelSpec,
  config: DestinationConfig,
  credentials: Record<string, HssAuth>,
): string[] {
  const fields = new Map<PropertyKey, unknown>(Object.entries(config));
  const field = (key: PropertyKey): string | undefined => {
    const value = fields.get(key);
    return typeof value === 'string' ? value : undefined;
  };
  const values: string[] = [];
  for (const url of (channel.redact.secretUrls ?? []).map(field)) {
    if (url === undefined) continue;
    values.push(url);
    try {
      const parsed = new URL(url);
      const parts = [
        parsed.username,
        parsed.password,
        ...parsed.pathname.split('/'),
        ...parsed.searchParams.values(),
      ];
      // Short parts (`services`, `v2`, `api-version=1`) are words, not secrets.
      values.push(...parts.filter((p) => p.length >= 12));
    } catch {
      // Validated by parseConfig; an unparseable one has no parts to look for.
    }
  }
  for (const secret of (channel.redact.secrets ?? []).map(field)) {
    if (secret !== undefined) values.push(secret, secret.replace(/^whsec_/, ''));
  }
  const auth = channel.credential ? credentials[channel.credential(config)] : undefined;
  if (auth) values.push(...credentialSecrets(auth));
  return values.filter((v) => v.length > 0);
}

function withoutSecrets(outcome: DeliveryOutcome, secrets: readonly string[]): DeliveryOutcome {
  return outcome.kind === 'ok' ? outcome : { ...outcome, error: redactValues(outcome.error, secrets) };
}
