import type { Log } from '../../lib/log';

export interface LogLine {
  level: string;
  message: string;
  extra?: Record<string, unknown>;
}

/** A Log that keeps every line, for assertions on what was logged. */
export function recordingLog(): Log & { lines: LogLine[] } {
  const lines: LogLine[] = [];
  const at =
    (level: string) =>
    (message: string, extra?: Record<string, unknown>): void => {
      lines.push({ level, message, extra });
    };
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}
