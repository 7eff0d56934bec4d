import type { Context, ScheduledEvent } from 'aws-lambda';
import { pollMetrics, type PollMetric } from '../handlers/metrics';
import type { PollSummary } from '../lib/poll';
import { createStateTable, startLocalDynamo, type LocalDynamo } from '../local/dynamo';
import { startHssEmulator, type HssEmulator } from '../local/hss-emulator';
import { startSlackSink, type Sink } from '../local/sinks';
import event from '../events/schedule.json';
import { README_TEXT, quietSummary, readmeMetricRows, troubledSummary } from './metrics-fixtures';

/** CloudWatch's price of one metric a month (first 10,000 metrics, us-east-1), as the README states it. */
const PRICE = 0.3;
const GAUGES: PollMetric[] = [
  { name: 'HssCalls', unit: 'Count', value: 4 },
  { name: 'PollDuration', unit: 'Milliseconds', value: 1_234 },
  { name: 'DetectionLag', unit: 'Seconds', value: 65 },
];

describe('pollMetrics', () => {
  it('sends only the three gauges for a quiet invocation: HSS calls, poll duration in ms, detection lag in whole seconds', () => {
    expect(pollMetrics(quietSummary())).toEqual(GAUGES);
  });

  it.each<[string, (s: PollSummary) => void, number]>([
    // Refused for good and given up after the retry horizon: neither arrives.
    ['DeliveryFailures', (s) => Object.assign(s.delivery, { failed: 1, expired: 2 }), 3],
    ['DeliveriesPending', (s) => Object.assign(s.delivery, { pending: 4 }), 4],
    ['DestinationsDegraded', (s) => (s.delivery.destinationsDegraded = ['teams', 'webhook']), 2],
    ['DestinationsFailing', (s) => (s.delivery.destinationsFailing = ['slack']), 1],
    ['ScopesBlind', (s) => (s.scopesBlind = 3), 3],
    ['BudgetStarved', (s) => (s.budgetStarved = ['default']), 1],
    ['HssThrottled', (s) => (s.hssThrottled = 2), 2],
    [
      'ListsLeftForNextPoll',
      (s) =>
        (s.left = [
          { scope: 'cn-north-4/p1/0', list: 'failed', offset: 200 },
          { scope: 'cn-north-4/p1/0', list: 'running', offset: 400 },
        ]),
      2,
    ],
  ])('sends %s, counted, only when it is not zero', (name, trouble, value) => {
    // Prepare
    const summary = quietSummary();
    trouble(summary);
    // Act
    const metrics = pollMetrics(summary);
    // Assess
    expect(metrics).toEqual([...GAUGES, { name, unit: 'Count', value }]);
  });

  it('counts new alerts per status, one series per status that had alerts and none for the others', () => {
    // Prepare
    const summary = { ...quietSummary(), alertsNew: 3, alertsByStatus: { failed: 2, stuck: 1 } };
    // Act
    const alerts = pollMetrics(summary).filter((m) => m.name === 'AlertsNew');
    // Assess
    expect(alerts).toEqual([
      { name: 'AlertsNew', unit: 'Count', value: 2, status: 'failed' },
      { name: 'AlertsNew', unit: 'Count', value: 1, status: 'stuck' },
    ]);
  });

  it('names no scope, host or destination however many are in trouble', () => {
    const text = JSON.stringify(pollMetrics(troubledSummary()));
    for (const named of ['cn-north-4', 'p1', 'p2', 'slack', 'teams', 'default']) {
      expect(text).not.toContain(named);
    }
  });
});

interface Emf {
  _aws: { CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string }[] }[] };
  [key: string]: unknown;
}

