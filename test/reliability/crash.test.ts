// Crash consistency, exhaustively: a scripted scenario (a failure paged to PagerDuty, a silenced
// failure released when its silence ends, a stuck task, a retry that resolves the failure, reminders)
// is run once without a crash, then once per DynamoDB write it makes, the process killed just before
// that write (a new container reruns the tick and the scenario goes on). Every run must deliver what
// the uncrashed run delivered, leave the same alerts open, resolve every PagerDuty trigger the
// uncrashed run resolved, and repeat nothing but what the documented window allows: a delivery sent
// with a 2xx whose recording the crash prevented.
import { ScanCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Message } from '../../lib/model';
import type { Silence } from '../../lib/state/records';
import type { LifecycleConfig } from '../../lib/config/types';
import type { EmulatedTask } from '../../local/hss-emulator';
import type { Sink } from '../../local/sinks';
import { useEngine, type EngineName } from '../support/engines';
import { MIN, openWorld, record, type World } from '../e2e/world';
import { doomedApp } from './support';

const WRITES = new Set(['PutItemCommand', 'UpdateItemCommand', 'DeleteItemCommand', 'BatchWriteItemCommand']);
const PERIOD = 15 * MIN;
const POLLS = 9;
const LIFECYCLE: Partial<LifecycleConfig> = {
  stuckAfterMinutes: 5,
  stuckMaxHours: 6,
  notifyResolved: true,
  remindAfterHours: 1,
};

/** The scenario: what changes at HSS (and in the silences) before each poll. */
async function script(w: World, poll: number, tasks: Record<string, EmulatedTask>): Promise<void> {
  const now = w.clock();
  if (poll === 0) {
    const silence: Silence = {
      id: 'maintenance',
      hosts: ['web-02'],
      backups: [],
      statuses: [],
      startsAt: now,
      endsAt: now + 40 * MIN,
      reason: 'patching',
      createdAt: now,
    };
    await w.app.lifecycle.putSilence(silence, now);
    tasks.failed = record('web-01', 'failed', now - 20 * MIN);
    tasks.silenced = record('web-02', 'failed', now - 20 * MIN);
    tasks.stuck = record('db-03', 'running', now - 30 * MIN, { process: 41 });
    w.tasks.push(tasks.failed, tasks.silenced, tasks.stuck);
  }
  if (poll === 3) {
    tasks.retry = record('web-01', 'running', now - MIN, { process: 10 });
    w.tasks.push(tasks.retry);
  }
  if (poll === 4) Object.assign(tasks.retry!, { status: 'success', process: 100 });
  if (poll === 6) Object.assign(tasks.stuck!, { status: 'success', process: 100 });
}

/** What a run left at the receivers and in the state. */
interface Outcome {
  /** Per destination, how many requests carried each message id. */
  delivered: Map<string, number>;
  /** PagerDuty actions per dedup key, in order. */
  pagerduty: Map<string, string[]>;
  /** Ids of the alerts left open. */
  open: string[];
  /** DynamoDB writes the run's first process made (all of them, when it never died). */
  writes: number;
  /** Deliveries the dying process got a 2xx for but had not recorded: they may be sent again. */
  allowed: Map<string, number>;
  died: boolean;
}

/** Message ids each request to `sink` carried (the webhook's `id`, PagerDuty's action on a key). */
function messagesOf(name: string, sink: Sink): string[] {
  return sink.received.map((r) => {
    const body = r.json as { id?: string; event_action?: string; dedup_key?: string };
    return name === 'pagerduty' ? `${body.event_action} ${body.dedup_key}` : String(body.id);
  });
}

function countDelivered(w: World): Map<string, number> {
  const out = new Map<string, number>();
  for (const [name, sink] of Object.entries(w.sinks))
    for (const id of messagesOf(name, sink!)) out.set(`${name} ${id}`, (out.get(`${name} ${id}`) ?? 0) + 1);
  return out;
}

/**
 * Runs the scenario; the first process dies before its `crashAt`-th write (never, when undefined)
 * and a new one reruns the tick and goes on.
 */
async function runScenario(engine: ReturnType<typeof useEngine>, crashAt?: number): Promise<Outcome> {
  const w = await openWorld({
    engine,
    sinks: ['webhook', 'pagerduty'],
    periodSeconds: PERIOD / 1000,
    lifecycle: LIFECYCLE,
    emulator: { ratePerMinute: Infinity },
    ratePerMinute: 100,
  });
  try {
    const tasks: Record<string, EmulatedTask> = {};
    let writes = 0;
    const client: DynamoDBClient = engine.newClient();
    client.middlewareStack.add(
      (next, context) => async (args) => {
        if (WRITES.has(context.commandName ?? '')) writes += 1;
        return next(args);
      },
      { step: 'initialize', name: 'countWrites', priority: 'high' },
    );
    const { app: first, doomed } = doomedApp(w, client, {
      dynamo: 'before',
      match: (step) => WRITES.has(step.command),
      nth: crashAt ?? Number.MAX_SAFE_INTEGER,
      label: `write ${crashAt}`,
    });
    let current = first;
    let allowed = new Map<string, number>();
    for (let poll = 0; poll < POLLS; poll++) {
      await script(w, poll, tasks);
      const start = w.clock();
      try {
        await w.tick(current);
      } catch (err) {
        if (!doomed.dead || current !== first) throw err;
        allowed = await sentNotRecorded(w, engine.client());
        // A new container reruns the tick.
        current = w.newApp({ dynamo: engine.newClient() });
        await w.tick(current);
      }
      w.time.now = Math.max(w.clock(), start + PERIOD);
    }
    const open = [];
    for (const scope of current.scopes)
      open.push(...(await current.lifecycle.allOpen(scope.id)).map((o) => o.alert.id));
    const pagerduty = new Map<string, string[]>();
    for (const id of messagesOf('pagerduty', w.sinks.pagerduty!)) {
      const [action, key] = id.split(' ');
      pagerduty.set(key!, [...(pagerduty.get(key!) ?? []), action!]);
    }
    return { delivered: countDelivered(w), pagerduty, open: open.sort(), writes, allowed, died: doomed.dead };
  } finally {
    await w.close();
  }
}

