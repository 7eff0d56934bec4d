import { AlertsError } from '../errors';

const THROTTLING = new Set([
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'RequestLimitExceeded',
  'ServiceUnavailable',
  'InternalServerError',
]);

/** A DynamoDB request failed; `retryable` says whether the next poll may simply try again. */
export class StateError extends AlertsError {
  constructor(
    message: string,
    readonly operation: string,
    readonly errorCode: string | undefined,
    readonly retryable: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'StateError';
  }
}

/**
 * Translates an SDK error into a StateError that names the table operation; a missing table is said
 * in one line naming the table and `region`, with how to create it.
 */
export function toStateError(
  operation: string,
  tableName: string,
  err: unknown,
  region?: string,
): StateError {
  if (err instanceof StateError) return err;
  const code = (err as { name?: string } | undefined)?.name;
  const detail =
    code === 'ResourceNotFoundException'
      ? `table ${tableName} does not exist${region ? ` in region ${region}` : ''}; create it with \`hss-restore-alerts create-table\` (local DynamoDB) or by deploying the stack (\`serverless deploy\`), or correct STATE_TABLE / AWS_REGION`
      : ((err as { message?: string } | undefined)?.message ?? String(err));
  const retryable = code !== undefined && THROTTLING.has(code);
  return new StateError(
    `DynamoDB ${operation} on table ${tableName} failed: ${code ?? 'Error'}: ${detail}`,
    operation,
    code,
    retryable,
    { cause: err },
  );
}

export function isConditionalCheckFailed(err: unknown): boolean {
  return (err as { name?: string } | undefined)?.name === 'ConditionalCheckFailedException';
}
