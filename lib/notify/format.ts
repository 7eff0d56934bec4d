// Rendering helpers shared by every channel, so Slack, webhooks and later targets word things alike.
import type { Alert } from '../diff/alert';
import type { Scope, TaskStatus } from '../task';

/** A status as people should read it: the documented name, or `unknown (<raw>)` for an undocumented one. */
export function statusText(status: TaskStatus, rawStatus?: string): string {
  return status === 'unknown' && rawStatus ? `unknown (${rawStatus})` : status;
}

/** The change that raised `alert`: `running → failed`, or `first seen failed` when there was no earlier status. */
export function transitionText(alert: Alert): string {
  const current = statusText(alert.status, alert.task.rawStatus);
  return alert.previousStatus === undefined
    ? `first seen ${current}`
    : `${statusText(alert.previousStatus)} → ${current}`;
}

// ISO-8601 with an explicit zone; a time without one is ambiguous, so it is shown as sent.
const ISO_WITH_ZONE = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)\s*(Z|[+-]\d{2}:?\d{2})$/i;

/**
 * `2025-03-06 05:26:18 UTC` from epoch ms (number), an ISO-8601 string with a zone, or epoch
 * seconds / ms as digits; any other string is returned unchanged (the API states no format).
 */
export function formatUtc(value: string | number): string {
  const ms = typeof value === 'number' ? value : parseTime(value.trim());
  if (ms === undefined || !Number.isFinite(ms)) return String(value);
  const d = new Date(ms);
  if (Number.isNaN(d.getTime())) return String(value);
  return `${d.toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

function parseTime(text: string): number | undefined {
  if (/^\d{13}$/.test(text)) return Number(text);
  if (/^\d{10}$/.test(text)) return Number(text) * 1000;
  const m = ISO_WITH_ZONE.exec(text);
  if (!m) return undefined;
  const zone = m[3]!.toUpperCase() === 'Z' ? 'Z' : m[3]!.replace(/^([+-]\d{2}):?(\d{2})$/, '$1:$2');
  const ms = Date.parse(`${m[1]}T${m[2]}${zone}`);
  return Number.isNaN(ms) ? undefined : ms;
}

// Region names as Huawei Cloud writes them (`cn-north-4`, `ap-southeast-1`, `eu-west-101`); anything
// else would be pasted into a link, so it gets no link at all.
const REGION = /^[a-z]{2}(-[a-z0-9]+){1,3}$/;

/**
 * Link to the HSS console's ransomware backup page for `scope.region` (`console.eu.huaweicloud.com`
 * for eu-west-101); undefined when the region is absent or not a region name.
 */
export function hssConsoleUrl(scope: Pick<Scope, 'region'>): string | undefined {
  const region = scope.region;
  if (!region || !REGION.test(region)) return undefined;
  const host = region === 'eu-west-101' ? 'console.eu.huaweicloud.com' : 'console.huaweicloud.com';
  return `https://${host}/hss/?region=${region}&locale=en-us#/hss/ransomware/backup`;
}