/** The key a message reaches PagerDuty under, as `action dedup_key` (messagesOf's form). */
function pagerdutyKey(m: Message): string | undefined {
  if (m.kind === 'alert') return `trigger ${m.taskRef}`;
  if (m.kind === 'resolved') return `resolve ${m.taskRef}`;
  if (m.kind === 'notice' && m.notice === 'monitoring-down') return `trigger ${m.incidentKey ?? m.id}`;
  if (m.kind === 'notice' && m.notice === 'monitoring-recovered') return `resolve ${m.incidentKey ?? m.id}`;
  return undefined;
}

/**
 * Deliveries a sink accepted whose outbox record does not say `done` (read straight from the
 * table): the crash window of any at-least-once sender, repeated once the next process sends them.
 */
async function sentNotRecorded(w: World, client: DynamoDBClient): Promise<Map<string, number>> {
  const items: Array<Record<string, { S?: string }>> = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const out = await client.send(
      new ScanCommand({ TableName: w.tableName, ExclusiveStartKey: startKey as never }),
    );
    items.push(...((out.Items ?? []) as Array<Record<string, { S?: string }>>));
    startKey = out.LastEvaluatedKey;
  } while (startKey);
  const received = countDelivered(w);
  const out = new Map<string, number>();
  for (const item of items) {
    if (!item.message?.S) continue;
    const message = JSON.parse(item.message.S) as Message;
    for (const name of Object.keys(w.sinks)) {
      const state = item[`delivery#${name}`]?.S
        ? (JSON.parse(item[`delivery#${name}`]!.S!) as { state: string })
        : undefined;
      if (!state || state.state === 'done') continue;
      const key = name === 'pagerduty' ? pagerdutyKey(message) : message.id;
      if (key === undefined) continue;
      const n = received.get(`${name} ${key}`) ?? 0;
      if (n > 0) out.set(`${name} ${key}`, n);
    }
  }
  return out;
}

function describeCrashes(engineName: EngineName, every: number): void {
  describe(`crash points on ${engineName}`, () => {
    const engine = useEngine(engineName);

    it(`loses nothing, leaves nothing unresolved and repeats only the documented window, whichever write the process dies at${every > 1 ? ` (every ${every}th)` : ''}`, async () => {
      const baseline = await runScenario(engine);
      const problems: string[] = [];
      let points = 0;
      let lost = 0;
      let unresolved = 0;
      let duplicated = 0;
      let allowedTotal = 0;
      for (let k = 1; k <= baseline.writes; k += every) {
        const run = await runScenario(engine, k);
        points += 1;
        if (!run.died) problems.push(`write ${k}: the process did not die`);
        for (const [delivery, n] of baseline.delivered) {
          const got = run.delivered.get(delivery) ?? 0;
          if (got < n) {
            lost += 1;
            problems.push(`write ${k}: ${delivery} lost`);
          }
        }
        for (const [key, actions] of baseline.pagerduty) {
          if (actions.at(-1) === 'resolve' && run.pagerduty.get(key)?.at(-1) !== 'resolve') {
            unresolved += 1;
            problems.push(`write ${k}: PagerDuty ${key} not resolved`);
          }
        }
        if (JSON.stringify(run.open) !== JSON.stringify(baseline.open))
          problems.push(
            `write ${k}: open alerts ${run.open.join(',')} instead of ${baseline.open.join(',')}`,
          );
        for (const [delivery, n] of run.delivered) {
          const extra = n - (baseline.delivered.get(delivery) ?? 0);
          if (extra <= 0) continue;
          duplicated += extra;
          const allowed = run.allowed.get(delivery) ?? 0;
          allowedTotal += Math.min(extra, allowed);
          if (extra > allowed)
            problems.push(`write ${k}: ${delivery} sent ${extra} more time(s), ${allowed} allowed`);
        }
      }
      console.log(
        `crash points ${points} | lost ${lost} | unresolved ${unresolved} | duplicated ${duplicated} (allowed ${allowedTotal})`,
      );
      expect(baseline.writes).toBeGreaterThan(20);
      expect(baseline.pagerduty.size).toBeGreaterThan(0);
      expect(problems).toEqual([]);
    }, 3_600_000);
  });
}

describeCrashes('dynalite', 1);
