import { createWebhookSigner } from '../../lib/notify/standard-webhooks';

const signStandardWebhook = (secret: string, id: string, at: number, body: string) =>
  createWebhookSigner(secret)(id, at, body);
import { startSlackSink, startWebhookSink, type Sink } from '../../local/sinks';

async function post(url: string, body: string, headers: Record<string, string> = {}) {
  const res = await fetch(url, {
    method: 'POST',
    body,
    headers: { 'content-type': 'application/json', ...headers },
  });
  return { status: res.status, text: await res.text() };
}

describe('Slack sink', () => {
  let sink: Sink;
  beforeEach(async () => {
    sink = await startSlackSink({ clock: () => 42 });
  });
  afterEach(async () => {
    await sink.close();
  });

  it('looks like an incoming webhook URL on 127.0.0.1 and answers ok, recording the request', async () => {
    // Act
    const answer = await post(sink.url, '{"text":"hi"}');
    // Assess
    expect(sink.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/services\/T000\/B000\/\w+$/);
    expect(answer).toEqual({ status: 200, text: 'ok' });
    expect(sink.received).toEqual([
      expect.objectContaining({
        at: 42,
        body: '{"text":"hi"}',
        json: { text: 'hi' },
        path: new URL(sink.url).pathname,
      }),
    ]);
  });

  it.each([
    ['not json', 'invalid_payload'],
    ['{"blocks":[]}', 'no_text'],
    [
      JSON.stringify({ text: 't', blocks: Array.from({ length: 51 }, () => ({ type: 'divider' })) }),
      'invalid_blocks',
    ],
    [
      JSON.stringify({
        text: 't',
        blocks: [{ type: 'header', text: { type: 'plain_text', text: 'x'.repeat(151) } }],
      }),
      'invalid_blocks',
    ],
    [
      JSON.stringify({
        text: 't',
        blocks: [{ type: 'section', text: { type: 'mrkdwn', text: 'x'.repeat(3001) } }],
      }),
      'invalid_blocks',
    ],
    [
      JSON.stringify({
        text: 't',
        blocks: [
          { type: 'section', fields: Array.from({ length: 11 }, () => ({ type: 'mrkdwn', text: 'f' })) },
        ],
      }),
      'invalid_blocks',
    ],
  ])('answers 400 to %s with %s and does not count it as received', async (body, word) => {
    const answer = await post(sink.url, body);
    expect(answer).toEqual({ status: 400, text: word });
    expect(sink.received).toHaveLength(0);
    expect(sink.attempts).toHaveLength(1);
  });

  it('answers 404 no_service off its webhook path', async () => {
    const answer = await post(new URL('/services/other', sink.url).href, '{"text":"hi"}');
    expect(answer).toEqual({ status: 404, text: 'no_service' });
  });

  it('fails the next requests on demand, in order, then answers normally again', async () => {
    // Prepare
    sink.failNext({ kind: 'status', status: 429, body: 'rate_limited', headers: { 'Retry-After': '3' } }, 2);
    sink.failNext({ kind: 'status', status: 410, body: 'channel_is_archived' });
    // Act
    const answers = [];
    for (let i = 0; i < 4; i++) answers.push((await post(sink.url, '{"text":"hi"}')).status);
    // Assess
    expect(answers).toEqual([429, 429, 410, 200]);
    expect(sink.attempts).toHaveLength(4);
    expect(sink.received).toHaveLength(1);
  });

  it('forgets queued faults on clearFaults', async () => {
    sink.failNext({ kind: 'status', status: 500 }, 3);
    sink.clearFaults();
    expect((await post(sink.url, '{"text":"hi"}')).status).toBe(200);
  });

  it('resets the connection on demand', async () => {
    sink.failNext({ kind: 'reset' });
    await expect(post(sink.url, '{"text":"hi"}')).rejects.toThrow();
    expect(sink.attempts).toHaveLength(1);
    expect(sink.received).toHaveLength(0);
  });

  it('hangs on demand until the client gives up, and still closes', async () => {
    sink.failNext({ kind: 'hang' });
    await expect(
      fetch(sink.url, { method: 'POST', body: '{"text":"hi"}', signal: AbortSignal.timeout(100) }),
    ).rejects.toThrow();
    expect(sink.attempts).toHaveLength(1);
  });
});

describe('webhook sink', () => {
  const SECRET = 'whsec_c2luay1zZWNyZXQtb2YtdHdlbnR5LWZvdXItYnl0ZXM=';
  const NOW_SEC = 1_741_239_000;
  let sink: Sink;
  beforeEach(async () => {
    sink = await startWebhookSink({ secret: SECRET, clock: () => NOW_SEC * 1000 });
  });
  afterEach(async () => {
    await sink.close();
  });

  it('accepts a request carrying a valid Standard Webhooks signature', async () => {
    const body = '{"id":"e1"}';
    const answer = await post(sink.url, body, {
      'webhook-id': 'e1',
      'webhook-timestamp': String(NOW_SEC),
      'webhook-signature': signStandardWebhook(SECRET, 'e1', NOW_SEC, body),
    });
    expect(answer.status).toBe(200);
    expect(sink.received).toHaveLength(1);
  });

  it.each([
    ['no signature', {}],
    [
      'a signature of another body',
      { 'webhook-signature': signStandardWebhook(SECRET, 'e1', NOW_SEC, '{}') },
    ],
    [
      'an old timestamp',
      {
        'webhook-timestamp': String(NOW_SEC - 600),
        'webhook-signature': signStandardWebhook(SECRET, 'e1', NOW_SEC - 600, '{"id":"e1"}'),
      },
    ],
  ])('answers 401 to %s', async (_why, headers: Record<string, string>) => {
    const answer = await post(sink.url, '{"id":"e1"}', {
      'webhook-id': 'e1',
      'webhook-timestamp': String(NOW_SEC),
      ...headers,
    });
    expect(answer.status).toBe(401);
    expect(sink.received).toHaveLength(0);
    expect(sink.attempts).toHaveLength(1);
  });

  it('answers after a delay on demand', async () => {
    const open = await startWebhookSink();
    try {
      open.failNext({ kind: 'delay', ms: 30 });
      expect((await post(open.url, '{}')).status).toBe(200);
      expect(open.received).toHaveLength(1);
    } finally {
      await open.close();
    }
  });
});
