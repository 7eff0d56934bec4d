// The local sinks are the yardstick of the conformance suite, so they are tested too: their signature
// checks against the published algorithms (and the official library), their rate limits and the
// vendor's way of answering them, and their flags (a sink that flags nothing would prove nothing).
import { Webhook } from 'standardwebhooks';
import {
  scanText,
  sdkHmacSignature,
  startDingtalkSink,
  startDiscordSink,
  startFeishuSink,
  startSlackSink,
  startWecomSink,
  verifyWebhookSignature,
  type Sink,
} from '../../local/sinks';
import { dingtalkSignatureValid } from '../../local/sinks/dingtalk';
import { feishuSignatureValid } from '../../local/sinks/feishu';

async function post(url: string, body: unknown) {
  const res = await fetch(url, {
    method: 'POST',
    body: JSON.stringify(body),
    headers: { 'content-type': 'application/json' },
  });
  return { status: res.status, text: await res.text() };
}

describe('SMN sink signature check', () => {
  // The published vectors (shared/reference/hss-api.md), reproduced by the sink's own implementation.
  it('reproduces the documentation example', () => {
    const sig = sdkHmacSignature(
      'GET',
      '/v1/77b6a44cba5143ab91d13ab9a8ff44fd/vpcs?limit=2&marker=13551d6b-755d-4757-b956-536f674975c0',
      {
        'content-type': 'application/json',
        host: 'service.region.example.com',
        'x-sdk-date': '20191115T033655Z',
      },
      ['content-type', 'host', 'x-sdk-date'],
      '',
      '20191115T033655Z',
      'MFyfvK41ba2giqM7Uio6PznpdUKGpownRZlmVmHc',
    );
    expect(sig).toBe('7be6668032f70418fcc22abc52071e57aff61b84a1d2381bb430d6870f4f6ebe');
  });

  it.each([
    ['GET', '/path?limit=1', '', '5a2ce64c865e0e6046321c6f3d5a77ba8413eeaf355c3166c03d58d02ac79624'],
    [
      'POST',
      '/path?key=value',
      '{"Name":"test","Id":1}\n',
      'cecc2af119b18ab70b4d094c0750f3b42c02f254903179a0fc2cc72fc9db4f59',
    ],
  ])('reproduces the SDK vector %s %s', (method, path, body, expected) => {
    const sig = sdkHmacSignature(
      method,
      path,
      { 'x-sdk-date': '20060102T150405Z' },
      ['x-sdk-date'],
      body,
      '20060102T150405Z',
      'SecretKey',
    );
    expect(sig).toBe(expected);
  });
});

describe('webhook sink signature check', () => {
  const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
  it('accepts what the official library signs and rejects another body, an old timestamp or another secret', () => {
    const now = 1_741_239_000;
    const headers = (body: string, ts = now, secret = SECRET) => ({
      'webhook-id': 'msg_1',
      'webhook-timestamp': String(ts),
      'webhook-signature': new Webhook(secret).sign('msg_1', new Date(ts * 1000), body),
    });
    expect([
      verifyWebhookSignature(SECRET, headers('{"a":1}'), '{"a":1}', now),
      verifyWebhookSignature(SECRET, headers('{"a":1}'), '{"a":2}', now),
      verifyWebhookSignature(SECRET, headers('{"a":1}', now - 600), '{"a":1}', now),
      verifyWebhookSignature(
        SECRET,
        headers('{"a":1}', now, 'whsec_b3RoZXItc2VjcmV0LW9mLTE2Ynl0ZXM='),
        '{"a":1}',
        now,
      ),
    ]).toEqual([true, false, false, false]);
  });
});

describe('Feishu and DingTalk sink signature checks', () => {
  it('reject the classic mistake of swapping key and message', async () => {
    const { createHmac } = await import('node:crypto');
    const feishuSwapped = createHmac('sha256', 's').update('1700000000\ns').digest('base64');
    const dingtalkSwapped = createHmac('sha256', '1700000000000\nSEC1').update('SEC1').digest('base64');
    expect([
      feishuSignatureValid('s', '1700000000', feishuSwapped),
      dingtalkSignatureValid('SEC1', '1700000000000', dingtalkSwapped),
    ]).toEqual([false, false]);
  });
});

