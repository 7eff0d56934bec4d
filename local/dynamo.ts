import type { AddressInfo } from 'node:net';
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
