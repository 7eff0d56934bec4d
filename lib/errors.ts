/** Base class of every error this product throws; `cause` keeps the original error. */
export class AlertsError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AlertsError';
  }
}

/** A configuration value is missing or wrong; the message names the variable and what was expected. */
export class ConfigError extends AlertsError {
  constructor(
    message: string,
    readonly variable?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ConfigError';
  }
}

/** One line for a person: the error's name and message, without stack or newlines. */
export function oneLine(err: unknown): string {
  if (err instanceof Error)
    return `${err.name === 'Error' ? '' : `${err.name}: `}${err.message}`.replace(/\s*\n\s*/g, ' ');
  return String(err).replace(/\s*\n\s*/g, ' ');
}
