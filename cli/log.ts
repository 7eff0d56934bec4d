import type { Log } from '../lib/log';

const LEVELS = ['debug', 'info', 'warn', 'error'] as const;
type Level = (typeof LEVELS)[number];

/** A plain-text Log on stderr for people at a terminal: `WARN message {"key":"value"}`. */
export function consoleLog(
  minLevel: Level,
  write: (line: string) => void = (l) => process.stderr.write(`${l}\n`),
): Log {
  const min = LEVELS.indexOf(minLevel);
  const at =
    (level: Level) =>
    (message: string, extra?: Record<string, unknown>): void => {
      if (LEVELS.indexOf(level) < min) return;
      const fields = extra && Object.keys(extra).length > 0 ? ` ${JSON.stringify(extra)}` : '';
      write(`${level.toUpperCase()} ${message}${fields}`);
    };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}
