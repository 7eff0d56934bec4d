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
      return tableName;
    },
  };
}
