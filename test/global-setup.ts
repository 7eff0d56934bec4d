import { startShared, type SharedDynamoDbLocal } from './support/dynamodb-local';

declare global {
  // Handed from globalSetup to globalTeardown (jest runs both in the same process).
  var __dynamoDbLocal: SharedDynamoDbLocal | undefined;
}

/** Starts the run's one DynamoDB Local; suites that use it wait until it answers (test/support/engines.ts). */
export default async function globalSetup(): Promise<void> {
  globalThis.__dynamoDbLocal = await startShared();
}
