// A record HSS sends can be anything, up to megabytes per field: through the real recording path
// (the emulator's JSON, the reader, the poll, the outbox and every store on DynamoDB Local) no item
// may outgrow DynamoDB's 400 KB, no poll may fail, and the healthy failure beside it is alerted.
import fc from 'fast-check';
import { FIELD_LIMITS } from '../../lib/hss/parse';
import type { EmulatedTask } from '../../local/hss-emulator';
import { useEngine } from '../support/engines';
import { MIN, openWorld, record, webhookAlertsByHost, type World } from '../e2e/world';

const engine = useEngine('DynamoDB Local');

/** Text of up to 1 MB of one repeated character (plain, accented, astral, a control, markup, a quote). */
const bigText = fc
  .tuple(fc.nat({ max: 1_000_000 }), fc.constantFrom('a', 'é', '😀', '\u0000', '<', '"', ' '))
  .map(([n, ch]) => ch.repeat(Math.ceil(n / ch.length)));

/** A record whose every text field may be huge; identifiable unless its host id is blank. */
const hugeRecord = fc.record({
  host_id: fc.oneof(bigText, fc.constant('h')),
  host_name: bigText,
  backup_name: bigText,
  status: fc.constantFrom('failed', 'timeout', 'running', 'success', 'FAILED '),
  error_info: fc.record({ code: bigText, message: bigText }),
});

describe(`records of any size on ${engine.name}`, () => {
  let world: World | undefined;
  afterEach(async () => {
    await world?.close();
    world = undefined;
  });

  it('never outgrow an item, never fail a poll, and never cost the healthy failure beside them its alert', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(hugeRecord, { minLength: 1, maxLength: 3 }), async (records) => {
        // The deployed HSS timeout (10 s), not the worlds' 2 s: a page of three such records is up to
        // 90 MB of JSON, seconds to build and send even on loopback.
        world = await openWorld({ engine, emulator: { ratePerMinute: Infinity }, hssTimeoutMs: 10_000 });
        const start = world.clock() - 30 * MIN;
        const served: EmulatedTask[] = records.map((r, i) => ({
          ...record('x', 'failed', start + i * MIN),
          ...r,
          started_at: new Date(start + i * MIN).toISOString(),
        }));
        world.tasks.push(...served, record('healthy', 'failed', start - MIN));

        const polls = [await world.tick(), await world.tick()];

        expect(polls.map((p) => p.scopesFailed)).toEqual([[], []]);
        expect(webhookAlertsByHost(world.sinks.webhook!).get('healthy')).toBe(1);
        for (const body of world.sinks.webhook!.received.map((r) => JSON.stringify(r.json))) {
          // Every field reached the receiver clipped: a message is tens of KB at most (a character can
          // take 6 in JSON), never megabytes.
          expect(body.length).toBeLessThan(6 * 2 * Object.values(FIELD_LIMITS).reduce((a, b) => a + b, 0));
        }
        await world.close();
        world = undefined;
      }),
      // A fixed seed: the same 8 draws every run, so CI's time is known and a failure reproduces.
      { numRuns: 8, seed: 20261205 },
    );
  }, 600_000);
});
