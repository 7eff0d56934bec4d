import {
  CreateTableCommand,
  ResourceInUseException,
  type CreateTableCommandInput,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';

/**
 * One table serves every scope. Keys (all strings):
 * - `pk` = `S#{scope}`: every item of one project + enterprise project lives in one partition.
 * - `sk` = `T#{task}` for a task's last-seen state, `A#{task}#{status}` for an alert and its
 *   deliveries, `L#deliver` for the delivery lease.
 * - `gsi1` (`g1pk` = `S#{scope}`, `g1sk`) is sparse: it holds only what a poll must look at, tasks
 *   in flight or in an alert status (`T#...`) and alerts with a delivery pending (`P#...`), so one
 *   Query per scope reads the whole working set however large the window is.
 * - `ttl` (epoch seconds) lets DynamoDB delete state once it has outlived the query window.
 */
export const KEY = { pk: 'pk', sk: 'sk', gsiPk: 'g1pk', gsiSk: 'g1sk', ttl: 'ttl' } as const;
export const GSI_NAME = 'gsi1';

/** CreateTable input for the state table (local and development use; production uses serverless.yml). */
export function stateTableDefinition(tableName: string): CreateTableCommandInput {
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [
      { AttributeName: KEY.pk, AttributeType: 'S' },
      { AttributeName: KEY.sk, AttributeType: 'S' },
      { AttributeName: KEY.gsiPk, AttributeType: 'S' },
      { AttributeName: KEY.gsiSk, AttributeType: 'S' },
    ],
    KeySchema: [
      { AttributeName: KEY.pk, KeyType: 'HASH' },
      { AttributeName: KEY.sk, KeyType: 'RANGE' },
    ],
    GlobalSecondaryIndexes: [
      {
        IndexName: GSI_NAME,
        KeySchema: [
          { AttributeName: KEY.gsiPk, KeyType: 'HASH' },
          { AttributeName: KEY.gsiSk, KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'ALL' },
      },
    ],
  };
}

/** Creates the state table unless it exists; returns whether it was created. */
export async function createStateTable(client: DynamoDBClient, tableName: string): Promise<boolean> {
  try {
    await client.send(new CreateTableCommand(stateTableDefinition(tableName)));
    return true;
  } catch (err) {
    if (err instanceof ResourceInUseException) return false;
    throw err;
  }
}
