// `npm run bench`: our poll against the naive baseline on the HSS emulator, dynalite and a Slack
// sink, every measured poll in a fresh child process; then the handler bundle's size and load time.
// Writes BENCHMARKS.md (or `--out FILE`); `--quick` runs one repetition of each chain.
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem, type as osType, release } from 'node:os';
import { join, resolve } from 'node:path';
import { format, resolveConfig } from 'prettier';
import { createStateTable, startLocalDynamo, type LocalDynamo } from '../local/dynamo';
import { startHssEmulator, type HssEmulator } from '../local/hss-emulator';
import { startSlackSink, type Sink } from '../local/sinks';
import { createBaselineTable } from './baseline';
import {
  buildChild,
  buildHandlerBundles,
  measureLoad,
  median,
  readServerlessParam,
  requireProbe,
  ROOT,
} from './bundle';
import type { ChildConfig, ChildMessage, GoMessage, PeakSource, PollCounts } from './child';
import {
  renderReport,
  SDK_ONLY,
  type Aggregate,
  type BenchData,
  type PollerId,
  type ScenarioId,
} from './report';
import {
  mutateWindow,
  SIZES,
  statusCounts,
  T_BASE,
  tickTime,
  windowTasks,
  type Mix,
  type Mutation,
} from './scenarios';

/** One measured poll. */
export interface PollRun {
  counts: PollCounts;
  clientCalls: number;
  wallMs: number;
  maxRssKb: number;
  peakSource: PeakSource;
  readyRssKb: number;
  /** Insertion into the emulator -> first Slack message at the sink, wall ms (scenario c only). */
  latencyMs?: number;
  sinkMessages: number;
  warnings: string[];
}

interface Servers {
  dynamo: LocalDynamo;
  emulator: HssEmulator;
  sink: Sink;
  childJs: string;
}

// Virtual time shared by the emulator (here) and each child: tickStart at wall time anchor.
let tick = { tickStart: T_BASE, anchor: Date.now() };
const virtualNow = (): number => tick.tickStart + (Date.now() - tick.anchor);

let tables = 0;

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const quick = args.includes('--quick');
  const outIndex = args.indexOf('--out');
  const outFile = outIndex >= 0 ? resolve(args[outIndex + 1] ?? '') : join(ROOT, 'BENCHMARKS.md');
  const startedAt = performance.now();
  const tmp = mkdtempSync(join(tmpdir(), 'hss-bench-'));
  const servers: Servers = {
    dynamo: await startLocalDynamo(),
    // The 5/min limit is lifted for wall time; what it would cost is computed from the call counts.
    emulator: await startHssEmulator({ ratePerMinute: 0, now: virtualNow }),
    sink: await startSlackSink(),
    childJs: await buildChild(tmp),
  };
  try {
    const aggregates: Aggregate[] = [];
    const windows: BenchData['windows'] = [];
    // The servers' code is cold in the first chain; one unreported chain each warms it.
    progress('warm-up (not reported)');
    await ourChain(servers, 1_000, 'realistic');
    await baselineChain(servers, 1_000);
    for (const size of SIZES) {
      const reps = quick ? 1 : size >= 10_000 ? 3 : 5;
      const counts = statusCounts(windowTasks(size));
      windows.push({ size, mix: 'realistic', counts });
      progress(`window ${size}: ${reps} chain(s) per poller`);
      const ours = await repeat(reps, () => ourChain(servers, size, 'realistic'));
      const base = await repeat(reps, () => baselineChain(servers, size));
      aggregates.push(
        ...aggregate(size, 'realistic', 'ours', ours),
        ...aggregate(size, 'realistic', 'baseline', base),
      );
    }
    progress('window 10000, failure-heavy mix: 1 chain of our poll');
    const heavySize = 10_000;
    windows.push({ size: heavySize, mix: 'heavy', counts: statusCounts(windowTasks(heavySize, 'heavy')) });
    const heavy = await repeat(1, () => ourChain(servers, heavySize, 'heavy', false));
    aggregates.push(...aggregate(heavySize, 'heavy', 'ours', heavy));
    progress('window 10000, failure-heavy mix: first poll under the heap flags of a 128 MB Lambda');
    const lambda128 = await firstPollUnderFlags(servers, heavySize, 'heavy', LAMBDA_128_FLAGS);

    progress('bundles and module load');
    const bundles = await buildHandlerBundles(tmp);
    const externals = bundles[0]?.externals ?? [];
    const load = measureLoad(
      [
        ...bundles.map((b) => requireProbe(b.label, b.path)),
        ...(externals.length > 0
          ? [{ label: SDK_ONLY, code: externals.map((m) => `require(${JSON.stringify(m)})`).join(';') }]
          : []),
      ],
      tmp,
      11,
    );

    const data: BenchData = {
      machine: {
        cpu: cpus()[0]?.model ?? 'unknown',
        cores: cpus().length,
        memoryGiB: totalmem() / 2 ** 30,
        os: `${osType()} ${release()}`,
        node: process.version,
        date: new Date().toISOString(),
      },
      quick,
      deploy: {
        timeoutSeconds: numberOrUndefined(readServerlessParam('timeoutSeconds')),
        periodSeconds: numberOrUndefined(readServerlessParam('periodSeconds')),
      },
      benchSeconds: (performance.now() - startedAt) / 1000,
      windows,
      aggregates,
      bundles,
      load,
      lambda128: { flags: LAMBDA_128_FLAGS, size: heavySize, mix: 'heavy', ...lambda128 },
    };
    const markdown = renderReport(data);
    const config = (await resolveConfig(outFile)) ?? {};
    writeFileSync(outFile, await format(markdown, { ...config, parser: 'markdown' }));
    progress(`wrote ${outFile} in ${data.benchSeconds.toFixed(0)} s`);
  } finally {
    await servers.sink.close();
    await servers.emulator.close();
    await servers.dynamo.close();
    rmSync(tmp, { recursive: true, force: true });
  }
}

