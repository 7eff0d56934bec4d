// The channel registry: one factory per DestinationType; adding a channel is one file plus one line here.
import type { DestinationConfig, HssAuth } from '../../config/types';
import type { Log } from '../../log';
import type { Destination } from '../destination';
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
 * something missing (an SMN credential) or a webhook secret is not `whsec_<base64>`.
 */
export function createDestination(config: DestinationConfig, deps: DestinationDeps): Destination {
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