describe('handlers/poll, its metrics as CloudWatch reads them (EMF)', () => {
  let dynamo: LocalDynamo;
  let hss: HssEmulator;
  let slack: Sink;
  const savedEnv = process.env;
  let handler: (e: ScheduledEvent, c: Context) => Promise<PollSummary>;
  const context = {
    functionName: 'poll',
    awsRequestId: 'req-metrics',
    getRemainingTimeInMillis: () => 50_000,
  } as unknown as Context;

  beforeAll(async () => {
    [dynamo, hss, slack] = await Promise.all([
      startLocalDynamo(),
      startHssEmulator({ ratePerMinute: 0 }),
      startSlackSink(),
    ]);
    await createStateTable(dynamo.client, 'metrics');
    process.env = {
      ...savedEnv,
      HSS_PROJECT_ID: 'demo-project',
      HSS_ENDPOINT: hss.url,
      CLOUD_SDK_AK: 'EMULATORAK',
      CLOUD_SDK_SK: 'EMULATORSK',
      SLACK_WEBHOOK_URL: slack.url,
      STATE_TABLE: 'metrics',
      DYNAMODB_ENDPOINT: dynamo.endpoint,
      AWS_REGION: 'us-east-1',
      // Ticks here come back to back: the container's limiter would space them.
      HSS_RATE_LIMIT_PER_MINUTE: '600',
      STAGE: 'prod',
      POWERTOOLS_LOG_LEVEL: 'SILENT',
      LOG_LEVEL: 'SILENT',
      POWERTOOLS_METRICS_DISABLED: undefined,
      POWERTOOLS_DEV: undefined,
    };
    jest.isolateModules(() => {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      handler = require('../handlers/poll').handler;
    });
  });
  afterAll(async () => {
    process.env = savedEnv;
    await Promise.all([dynamo.close(), hss.close(), slack.close()]);
  });

  /** One tick of the handler; the EMF lines it wrote to stdout, parsed, and as written. */
  async function tick(): Promise<{ emf: Emf[]; lines: string[] }> {
    const written: string[] = [];
    const write = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: unknown) => {
      written.push(String(chunk));
      return true;
    });
    try {
      await handler(event as ScheduledEvent, context);
    } finally {
      write.mockRestore();
    }
    const lines = written.flatMap((chunk) => chunk.split('\n')).filter((l) => l.includes('"_aws"'));
    return { emf: lines.map((l) => JSON.parse(l) as Emf), lines };
  }

  /** Each metric in `emf` as name, its dimensions (name=value) and value. */
  const series = (emf: Emf[]) =>
    emf.flatMap((blob) =>
      blob._aws.CloudWatchMetrics.flatMap((d) =>
        d.Metrics.map((m) => ({
          namespace: d.Namespace,
          name: m.Name,
          dimensions: d.Dimensions.map((set) => set.map((k) => `${k}=${String(blob[k])}`).join(', ')),
          value: blob[m.Name],
        })),
      ),
    );

  it('sends the gauges with the stage’s dimensions, and each new alert status as its own series', async () => {
    // Prepare: a failed and a timed-out task, new to this stage.
    const ended = new Date(Date.now() - 60_000).toISOString();
    const started = new Date(Date.now() - 7_200_000).toISOString();
    const task = (host: string, status: string) => ({
      host_id: `${host}-id`,
      host_name: host,
      backup_name: 'autobk_1',
      process: 40,
      status,
      started_at: started,
      ended_at: ended,
      error_info: { code: 'HSS.5021', message: 'agent offline' },
    });
    hss.tasks.push(task('ecs-metrics-1', 'failed'), task('ecs-metrics-2', 'timeout'));
    // Act
    const { emf } = await tick();
    // Assess
    const stage = 'service=hss-restore-alerts, stage=prod';
    expect(series(emf).sort((a, b) => a.dimensions[0]!.localeCompare(b.dimensions[0]!))).toEqual([
      {
        namespace: 'HssRestoreAlerts',
        name: 'HssCalls',
        dimensions: [stage],
        value: expect.any(Number),
      },
      { namespace: 'HssRestoreAlerts', name: 'PollDuration', dimensions: [stage], value: expect.any(Number) },
      { namespace: 'HssRestoreAlerts', name: 'DetectionLag', dimensions: [stage], value: expect.any(Number) },
      { namespace: 'HssRestoreAlerts', name: 'AlertsNew', dimensions: [`${stage}, status=failed`], value: 1 },
      {
        namespace: 'HssRestoreAlerts',
        name: 'AlertsNew',
        dimensions: [`${stage}, status=timeout`],
        value: 1,
      },
    ]);
    expect(slack.received).toHaveLength(2);
  });

  it('sends one EMF line of the three gauges, as long as the README says, at every quiet tick after that', async () => {
    // Act: five healthy ticks, nothing new at HSS.
    const ticks = [];
    for (let i = 0; i < 5; i++) ticks.push(await tick());
    // Assess
    for (const { emf } of ticks) {
      expect(series(emf).map((s) => `${s.name} ${s.dimensions.join(' | ')}`)).toEqual([
        'HssCalls service=hss-restore-alerts, stage=prod',
        'PollDuration service=hss-restore-alerts, stage=prod',
        'DetectionLag service=hss-restore-alerts, stage=prod',
      ]);
    }
    const stated = /one EMF line of about (\d+) bytes/.exec(README_TEXT);
    if (stated === null) throw new Error('the README no longer states the EMF line size: update this test');
    const bytes = Buffer.byteLength(ticks[0]!.lines[0]!);
    console.log(`quiet tick: one EMF line of ${bytes} bytes`);
    expect(Math.abs(Number(stated[1]) - bytes)).toBeLessThanOrEqual(bytes * 0.1);
  });
});

describe('the README’s table of metrics', () => {
  const rows = readmeMetricRows();
  const always = pollMetrics(quietSummary()).map((m) => m.name);
  const all = [...new Set(pollMetrics(troubledSummary()).map((m) => m.name))];

  it('lists exactly the metrics the handler sends, with their dimensions and when each is sent', () => {
    expect(rows.map((r) => [r.metric, r.dimensions, r.sent])).toEqual(
      all.map((name) => [
        name,
        name === 'AlertsNew' ? 'service, stage, status' : 'service, stage',
        always.includes(name) ? 'every invocation' : 'when not 0',
      ]),
    );
  });

  it('prices each metric sent every invocation at $0.30 a month, the others by the share of hours they have data', () => {
    expect(README_TEXT).toContain(`**$${PRICE.toFixed(2)} a month per metric**`);
    for (const row of rows) {
      expect([row.metric, row.monthly]).toEqual([
        row.metric,
        always.includes(row.metric)
          ? `$${PRICE.toFixed(2)}`
          : expect.stringMatching(/^\$0\.30 × the share of hours with data/),
      ]);
    }
  });

  it('totals a healthy stage’s metrics as the metrics sent every invocation × $0.30', () => {
    const total =
      /\*\*Metrics: \$(\d+\.\d\d) a month\*\* for a healthy stage \((\d+) metrics × \$0\.30\)/.exec(
        README_TEXT,
      );
    if (total === null) throw new Error('the README no longer totals the metrics: update this test');
    expect([Number(total[2]), total[1]]).toEqual([always.length, (always.length * PRICE).toFixed(2)]);
  });

  it('states the log volume of a month of quiet invocations from the EMF line size (43,200 a month)', () => {
    const m = /one EMF line of about (\d+) bytes[^(]*\(43,200 invocations a month: about (\d+) MB/.exec(
      README_TEXT,
    );
    if (m === null) throw new Error('the README no longer states the log volume: update this test');
    expect(Number(m[2])).toBe(Math.round((Number(m[1]) * 43_200) / 1e6));
  });
});
