// Secret hygiene where secrets are most likely to escape: HSS answering errors that echo the AK, SK
// and security token; destinations answering errors that echo their own URL and keys (which then
// travel in "failing" notices to the other destinations); and the CLI printing configuration errors,
// a DynamoDB endpoint with credentials, a poll's summary and test-notify's report. Every log line,
// error (message, stack, cause, own properties), poll summary, message sent and CLI line is scanned
// for every secret value. (The fault matrix scans everything its rows produce the same way.)
import { main } from '../../cli/main';
import { PAGERDUTY_ROUTING_KEY, SLACK_SINK_PATH, SMN_TOPIC_URN, type Sink } from '../../local/sinks';
import { useEngine } from '../support/engines';
import { recordingLog } from '../support/log';
import {
  AK,
  DINGTALK_SECRET,
  FEISHU_SECRET,
  PROJECT,
  SINK_NAMES,
  SK,
  WEBHOOK_SECRET,
  openWorld,
  type World,
} from '../e2e/world';
import { alerting, deepText, leaks, renderLine, sentTexts, worldSecrets, type Secret } from './support';

const engine = useEngine('DynamoDB Local');

const SECURITY_TOKEN = 'STStokenSECRETgQoVbjhzLWNlbnRyYWwtMSJHMEUCIQD0123456789';
const PERIOD_MS = 60_000;

type Text = { where: string; text: string; to?: (typeof SINK_NAMES)[number] };

/** Every text a world produced: log lines, poll results (summaries or errors) and the bodies it sent. */
function produced(w: World, log: ReturnType<typeof recordingLog>, results: unknown[]): Text[] {
  return [
    ...log.lines.map((l, i) => ({ where: `log line ${i}`, text: renderLine(l) })),
    ...results.map((r, i) => ({ where: `poll ${i}`, text: deepText(r) })),
    ...sentTexts(w),
  ];
}

/** What each destination holds that its receiver could echo back: its URL's token or key, its secrets. */
function ownSecrets(w: World): Record<string, string[]> {
  const byName = new Map(worldSecrets(w).map((s) => [s.name, s.value]));
  const of = (...names: string[]) => names.map((n) => byName.get(n)!);
  return {
    slack: of('Slack URL token'),
    webhook: of('webhook secret', 'webhook signing key'),
    teams: of('Teams URL signature'),
    feishu: of('Feishu URL token', 'Feishu secret'),
    dingtalk: of('DingTalk URL token', 'DingTalk secret'),
    wecom: of('WeCom URL key'),
    pagerduty: of('PagerDuty routing key'),
    smn: of('AK', 'SK'),
    googlechat: of('Google Chat URL key'),
    discord: of('Discord URL token'),
  };
}

/** Runs `n` scheduled polls on the world's app; a poll that throws gives its error. */
async function polls(w: World, n: number, before?: (i: number) => void): Promise<unknown[]> {
  const results: unknown[] = [];
  for (let i = 0; i < n; i++) {
    before?.(i);
    const start = w.clock();
    results.push(await w.tick().catch((err: unknown) => err));
    w.time.now = start + PERIOD_MS;
  }
  return results;
}

