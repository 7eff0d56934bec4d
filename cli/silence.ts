// `silence add|list|expire`: mute alerts matching host/backup globs and statuses for a while. A
// silenced alert is recorded, not lost: `silence list` shows what each silence swallowed, and when
// the silence ends every swallowed alert still unresolved is sent.
import { randomBytes } from 'node:crypto';
import picomatch from 'picomatch';
import type { App } from '../lib/app';
import type { Silence } from '../lib/state/records';
import { ConfigError } from '../lib/errors';
import type { AlertStatus } from '../lib/model';
import { utcMinute } from '../lib/wording';
import { TASK_STATUSES } from '../lib/task';

const ALERT_STATUSES: readonly AlertStatus[] = [...TASK_STATUSES, 'stuck'];
const MAX_MS = 30 * 86_400_000;

/** `4h`, `90m`, `2d`, `1h30m` -> ms; throws ConfigError for anything else or over 30 days. */
function parseDuration(text: string): number {
  const m = /^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?$/.exec(text.trim());
  const ms =
    m && text.trim() !== ''
      ? (Number(m[1] ?? 0) * 24 * 60 + Number(m[2] ?? 0) * 60 + Number(m[3] ?? 0)) * 60_000
      : NaN;
  if (!(ms > 0) || ms > MAX_MS) {
    throw new ConfigError(
      `--for must be a duration such as 4h, 90m, 2d or 1h30m (at most 30 days), got ${JSON.stringify(text)}`,
      '--for',
    );
  }
  return ms;
}

/** The values of a repeatable `--name value` flag. */
function values(argv: readonly string[], name: string): string[] {
  const out: string[] = [];
  argv.forEach((a, i) => {
    if (a === name && argv[i + 1] !== undefined) out.push(argv[i + 1]!);
    else if (a.startsWith(`${name}=`)) out.push(a.slice(name.length + 1));
  });
  return out;
}

/** Runs `silence <sub>`; returns the exit code. */
export async function silenceCommand(
  app: App,
  argv: readonly string[],
  out: (line: string) => void,
): Promise<number> {
  const sub = argv[0];
  const now = app.clock();
  if (sub === 'add') {
    const hosts = values(argv, '--host');
    const backups = values(argv, '--backup');
    const statuses = values(argv, '--status')
      .flatMap((s) => s.split(','))
      .map((s) => s.trim().toLowerCase());
    const duration = values(argv, '--for')[0];
    const reason = values(argv, '--reason')[0] ?? '';
    const problems: string[] = [];
    if (hosts.length === 0 && backups.length === 0)
      problems.push('give --host and/or --backup (glob patterns such as web-*)');
    for (const g of [...hosts, ...backups]) {
      try {
        picomatch.makeRe(g);
      } catch {
        problems.push(`${JSON.stringify(g)} is not a valid glob`);
      }
    }
    const unknown = statuses.filter((s) => !(ALERT_STATUSES as readonly string[]).includes(s));
    if (unknown.length > 0)
      problems.push(`--status must be among ${ALERT_STATUSES.join(', ')}, got ${unknown.join(', ')}`);
    if (!duration) problems.push('--for is required (e.g. --for 4h)');
    if (reason.trim() === '')
      problems.push('--reason is required (say why, for whoever reads `silence list`)');
    if (problems.length > 0) throw new ConfigError(`silence add: ${problems.join('; ')}`);
    const silence: Silence = {
      id: randomBytes(4).toString('hex'),
      hosts,
      backups,
      statuses: statuses as AlertStatus[],
      startsAt: now,
      endsAt: now + parseDuration(duration!),
      reason: reason.trim(),
      createdAt: now,
    };
    await app.lifecycle.putSilence(silence, now);
    out(`silence ${silence.id} added: ${describe(silence)} until ${utcMinute(silence.endsAt)}`);
    return 0;
  }
  if (sub === 'list') {
    const silences = (await app.lifecycle.listSilences()).sort((a, b) => b.createdAt - a.createdAt);
    if (silences.length === 0) out('no silences');
    for (const s of silences) {
      const state = s.releasedAt
        ? 'ended'
        : s.endsAt <= now
          ? 'ending (released at the next poll)'
          : 'active';
      out(
        `${s.id}  ${state}  ${describe(s)}  ${utcMinute(s.startsAt)} -> ${utcMinute(s.endsAt)}  reason: ${s.reason}`,
      );
      for (const alert of await app.lifecycle.swallowed(s.id)) {
        const t = alert.task;
        out(
          `    swallowed ${alert.status} ${t.hostName || t.hostId} / ${t.backupName} at ${utcMinute(alert.at)} (alert ${alert.id})`,
        );
      }
    }
    return 0;
  }
  if (sub === 'expire') {
    const id = argv[1];
    const silence = (await app.lifecycle.listSilences()).find((s) => s.id === id);
    if (!id || !silence)
      throw new ConfigError(
        `silence expire: no silence with id ${JSON.stringify(id ?? '')} (see silence list)`,
      );
    await app.lifecycle.putSilence({ ...silence, endsAt: Math.min(silence.endsAt, now) }, now);
    out(`silence ${silence.id} expired: what it swallowed and is still unresolved is sent at the next poll`);
    return 0;
  }
  throw new ConfigError(
    'silence: use `silence add --host GLOB [--backup GLOB] [--status failed,timeout] --for 4h --reason TEXT`, `silence list` or `silence expire ID`',
  );
}

function describe(s: Silence): string {
  const parts = [
    s.hosts.length > 0 ? `hosts ${s.hosts.join(',')}` : '',
    s.backups.length > 0 ? `backups ${s.backups.join(',')}` : '',
    s.statuses.length > 0 ? `statuses ${s.statuses.join(',')}` : 'any status',
  ];
  return parts.filter(Boolean).join(', ');
}
