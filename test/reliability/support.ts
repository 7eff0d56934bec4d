// Shared harness of the reliability suite, on top of the end-to-end world (test/e2e/world.ts: the
// HSS emulator, a DynamoDB engine, one local sink per destination and createApp on a virtual clock):
// the tasks a case seeds and the alert ids they must produce, per-destination delivery counts read at
// the sinks, a process that dies at a chosen point (its DynamoDB client, HTTP leg and HSS reader all
// stop at once, like a killed Lambda), and the secret scan over everything a case produced.
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { App } from '../../lib/app';
import { entryKey } from '../../lib/state/entry';
import { stableId } from '../../lib/ids';
import { createPostJson, type PostJson } from '../../lib/notify/http';
import { taskKey } from '../../lib/task';
import type { EmulatedTask } from '../../local/hss-emulator';
import {
  DINGTALK_SINK_PATH,
  DISCORD_SINK_PATH,
  FEISHU_SINK_PATH,
  GOOGLECHAT_SINK_PATH,
  PAGERDUTY_ROUTING_KEY,
  SLACK_SINK_PATH,
  TEAMS_SINK_PATH,
  WECOM_SINK_PATH,
  type Sink,
} from '../../local/sinks';
import {
  AK,
  DINGTALK_SECRET,
  FEISHU_SECRET,
  MIN,
  PROJECT,
  SK,
  T0,
  WEBHOOK_SECRET,
  type SinkName,
  type World,
} from '../e2e/world';
import type { LogLine } from '../support/log';

// ---- tasks and the alerts they must raise -----------------------------------------------------------

/** A raw HSS record: finished ones have an end time, failed and timed-out ones an HSS error. */
export function task(host: string, status: string, startedAt: number): EmulatedTask {
  const finished = !['running', 'waiting'].includes(status);
  return {
    host_id: `${host}-id`,
    host_name: host,
    backup_name: `bk-${host}`,
    process: finished ? 100 : 40,
    status,
    started_at: new Date(startedAt).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    ...(finished ? { ended_at: new Date(startedAt + 20 * MIN).toISOString().replace(/\.\d{3}Z$/, 'Z') } : {}),
    error_info:
      status === 'failed'
        ? { code: 'BACKUP.0002', message: 'Backup failed: the HSS agent is offline' }
        : status === 'timeout'
          ? { code: 'BACKUP.0099', message: 'The task did not finish in time' }
          : { code: '', message: '' },
  };
}

/** Tasks that never alert: swept from the in-flight lists (or never listed), and never sent anywhere. */
export function quietTasks(): EmulatedTask[] {
  return [
    task('host-q00', 'running', T0 - 10 * MIN),
    task('host-q01', 'waiting', T0 - 11 * MIN),
    task('host-q02', 'success', T0 - 12 * MIN),
  ];
}

/**
 * `n` alerting tasks named `{prefix}00`, `{prefix}01`, ... (fixed width, so no name contains
 * another), started a minute apart; every third one timed out when `timeouts`, the rest failed.
 */
export function alerting(n: number, prefix: string, timeouts = true): EmulatedTask[] {
  return Array.from({ length: n }, (_, i) =>
    task(
      `${prefix}${String(i).padStart(2, '0')}`,
      timeouts && i % 3 === 2 ? 'timeout' : 'failed',
      T0 - 30 * MIN - i * MIN,
    ),
  );
}

/** The alert a record in an alert status must raise: its host (unique per case) and message id. */
export interface Expected {
  host: string;
  status: string;
  id: string;
}

/** The id of the first alert (episode 1) of `record` in its status: poll/index.ts alertMessage. */
export function expectedAlert(record: EmulatedTask, projectId = PROJECT): Expected {
  const key = taskKey({
    hostId: record.host_id,
    backupName: record.backup_name,
    startedAt: String(record.started_at),
  });
  return {
    host: record.host_name,
    status: record.status,
    id: stableId('alert', projectId, entryKey(projectId, key), record.status, 1),
  };
}

/** Accepted requests at `sink` whose body names `host` (host names are unique and never contain another). */
export function deliveriesOf(sink: Sink, host: string): number {
  return sink.received.filter((r) => r.body.includes(host)).length;
}

/**
 * The crash window after a poll: pairs `destination\nalert id` delivered at a sink but not recorded
 * `done` in the outbox, and per destination how many accepted requests carry them.
 */
