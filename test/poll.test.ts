import { poll, type PollOptions } from '../lib/poll';
import { createStateStore, type StateStore } from '../lib/state/store';
import { useLocalDynamo } from './support/dynamo';
import {
  fakeTaskSource,
  manualClock,
  MIN,
  recordingLog,
  recordingNotifier,
  SCOPE,
  T0,
  task,
} from './support/fakes';

const local = useLocalDynamo('state');
let tableName: string;

beforeEach(async () => {
  tableName = await local.freshTable();
});

const OPTIONS: PollOptions = {
  scope: SCOPE,
  lastDays: 1,
  alertStatuses: ['failed', 'timeout'],
  leaseMs: 3 * MIN,
};

function setup() {
  const clock = manualClock();
  const hss = fakeTaskSource(clock.now);
  const slack = recordingNotifier('slack');
  const webhook = recordingNotifier('webhook');
  const log = recordingLog();
  const store = createStateStore({ client: local.dynamo().client, tableName });
  const deps = { hss, store, notifiers: [slack, webhook], clock: clock.now, log, random: () => 0.5 };
  return { clock, hss, slack, webhook, log, store, deps };
}

describe('poll', () => {
  it('alerts on failures already in the window on the first poll of an empty table', async () => {
    // Prepare
    const { hss, slack, webhook, deps } = setup();
    hss.tasks = [
      task({ hostId: 'a', status: 'failed', rawStatus: 'failed' }),
      task({ hostId: 'b', status: 'timeout', rawStatus: 'timeout' }),
      task({ hostId: 'c', status: 'running' }),
    ];
    // Act
    const summary = await poll(deps, OPTIONS);
    // Assess
    expect(summary).toMatchObject({
      tasksSeen: 3,
      alertsNew: 2,
      alertsSent: 4,
      deliveriesPending: 0,
      hssCalls: 3,
    });
    expect(slack.delivered.map((a) => a.task.hostId).sort()).toEqual(['a', 'b']);
    expect(webhook.delivered).toHaveLength(2);
  });

  it('sends nothing and writes nothing when polled again with identical API data', async () => {
    const { hss, slack, deps, clock } = setup();
    hss.tasks = [task({ hostId: 'a', status: 'failed', rawStatus: 'failed' }), task({ hostId: 'c' })];
    await poll(deps, OPTIONS);
    for (const advance of [5 * MIN, 5 * MIN]) {
      clock.advance(advance);
      const again = await poll(deps, OPTIONS);
      expect(again).toMatchObject({ alertsNew: 0, alertsSent: 0, transitions: 0, writeCapacity: 0 });
    }
    expect(slack.delivered).toHaveLength(1);
  });

  it('knows the previous status when a running task fails', async () => {
    const { hss, slack, deps, clock } = setup();
    hss.tasks = [task({ hostId: 'a', status: 'running' })];
    clock.set(T0 - (T0 % (10 * MIN))); // an even tick sweeps the running list
    await poll(deps, OPTIONS);
    hss.tasks = [task({ hostId: 'a', status: 'failed', rawStatus: 'failed', process: 40 })];
    clock.advance(5 * MIN);
    await poll(deps, OPTIONS);
    expect(slack.delivered).toHaveLength(1);
    expect(slack.delivered[0]).toMatchObject({
      previousStatus: 'running',
      status: 'failed',
      reason: 'moved',
    });
  });

  it('records the window without alerting when asked for a baseline, then alerts on what is new', async () => {
    const { hss, slack, deps, clock } = setup();
    hss.tasks = [task({ hostId: 'a', status: 'failed', rawStatus: 'failed' })];
    const first = await poll(deps, { ...OPTIONS, baseline: true });
    hss.tasks.push(task({ hostId: 'b', status: 'failed', rawStatus: 'failed' }));
    clock.advance(5 * MIN);
    await poll(deps, OPTIONS);
    expect(first.alertsNew).toBe(0);
    expect(slack.delivered.map((a) => a.task.hostId)).toEqual(['b']);
  });

  it('writes nothing and sends nothing on a dry run, but says what it would send', async () => {
    const { hss, slack, deps, store } = setup();
    hss.tasks = [task({ hostId: 'a', status: 'failed', rawStatus: 'failed' })];
    const summary = await poll(deps, { ...OPTIONS, dryRun: true });
    expect(summary.wouldSend?.map((a) => a.task.hostId)).toEqual(['a']);
    expect(summary.writeCapacity).toBe(0);
    expect(slack.batches).toHaveLength(0);
    expect((await store.readWorkingSet(SCOPE)).tasks.size).toBe(0);
  });

  it('retries a webhook that is down for two polls and delivers once when it is back, without repeating Slack', async () => {
    // Prepare
    const { hss, slack, webhook, deps, clock } = setup();
    hss.tasks = [task({ hostId: 'a', status: 'failed', rawStatus: 'failed' })];
    webhook.answer = () => ({ kind: 'retryable', error: 'HTTP 503' });
    // Act
    const down1 = await poll(deps, OPTIONS);
    clock.advance(5 * MIN);
    const down2 = await poll(deps, OPTIONS);
    webhook.answer = () => ({ kind: 'ok' });
    clock.advance(5 * MIN);
    const back = await poll(deps, OPTIONS);
    clock.advance(5 * MIN);
    const after = await poll(deps, OPTIONS);
    // Assess
    expect([down1.deliveriesPending, down2.deliveriesPending, back.deliveriesPending]).toEqual([1, 1, 0]);
    expect(webhook.batches).toHaveLength(3);
    expect(webhook.delivered).toHaveLength(1);
    expect(slack.delivered).toHaveLength(1);
    expect(after).toMatchObject({ alertsSent: 0, writeCapacity: 0 });
  });

  it('stops retrying a destination that is gone for good and reports it', async () => {
    const { hss, webhook, deps, clock, log } = setup();
    hss.tasks = [task({ hostId: 'a', status: 'failed', rawStatus: 'failed' })];
    webhook.answer = () => ({ kind: 'permanent', error: 'HTTP 410 channel_is_archived' });
    const first = await poll(deps, OPTIONS);
    clock.advance(5 * MIN);
    await poll(deps, OPTIONS);
    expect(first.deliveriesFailed).toBe(1);
    expect(webhook.batches).toHaveLength(1);
    expect(log.lines.some((l) => l.level === 'error' && String(l.extra?.error).includes('410'))).toBe(true);
  });

  it('gives a delivery up once it has failed past the expiry, logging and counting it', async () => {
    const { hss, webhook, deps, clock, log } = setup();
    hss.tasks = [
      task({
        hostId: 'a',
        status: 'failed',
        rawStatus: 'failed',
        startedAt: new Date(T0 - MIN).toISOString(),
      }),
    ];
    webhook.answer = () => ({ kind: 'retryable', error: 'HTTP 500' });
    const policy = { baseMs: MIN, maxMs: 10 * MIN, expireAfterMs: 30 * MIN };
    await poll(deps, { ...OPTIONS, retryPolicy: policy });
    clock.advance(31 * MIN);
    const late = await poll(deps, { ...OPTIONS, retryPolicy: policy });
    expect(late).toMatchObject({ deliveriesExpired: 1, deliveriesPending: 0 });
    expect(log.lines.some((l) => l.message.startsWith('Delivery expired'))).toBe(true);
  });

  it('sends exactly one notification per transition when three polls of the scope run at once', async () => {
    // Prepare: each poll has its own store and DynamoDB client, like separate Lambda instances.
    const { hss, slack, webhook, clock, log } = setup();
    hss.tasks = Array.from({ length: 12 }, (_, i) =>
      task({ hostId: `h${i}`, status: 'failed', rawStatus: 'failed' }),
    );
    const run = () =>
      poll(
        {
          hss,
          store: createStateStore({ client: local.dynamo().newClient(), tableName }),
          notifiers: [slack, webhook],
          clock: clock.now,
          log,
        },
        OPTIONS,
      );
    // Act
    await Promise.all([run(), run(), run()]);
    clock.advance(5 * MIN);
    await Promise.all([run(), run(), run()]);
    // Assess
    expect(slack.delivered).toHaveLength(12);
    expect(new Set(slack.delivered.map((a) => a.id)).size).toBe(12);
    expect(webhook.delivered).toHaveLength(12);
  });

  it('lets no overlapping poll send what another poll is still delivering', async () => {
    // Prepare: poll A is mid-delivery when polls B and C run from start to end.
    const { hss, slack, clock, log } = setup();
    hss.tasks = Array.from({ length: 5 }, (_, i) =>
      task({ hostId: `h${i}`, status: 'failed', rawStatus: 'failed' }),
    );
    const depsFor = () => ({
      hss,
      store: createStateStore({ client: local.dynamo().newClient(), tableName }),
      notifiers: [slack],
      clock: clock.now,
      log,
    });
    const deliver = slack.deliver;
    let overlapping: Promise<unknown> | undefined;
    slack.deliver = async (alerts) => {
      if (!overlapping) {
        overlapping = Promise.all([poll(depsFor(), OPTIONS), poll(depsFor(), OPTIONS)]);
        await overlapping;
      }
      return deliver(alerts);
    };
    // Act
    await poll(depsFor(), OPTIONS);
    // Assess
    expect(overlapping).toBeDefined();
    expect(slack.delivered).toHaveLength(5);
    expect(new Set(slack.delivered.map((a) => a.id)).size).toBe(5);
  });

  it('sends, before it lets go of the lease, alerts that an overlapping poll recorded meanwhile', async () => {
    // Prepare: while poll A delivers, a new failure appears and poll B records it but cannot deliver.
    const { hss, slack, clock, log } = setup();
    hss.tasks = [task({ hostId: 'first', status: 'failed', rawStatus: 'failed' })];
    const depsFor = () => ({
      hss,
      store: createStateStore({ client: local.dynamo().newClient(), tableName }),
      notifiers: [slack],
      clock: clock.now,
      log,
    });
    const deliver = slack.deliver;
    let overlapped: Awaited<ReturnType<typeof poll>> | undefined;
    slack.deliver = async (alerts) => {
      if (!overlapped) {
        hss.tasks.push(task({ hostId: 'late', status: 'failed', rawStatus: 'failed' }));
        overlapped = await poll(depsFor(), OPTIONS);
      }
      return deliver(alerts);
    };
    // Act
    const a = await poll(depsFor(), OPTIONS);
    // Assess
    expect(overlapped).toMatchObject({ alertsNew: 1, alertsSent: 0 });
    expect(a.alertsSent).toBe(2);
    expect(slack.delivered.map((x) => x.task.hostId)).toEqual(['first', 'late']);
  });

  it('resolves a running task that left the window unfinished and alerts that it failed', async () => {
    // Prepare: a restore started just inside the 1-day window, seen running.
    const { hss, slack, deps, clock } = setup();
    const startedAt = new Date(T0 - 86_400_000 + 2 * MIN).toISOString();
    clock.set(T0 - (T0 % (10 * MIN)));
    hss.tasks = [task({ hostId: 'edge', status: 'running', startedAt })];
    await poll(deps, OPTIONS);
    // Act: it fails after it has dropped out of last_days=1; two polls cover both sweeps.
    hss.tasks = [task({ hostId: 'edge', status: 'failed', rawStatus: 'failed', startedAt })];
    clock.advance(10 * MIN);
    const summary = await poll(deps, OPTIONS);
    // Assess
    expect(hss.queries.some((q) => q.resourceName === 'ecs-edge' && q.lastDays === 2)).toBe(true);
    expect(summary.alertsNew).toBe(1);
    expect(slack.delivered[0]).toMatchObject({ reason: 'resolved-after-window', previousStatus: 'running' });
  });

  it('logs a task that left the window and cannot be found again, instead of forgetting it silently', async () => {
    const { hss, deps, clock, log } = setup();
    const startedAt = new Date(T0 - 86_400_000 + 2 * MIN).toISOString();
    clock.set(T0 - (T0 % (10 * MIN)));
    hss.tasks = [task({ hostId: 'gone', status: 'running', startedAt })];
    await poll(deps, OPTIONS);
    hss.tasks = [];
    clock.advance(10 * MIN);
    const summary = await poll(deps, OPTIONS);
    expect(summary.unresolved).toBe(1);
    expect(log.lines.some((l) => l.level === 'warn' && l.extra?.hostId === 'gone')).toBe(true);
  });
});

