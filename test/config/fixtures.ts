import { parseConfig, type ParseOptions } from '../../lib/config';
import { ConfigError } from '../../lib/errors';

export const AK = 'QTWAOYTTINDUT2QVKYUC';
export const SK = 'MFyfvK41ba2giqM7Uio6PznpdUKGpownRZlmVmHc';
export const SLACK = 'https://hooks.slack.com/services/T0001/B0001/slackTokenSecret1234';
export const PROJECT = '0123456789abcdef0123456789abcdef';
/** A Standard Webhooks secret: whsec_ + base64 of 32 bytes. */
export const WHSEC = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;
export const PD_KEY = 'R0ut1ngKeyR0ut1ngKeyR0ut1ngKey12';

/** The smallest environment that parses: every optional variable left to its default. */
export const MINIMAL: Readonly<Record<string, string>> = {
  HSS_PROJECT_ID: PROJECT,
  HSS_REGION: 'cn-north-4',
  CLOUD_SDK_AK: AK,
  CLOUD_SDK_SK: SK,
  STATE_TABLE: 'hss-restore-alerts-dev-state',
  SLACK_WEBHOOK_URL: SLACK,
};

/** Runs parseConfig and returns the ConfigError it throws (failing the test when it does not throw). */
export function configError(env: Record<string, string | undefined>, options?: ParseOptions): ConfigError {
  try {
    parseConfig(env, options);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('expected parseConfig to throw a ConfigError');
}

/** The problems of a ConfigError message, one per entry. */
export function problemsOf(error: Error): string[] {
  expect(error.message.startsWith('Invalid configuration: ')).toBe(true);
  return error.message.slice('Invalid configuration: '.length).split('; ');
}