export async function unrecorded(
  w: World,
  expected: readonly Expected[],
): Promise<{ pairs: Set<string>; requests: Record<string, number> }> {
  const records = new Map((await w.app.outbox.get(expected.map((e) => e.id))).map((r) => [r.message.id, r]));
  const pairs = new Set<string>();
  const requests: Record<string, number> = {};
  for (const [name, sink] of Object.entries(w.sinks)) {
    const hosts: string[] = [];
    for (const e of expected) {
      if (deliveriesOf(sink!, e.host) > 0 && records.get(e.id)?.deliveries[name]?.state !== 'done') {
        pairs.add(`${name}\n${e.id}`);
        hosts.push(e.host);
      }
    }
    if (hosts.length > 0)
      requests[name] = sink!.received.filter((r) => hosts.some((h) => r.body.includes(h))).length;
  }
  return { pairs, requests };
}

// ---- a process that dies -----------------------------------------------------------------------------

/** Thrown by everything a dead process still tries to do. */
class ProcessKilled extends Error {
  constructor(where: string) {
    super(`process killed ${where}`);
    this.name = 'ProcessKilled';
  }
}

/** One DynamoDB command as the dying process is about to send it, or just got its answer. */
interface DynamoStep {
  command: string;
  input: Record<string, unknown>;
}

/**
 * Where the process dies: `before` the `nth` (default first) DynamoDB command that `match`es is sent,
 * or `after` it was answered (the engine applied it, the process never learns); after the
 * `afterOk`-th 2xx answer from a destination (before its outcome is recorded; counted in `shared`
 * across processes when given, so that whichever process delivers first dies); or before the
 * `beforePage`-th HSS page is read.
 */
export type DeathPoint =
  | { dynamo: 'before' | 'after'; match: (step: DynamoStep) => boolean; nth?: number; label: string }
  | { afterOk: number; shared?: { oks: number }; label: string }
  | { beforePage: number; label: string };

/** What the dying process did: whether it died, and the label of where. */
export interface Doomed {
  readonly dead: boolean;
  readonly label: string;
}

/**
 * Builds an app on `world` (its own DynamoDB client: a new container) that dies at `point`: from then
 * on every DynamoDB command, HTTP post and HSS read of that app throws ProcessKilled, as nothing of a
 * killed process reaches the outside. Requests already on the wire still arrive (their answers are
 * lost): that is the documented crash window.
 */
export function doomedApp(
  world: World,
  client: DynamoDBClient,
  point: DeathPoint,
): { app: App; doomed: Doomed } {
  let dead = false;
  const die = (): never => {
    dead = true;
    throw new ProcessKilled(point.label);
  };
  const guard = (): void => {
    if (dead) throw new ProcessKilled(`${point.label} (already dead)`);
  };
  let matched = 0;
  client.middlewareStack.add(
    (next, context) => async (args) => {
      guard();
      const step: DynamoStep = {
        command: context.commandName ?? '',
        input: args.input as Record<string, unknown>,
      };
      const hit = 'dynamo' in point && point.match(step) && ++matched === (point.nth ?? 1);
      if (hit && point.dynamo === 'before') die();
      const out = await next(args);
      guard();
      if (hit && point.dynamo === 'after') die();
      return out;
    },
    { step: 'initialize', name: 'reliabilityProcessDeath' },
  );
  const oks = 'afterOk' in point ? (point.shared ?? { oks: 0 }) : { oks: 0 };
  const post = createPostJson();
  const dyingPost: PostJson = async (url, body, options) => {
    guard();
    const answer = await post(url, body, options);
    guard();
    if ('afterOk' in point && answer.status >= 200 && answer.status < 300 && ++oks.oks === point.afterOk)
      die();
    return answer;
  };
  const app = world.newApp({ dynamo: client, post: dyingPost });
  const fetchPage = app.reader.fetchPage.bind(app.reader);
  let pages = 0;
  app.reader.fetchPage = async (...args) => {
    guard();
    if ('beforePage' in point && ++pages === point.beforePage) die();
    return fetchPage(...args);
  };
  return {
    app,
    doomed: {
      get dead() {
        return dead;
      },
      label: point.label,
    },
  };
}

/** The partition and sort key of a DynamoDB request's item or key (SDK input or wire JSON alike); '' when none. */
export function keyOf(input: Record<string, unknown>): { pk: string; sk: string } {
  const item = (input.Item ?? input.Key) as Record<string, { S?: string }> | undefined;
  return { pk: item?.pk?.S ?? '', sk: item?.sk?.S ?? '' };
}

// ---- secrets ------------------------------------------------------------------------------------------

const webhookKey = WEBHOOK_SECRET.slice('whsec_'.length);