describe('poll under a crash in the middle of a batch', () => {
  it('repeats at most the one message in flight, because each answer is recorded before the next send', async () => {
    // Prepare: five alerts go out one by one; the process dies while recording the third answer.
    const { hss, clock, log, store } = setup();
    hss.tasks = Array.from({ length: 5 }, (_, i) =>
      task({ hostId: `h${i}`, status: 'failed', rawStatus: 'failed' }),
    );
    const sent = recordingNotifier('slack');
    const deliver = sent.deliver;
    let crashed = false;
    sent.deliver = (alerts, onOutcome) =>
      deliver(alerts, async (i, outcome) => {
        if (i === 2 && !crashed) {
          crashed = true;
          throw new Error('injected crash while recording');
        }
        await onOutcome?.(i, outcome);
      });
    const deps = { hss, store, notifiers: [sent], clock: clock.now, log };
    // Act
    await expect(poll(deps, OPTIONS)).rejects.toThrow(/injected crash/);
    clock.advance(5 * MIN);
    await poll(deps, OPTIONS);
    // Assess: alerts 0 and 1 were recorded, 2 was sent but not recorded, 3 and 4 were never sent.
    const ids = sent.delivered.map((a) => a.task.hostId);
    expect(new Set(ids).size).toBe(5);
    expect(ids).toEqual(['h0', 'h1', 'h2', 'h2', 'h3', 'h4']);
  });
});

