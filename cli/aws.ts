// The AWS clients the CLI makes, from the CLI's own environment (CliIo.env, so tests run it in
// process): the region the function would use, the SDK's standard AWS_ENDPOINT_URL_SSM /
// AWS_ENDPOINT_URL_DYNAMODB / AWS_ENDPOINT_URL overrides, and throwaway credentials for a loopback
// endpoint (the local stand-ins accept any; a shell without AWS credentials can still use them).
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetParametersCommand, SSMClient } from '@aws-sdk/client-ssm';
import { awsRegionOf } from '../lib/config';
import type { SsmClientFactory, SsmGetParameters } from '../lib/secrets';
import { isLoopbackUrl } from '../lib/url';

type Env = Record<string, string | undefined>;

const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };

/** The AWS region the function reads its state and secrets in: parseConfig's rule (awsRegionOf). */
export function functionRegion(env: Env): string {
  return awsRegionOf(env).region;
}

/** Which variable set the region functionRegion returns, for messages. */
export function functionRegionSource(env: Env): string {
  return awsRegionOf(env).source ?? 'the default, neither AWS_REGION nor AWS_DEFAULT_REGION is set';
}

function endpointFor(env: Env, service: 'SSM' | 'DYNAMODB'): string | undefined {
  return env[`AWS_ENDPOINT_URL_${service}`]?.trim() || env.AWS_ENDPOINT_URL?.trim() || undefined;
}

function clientConfig(endpoint: string | undefined, region: string) {
  return {
    region,
    ...(endpoint !== undefined ? { endpoint } : {}),
    ...(endpoint !== undefined && isLoopbackUrl(endpoint) ? { credentials: LOCAL_CREDENTIALS } : {}),
  };
}

/** One SSM GetParameters reader in `region`, honouring the environment's endpoint override. */
export function ssmReader(env: Env, region: string): SsmGetParameters {
  const client = new SSMClient(clientConfig(endpointFor(env, 'SSM'), region));
  return (input) => client.send(new GetParametersCommand(input));
}

/** The CLI's SsmClientFactory: SSM in the function's region (functionRegion), as the Lambda reads it. */
export function cliSsm(env: Env): SsmClientFactory {
  return () => ssmReader(env, functionRegion(env));
}

/**
 * A DynamoDB client for AWS_ENDPOINT_URL_DYNAMODB (or AWS_ENDPOINT_URL) in `region`, or undefined
 * when neither is set (createApp then builds its own from the config).
 */
export function dynamoOverride(env: Env, region: string): DynamoDBClient | undefined {
  const endpoint = endpointFor(env, 'DYNAMODB');
  return endpoint === undefined ? undefined : new DynamoDBClient(clientConfig(endpoint, region));
}
