// Secret hygiene end to end: polls, `test-notify` and every failure path run with known secret
// values (SK, security token, IAM token, the Slack and webhook URL paths, the webhook secret), and
// every log line, error (message, stack, cause, own properties), CLI line and outgoing request is
// scanned for them. URLs that do appear must be cut to scheme + host, and delivery URLs must be
// https (http only to loopback).
import { main } from '../../cli/main';
import { createApp, runPoll } from '../../lib/app';
import { parseConfig } from '../../lib/config';
import { ConfigError, oneLine } from '../../lib/errors';
import { createSlackNotifier } from '../../lib/notify/slack';
import { createWebhookNotifier } from '../../lib/notify/webhook';
import { createStateTable, startLocalDynamo, type LocalDynamo } from '../../local/dynamo';
import { startHssEmulator, type HssEmulator } from '../../local/hss-emulator';
import {
  SLACK_SINK_PATH,
  startSlackSink,
  startWebhookSink,
  WEBHOOK_SINK_PATH,
  type Sink,
} from '../../local/sinks';
import { recordingLog } from '../support/fakes';
import { deadPort, deepText, record, renderLine, virtualTime } from './support';

const PROJECT = 'secret-project';
const AK = 'AKSECRETQTWAOYTTINDU';
const SK = 'SKsecret9f8e7d6c5b4a39281706f5e4d3c2b1a0ZZ';
const SECURITY_TOKEN = 'STSsecretgQoVbjhzLWNlbnRyYWwtMSJHMEUCIQD-token-value';
const AUTH_TOKEN = 'MIIsecretIAMtokenPkcs7Value0123456789abcdefABCDEF';
const WRONG_SK = 'WRONGsecretSKvalue0123456789abcdef';
const WEBHOOK_KEY = Buffer.from('reliability-webhook-signing-key-0001').toString('base64');
const WEBHOOK_SECRET = `whsec_${WEBHOOK_KEY}`;
const DEAD_SLACK_TOKEN = 'deadSlackPathToken0123456789';

/** Every value that must never leave the process except to the party it authenticates to. */
const SECRETS: Record<string, string> = {
  SK,
  'security token': SECURITY_TOKEN,
  'IAM token': AUTH_TOKEN,
  'rejected SK': WRONG_SK,
  'Slack URL path': SLACK_SINK_PATH,
  'Slack URL token': SLACK_SINK_PATH.split('/').at(-1)!,
  'webhook URL path': WEBHOOK_SINK_PATH,
  'webhook secret': WEBHOOK_SECRET,
  'webhook key': WEBHOOK_KEY,
  'unreachable Slack URL token': DEAD_SLACK_TOKEN,
};
/** Not a secret to HSS (it names the key), but the config treats it as one: never logged either. */
const AK_IN_TEXT = { AK };

let dynamo: LocalDynamo;
let hss: HssEmulator;
let tokenHss: HssEmulator;
let slack: Sink;
let webhook: Sink;
let tables = 0;

beforeAll(async () => {
  [dynamo, hss, tokenHss, slack, webhook] = await Promise.all([
    startLocalDynamo(),
    startHssEmulator({
      projectId: PROJECT,
      auth: { kind: 'aksk', ak: AK, sk: SK, securityToken: SECURITY_TOKEN },
      ratePerMinute: 0,
    }),
    startHssEmulator({ projectId: PROJECT, auth: { kind: 'token', token: AUTH_TOKEN }, ratePerMinute: 0 }),
    startSlackSink(),
    startWebhookSink({ secret: WEBHOOK_SECRET }),
  ]);
});
afterAll(async () => {
  await Promise.all([dynamo.close(), hss.close(), tokenHss.close(), slack.close(), webhook.close()]);
});