type Chain = Partial<Record<ScenarioId, PollRun>> & { mutation?: Mutation; expectedFirstAlerts: number };

/**
 * Our poll over five ticks on a fresh table: (a) tick 0 sweeps `running` on an empty table; tick 1
 * sweeps `waiting` (first sight of the waiting list, not measured); (b) ticks 2 and 3, nothing
 * changed, one per in-flight list; (c) tick 4 after the mutation, sweeping `running` again.
 */
async function ourChain(servers: Servers, size: number, mix: Mix, withMutation = true): Promise<Chain> {
  const tasks = windowTasks(size, mix);
  servers.emulator.tasks = tasks;
  const tableName = `ours-${size}-${mix}-${++tables}`;
  await createStateTable(servers.dynamo.client, tableName);
  const config = childConfig(servers, 'ours', tableName);
  const chain: Chain = { expectedFirstAlerts: alertStatusCount(tasks) };
  chain.a = await runPoll(servers, config, 0);
  chain.setup = await runPoll(servers, config, 1);
  chain.b = await runPoll(servers, config, 2);
  if (!withMutation) return chain;
  chain.b2 = await runPoll(servers, config, 3);
  chain.c = await runPoll(servers, config, 4, () => (chain.mutation = mutateWindow(tasks, tickTime(4))));
  return chain;
}

/**
 * The heap flags the Lambda Node.js runtime's bootstrap is reported to pass for 128 MB (new space =
 * memory / 10, half of it per semi-space; old space = the rest), so V8 collects about as it would there.
 */
const LAMBDA_128_FLAGS = ['--max-semi-space-size=6', '--max-old-space-size=116'];

/** Scenario (a) alone, on a fresh table, with extra node flags. */
async function firstPollUnderFlags(
  servers: Servers,
  size: number,
  mix: Mix,
  execArgv: string[],
): Promise<{ completed: true; run: PollRun } | { completed: false; error: string }> {
  servers.emulator.tasks = windowTasks(size, mix);
  const tableName = `ours-${size}-${mix}-flags-${++tables}`;
  await createStateTable(servers.dynamo.client, tableName);
  try {
    return {
      completed: true,
      run: await runPoll(servers, childConfig(servers, 'ours', tableName), 0, undefined, execArgv),
    };
  } catch (err) {
    return { completed: false, error: err instanceof Error ? err.message : String(err) };
  }
}

/** The baseline at the same virtual times: (a) tick 0, (b) tick 2, (c) tick 4 after the same mutation. */
async function baselineChain(servers: Servers, size: number): Promise<Chain> {
  const tasks = windowTasks(size);
  servers.emulator.tasks = tasks;
  const tableName = `baseline-${size}-${++tables}`;
  await createBaselineTable(servers.dynamo.client, tableName);
  const config = childConfig(servers, 'baseline', tableName);
  const chain: Chain = { expectedFirstAlerts: alertStatusCount(tasks) };
  chain.a = await runPoll(servers, config, 0);
  chain.b = await runPoll(servers, config, 2);
  chain.c = await runPoll(servers, config, 4, () => (chain.mutation = mutateWindow(tasks, tickTime(4))));
  return chain;
}

function childConfig(servers: Servers, poller: PollerId, tableName: string): ChildConfig {
  return {
    poller,
    hssUrl: servers.emulator.url,
    dynamoEndpoint: servers.dynamo.endpoint,
    tableName,
    sinkUrl: servers.sink.url,
  };
}

