import { createHash } from 'node:crypto';
import { GetItemCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import type { HssAuth } from '../../lib/huaweicloud/credentials';
import type { CallBudget } from '../../lib/budget/port';
import { PK, RETENTION, SK, ttlAfter } from '../../lib/state/layout';
import { budgetHash, createTableBudget, type TableBudgetOptions } from '../../lib/budget/dynamodb';
import { createTableClient, type TableClient } from '../../lib/state/table-client';
import { createPageReader } from '../../lib/hss/reader';
import { silentLog } from '../../lib/log';
import { makeTasks, startHssEmulator } from '../../local/hss-emulator';
import { useLocalDynamo } from '../support/dynamo';
import { describeEachEngine } from '../support/engines';
import { virtualTime, type VirtualTime } from './virtual-time';

const local = useLocalDynamo('budget');
const T0 = Date.UTC(2026, 10, 29, 12, 0, 0);
const MIN = 60_000;
const AK = 'AK-SECRET-ZZ9PLURALZALPHA';
const CREDENTIALS: Record<string, HssAuth> = {
  default: { kind: 'aksk', ak: AK, sk: 'SK-1' },
  other: { kind: 'aksk', ak: 'OTHER-AK', sk: 'SK-2' },
  /** Another stack's name for the same HSS user. */
  alias: { kind: 'aksk', ak: AK, sk: 'SK-1' },
  iam: { kind: 'token', token: 'TOKEN-1' },
};

/** Most of `times` inside any span [t, t + 60 s): what HSS would count. */
function maxInAnyMinute(times: number[]): number {
  const sorted = [...times].sort((a, b) => a - b);
  return Math.max(0, ...sorted.map((t) => sorted.filter((u) => u >= t && u < t + MIN).length));
}

async function world() {
  const tableName = await local.freshTable();
  const time = virtualTime(T0);
  const tables: TableClient[] = [];
  /** One "container": its own table client (DynamoDB counters) and budget instance. */
  const container = (over: Partial<TableBudgetOptions> = {}) => {
    const table = createTableClient({ client: local.dynamo().client, tableName });
    tables.push(table);
    const budget = createTableBudget({
      table,
      credentials: CREDENTIALS,
      ratePerMinute: 5,
      clock: time.clock,
      sleep: time.sleep,
      ...over,
    });
    return { table, budget };
  };
  const item = async (credential = 'default') => {
    const out = await local.dynamo().client.send(
      new GetItemCommand({
        TableName: tableName,
        Key: {
          pk: { S: PK.budget(budgetHash(credential, CREDENTIALS[credential]!)) },
          sk: { S: SK.budget },
        },
        ConsistentRead: true,
      }),
    );
    return out.Item;
  };
  return { tableName, time, container, item, tables };
}

/** Acquires for `credential` in a loop until virtual time passes `until`, pausing `pause` ms after each call. */
function caller(
  time: VirtualTime,
  budget: CallBudget,
  starts: number[],
  until: number,
  pause = 0,
  credential = 'default',
) {
  return async () => {
    while (time.clock() < until) {
      if (!(await budget.acquire(credential, until))) return;
      starts.push(time.clock());
      await time.sleep(pause);
    }
  };
}

describe('DynamoDB call budget', () => {
  it('lets 3 containers acquiring at once for one credential start at most 5 calls in any minute, using the budget', async () => {
    // Prepare
    const { time, container } = await world();
    const [a, b, c] = [container(), container(), container()];
    const starts: number[] = [];
    const until = T0 + 10 * MIN;
    // Act
    await time.run(
      caller(time, a.budget, starts, until, 0),
      caller(time, b.budget, starts, until, 700),
      caller(time, c.budget, starts, until, 3_000),
    );
    // Assess: never more than 5 in a minute, and at least 5 in every 61 s + 10 s slack.
    expect(maxInAnyMinute(starts)).toBeLessThanOrEqual(5);
    expect(starts.length).toBeGreaterThanOrEqual(Math.floor((10 * MIN) / 71_000) * 5);
  });

  it('counts calls across stacks that name the same AK differently, and keeps other users apart', async () => {
    // Prepare
    const { time, container } = await world();
    const stackA = container();
    const stackB = container();
    const same: number[] = [];
    const other: number[] = [];
    // Act: both stacks call as fast as they may for 2 minutes; a third uses another AK.
    await time.run(
      caller(time, stackA.budget, same, T0 + 2 * MIN, 0, 'default'),
      caller(time, stackB.budget, same, T0 + 2 * MIN, 0, 'alias'),
      caller(time, stackB.budget, other, T0 + 2 * MIN, 0, 'other'),
    );
    // Assess
    expect(maxInAnyMinute(same)).toBe(5);
    expect(maxInAnyMinute(other)).toBe(5);
    expect(other.filter((t) => t === T0)).toHaveLength(5);
  });

  it('holds every container after one penalises the credential', async () => {
    // Prepare
    const { time, container } = await world();
    const a = container();
    const b = container();
    // Act
    await a.budget.penalize('default', 30_000);
    const next = await b.budget.nextSlot('default');
    await b.budget.acquire('default', Infinity);
    // Assess
    expect(next).toBe(T0 + 30_000);
    expect(time.clock()).toBe(T0 + 30_000);
  });

  it('keeps the longest penalty when two containers penalise', async () => {
    const { time, container } = await world();
    const a = container();
    const b = container();
    await a.budget.penalize('default', 45_000);
    await b.budget.penalize('default', 10_000);
    await a.budget.acquire('default', Infinity);
    expect(time.clock()).toBe(T0 + 45_000);
  });

  it('answers false, claiming nothing, when the earliest slot is after latestStart', async () => {
    // Prepare: 5 calls spent.
    const { time, container, item } = await world();
    const a = container();
    for (let i = 0; i < 5; i++) await a.budget.acquire('default', Infinity);
    const before = await item();
    const writes = a.table.stats.writeCapacity;
    // Act
    const tooLate = await a.budget.acquire('default', T0 + 30_000);
    // Assess
    expect(tooLate).toBe(false);
    expect(time.sleeps).toEqual([]);
    expect(a.table.stats.writeCapacity).toBe(writes);
    expect(await item()).toEqual(before);
  });

  it('keys the item by a hash of the AK (never the AK), or the token credential name, with a TTL', async () => {
    // Prepare
    const { tableName, container } = await world();
    const a = container();
    // Act
    await a.budget.acquire('default', Infinity);
    await a.budget.acquire('iam', Infinity);
    await a.budget.penalize('other', 5_000);
    // Assess
    const items = (await local.dynamo().client.send(new ScanCommand({ TableName: tableName }))).Items ?? [];
    const sha = createHash('sha256').update(AK).digest('hex');
    expect(items.map((i) => i.pk!.S).sort()).toEqual(
      [`B#${sha}`, `B#${createHash('sha256').update('OTHER-AK').digest('hex')}`, 'B#token:iam'].sort(),
    );
    expect(JSON.stringify(items)).not.toContain(AK);
    expect(JSON.stringify(items)).not.toContain('TOKEN-1');
    for (const i of items) {
      expect(i.sk!.S).toBe('B');
      expect(Number(i.ttl!.N)).toBeGreaterThanOrEqual(ttlAfter(T0, RETENTION.budgetDays));
      expect(Number(i.ttl!.N)).toBeLessThanOrEqual(ttlAfter(T0 + MIN, RETENTION.budgetDays));
    }
  });

  it('reserves two slots per write: a cold poll of 2 calls costs one read and one write, a warm one a single write', async () => {
    // Prepare
    const { time, container } = await world();
    const a = container();
    // Act: poll 1 (cold), then poll 2 a minute later with the same instance (warm container).
    await a.budget.acquire('default', Infinity);
    await a.budget.acquire('default', Infinity);
    const cold = a.table.stats.requests;
    await time.sleep(MIN);
    await a.budget.acquire('default', Infinity);
    await a.budget.acquire('default', Infinity);
    // Assess
    expect(cold).toBe(2);
    expect(a.table.stats.requests - cold).toBe(1);
  });

  it('gives back a reserved slot that went unused once it expires, at its next write', async () => {
    // Prepare: one call uses the first slot of a batch of 2; the second expires unused.
    const { time, container, item } = await world();
    const a = container({ ownerId: 'a' });
    await a.budget.acquire('default', Infinity);
    await time.sleep(20_000);
    // Act
    await a.budget.acquire('default', Infinity);
    // Assess: the first slot is recorded at its actual start; the unused one is gone; 2 new ones reserved.
    const slots = (await item())!.slots!.M!;
    expect(Object.fromEntries(Object.entries(slots).map(([id, v]) => [id, Number(v.N) - T0]))).toEqual({
      'a.1': 0,
      'a.3': 30_000,
      'a.4': 30_000,
    });
  });

  it('makes a second container wait for slots the first reserved, until their latest start is a window old', async () => {
    // Prepare: container a reserves (and uses) 5 slots at once.
    const { time, container } = await world();
    const a = container({ batchSize: 5 });
    const b = container();
    for (let i = 0; i < 5; i++) await a.budget.acquire('default', Infinity);
    // Act
    await b.budget.acquire('default', Infinity);
    // Assess: a has not written since, so b counts a's slots at their latest start (+10 s) and 61 s.
    expect(time.clock() - T0).toBe(10_000 + 61_000);
  });

  it('keeps three invocations paging at once under 5 calls a minute at the emulator, which never throttles', async () => {
    // Prepare: 3 invocations (own table client, budget and reader each) read 6 pages apiece.
    const { time, container } = await world();
    const hss = await startHssEmulator({
      now: time.clock,
      ratePerMinute: 5,
      tasks: makeTasks(600, { now: T0 }),
    });
    try {
      const invocation = () => {
        const { budget } = container();
        const reader = createPageReader({
          credentials: { default: { kind: 'aksk', ak: 'EMULATORAK', sk: 'EMULATORSK' } },
          endpoint: hss.url,
          budget,
          clock: time.clock,
          sleep: time.sleep,
          log: silentLog,
          random: () => 0.5,
        });
        return async () => {
          const target = { projectId: 'demo-project', enterpriseProjectId: '0', credential: 'default' };
          for (let offset = 0; offset < 600; offset += 100) {
            await reader.fetchPage(target, { lastDays: 1 }, offset, T0 + 60 * MIN, 100);
          }
        };
      };
      // Act
      await time.run(invocation(), invocation(), invocation());
      // Assess
      expect(hss.requests).toHaveLength(18);
      expect(hss.requests.every((r) => r.status === 200)).toBe(true);
      expect(hss.maxCallsInAnyMinute('default')).toBe(5);
    } finally {
      await hss.close();
    }
  });
});

// Issue 17 #6: writers whose clocks disagree by 15-20 minutes (a laptop's dry run against the
// deployed poller's table) neither starve each other nor, together, exceed what HSS counts by its
// own clock, once each has read a write of the other (before that, a writer whose clock is behind
// looks older than it is: no reader can know better from one read).
describeEachEngine('DynamoDB call budget across clocks', (engine) => {
  async function skewedWorld() {
    const tableName = await engine.freshTable('budget-clocks');
    const time = virtualTime(T0);
    /** A budget whose clock is `skewMs` off HSS's (the virtual time is HSS's clock). */
    const writer = (skewMs: number, ownerId: string, over: Partial<TableBudgetOptions> = {}) =>
      createTableBudget({
        table: createTableClient({ client: engine.client(), tableName }),
        credentials: CREDENTIALS,
        ratePerMinute: 5,
        clock: () => time.clock() + skewMs,
        sleep: time.sleep,
        ownerId,
        ...over,
      });
    return { time, writer };
  }

  it('lets the deployed poller read a minute after a dry run from a machine 20 minutes fast, not 20 minutes later', async () => {
    // Prepare: the laptop's dry run spends the minute's 5 calls at T0 (its clock says T0 + 20 min).
    const { time, writer } = await skewedWorld();
    const laptop = writer(20 * MIN, 'laptop');
    const poller = writer(0, 'poller');
    const starts: number[] = [];
    for (let i = 0; i < 5; i++) {
      await laptop.acquire('default', Infinity);
      starts.push(time.clock());
    }
    await time.sleep(MIN);

    // Act: the poller reads 10 pages.
    const next = await poller.nextSlot('default');
    const polled: number[] = [];
    for (let i = 0; i < 10; i++) {
      await poller.acquire('default', Infinity);
      polled.push(time.clock());
    }

    // Assess: it waits at most a window for the laptop's calls (it cannot know how old they are),
    // then reads at HSS's pace; HSS never counts more than 5 in a minute.
    expect(next).toBeLessThanOrEqual(T0 + 3 * MIN);
    expect(polled[0]).toBeLessThanOrEqual(T0 + 3 * MIN);
    expect(polled[9]).toBeLessThanOrEqual(T0 + 5 * MIN);
    expect(maxInAnyMinute([...starts, ...polled])).toBeLessThanOrEqual(5);
  });

  it.each([
    ['20 minutes fast', 20 * MIN],
    ['15 minutes slow', -15 * MIN],
  ])(
    'keeps a poller and a writer %s both reading for 10 minutes, together within HSS limit once each has seen the other write',
    async (_how, skewMs) => {
      // Prepare
      const { time, writer } = await skewedWorld();
      const poller = writer(0, 'poller');
      const other = writer(skewMs, 'other');
      const fromPoller: number[] = [];
      const fromOther: number[] = [];
      const until = T0 + 10 * MIN;

      // Act: both read as fast as the budget lets them (the other pauses a little between calls).
      await time.run(caller(time, poller, fromPoller, until, 0), async () => {
        while (time.clock() < until) {
          if (!(await other.acquire('default', until + skewMs))) return;
          fromOther.push(time.clock());
          await time.sleep(2_000);
        }
      });

      // Assess: together they used nearly all of the 50 calls HSS allows in 10 minutes, each a fair
      // part; HSS counts at most 5 in any minute after the first. In the first, the writer whose
      // clock is ahead may read the other's calls as 20 minutes old until that one writes again
      // (one read cannot tell a clock behind from an old write): at most one minute's calls more.
      const all = [...fromPoller, ...fromOther];
      expect(fromPoller.length).toBeGreaterThanOrEqual(15);
      expect(fromOther.length).toBeGreaterThanOrEqual(15);
      expect(all.length).toBeGreaterThanOrEqual(45);
      expect(maxInAnyMinute(all.filter((t) => t >= T0 + MIN))).toBeLessThanOrEqual(5);
      expect(maxInAnyMinute(all)).toBeLessThanOrEqual(2 * 5);
    },
  );

  it('holds the others for the length of a penalty from a writer 20 minutes fast, not for 20 minutes', async () => {
    // Prepare
    const { time, writer } = await skewedWorld();
    const laptop = writer(20 * MIN, 'laptop');
    await laptop.acquire('default', Infinity);

    // Act: HSS throttled the laptop, which holds the credential for 30 s (by its clock); then the
    // poller's next invocation plans its calls.
    await laptop.penalize('default', 30_000);
    const poller = writer(0, 'poller');
    const next = await poller.nextSlot('default');
    await poller.acquire('default', Infinity);

    // Assess
    expect(next).toBeGreaterThanOrEqual(T0 + 30_000);
    expect(next).toBeLessThanOrEqual(T0 + MIN);
    expect(time.clock()).toBe(next);
  });
});
