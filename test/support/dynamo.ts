import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { createStateTable, startLocalDynamo, type LocalDynamo } from '../../local/dynamo';

/**
 * One dynalite for the whole test file (started before, stopped after) and a fresh state table
 * per call of `freshTable`, so tests never see each other's state.
 */
export function useLocalDynamo(prefix: string): {
  dynamo: () => LocalDynamo;
  freshTable: () => Promise<string>;
} {
  let dynamo: LocalDynamo | undefined;
  let n = 0;
  beforeAll(async () => {
    dynamo = await startLocalDynamo();
  });
  afterAll(async () => {
    await dynamo?.close();
  });
  const get = (): LocalDynamo => {
    if (!dynamo) throw new Error('useLocalDynamo: dynalite is not started yet (use it inside a test)');
    return dynamo;
  };
  return {
    dynamo: get,
    async freshTable() {
      const tableName = `${prefix}-${++n}`;
      await createStateTable(get().client, tableName);
      // dynalite answers CreateTable before the table is usable: wait until it is ACTIVE.
      for (;;) {
        const out = await get().client.send(new DescribeTableCommand({ TableName: tableName }));
        if (out.Table?.TableStatus === 'ACTIVE') return tableName;
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    },
  };
}