function alertStatusCount(tasks: ReadonlyArray<{ status: string }>): number {
  return tasks.filter((t) => t.status === 'failed' || t.status === 'timeout').length;
}

/**
 * Forks a fresh child, waits until it has loaded and built its clients, applies `beforeGo` (the
 * mutation: its time is when the failures "appear in the API"), then lets it poll at tick `k`.
 */
function runPoll(
  servers: Servers,
  config: ChildConfig,
  k: number,
  beforeGo?: () => void,
  execArgv: string[] = [],
): Promise<PollRun> {
  const env: NodeJS.ProcessEnv = { ...process.env, NODE_NO_WARNINGS: '1' };
  delete env.NODE_OPTIONS;
  // Our own execArgv would bring tsx's loader into the child: it runs the plain bundle, as a Lambda would.
  const child = fork(servers.childJs, [JSON.stringify(config)], {
    execArgv,
    env,
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise<PollRun>((resolvePoll, reject) => {
    let readyRssKb = 0;
    let insertedAt: number | undefined;
    let sinkBefore = 0;
    let settled = false;
    child.on('message', (message: ChildMessage) => {
      if (message.type === 'ready') {
        readyRssKb = message.rssKb;
        sinkBefore = servers.sink.received.length;
        if (beforeGo) {
          beforeGo();
          insertedAt = Date.now();
        }
        tick = { tickStart: tickTime(k), anchor: Date.now() };
        child.send({ type: 'go', ...tick } satisfies GoMessage);
      } else if (message.type === 'done') {
        settled = true;
        const arrivals = servers.sink.received.slice(sinkBefore);
        const first = insertedAt === undefined ? undefined : arrivals.find((r) => r.at >= insertedAt!);
        resolvePoll({
          counts: message.counts,
          clientCalls: message.clientCalls,
          wallMs: message.wallMs,
          maxRssKb: message.maxRssKb,
          peakSource: message.peakSource,
          readyRssKb,
          latencyMs: first && insertedAt !== undefined ? first.at - insertedAt : undefined,
          sinkMessages: arrivals.length,
          warnings: message.warnings,
        });
      } else {
        settled = true;
        reject(new Error(`${config.poller} poll at tick ${k} failed: ${message.message}`));
      }
    });
    child.on('exit', (code) => {
      if (!settled)
        reject(new Error(`${config.poller} child exited with ${code} before finishing: ${stderr}`));
    });
  });
}

async function repeat<T>(times: number, run: () => Promise<T>): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < times; i++) out.push(await run());
  return out;
}

function aggregate(size: number, mix: Mix, poller: PollerId, chains: Chain[]): Aggregate[] {
  const scenarios: ScenarioId[] = ['a', 'setup', 'b', 'b2', 'c'];
  const out: Aggregate[] = [];
  for (const scenario of scenarios) {
    const runs = chains.map((c) => c[scenario]).filter((r): r is PollRun => r !== undefined);
    if (runs.length === 0) continue;
    const first = runs[0]!;
    const countsVary = runs.some((r) => JSON.stringify(r.counts) !== JSON.stringify(first.counts));
    const latencies = runs.map((r) => r.latencyMs).filter((l): l is number => l !== undefined);
    const mutation = chains[0]!.mutation;
    out.push({
      size,
      mix,
      poller,
      scenario,
      runs: runs.length,
      counts: first.counts,
      countsVary,
      clientCalls: first.clientCalls,
      wallMs: median(runs.map((r) => r.wallMs)),
      wallMinMs: Math.min(...runs.map((r) => r.wallMs)),
      wallMaxMs: Math.max(...runs.map((r) => r.wallMs)),
      maxRssKb: Math.max(...runs.map((r) => r.maxRssKb)),
      peakSource: first.peakSource,
      readyRssKb: median(runs.map((r) => r.readyRssKb)),
      latencyMs: latencies.length > 0 ? median(latencies) : undefined,
      sinkMessages: first.sinkMessages,
      expectedAlerts:
        scenario === 'a' ? chains[0]!.expectedFirstAlerts : scenario === 'c' ? mutation?.expectedAlerts : 0,
      mutation: scenario === 'c' ? mutation : undefined,
      warnings: [...new Set(runs.flatMap((r) => r.warnings))],
    });
  }
  return out;
}

function numberOrUndefined(value: string | undefined): number | undefined {
  const n = Number(value);
  return value === undefined || !Number.isFinite(n) ? undefined : n;
}

function progress(message: string): void {
  process.stderr.write(`[bench] ${message}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(
    `[bench] failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
  );
  process.exitCode = 1;
});
