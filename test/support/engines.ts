// The DynamoDB engines the state tests run on: dynalite (in-process, a reimplementation) and
// Amazon's DynamoDB Local (the reference, one Java process per jest run, see dynamodb-local.ts).
import { randomBytes } from 'node:crypto';
import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { createStateTable } from '../../lib/state/table';
import { LOCAL_AWS, startLocalDynamo, type LocalDynamo } from '../../local/dynamo';
import { sharedEndpoint } from './dynamodb-local';

export const ENGINE_NAMES = ['dynalite', 'DynamoDB Local'] as const;
export type EngineName = (typeof ENGINE_NAMES)[number];

/** One engine for the tests of a describe block; usable inside tests and hooks, not at collection. */
export interface Engine {
  readonly name: EngineName;
  readonly endpoint: string;
  /** The block's client (destroyed after the block). */
  client(): DynamoDBClient;
  /** Another client (to this engine unless `config.endpoint` says otherwise), destroyed after the block. */
  newClient(config?: DynamoDBClientConfig): DynamoDBClient;
  /** Creates a new, empty state table (stateTableDefinition) and returns its name, unique in the run. */
  freshTable(prefix?: string): Promise<string>;
}

let tables = 0;
// A jest worker runs many test files, each with a fresh copy of this module (so `tables` starts at 0
// again) but the same pid: without a per-file token, two files would share DynamoDB Local tables.
const FILE_TOKEN = randomBytes(4).toString('hex');

/**
 * Registers `beforeAll`/`afterAll` in the calling describe block that bring up `name` and returns
 * it. dynalite starts in this process; DynamoDB Local is the run's shared instance, and a block
 * using it fails with one line when it could not start (no Java): it is never skipped.
 */
export function useEngine(name: EngineName): Engine {
  let endpoint: string | undefined;
  let dynalite: LocalDynamo | undefined;
  const clients: DynamoDBClient[] = [];
  beforeAll(async () => {
    if (name === 'dynalite') {
      dynalite = await startLocalDynamo();
      endpoint = dynalite.endpoint;
    } else {
      endpoint = await sharedEndpoint();
    }
  }, 150_000);
  afterAll(async () => {
    for (const c of clients.splice(0)) c.destroy();
    await dynalite?.close();
  });
  const started = (): string => {
    if (endpoint === undefined)
      throw new Error(`${name} is not started yet (use the engine inside a test or hook)`);
    return endpoint;
  };
  const newClient = (config: DynamoDBClientConfig = {}): DynamoDBClient => {
    const c = new DynamoDBClient({ ...LOCAL_AWS, endpoint: started(), ...config });
    clients.push(c);
    return c;
  };
  let shared: DynamoDBClient | undefined;
  const client = (): DynamoDBClient => (shared ??= newClient());
  return {
    name,
    get endpoint() {
      return started();
    },
    client,
    newClient,
    async freshTable(prefix = 'state') {
      // Worker pid + file token + counter: unique across workers and test files sharing DynamoDB Local.
      const tableName = `${prefix}-${process.pid}-${FILE_TOKEN}-${++tables}`;
      await createStateTable(client(), tableName);
      return tableName;
    },
  };
}

/** Runs the same tests once per engine, in a describe block named `${title} on ${engine}`. */
export function describeEachEngine(title: string, body: (engine: Engine) => void): void {
  for (const name of ENGINE_NAMES) {
    describe(`${title} on ${name}`, () => {
      body(useEngine(name));
    });
  }
}
