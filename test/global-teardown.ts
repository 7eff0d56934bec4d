import { stopShared } from './support/dynamodb-local';

/** Stops the run's DynamoDB Local. */
export default async function globalTeardown(): Promise<void> {
  await stopShared(globalThis.__dynamoDbLocal);
  globalThis.__dynamoDbLocal = undefined;
}
