import { ConfigError } from '../errors';

/** One thing wrong with the configuration: a sentence that starts with where it is. */
export interface Problem {
  /** The variable to fix (`DESTINATIONS_FILE` for anything inside the file). */
  variable: string;
  text: string;
}

const REDACTED = '[redacted]';

/**
 * One ConfigError listing every problem on one line; names the variable when all problems are
 * about one. No cause is attached, since parser issues could carry values.
 */
export function configError(problems: readonly Problem[], secrets: Iterable<string>): ConfigError {
  const message = `Invalid configuration: ${problems.map((p) => p.text).join('; ')}`;
  const variables = new Set(problems.map((p) => p.variable));
  return new ConfigError(
    scrubQuoted(message, secrets).replace(/\s*\n\s*/g, ' '),
    variables.size === 1 ? [...variables][0] : undefined,
  );
}

/**
 * Last line of defence against a secret pasted into the wrong variable: rules never show a secret,
 * but a non-secret rule shows what it refuses, quoted (and cut to 40 characters). So every secret
 * (and its first 40 characters) is replaced inside quoted values, and only there: our own words
 * (a URL shape such as `https://oapi.dingtalk.com/robot/send?…`) stay readable.
 */
function scrubQuoted(message: string, secrets: Iterable<string>): string {
  // Longest first, so that a secret containing another is replaced whole; as JSON.stringify wrote them.
  const targets = [...new Set(secrets)]
    // Very short values would garble unrelated text; such values are not usable secrets anyway.
    .filter((s) => s.length >= 6)
    .flatMap((s) => (s.length > 40 ? [s, s.slice(0, 40)] : [s]))
    .map((s) => JSON.stringify(s).slice(1, -1))
    .sort((a, b) => b.length - a.length);
  return message.replace(/"(?:[^"\\]|\\.)*"/g, (quoted) =>
    targets.reduce((text, secret) => text.split(secret).join(REDACTED), quoted),
  );
}