async function env(
  overrides: Record<string, string | undefined> = {},
): Promise<Record<string, string | undefined>> {
  const table = `secrets-${++tables}`;
  await createStateTable(dynamo.client, table);
  return {
    HSS_PROJECT_ID: PROJECT,
    HSS_ENDPOINT: hss.url,
    CLOUD_SDK_AK: AK,
    CLOUD_SDK_SK: SK,
    CLOUD_SDK_SECURITY_TOKEN: SECURITY_TOKEN,
    STATE_TABLE: table,
    DYNAMODB_ENDPOINT: dynamo.endpoint,
    SLACK_WEBHOOK_URL: slack.url,
    WEBHOOK_URL: webhook.url,
    WEBHOOK_SECRET,
    ...overrides,
  };
}

async function cli(argv: string[], e: Record<string, string | undefined>) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { env: e, out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out, err, text: [...out, ...err] };
}

/** Fails naming the secret and showing where it leaked. */
function expectNoSecrets(
  texts: readonly string[],
  where: string,
  secrets: Record<string, string> = SECRETS,
): void {
  const leaks: string[] = [];
  for (const text of texts) {
    for (const [name, value] of Object.entries(secrets)) {
      const at = text.indexOf(value);
      if (at >= 0)
        leaks.push(`${name} in ${where}: …${text.slice(Math.max(0, at - 60), at + value.length + 20)}…`);
    }
  }
  expect(leaks).toEqual([]);
}