describe('poll under crashes', () => {
  type Step = 'after-fetch' | 'after-recording-alerts' | 'after-sending' | 'before-marking-done';
  const steps: Array<[Step, number]> = [
    ['after-fetch', 0],
    ['after-recording-alerts', 0],
    ['after-sending', 1],
    ['before-marking-done', 1],
  ];

  /** Wraps the store so that the chosen step throws once, as if the process died there. */
  function crashing(store: StateStore, step: Step): { store: StateStore; crashed: () => boolean } {
    let crashed = false;
    const crash = () => {
      crashed = true;
      throw new Error(`injected crash ${step}`);
    };
    return {
      crashed: () => crashed,
      store: {
        ...store,
        stats: store.stats,
        async readWorkingSet(scope) {
          if (step === 'after-fetch' && !crashed) crash();
          return store.readWorkingSet(scope);
        },
        async putTasks(scope, tasks) {
          if (step === 'after-recording-alerts' && !crashed) crash();
          return store.putTasks(scope, tasks);
        },
        async saveDelivery(scope, record, destination) {
          if (step === 'before-marking-done' && !crashed) crash();
          return store.saveDelivery(scope, record, destination);
        },
      },
    };
  }

  it.each(steps)(
    'loses no alert when the poll crashes %s (duplicates allowed: %i)',
    async (step, allowedExtra) => {
      // Prepare
      const { hss, slack, store, clock, log } = setup();
      hss.tasks = Array.from({ length: 3 }, (_, i) =>
        task({ hostId: `h${i}`, status: 'failed', rawStatus: 'failed' }),
      );
      const wrapped = crashing(store, step);
      const sent = recordingNotifier('slack');
      const notifier = { ...sent, deliver: sent.deliver };
      if (step === 'after-sending') {
        let crashed = false;
        notifier.deliver = async (alerts) => {
          const outcomes = await sent.deliver(alerts);
          if (!crashed) {
            crashed = true;
            throw new Error('injected crash after-sending');
          }
          return outcomes;
        };
      }
      const deps = { hss, store: wrapped.store, notifiers: [notifier], clock: clock.now, log };
      // Act
      await expect(poll(deps, OPTIONS)).rejects.toThrow(/injected crash/);
      for (let i = 0; i < 3; i++) {
        clock.advance(5 * MIN); // past the lease (3 min) the crashed poll left behind
        await poll(deps, OPTIONS);
      }
      // Assess
      const ids = sent.delivered.map((a) => a.id);
      expect(new Set(ids).size).toBe(3);
      expect(ids.length).toBeLessThanOrEqual(3 + allowedExtra * 3);
      expect(slack.delivered).toHaveLength(0);
    },
  );
});
