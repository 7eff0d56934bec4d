// A loopback HTTP proxy in front of a DynamoDB engine that can answer for it or change what passes:
// the faults a real engine cannot be made to produce (throttling, unprocessed batch items), injected
// on the wire so the code under test runs its real SDK client against a real engine.
import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

type Json = Record<string, unknown>;

/** What the proxy does with one request: answer itself, or forward (possibly changed) and amend the answer. */
export type Reply =
  { answer: { status: number; body: Json } } | { forward: Json; amend?: (output: Json) => Json };

/**
 * Decides per request; `undefined` forwards it untouched. `operation` is e.g. `BatchWriteItem`. A rule
 * may be async: it can act on the engine first (a rival's write), then let the request through.
 */
export type Rule = (operation: string, input: Json) => Reply | undefined | Promise<Reply | undefined>;

export interface DynamoProxy {
  endpoint: string;
  /** Operations received, in order. */
  readonly operations: string[];
  rule: Rule | undefined;
  close(): Promise<void>;
}

/** Starts the proxy on 127.0.0.1 in front of `upstream` (an engine endpoint). */
export async function startDynamoProxy(upstream: string): Promise<DynamoProxy> {
  const operations: string[] = [];
  const proxy: DynamoProxy = { endpoint: '', operations, rule: undefined, close: async () => undefined };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const operation = String(req.headers['x-amz-target'] ?? '').split('.')[1] ?? '';
      operations.push(operation);
      void Promise.resolve(proxy.rule?.(operation, JSON.parse(raw.toString('utf8') || '{}') as Json)).then(
        (reply) => answer(reply, raw),
        (err: Error) => {
          res.writeHead(502);
          res.end(err.message);
        },
      );
    });
    const answer = (reply: Reply | undefined, raw: Buffer): void => {
      if (reply && 'answer' in reply) {
        res.writeHead(reply.answer.status, { 'content-type': 'application/x-amz-json-1.0' });
        res.end(JSON.stringify(reply.answer.body));
        return;
      }
      const body = reply ? Buffer.from(JSON.stringify(reply.forward)) : raw;
      forward(upstream, req.method ?? 'POST', req.url ?? '/', req.headers, body).then(
        (answer) => {
          const headers = { ...answer.headers };
          let out = answer.body;
          if (reply?.amend && answer.status === 200) {
            out = Buffer.from(JSON.stringify(reply.amend(JSON.parse(out.toString('utf8')) as Json)));
            // The SDK checks the CRC32 of what DynamoDB sent; the amended body has none.
            delete headers['x-amz-crc32'];
          }
          headers['content-length'] = String(out.length);
          res.writeHead(answer.status, headers);
          res.end(out);
        },
        (err: Error) => {
          res.writeHead(502);
          res.end(err.message);
        },
      );
    };
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  proxy.endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  proxy.close = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      // Keep-alive sockets of SDK clients would otherwise hold close() open until they idle out.
      server.closeAllConnections();
    });
  return proxy;
}

function forward(
  upstream: string,
  method: string,
  path: string,
  headers: IncomingHttpHeaders,
  body: Buffer,
): Promise<{ status: number; headers: IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${upstream}${path}`,
      { method, headers: { ...headers, 'content-length': String(body.length) } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 502, headers: res.headers, body: Buffer.concat(chunks) }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** DynamoDB's throttling answer (HTTP 400, ThrottlingException), without touching the engine. */
export function throttled(): Reply {
  return {
    answer: {
      status: 400,
      body: {
        __type: 'com.amazonaws.dynamodb.v20120810#ThrottlingException',
        message: 'Rate of requests exceeds the allowed throughput.',
      },
    },
  };
}

/**
 * For BatchWriteItem / BatchGetItem on `table`: lets the engine process only the first `n` items
 * (or keys) and hands the rest back as UnprocessedItems / UnprocessedKeys, as DynamoDB does under load.
 */
export function processOnly(operation: string, input: Json, table: string, n: number): Reply | undefined {
  const requestItems = input.RequestItems as Record<string, unknown> | undefined;
  if (!requestItems || !(table in requestItems)) return undefined;
  if (operation === 'BatchWriteItem') {
    const writes = requestItems[table] as unknown[];
    if (writes.length <= n) return undefined;
    return {
      forward: { ...input, RequestItems: { ...requestItems, [table]: writes.slice(0, n) } },
      amend: (output) => ({ ...output, UnprocessedItems: { [table]: writes.slice(n) } }),
    };
  }
  if (operation === 'BatchGetItem') {
    const get = requestItems[table] as { Keys: unknown[] };
    if (get.Keys.length <= n) return undefined;
    return {
      forward: {
        ...input,
        RequestItems: { ...requestItems, [table]: { ...get, Keys: get.Keys.slice(0, n) } },
      },
      amend: (output) => ({ ...output, UnprocessedKeys: { [table]: { ...get, Keys: get.Keys.slice(n) } } }),
    };
  }
  return undefined;
}
