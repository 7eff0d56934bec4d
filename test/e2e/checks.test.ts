// Sub-minute detection (CHECKS_PER_MINUTE): an invocation checks again inside its period while the
// call budget allows. One scope, failures appearing at any moment, the Lambda's own invocation path
// (runInvocation) against the emulator's 5 calls a minute: the time from a failure appearing at HSS
// to the webhook receiving its alert.
import { DEFAULT_HTTP_TIMEOUT_MS } from '../../lib/notify/http';
import type { EmulatedTask } from '../../local/hss-emulator';
import { useEngine } from '../support/engines';
import { MIN, openWorld, record } from '../e2e/world';

const engine = useEngine('dynalite');

/** Failure-to-chat times (ms) over `minutes` of invocations, failures appearing every 73 s. */
async function latencies(checksPerMinute: number, minutes: number, deliveryTimeoutMs?: number) {
  const world = await openWorld({
    engine,
    checksPerMinute,
    sinks: ['webhook'],
    ...(deliveryTimeoutMs ? { deliveryTimeoutMs } : {}),
  });
  try {
    const T = world.clock();
    const due: Array<{ task: EmulatedTask; at: number }> = [];
    for (let i = 0; i * 73_000 < (minutes - 2) * MIN; i++) {
      const at = T + 30_000 + i * 73_000;
      due.push({ task: record(`f${i}`, 'failed', at - 5 * MIN), at });
    }
    const appeared = new Map<string, number>();
    world.emulator.beforePage = () => {
      while (due.length > 0 && due[0]!.at <= world.clock()) {
        const next = due.shift()!;
        world.tasks.push(next.task);
        appeared.set(next.task.host_name, next.at);
      }
    };
    const invocations = [];
    for (let i = 0; i < minutes; i++) invocations.push(await world.invoke(world.app, 58_000));
    const times = [...appeared].map(([host, at]) => {
      const got = world.sinks.webhook!.received.find((r) => r.body.includes(`"${host}"`));
      return got ? got.at - at : Infinity;
    });
    const throttled = invocations.flat().reduce((n, s) => n + s.hssThrottled, 0);
    return { times: times.sort((a, b) => a - b), throttled, checks: invocations.map((c) => c.length) };
  } finally {
    await world.close();
  }
}

const median = (xs: number[]) => xs[Math.floor(xs.length / 2)]!;

describe('checks per minute', () => {
  it('with 5 a minute, a failure reaches chat in 20 s at the median and 40 s at worst, never throttled', async () => {
    const { times, throttled, checks } = await latencies(5, 30);
    expect(times.length).toBeGreaterThan(20);
    expect(median(times)).toBeLessThanOrEqual(20_000);
    expect(times.at(-1)).toBeLessThanOrEqual(40_000);
    expect(throttled).toBe(0);
    expect(Math.max(...checks)).toBe(5);
  });

  it('with 5 a minute and the deployed 10 s delivery timeout, every check but the last delivers what it found: 40 s at worst', async () => {
    // A send needs its timeout and its recording (15 s) before the deadline: more than the 11 s
    // between two checks, so each check delivers until the invocation's end, not the next check.
    const { times } = await latencies(5, 20, DEFAULT_HTTP_TIMEOUT_MS);
    expect(times.length).toBeGreaterThan(10);
    expect(median(times)).toBeLessThanOrEqual(20_000);
    expect(times.at(-1)).toBeLessThanOrEqual(40_000);
  });

  it('with 1 a minute (the default), one check an invocation: within a minute and the delivery', async () => {
    const { times, throttled, checks } = await latencies(1, 30);
    expect(times.at(-1)).toBeLessThanOrEqual(MIN + 5_000);
    expect(median(times)).toBeGreaterThan(20_000);
    expect(throttled).toBe(0);
    expect(checks.every((n) => n === 1)).toBe(true);
  });
});