describe(`secrets on ${engine.name}`, () => {
  it('never leave through HSS errors that echo the AK, SK and security token (in logs, errors, summaries or the notices they cause)', async () => {
    // Prepare: temporary credentials, and an HSS that quotes them back in every error it answers.
    const log = recordingLog();
    const credential = { kind: 'aksk' as const, ak: AK, sk: SK, securityToken: SECURITY_TOKEN };
    const w = await openWorld({
      engine,
      log,
      sinks: [...SINK_NAMES],
      pageSize: 10,
      credentials: { default: credential },
      emulator: { credentials: { default: credential } },
    });
    try {
      w.tasks.push(...alerting(6, 'host-s'));
      const echo = `AK=${AK} SK=${SK} token=${SECURITY_TOKEN}`;
      // Act: three polls refused (monitoring down is announced everywhere), then a 502 page and a
      // 400 that echo them too, then HSS works again (recovered, and the alerts go out).
      const results = await polls(w, 8, (i) => {
        w.emulator.clearFaults();
        if (i < 3)
          w.emulator.injectFault(
            {
              kind: 'status',
              status: 403,
              body: { error_code: 'HSS.0010', error_msg: `access denied: ${echo}` },
            },
            Infinity,
          );
        else if (i === 3)
          w.emulator.injectFault(
            { kind: 'raw', status: 502, body: `<html>bad gateway ${echo}</html>` },
            Infinity,
          );
        else if (i === 4)
          w.emulator.injectFault(
            { kind: 'status', status: 400, body: { error_code: 'HSS.0001', error_msg: `bad query ${echo}` } },
            Infinity,
          );
      });

      // Assess: the echoes were seen (the errors and the down notice say what HSS answered) ...
      const texts = produced(w, log, results);
      expect(texts.some((t) => t.text.includes('access denied'))).toBe(true);
      expect(w.sinks.webhook!.received.some((r) => r.body.includes('hss.monitoring.monitoring-down'))).toBe(
        true,
      );
      // ... and nothing secret went with them.
      const secrets: Secret[] = [...worldSecrets(w), { name: 'security token', value: SECURITY_TOKEN }];
      expect(leaks(texts, secrets)).toEqual([]);
    } finally {
      await w.close();
    }
  });

  it('never leave through destinations that echo their own URL, keys and secrets in error answers', async () => {
    // Prepare: every destination answers with its URL, key and secrets in the body.
    const log = recordingLog();
    const w = await openWorld({ engine, log, sinks: [...SINK_NAMES], pageSize: 10 });
    try {
      w.tasks.push(...alerting(6, 'host-e'));
      const own = ownSecrets(w);
      const echo = (name: string, sink: Sink) => `no such hook ${sink.url}: ${own[name]!.join(' ')}`;
      const sinks = Object.entries(w.sinks);
      // Act: a 500, then a 400 (that message refused), then a 410 (the destination is gone, and every
      // other destination is told why), each with the echo.
      const results = await polls(w, 6, (i) => {
        for (const [name, sink] of sinks) {
          if (i === 0) sink!.failNext({ kind: 'status', status: 500, body: echo(name, sink!) });
          if (i === 1) sink!.failNext({ kind: 'status', status: 400, body: echo(name, sink!) });
        }
        if (i === 2) {
          w.tasks.push(...alerting(6, 'host-g'));
          for (const [name, sink] of sinks)
            sink!.failNext({ kind: 'status', status: 410, body: echo(name, sink!) });
        }
      });

      // Assess: the answers were reported (failing notices went out) without what they echoed.
      const texts = produced(w, log, results);
      expect(w.sinks.webhook!.received.some((r) => r.body.includes('failing permanently'))).toBe(true);
      expect(leaks(texts, worldSecrets(w))).toEqual([]);
    } finally {
      await w.close();
    }
  });
});

