// `status` is never wrong in either direction (issue 18 #3): a scope is judged against the latency
// bound its schedule and the scopes sharing its call budget promise. Quiet scopes stay healthy poll
// after poll; a blind scope and a starved call budget turn it unhealthy within the bound. On the
// whole product (createApp, the HSS emulator, dynalite) on a virtual clock.
import { statusCommand, type StatusReport } from '../../cli/status';
import type { App } from '../../lib/app';
import { useEngine } from '../support/engines';
import { MIN, openWorld, PROJECT, record, T0, type World } from '../e2e/world';

jest.setTimeout(300_000);

const engine = useEngine('dynalite');
let world: World | undefined;
afterEach(async () => {
  await world?.close();
  world = undefined;
});

async function status(app: App): Promise<{ code: number; report: StatusReport }> {
  const lines: string[] = [];
  const code = await statusCommand(app, (l) => lines.push(l), true);
  return { code, report: JSON.parse(lines.join('\n')) as StatusReport };
}

/** `n` quiet scopes on one credential (a few finished tasks each), polled every minute. */
async function quietWorld(n: number): Promise<World> {
  const projects = Array.from({ length: n }, (_, i) => (i === 0 ? PROJECT : `project-${i}`));
  const w = await openWorld({
    engine,
    sinks: ['webhook'],
    emulator: { projects },
    scopes: projects.map((projectId) => ({
      projectId,
      region: 'cn-north-4',
      enterpriseProjectId: '0',
      credential: 'default',
    })),
  });
  for (const [i, projectId] of projects.entries())
    w.tasks.push({ ...record(`ok-${i}`, 'success', T0 - 3 * 60 * MIN), project_id: projectId });
  return w;
}

describe('status judged against the latency bound', () => {
  it.each([1, 30])('stays healthy through 60 healthy polls of %i quiet scope(s), every time', async (n) => {
    world = await quietWorld(n);
    const verdicts: number[] = [];
    const reports: StatusReport[] = [];
    for (let i = 0; i < 60; i++) {
      await world.tick();
      const { code, report } = await status(world.app);
      verdicts.push(code);
      reports.push(report);
    }
    // The first polls of 30 scopes are still reading some for the first time: they are not late yet.
    expect(verdicts).toEqual(verdicts.map(() => 0));
    expect(reports.at(-1)!.scopes).toHaveLength(n);
    expect(reports.at(-1)!.scopes.every((s) => s.healthy && s.readWholeAt > 0)).toBe(true);
  });

  it('turns unhealthy within the bound when a scope is blind (HSS answers 503), and healthy again after it is read', async () => {
    world = await quietWorld(1);
    for (let i = 0; i < 5; i++) await world.tick();
    world.emulator.injectFault({ kind: 'status', status: 503 }, Infinity);
    const blindFrom = world.clock();
    const during: Array<{ at: number; code: number }> = [];
    for (let i = 0; i < 5; i++) {
      await world.tick();
      during.push({ at: world.clock() - blindFrom, code: (await status(world.app)).code });
    }
    world.emulator.clearFaults();
    await world.tick();
    const after = await status(world.app);

    const firstBad = during.find((d) => d.code === 1);
    const { report } = await status(world.app);
    expect(firstBad).toBeDefined();
    // Bound of one scope: a minute, plus the period of the poll under way.
    expect(firstBad!.at).toBeLessThanOrEqual(3 * MIN);
    expect(during.at(-1)!.code).toBe(1);
    expect(after.code).toBe(0);
    expect(report.scopes[0]!.boundMs).toBe(MIN);
  });

  it('turns unhealthy when the call budget lets no call start, and names the credential', async () => {
    world = await quietWorld(1);
    for (let i = 0; i < 3; i++) await world.tick();
    // Another client of the same HSS user takes every slot.
    world.app.budget.acquire = async () => false;
    const codes = [];
    for (let i = 0; i < 4; i++) {
      await world.tick();
      codes.push((await status(world.app)).code);
    }
    const { report } = await status(world.app);
    expect(codes.slice(-2)).toEqual([1, 1]);
    expect(report.budgets[0]).toMatchObject({ credential: 'default' });
    expect(report.budgets[0]!.starvedPolls).toBeGreaterThanOrEqual(3);
  });
});