/** A secret value, and the destination it authenticates to (whose requests may carry it). */
export interface Secret {
  name: string;
  value: string;
  owner?: SinkName;
}

/** Every secret value a world holds: none may appear in a log line, error, summary or message. */
export function worldSecrets(world: World): Secret[] {
  const query = (path: string, name: string) => new URLSearchParams(path.split('?')[1]).get(name)!;
  const secrets: Secret[] = [
    { name: 'AK', value: AK },
    { name: 'SK', value: SK },
    { name: 'webhook secret', value: WEBHOOK_SECRET },
    { name: 'webhook signing key', value: webhookKey },
    { name: 'Feishu secret', value: FEISHU_SECRET },
    { name: 'DingTalk secret', value: DINGTALK_SECRET },
    { name: 'PagerDuty routing key', value: PAGERDUTY_ROUTING_KEY, owner: 'pagerduty' },
    { name: 'Slack URL token', value: SLACK_SINK_PATH.split('/').at(-1)! },
    { name: 'Teams URL signature', value: query(TEAMS_SINK_PATH, 'sig') },
    { name: 'Discord URL token', value: DISCORD_SINK_PATH.split('/').at(-1)! },
    { name: 'Google Chat URL key', value: query(GOOGLECHAT_SINK_PATH, 'key') },
    { name: 'WeCom URL key', value: query(WECOM_SINK_PATH, 'key') },
    { name: 'DingTalk URL token', value: query(DINGTALK_SINK_PATH, 'access_token') },
    { name: 'Feishu URL token', value: FEISHU_SINK_PATH.split('/').at(-1)! },
  ];
  for (const [name, sink] of sinksOf(world)) {
    // Whole URLs (the webhook's path alone is the product's name; PagerDuty's and SMN's are public).
    if (name !== 'pagerduty' && name !== 'smn') secrets.push({ name: `${name} URL`, value: sink.url });
  }
  return secrets;
}

/**
 * `secrets` found in `texts`, each as `name in where: …context…`; a text sent to a destination
 * (`to`) may carry that destination's own credential (PagerDuty's routing key is in its body).
 */
export function leaks(
  texts: ReadonlyArray<{ where: string; text: string; to?: SinkName }>,
  secrets: readonly Secret[],
): string[] {
  const found: string[] = [];
  for (const { where, text, to } of texts) {
    for (const { name, value, owner } of secrets) {
      if (owner !== undefined && owner === to) continue;
      const at = text.indexOf(value);
      if (at >= 0)
        found.push(`${name} in ${where}: …${text.slice(Math.max(0, at - 60), at + value.length + 20)}…`);
    }
  }
  return found;
}

/**
 * Everything reachable from `value` as text: strings, numbers, object fields, and for errors their
 * name, message, stack, cause and own properties (enumerable or not), so that a secret hidden in an
 * attached SDK or axios error is found too.
 */
export function deepText(value: unknown): string {
  const out: string[] = [];
  const seen = new Set<unknown>();
  const walk = (v: unknown, depth: number): void => {
    if (depth > 12 || v === null || v === undefined) return;
    if (typeof v === 'string') return void out.push(v);
    if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint')
      return void out.push(String(v));
    if (typeof v === 'function' || typeof v === 'symbol') return;
    if (seen.has(v)) return;
    seen.add(v);
    if (Buffer.isBuffer(v)) return void out.push(v.toString('utf8'));
    if (v instanceof Error) {
      out.push(v.name, v.message, v.stack ?? '');
      walk(v.cause, depth + 1);
    }
    for (const key of Object.getOwnPropertyNames(v)) {
      out.push(key);
      let child: unknown;
      try {
        child = (v as Record<string, unknown>)[key];
      } catch {
        continue;
      }
      walk(child, depth + 1);
    }
  };
  walk(value, 0);
  return out.join(' ');
}

/** One log line as a person reads it: level, message and extra fields (errors included deeply). */
export function renderLine(line: LogLine): string {
  return `${line.level.toUpperCase()} ${line.message}${line.extra ? ` ${deepText(line.extra)}` : ''}`;
}

/** What a world's sinks were sent, as texts to scan: request bodies (headers carry signatures by design). */
export function sentTexts(world: World): Array<{ where: string; text: string; to: SinkName }> {
  return sinksOf(world).flatMap(([name, sink]) =>
    sink.attempts.map((a, i) => ({ where: `${name} request ${i}`, text: a.body, to: name })),
  );
}

/** Every sink of a world, by name. */
function sinksOf(world: World): Array<[SinkName, Sink]> {
  return Object.entries(world.sinks) as Array<[SinkName, Sink]>;
}