/** Every URL in `texts` is cut to scheme + host (`http://127.0.0.1:1234/…`), or has no path at all. */
function expectRedactedUrls(texts: readonly string[]): void {
  const urls = texts
    .flatMap((t) => t.match(/\bhttps?:\/\/[^\s"'<>)\]}]+/g) ?? [])
    .map((u) => u.replace(/[:,.;]+$/, ''));
  expect(urls.filter((u) => !/^https?:\/\/[^/\s]+(\/…)?$/.test(u))).toEqual([]);
}

/** What the sinks received since `mark`: bodies and headers (the request path is the URL itself). */
function sent(sink: Sink, mark: number): string[] {
  return sink.attempts.slice(mark).map((a) => `${a.body} ${JSON.stringify(a.headers)}`);
}

/**
 * What HSS received since `mark`, except the headers that legitimately carry a credential to it:
 * Authorization (AK + signature), X-Security-Token, X-Auth-Token. The SK itself is checked everywhere.
 */
function sentToHss(emulator: HssEmulator, mark: number): { open: string[]; all: string[] } {
  const requests = emulator.requests.slice(mark);
  const open = requests.map((r) => {
    const headers = Object.fromEntries(
      Object.entries(r.headers).filter(
        ([k]) => !['authorization', 'x-security-token', 'x-auth-token'].includes(k),
      ),
    );
    return `${r.path} ${JSON.stringify(r.query)} ${JSON.stringify(headers)}`;
  });
  return {
    open,
    all: requests.map((r) => `${r.path} ${JSON.stringify(r.query)} ${JSON.stringify(r.headers)}`),
  };
}

function marks() {
  return {
    hss: hss.requests.length,
    token: tokenHss.requests.length,
    slack: slack.attempts.length,
    webhook: webhook.attempts.length,
  };
}

/** Scans everything the product emitted since `m`, plus the given log/CLI/error texts. */
function expectClean(
  m: ReturnType<typeof marks>,
  texts: readonly string[],
  where: string,
  textSecrets: Record<string, string> = { ...SECRETS, ...AK_IN_TEXT },
): void {
  expectNoSecrets(texts, where, textSecrets);
  expectRedactedUrls(texts);
  expectNoSecrets([...sent(slack, m.slack), ...sent(webhook, m.webhook)], `payloads (${where})`, {
    ...SECRETS,
    ...AK_IN_TEXT,
  });
  for (const emulator of [hss, tokenHss] as const) {
    const { open, all } = sentToHss(emulator, emulator === hss ? m.hss : m.token);
    expectNoSecrets(open, `HSS requests (${where})`);
    expectNoSecrets(all, `HSS requests incl. auth headers (${where})`, { SK, 'rejected SK': WRONG_SK });
  }
}

function failedTask(host: string) {
  return record(host, 'failed', Date.now() - 3_600_000, {
    error_info: { code: 'BACKUP.0002', message: `agent on ${host} offline` },
  });
}

describe('secrets never reach a log line, an error, CLI output or an outgoing request', () => {
  beforeEach(() => {
    hss.tasks.length = 0;
    hss.clearFaults();
    slack.clearFaults();
    webhook.clearFaults();
  });

  it('on a successful poll with AK/SK and a security token (verbose), and on test-notify', async () => {
    // Prepare
    // Six failures: Slack gets one digest (no 1 s pacing between messages on this real clock).
    hss.tasks.push(...['1', '2', '3', '4', '5', '6'].map((n) => failedTask(`ecs-ok-${n}`)));
    const m = marks();
    const e = await env();
    // Act
    const polled = await cli(['poll', '--verbose'], e);
    const notified = await cli(['test-notify', '--verbose'], e);
    // Assess
    expect([polled.code, notified.code]).toEqual([0, 0]);
    expect(slack.received.length).toBeGreaterThan(0);
    expect(webhook.attempts.length - m.webhook).toBe(7);
    expect(notified.out).toEqual([
      expect.stringMatching(/^Slack webhook http:\/\/127\.0\.0\.1:\d+\/…: ok$/),
      expect.stringMatching(/^webhook http:\/\/127\.0\.0\.1:\d+\/… \(signed\): ok$/),
    ]);
    expect(polled.err.some((l) => l.startsWith('DEBUG HSS call'))).toBe(true);
    expectClean(m, [...polled.text, ...notified.text], 'poll and test-notify');
  });

  it('on a successful poll with an IAM token, and when the token is rejected', async () => {
    tokenHss.tasks.push(failedTask('ecs-token-1'));
    const m = marks();
    const tokenEnv = await env({
      HSS_ENDPOINT: tokenHss.url,
      CLOUD_SDK_AK: undefined,
      CLOUD_SDK_SK: undefined,
      CLOUD_SDK_SECURITY_TOKEN: undefined,
      HSS_AUTH_TOKEN: AUTH_TOKEN,
    });
    const ok = await cli(['poll', '--verbose'], tokenEnv);
    const rejected = await cli(['poll', '--verbose'], { ...tokenEnv, HSS_AUTH_TOKEN: `${AUTH_TOKEN}x` });
    expect([ok.code, rejected.code]).toEqual([0, 1]);
    expect(rejected.err.join('\n')).toMatch(/APIGW\.0301/);
    expectClean(m, [...ok.text, ...rejected.text], 'token auth');
    expectNoSecrets([...ok.text, ...rejected.text], 'token auth', { 'rejected token': `${AUTH_TOKEN}x` });
  });

  it('when HSS rejects the SK (APIGW.0301), with and without --verbose', async () => {
    const m = marks();
    const e = await env({ CLOUD_SDK_SK: WRONG_SK });
    const plain = await cli(['poll'], e);
    const verbose = await cli(['poll', '--verbose'], e);
    expect([plain.code, verbose.code]).toEqual([1, 1]);
    expect(plain.err).toEqual([
      expect.stringMatching(/^hss-restore-alerts poll: HssAuthError: .*APIGW\.0301/),
    ]);
    expect(verbose.err.join('\n')).toMatch(/\n\s+at /);
    expectClean(m, [...plain.text, ...verbose.text], 'rejected SK');
  });

  it('when HSS answers errors that echo the credentials back (400, non-JSON 200)', async () => {
    const echo = `request signed by ${AK} with ${SK}, token ${SECURITY_TOKEN}`;
    const m = marks();
    const e = await env();
    hss.injectFault({ kind: 'status', status: 400, body: { error_code: 'HSS.0001', error_msg: echo } });
    const rejected = await cli(['poll', '--verbose'], e);
    hss.injectFault({ kind: 'raw', body: `<html>${SK} ${SECURITY_TOKEN}</html>`, contentType: 'text/html' });
    const garbled = await cli(['poll', '--verbose'], e);
    expect([rejected.code, garbled.code]).toEqual([1, 1]);
    expect(rejected.err.join('\n')).toMatch(/HSS\.0001 .*\[REDACTED\]/);
    expect(garbled.err.join('\n')).toMatch(/not JSON.*\[REDACTED\]/);
    // The echo names the AK too: that is HSS's own text, and the AK is no credential by itself.
    expectClean(m, [...rejected.text, ...garbled.text], 'HSS error echo', SECRETS);
  });

  it('when HSS keeps answering 500 with the credentials in the body, through the "monitoring is not working" notice', async () => {
    // Prepare: the entry points' wiring, with virtual time so three polls of four attempts cost nothing.
    const time = virtualTime(Date.now());
    const log = recordingLog();
    const e = await env();
    const app = createApp(parseConfig(e), {
      log,
      clock: time.now,
      sleep: time.sleep,
      dynamo: dynamo.newClient(),
    });
    const echo = { error_code: 'HSS.0004', error_msg: `internal error for ${SK} / ${SECURITY_TOKEN}` };
    hss.injectFault({ kind: 'status', status: 500, body: echo }, Infinity);
    const m = marks();
    const errors: unknown[] = [];
    // Act
    for (let i = 0; i < 3; i++) {
      await runPoll(app).catch((err: unknown) => errors.push(err));
      time.advance(5 * 60_000);
    }
    // Assess
    expect(errors).toHaveLength(3);
    const notices = [...slack.attempts.slice(m.slack), ...webhook.attempts.slice(m.webhook)];
    expect(notices.map((a) => a.body).join('\n')).toMatch(/NOT working/);
    const texts = [...log.lines.map(renderLine), ...errors.map(deepText), ...errors.map(oneLine)];
    expect(texts.join('\n')).toMatch(/HTTP 500 HSS\.0004/);
    expectClean(m, texts, 'HSS 500 and the down notice');
  });

  it('when Slack answers 500 and the webhook 410, each echoing its URL and the signature', async () => {
    hss.tasks.push(failedTask('ecs-deliver-1'));
    const m = marks();
    const e = await env();
    slack.failNext({ kind: 'status', status: 500, body: `upstream error posting to ${slack.url}` });
    webhook.failNext({
      kind: 'status',
      status: 410,
      body: JSON.stringify({ error: `endpoint ${webhook.url} gone`, secret: WEBHOOK_SECRET }),
    });
    const polled = await cli(['poll', '--verbose'], e);
    slack.failNext({ kind: 'status', status: 500, body: `upstream error posting to ${slack.url}` });
    webhook.failNext({ kind: 'status', status: 410, body: `channel_is_archived ${webhook.url}` });
    const notified = await cli(['test-notify', '--verbose'], e);
    expect([polled.code, notified.code]).toEqual([1, 1]);
    expect(polled.err.join('\n')).toMatch(/HTTP 500/);
    expect(polled.err.join('\n')).toMatch(/HTTP 410/);
    expect(notified.out).toEqual([
      expect.stringMatching(/^Slack webhook http:\/\/127\.0\.0\.1:\d+\/…: retryable: HTTP 500/),
      expect.stringMatching(/^webhook http:\/\/127\.0\.0\.1:\d+\/… \(signed\): permanent: HTTP 410/),
    ]);
    expectClean(m, [...polled.text, ...notified.text], 'Slack 500 and webhook 410');
  });

  it('when a destination refuses the connection or never answers', async () => {
    const m = marks();
    const dead = `http://127.0.0.1:${await deadPort()}/services/TDEAD/BDEAD/${DEAD_SLACK_TOKEN}`;
    const e = await env({ SLACK_WEBHOOK_URL: dead });
    webhook.failNext({ kind: 'reset' });
    const notified = await cli(['test-notify', '--verbose'], e);
    expect(notified.code).toBe(1);
    expect(notified.out).toEqual([
      expect.stringMatching(
        /^Slack webhook http:\/\/127\.0\.0\.1:\d+\/…: retryable: network error .*connection refused/,
      ),
      expect.stringMatching(
        /^webhook http:\/\/127\.0\.0\.1:\d+\/… \(signed\): retryable: network error .*connection reset/,
      ),
    ]);
    expectClean(m, notified.text, 'refused and reset');
  });

  it.each([
    [
      'a Slack URL that is not https',
      { SLACK_WEBHOOK_URL: `http://hooks.slack.com${SLACK_SINK_PATH}` },
      /SLACK_WEBHOOK_URL .*http:\/\/hooks\.slack\.com\/…/,
    ],
    [
      'a webhook URL with credentials in it',
      { WEBHOOK_URL: `https://user:${WEBHOOK_KEY}@hooks.example.com${WEBHOOK_SINK_PATH}` },
      /WEBHOOK_URL .*https:\/\/hooks\.example\.com\/…/,
    ],
    [
      'a webhook URL that is no URL',
      { WEBHOOK_URL: `hooks.example.com${WEBHOOK_SINK_PATH}` },
      /WEBHOOK_URL .*\[invalid URL\]/,
    ],
    [
      'the SK pasted into LAST_DAYS',
      { LAST_DAYS: SK },
      /LAST_DAYS must be an integer 1\.\.30, got "\[redacted\]/,
    ],
    ['an SK with a space in it', { CLOUD_SDK_SK: `${SK} ${WRONG_SK}` }, /CLOUD_SDK_SK .*value not shown/],
    [
      'a webhook secret too short to sign with',
      { WEBHOOK_SECRET: 'whsec_c2hvcnQ=' },
      /WEBHOOK_SECRET .*value not shown/,
    ],
    [
      'an IAM token set together with AK/SK',
      { HSS_AUTH_TOKEN: AUTH_TOKEN },
      /HSS_AUTH_TOKEN must not be set together/,
    ],
  ])('when the configuration is wrong: %s', async (_name, overrides, message) => {
    const m = marks();
    const e = await env(overrides as Record<string, string>);
    const polled = await cli(['poll', '--verbose'], e);
    const notified = await cli(['test-notify'], e);
    expect([polled.code, notified.code]).toEqual([2, 2]);
    expect(notified.err).toEqual([expect.stringMatching(message)]);
    expectClean(m, [...polled.text, ...notified.text], 'bad config');
    expectNoSecrets([...polled.text, ...notified.text], 'bad config', { 'webhook secret': 'c2hvcnQ=' });
  });
});

describe('delivery URLs', () => {
  it.each([
    [
      'http to a public host',
      'http://hooks.slack.com/services/T1/B1/secretSecretSecret',
      'http://hooks.slack.com/…',
    ],
    ['http to a private address', 'http://10.0.0.5/hooks/secretSecretSecret', 'http://10.0.0.5/…'],
    ['another scheme', 'ftp://files.example.com/secretSecretSecret', 'ftp://files.example.com/…'],
  ])('are refused when they use %s, naming only scheme and host', (_name, url, shown) => {
    for (const make of [
      () => createSlackNotifier({ url }),
      () => createWebhookNotifier({ url }),
      () =>
        parseConfig({
          HSS_PROJECT_ID: 'p',
          HSS_REGION: 'cn-north-4',
          CLOUD_SDK_AK: AK,
          CLOUD_SDK_SK: SK,
          STATE_TABLE: 'tbl',
          SLACK_WEBHOOK_URL: url,
        }),
    ]) {
      let error: unknown;
      try {
        make();
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as Error).message).toContain(shown);
      expect(deepText(error)).not.toContain('secretSecretSecret');
    }
  });

  it.each([
    ['https anywhere', 'https://hooks.slack.com/services/T1/B1/x'],
    ['http to 127.0.0.1', 'http://127.0.0.1:8080/hook'],
    ['http to localhost', 'http://localhost:8080/hook'],
    ['http to ::1', 'http://[::1]:8080/hook'],
  ])('are accepted for %s', (_name, url) => {
    expect(() => createSlackNotifier({ url })).not.toThrow();
    expect(() => createWebhookNotifier({ url })).not.toThrow();
  });
});
