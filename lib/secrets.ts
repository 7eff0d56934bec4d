import { GetParametersCommand, type Parameter, type SSMClient } from '@aws-sdk/client-ssm';
import { SECRET_VARIABLES } from './config';
import { AlertsError, ConfigError } from './errors';

/** Suffix naming the SSM parameter that holds a secret variable's value (`CLOUD_SDK_SK_PARAM`). */
export const PARAM_SUFFIX = '_PARAM';

/** GetParameters takes at most 10 names; there are fewer secret variables, so one call always suffices. */
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
 * Returns a copy of `env` in which each secret variable named by `X_PARAM` holds the decrypted value
 * of that SSM SecureString, and the `X_PARAM` entries are gone; makes no call when none is set and
 * exactly one GetParameters call otherwise. Throws ConfigError when both `X` and `X_PARAM` are set or
 * a parameter is missing, unreadable or not a SecureString (naming variable and parameter, never the
 * value), and SecretFetchError when SSM itself fails.
 */
export async function resolveSecretParams(
  env: Record<string, string | undefined>,
  ssm: SSMClient,
): Promise<Record<string, string | undefined>> {
  const wanted = new Map<string, string[]>(); // parameter name -> variables that read it
  const problems: string[] = [];
  for (const variable of SECRET_VARIABLES) {
    const paramVariable = `${variable}${PARAM_SUFFIX}`;
    const name = env[paramVariable]?.trim();
    if (!name) continue;
    if (env[variable]?.trim()) {
      problems.push(`${variable} and ${paramVariable} are both set (set one)`);
      continue;
    }
    wanted.set(name, [...(wanted.get(name) ?? []), variable]);
  }
  if (problems.length > 0) throw configError(problems);

  const out = withoutParamVariables(env);
  if (wanted.size === 0) return out;

  const names = [...wanted.keys()];
  if (names.length > MAX_NAMES_PER_CALL)
    throw new Error('unreachable: more secret variables than one call takes');
  const where = (name: string) =>
    (wanted.get(name) ?? []).map((v) => `${v} (${v}${PARAM_SUFFIX}=${name})`).join(', ');

  let parameters: Parameter[];
  let invalid: string[];
  try {
    const answer = await ssm.send(new GetParametersCommand({ Names: names, WithDecryption: true }));
    parameters = answer.Parameters ?? [];
    invalid = answer.InvalidParameters ?? [];
  } catch (error) {
    throw translateSsmError(error, names, names.map(where).join(', '));
  }

  for (const name of invalid) problems.push(`${where(name)}: SSM parameter not found`);
  for (const name of names) {
    if (invalid.includes(name)) continue;
    // Names may be asked for by ARN or with a :version selector; SSM answers with the plain name.
    const found = parameters.find(
      (p) =>
        p.Name === name || p.ARN === name || (p.Selector !== undefined && `${p.Name}${p.Selector}` === name),
    );
    if (found === undefined || found.Value === undefined) {
      problems.push(`${where(name)}: SSM returned no value`);
    } else if (found.Type !== 'SecureString') {
      problems.push(
        `${where(name)}: is a ${found.Type ?? 'untyped'} parameter, store secrets as SecureString`,
      );
    } else {
      for (const variable of wanted.get(name) ?? []) out[variable] = found.Value;
    }
  }
  if (problems.length > 0) throw configError(problems);
  return out;
}

function configError(problems: string[]): ConfigError {
  const variable = problems.length === 1 ? problems[0]?.split(' ')[0] : undefined;
  return new ConfigError(`Invalid configuration: ${problems.join('; ')}`, variable);
}

function withoutParamVariables(env: Record<string, string | undefined>): Record<string, string | undefined> {
  const out = { ...env };
  for (const variable of SECRET_VARIABLES) delete out[`${variable}${PARAM_SUFFIX}`];
  return out;
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
