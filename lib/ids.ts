import { createHash } from 'node:crypto';

/** A stable 32-hex-digit id from `parts` (alerts, notices, task refs): the same parts, the same id. */
export function stableId(...parts: Array<string | number>): string {
  return createHash('sha256').update(parts.join('\n')).digest('hex').slice(0, 32);
}
