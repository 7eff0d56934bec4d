// The channel registry: one factory per DestinationType; adding a channel is one file plus one line here.
import type { DestinationConfig, HssAuth } from '../../config/types';
import type { Log } from '../../log';
import type { DeliveryOutcome } from '../../model';
import type { Destination } from '../destination';
import { visibleOnly } from '../inert';
import { redactValues } from '../redact';
import { createDingtalkDestination } from './dingtalk';
import { createDiscordDestination } from './discord';
import { createFeishuDestination } from './feishu';
import { createGoogleChatDestination } from './googlechat';
import { createPagerdutyDestination } from './pagerduty';
import { createSlackDestination } from './slack';
import { createSmnDestination } from './smn';
import { createTeamsDestination } from './teams';
import { createWebhookDestination } from './webhook';
import { createWecomDestination } from './wecom';

/** What a destination may need besides its config: credentials (SMN signs with an HSS credential) and a logger. */
export interface DestinationDeps {
  credentials: Record<string, HssAuth>;
  log?: Log;
}

/**
 * Builds the Destination of one validated config. Throws ConfigError when the config references
 * something missing (an SMN credential) or a webhook secret is not `whsec_<base64>`. No request body
 * it renders holds a character that is invisible or changes the text's direction. What a receiver
 * answers is untrusted: any of the destination's own secrets it echoes (its URL's token, a key, the
 * signing secret) is redacted from the outcome's error, which is logged, stored and told to the
 * other destinations when this one fails.
 */
export function createDestination(config: DestinationConfig, deps: DestinationDeps): Destination {
  const destination = build(config, deps);
  const secrets = secretsOf(config, deps.credentials);
  const { render, classify } = destination;
  return {
    ...destination,
    // Channels that carry API text as data (webhook, PagerDuty details) do not make it inert: nothing
    // invisible or direction-changing reaches a person through any channel all the same.
    render: (batch, context) =>
      render(batch, context).map((request) => ({ ...request, body: visibleOnly(request.body) })),
    classify: (answer, now) => withoutSecrets(classify(answer, now), secrets),
  };
}

function build(config: DestinationConfig, deps: DestinationDeps): Destination {
  switch (config.type) {
    case 'slack':
      return createSlackDestination(config);
    case 'webhook':
      return createWebhookDestination(config);
    case 'teams':
      return createTeamsDestination(config);
    case 'feishu':
      return createFeishuDestination(config);
    case 'dingtalk':
      return createDingtalkDestination(config);
    case 'wecom':
      return createWecomDestination(config);
    case 'pagerduty':
      return createPagerdutyDestination(config);
    case 'smn':
      return createSmnDestination(config, deps);
    case 'googlechat':
      return createGoogleChatDestination(config);
    case 'discord':
      return createDiscordDestination(config);
  }
}

/** Builds every destination, in config order. */
export function createDestinations(
  configs: readonly DestinationConfig[],
  deps: DestinationDeps,
): Destination[] {
  return configs.map((config) => createDestination(config, deps));
}

/** A destination's secret values, with the parts of its URL a receiver may echo alone (tokens, keys). */
function secretsOf(config: DestinationConfig, credentials: Record<string, HssAuth>): string[] {
  const values: string[] = [];
  if ('url' in config) {
    values.push(config.url);
    try {
      const url = new URL(config.url);
      const parts = [url.username, url.password, ...url.pathname.split('/'), ...url.searchParams.values()];
      // Short parts (`services`, `v2`, `api-version=1`) are words, not secrets.
      values.push(...parts.filter((p) => p.length >= 12));
    } catch {
      // Validated by parseConfig; an unparseable one has no parts to look for.
    }
  }
  if ('secret' in config && config.secret) values.push(config.secret, config.secret.replace(/^whsec_/, ''));
  if (config.type === 'pagerduty') values.push(config.routingKey);
  if (config.type === 'smn') {
    const auth = credentials[config.credential];
    if (auth?.kind === 'aksk') values.push(auth.ak, auth.sk, auth.securityToken ?? '');
    if (auth?.kind === 'token') values.push(auth.token);
  }
  return values.filter((v) => v.length > 0);
}

function withoutSecrets(outcome: DeliveryOutcome, secrets: readonly string[]): DeliveryOutcome {
  return outcome.kind === 'ok' ? outcome : { ...outcome, error: redactValues(outcome.error, secrets) };
}
