import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Log } from '../../lib/log';
import { classifyNetworkError } from '../../lib/notify/classify';
import { createPostJson, HttpNetworkError } from '../../lib/notify/http';

const postJson = createPostJson();
import { startWebhookSink, type Sink } from '../../local/sinks';

function recordingLog(): Log & { lines: string[] } {
  const lines: string[] = [];
  const put = (message: string, extra?: Record<string, unknown>) =>
    lines.push(`${message} ${JSON.stringify(extra)}`);
  return { lines, debug: put, info: put, warn: put, error: put };
}

async function closedPortUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}/services/T/B/SECRET-PATH`;
}

async function networkErrorOf(promise: Promise<unknown>): Promise<HttpNetworkError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof HttpNetworkError) return err;
    throw err;
  }
  throw new Error('expected an HttpNetworkError');
}

describe('postJson', () => {
  let sink: Sink;
  beforeEach(async () => {
    sink = await startWebhookSink();
  });
  afterEach(async () => {
    await sink.close();
  });

  it('sends the body byte for byte with JSON content type and the extra headers', async () => {
    // Prepare
    const body = '{"a":"ü → b","n":1}';
    // Act
    const answer = await postJson(sink.url, body, { headers: { 'webhook-id': 'x1' } });
    // Assess
    expect(answer.status).toBe(200);
    expect(sink.received).toHaveLength(1);
    expect(sink.received[0]!.body).toBe(body);
    expect(sink.received[0]!.headers).toMatchObject({
      'content-type': 'application/json',
      'webhook-id': 'x1',
    });
  });

  it('returns error answers instead of throwing, with lower-case headers and the body text', async () => {
    sink.failNext({ kind: 'status', status: 503, body: 'busy', headers: { 'Retry-After': '7' } });
    const answer = await postJson(sink.url, '{}');
    expect(answer).toMatchObject({ status: 503, bodyText: 'busy' });
    expect(answer.headers['retry-after']).toBe('7');
  });

  it('does not follow redirects', async () => {
    sink.failNext({ kind: 'status', status: 302, headers: { location: `${sink.url}/elsewhere` } });
    const answer = await postJson(sink.url, '{}');
    expect(answer.status).toBe(302);
    expect(sink.attempts).toHaveLength(1);
  });

  it('throws a retryable connection-refused error naming only scheme and host', async () => {
    // Prepare
    const url = await closedPortUrl();
    const log = recordingLog();
    // Act
    const err = await networkErrorOf(createPostJson({ log })(url, '{}'));
    // Assess
    expect(err.code).toBe('ECONNREFUSED');
    expect(err.message).toMatch(
      /^POST http:\/\/127\.0\.0\.1:\d+\/… failed: connection refused \(ECONNREFUSED\)$/,
    );
    expect(classifyNetworkError(err)).toMatchObject({
      kind: 'retryable',
      error: expect.stringContaining('connection refused'),
    });
    expect(
      JSON.stringify([err.message, classifyNetworkError(err), log.lines, err.cause ?? null]),
    ).not.toContain('SECRET');
  });

  it('throws a connection-reset error when the receiver drops the connection', async () => {
    sink.failNext({ kind: 'reset' });
    const err = await networkErrorOf(postJson(sink.url, '{}'));
    expect(err.code).toBe('ECONNRESET');
    expect(classifyNetworkError(err).error).toContain('connection reset');
  });

  it('times out a receiver that never answers', async () => {
    sink.failNext({ kind: 'hang' });
    const err = await networkErrorOf(postJson(sink.url, '{}', { timeoutMs: 150 }));
    expect(err.code).toBe('ETIMEDOUT');
    expect(classifyNetworkError(err)).toEqual({
      kind: 'retryable',
      error: expect.stringContaining('timed out after 150 ms (ETIMEDOUT)'),
    });
  });

  it('times out a receiver slower than the deadline', async () => {
    sink.failNext({ kind: 'delay', ms: 2000 });
    const err = await networkErrorOf(postJson(sink.url, '{}', { timeoutMs: 150 }));
    expect(err.code).toBe('ETIMEDOUT');
  });
});
