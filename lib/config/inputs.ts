// Turns the environment into the values the rules check: trimmed, blanks dropped (deployment tools
// write unset optional variables as ""), and each secret `X_PARAM` replaced by the SSM value it names.
import type { Problem } from './problems';
import { check, ssmParameterName } from '../rules';
import { VARIABLES, isSecretVariable, type Input } from './variables';

/** SSM parameters as resolveSecretParams read them, by the name they were asked for; absent = not found. */
export type SsmParameters = Readonly<Record<string, { value: string; type: string }>>;

export const PARAM_SUFFIX = '_PARAM';

/** Variables whose `_PARAM` is a variable of its own rather than an SSM reference to the value. */
const OWN_PARAM_VARIABLES: readonly string[] = ['DESTINATIONS_FILE_PARAM'];

/**
 * The SSM value of parameter `name`, or a problem saying why there is none. `where` names the
 * reference (`CLOUD_SDK_SK (CLOUD_SDK_SK_PARAM=/x/sk)`); `secure` demands a SecureString.
 */
export function lookupParameter(
  name: string,
  parameters: SsmParameters | undefined,
  where: string,
  secure: boolean,
): { ok: true; value: string } | { ok: false; problem: string } {
  const named = check(ssmParameterName, name, where);
  if (!named.ok) return named;
  if (parameters === undefined)
    return {
      ok: false,
      problem: `${where}: not read from SSM (resolveSecretParams runs before parseConfig)`,
    };
  const found = parameters[name];
  if (found === undefined) return { ok: false, problem: `${where}: SSM parameter not found` };
  if (secure && found.type !== 'SecureString')
    return { ok: false, problem: `${where}: is a ${found.type} parameter, store secrets as SecureString` };
  if (!secure && !['String', 'SecureString'].includes(found.type))
    return { ok: false, problem: `${where}: is a ${found.type} parameter, expected String or SecureString` };
  return { ok: true, value: found.value.trim() };
}

/** The present values by variable name, and every secret value met (to scrub from messages). */
export function readInputs(
  env: Record<string, string | undefined>,
  parameters: SsmParameters | undefined,
  problems: Problem[],
): { inputs: Map<string, Input>; secrets: string[] } {
  const inputs = new Map<string, Input>();
  const present = (name: string) => (env[name]?.trim() ?? '') !== '';
  for (const [name, raw] of Object.entries(env)) {
    const value = raw?.trim();
    if (!value) continue;
    const base = name.endsWith(PARAM_SUFFIX) ? name.slice(0, -PARAM_SUFFIX.length) : undefined;
    if (base === undefined || OWN_PARAM_VARIABLES.includes(name)) {
      inputs.set(name, { text: value, where: name });
    } else if (isSecretVariable(base)) {
      if (present(base)) {
        problems.push({ variable: base, text: `${base} and ${name} are both set (set one)` });
        continue;
      }
      const where = `${base} (${name}=${value})`;
      const found = lookupParameter(value, parameters, where, true);
      if (found.ok) inputs.set(base, { text: found.value, where });
      else {
        problems.push({ variable: base, text: found.problem });
        inputs.set(base, { text: '', where, unresolved: true });
      }
    } else if (base in VARIABLES) {
      problems.push({
        variable: name,
        text: `${name} is not read: only secret variables (and DESTINATIONS_FILE) may come from SSM, set ${base} itself`,
      });
    }
  }
  const secrets = [...inputs]
    .filter(([name, input]) => isSecretVariable(name) && !input.unresolved)
    .map(([, input]) => input.text);
  return { inputs, secrets };
}