describe('rate limits, answered the way each vendor does', () => {
  let now = 0;
  const clock = () => now;
  let sink: Sink;
  afterEach(async () => {
    await sink.close();
  });

  it('DingTalk answers 130101 with HTTP 200 past 20 a minute, and stays muted for 10 minutes', async () => {
    sink = await startDingtalkSink({ clock });
    const message = { msgtype: 'text', text: { content: 'HSS' } };
    const answers: string[] = [];
    for (let i = 0; i < 21; i++) answers.push((await post(sink.url, message)).text);
    now += 61_000;
    const stillMuted = await post(sink.url, message);
    now += 10 * 60_000;
    const again = await post(sink.url, message);
    expect(answers.slice(0, 20).every((a) => JSON.parse(a).errcode === 0)).toBe(true);
    expect([
      JSON.parse(answers[20]!).errcode,
      stillMuted.status,
      JSON.parse(stillMuted.text).errcode,
      JSON.parse(again.text).errcode,
    ]).toEqual([130101, 200, 130101, 0]);
  });

  it('WeCom answers 45009 past 20 a minute', async () => {
    sink = await startWecomSink({ clock });
    const codes: number[] = [];
    for (let i = 0; i < 21; i++)
      codes.push(
        JSON.parse((await post(sink.url, { msgtype: 'markdown', markdown: { content: 'x' } })).text).errcode,
      );
    expect(codes.slice(-2)).toEqual([0, 45009]);
  });

  it('Feishu answers 11232 past 5 a second', async () => {
    sink = await startFeishuSink({ clock });
    const codes: number[] = [];
    for (let i = 0; i < 6; i++)
      codes.push(JSON.parse((await post(sink.url, { msg_type: 'text', content: { text: 'x' } })).text).code);
    expect(codes).toEqual([0, 0, 0, 0, 0, 11232]);
  });

  it('Discord answers 429 with retry_after in float seconds past 5 per 2 seconds', async () => {
    sink = await startDiscordSink({ clock });
    const url = `${sink.url}?wait=true`;
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++)
      statuses.push((await post(url, { content: 'x', allowed_mentions: { parse: [] } })).status);
    now += 500;
    const limited = await post(url, { content: 'x' });
    expect(statuses).toEqual([200, 200, 200, 200, 200]);
    expect([limited.status, JSON.parse(limited.text).retry_after]).toEqual([429, 1.5]);
  });

  it('Slack answers 429 with Retry-After past a short burst', async () => {
    sink = await startSlackSink({ clock });
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await post(sink.url, { text: 'x' })).status);
    expect(statuses).toEqual([200, 200, 200, 429]);
  });
});

describe('flags', () => {
  it.each<[string, string, Parameters<typeof scanText>[1], string[]]>([
    ['a bare URL', 'see https://evil.example/x', {}, ['bare URL https://evil.example/x']],
    ['a broken URL', 'see https[:]//evil.example/x', {}, []],
    [
      'a link to anything but the console',
      '[x](https://evil)',
      { links: [/\[[^\]]*\]\(([^)]*)\)/g] },
      ['link to https://evil'],
    ],
    [
      'a console link',
      '[x](https://console.huaweicloud.com/hss/)',
      { links: [/\[[^\]]*\]\(([^)]*)\)/g] },
      [],
    ],
    ['a mention word', 'hi @everyone', {}, ['mention @everyone']],
    ['a defused mention word', 'hi @\u200beveryone', {}, []],
    ['a markup mention', 'hi <at id=all></at>', { mentions: [/<at\b/i] }, ['mention <at']],
    ['an ANSI escape', 'red \u001b[31m', {}, ['control character']],
  ])('flags %s', (_why, text, rules, expected) => {
    expect(scanText(text, rules)).toEqual(expected);
  });

  it('are recorded on what the Slack sink delivered', async () => {
    const sink = await startSlackSink();
    try {
      await post(sink.url, { text: 'ping <!channel> via <https://evil|here>' });
      expect(sink.received[0]!.flags).toEqual(['link to https://evil', 'mention <']);
    } finally {
      await sink.close();
    }
  });

  it('catch a Discord message that does not forbid mentions', async () => {
    const sink = await startDiscordSink();
    try {
      await post(`${sink.url}?wait=true`, { content: 'hi' });
      expect(sink.received[0]!.flags).toEqual(['allowed_mentions does not forbid pings']);
    } finally {
      await sink.close();
    }
  });
});
