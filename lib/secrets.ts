// Reads the SSM parameters the configuration refers to: every secret variable's `X_PARAM` (named
// credentials too: `CLOUD_SDK_SK__ACME_PARAM`), DESTINATIONS_FILE_PARAM (the file itself) and the
// file's `*_param` fields. parseConfig then checks them like any other value. The SSM client is made
// by a factory and its module loaded on first use, so a cold start without `_PARAM` loads neither.
import type { GetParametersCommandInput, GetParametersCommandOutput, Parameter } from '@aws-sdk/client-ssm';
import { isSecretVariable, type SsmParameters } from './config';
import { parameterNamesIn, readTextFile, type ReadFile } from './config/file';
import { PARAM_SUFFIX } from './config/inputs';
import { ssmParameterName } from './rules';
import { AlertsError, ConfigError } from './errors';

/** One SSM GetParameters call. */
export type SsmGetParameters = (input: GetParametersCommandInput) => Promise<GetParametersCommandOutput>;

/** Makes the SSM reader; called at most once, and only when some parameter is to be read. */
export type SsmClientFactory = () => SsmGetParameters | Promise<SsmGetParameters>;

/**
 * The factory the Lambda and the CLI use: the AWS SDK's SSM client with the default credential
 * chain. The SDK module is required here, when first needed, not imported: a plain CommonJS require
 * of the external SDK resolves like the bundle's other SDK requires (the runtime's copy on Lambda).
 */
export const sdkSsm: SsmClientFactory = () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const sdk = require('@aws-sdk/client-ssm') as typeof import('@aws-sdk/client-ssm');
  const client = new sdk.SSMClient({});
  return (input) => client.send(new sdk.GetParametersCommand(input));
};

/** GetParameters takes at most 10 names per call. */
const MAX_NAMES_PER_CALL = 10;

/** SSM could not be reached or failed on its side (throttling, 5xx, network): worth retrying later. */
export class SecretFetchError extends AlertsError {
  constructor(
    message: string,
    readonly parameterNames: readonly string[],
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'SecretFetchError';
  }
}

/**
 * Reads (decrypted) every SSM parameter the configuration names, by the name it was asked for;
 * a parameter SSM does not know is left out (parseConfig reports it, with everything else). No
 * call and no client when nothing is named; otherwise one GetParameters call per 10 names, plus one
 * round for the `*_param`s of a destinations file that itself comes from SSM. Throws ConfigError when
 * SSM refuses for good (access denied, unusable key) and SecretFetchError when it fails for now.
 */
export async function resolveSecretParams(
  env: Record<string, string | undefined>,
  ssm: SsmClientFactory,
  options: { readFile?: ReadFile } = {},
): Promise<SsmParameters> {
  const readFile = options.readFile ?? readTextFile;
  const referrers = new Map<string, string[]>(); // parameter name -> what refers to it, for messages
  const refer = (name: string, by: string) => {
    // A malformed name is parseConfig's to report; asking SSM for it would fail the whole call.
    if (ssmParameterName.schema.safeParse(name).success)
      referrers.set(name, [...(referrers.get(name) ?? []), by]);
  };
  for (const [variable, raw] of Object.entries(env)) {
    const name = raw?.trim();
    if (!name || !variable.endsWith(PARAM_SUFFIX)) continue;
    const base = variable.slice(0, -PARAM_SUFFIX.length);
    // Set both ways is a problem parseConfig reports; the SSM value would not be used.
    if (isSecretVariable(base) && !env[base]?.trim()) refer(name, `${base} (${variable}=${name})`);
  }
  const filePath = env.DESTINATIONS_FILE?.trim();
  const fileParam = env.DESTINATIONS_FILE_PARAM?.trim();
  if (fileParam) refer(fileParam, `DESTINATIONS_FILE_PARAM=${fileParam}`);
  else if (filePath) {
    for (const name of parameterNamesIn(readOrEmpty(readFile, filePath)))
      refer(name, `DESTINATIONS_FILE=${filePath}`);
  }

  let client: Promise<SsmGetParameters> | undefined;
  const fetch = (names: string[]) => {
    client ??= Promise.resolve(ssm());
    return getParameters(client, names, referrers);
  };
  const parameters = referrers.size === 0 ? {} : await fetch([...referrers.keys()]);
  const fileText = fileParam ? parameters[fileParam]?.value : undefined;
  if (fileText === undefined) return parameters;
  for (const name of parameterNamesIn(fileText)) refer(name, `DESTINATIONS_FILE_PARAM=${fileParam}`);
  const more = [...referrers.keys()].filter((name) => !(name in parameters));
  return more.length === 0 ? parameters : { ...parameters, ...(await fetch(more)) };
}

function readOrEmpty(readFile: ReadFile, path: string): string {
  try {
    return readFile(path);
  } catch {
    return ''; // parseConfig reports the unreadable file
  }
}

async function getParameters(
  client: Promise<SsmGetParameters>,
  names: string[],
  referrers: ReadonlyMap<string, string[]>,
): Promise<Record<string, { value: string; type: string }>> {
  const get = await client;
  const chunks = Array.from({ length: Math.ceil(names.length / MAX_NAMES_PER_CALL) }, (_, i) =>
    names.slice(i * MAX_NAMES_PER_CALL, (i + 1) * MAX_NAMES_PER_CALL),
  );
  const answers = await Promise.all(
    chunks.map(async (chunk) => {
      try {
        const answer = await get({ Names: chunk, WithDecryption: true });
        return { chunk, parameters: answer.Parameters ?? [] };
      } catch (error) {
        const where = chunk.map((name) => (referrers.get(name) ?? [name]).join(', ')).join(', ');
        throw translateSsmError(error, chunk, where);
      }
    }),
  );
  const out: Record<string, { value: string; type: string }> = {};
  for (const { chunk, parameters } of answers) {
    for (const name of chunk) {
      const found = parameters.find((p) => isAnswerFor(p, name));
      if (found?.Value !== undefined) out[name] = { value: found.Value, type: found.Type ?? 'untyped' };
    }
  }
  return out;
}

/** Names may be asked for by ARN or with a `:version` selector; SSM answers with the plain name. */
function isAnswerFor(p: Parameter, name: string): boolean {
  return p.Name === name || p.ARN === name || (p.Selector !== undefined && `${p.Name}${p.Selector}` === name);
}

// Errors that a retry cannot fix are configuration problems; SSM's error messages never carry values.
const PERMANENT_SSM_ERRORS = new Set([
  'AccessDeniedException',
  'InvalidKeyId',
  'ValidationException',
  'ParameterVersionNotFound',
  'UnrecognizedClientException',
]);

function translateSsmError(error: unknown, names: string[], where: string): AlertsError {
  const code = error instanceof Error ? error.name : 'UnknownError';
  const detail = error instanceof Error ? error.message : String(error);
  if (PERMANENT_SSM_ERRORS.has(code)) {
    const hint =
      code === 'AccessDeniedException' || code === 'InvalidKeyId'
        ? '; the function needs ssm:GetParameters on the parameters and kms:Decrypt on their key'
        : '';
    return new ConfigError(
      `Invalid configuration: cannot read ${where}: ${code}: ${detail}${hint}`,
      undefined,
      {
        cause: error,
      },
    );
  }
  return new SecretFetchError(`SSM GetParameters failed for ${where}: ${code}: ${detail}`, names, {
    cause: error,
  });
}