describe(`secrets in what the CLI prints, on ${engine.name}`, () => {
  let w: World;
  let table: string;
  beforeAll(async () => {
    w = await openWorld({ engine, sinks: [...SINK_NAMES], ratePerMinute: 0 });
    table = w.tableName;
  });
  afterAll(async () => {
    await w.close();
  });

  /** The environment an operator would set for the world's stand-ins. */
  function env(overrides: Record<string, string | undefined> = {}): Record<string, string | undefined> {
    const s = w.sinks;
    return {
      HSS_ENDPOINT: w.emulator.url,
      HSS_REGION: 'cn-north-4',
      HSS_PROJECT_ID: PROJECT,
      CLOUD_SDK_AK: AK,
      CLOUD_SDK_SK: SK,
      STATE_TABLE: table,
      DYNAMODB_ENDPOINT: engine.endpoint,
      AWS_REGION: 'us-east-1',
      SLACK_WEBHOOK_URL: s.slack!.url,
      WEBHOOK_URL: s.webhook!.url,
      WEBHOOK_SECRET,
      TEAMS_WEBHOOK_URL: s.teams!.url,
      FEISHU_WEBHOOK_URL: s.feishu!.url,
      FEISHU_SECRET,
      DINGTALK_WEBHOOK_URL: s.dingtalk!.url,
      DINGTALK_SECRET,
      WECOM_WEBHOOK_URL: s.wecom!.url,
      PAGERDUTY_ROUTING_KEY,
      PAGERDUTY_EVENTS_URL: s.pagerduty!.url,
      SMN_TOPIC_URN,
      SMN_ENDPOINT: (s.smn as Sink & { endpoint: string }).endpoint,
      GOOGLE_CHAT_WEBHOOK_URL: s.googlechat!.url,
      DISCORD_WEBHOOK_URL: s.discord!.url,
      ...overrides,
    };
  }

  /** Runs the CLI on the world's clock (the emulator checks signature dates against it). */
  async function cli(argv: string[], e: Record<string, string | undefined>) {
    const out: string[] = [];
    const err: string[] = [];
    const code = await main(argv, {
      env: e,
      out: (l) => out.push(l),
      err: (l) => err.push(l),
      clock: w.clock,
    });
    // A minute on: every run gets a fresh window of HSS calls.
    w.time.now += PERIOD_MS;
    const where = (stream: string) => (text: string, i: number) => ({
      where: `${argv.join(' ')} ${stream} ${i}`,
      text,
    });
    return {
      code,
      out: out.map(where('out')),
      err: err.map(where('err')),
      texts: [...out.map(where('out')), ...err.map(where('err'))],
    };
  }

  it('prints one line per configuration error, with no secret in it (and none in the --verbose stack)', async () => {
    // Prepare: every secret, each where it breaks a rule, some where no secret belongs.
    const bad = env({
      CLOUD_SDK_SK: `${SK} ${SK}`,
      SLACK_WEBHOOK_URL: `http://hooks.slack.example${SLACK_SINK_PATH}`,
      WEBHOOK_SECRET: WEBHOOK_SECRET.replace('whsec_', ''),
      FEISHU_SECRET: FEISHU_SECRET.repeat(30),
      DINGTALK_SECRET: DINGTALK_SECRET.replace('SEC', ''),
      PAGERDUTY_ROUTING_KEY: `${PAGERDUTY_ROUTING_KEY}-x`,
      // Secrets pasted where no secret belongs, as well as where they do.
      STATE_TABLE: w.sinks.teams!.url,
      LAST_DAYS: `${PAGERDUTY_ROUTING_KEY}-x`,
    });
    // Act
    const plain = await cli(['poll'], bad);
    const verbose = await cli(['poll', '--verbose'], bad);
    // Assess
    expect([plain.code, verbose.code]).toEqual([2, 2]);
    expect([plain.out, plain.err.length]).toEqual([[], 1]);
    expect(plain.texts[0]!.text).toMatch(/^hss-restore-alerts poll: .*CLOUD_SDK_SK.*PAGERDUTY_ROUTING_KEY/);
    expect(leaks([...plain.texts, ...verbose.texts], worldSecrets(w))).toEqual([]);
  });

  it('does not print the credentials of a DynamoDB endpoint (create-table)', async () => {
    // Prepare
    const endpoint = new URL(engine.endpoint);
    endpoint.username = 'dbuser';
    endpoint.password = 'dbPasswordSECRET123';
    // Act
    const run = await cli(
      ['create-table'],
      env({ DYNAMODB_ENDPOINT: endpoint.href, STATE_TABLE: `${table}-ct` }),
    );
    // Assess
    expect(run.texts.map((t) => t.text).join('\n')).toMatch(/table .*-ct/);
    expect(
      leaks(run.texts, [
        { name: 'DynamoDB password', value: 'dbPasswordSECRET123' },
        { name: 'DynamoDB user', value: 'dbuser' },
      ]),
    ).toEqual([]);
  });

  it('prints a poll summary without the credentials HSS echoed', async () => {
    // Prepare
    w.emulator.clearFaults();
    w.emulator.injectFault(
      {
        kind: 'status',
        status: 403,
        body: { error_code: 'HSS.0010', error_msg: `denied for ${AK} with ${SK}` },
      },
      Infinity,
    );
    // Act
    const run = await cli(['poll'], env({ STATE_TABLE: table }));
    w.emulator.clearFaults();
    // Assess
    expect(run.code).toBe(1);
    expect(run.texts.map((t) => t.text).join('\n')).toMatch(/failed: .*HSS\.0010/);
    expect(leaks(run.texts, worldSecrets(w))).toEqual([]);
  });

  it('prints test-notify results without the URLs, keys and secrets destinations echoed', async () => {
    // Prepare
    const own = ownSecrets(w);
    for (const [name, sink] of Object.entries(w.sinks))
      sink!.failNext({
        kind: 'status',
        status: 404,
        body: `unknown hook ${sink!.url}: ${own[name]!.join(' ')}`,
      });
    // Act
    const run = await cli(['test-notify'], env());
    // Assess: one line per destination saying what it answered (and a log line per failure).
    expect(run.code).toBe(1);
    expect(run.out.filter((t) => /: failed: HTTP 404/.test(t.text))).toHaveLength(SINK_NAMES.length);
    expect(leaks(run.texts, worldSecrets(w))).toEqual([]);
  });
});
