// HSS credentials by name. The unnamed CLOUD_SDK_AK/CLOUD_SDK_SK (+CLOUD_SDK_SECURITY_TOKEN) or
// HSS_AUTH_TOKEN are credential `default`; `CLOUD_SDK_AK__ACME` etc. are credential `acme`; the
// destinations file may name more under `credentials:` (SSM parameter names only).
import type { FileReader } from './file';
import type { Problem } from './problems';
import { check, credentialName, shown } from '../rules';
import { DEFAULT_CREDENTIAL } from '../huaweicloud/credentials';
import type { HssAuth } from '../huaweicloud/credentials';
import {
  PER_CREDENTIAL_VARIABLES,
  VARIABLES,
  splitNamedCredential,
  type CredentialVariable,
  type Input,
  type Values,
} from './variables';

/** One credential's parts as given: each value (when valid), whether it was given, and its name in messages. */
type Parts = Record<CredentialVariable, { value?: string; given: boolean; name: string }>;

export interface PlacedCredential {
  auth?: HssAuth;
  /** How messages name it: `CLOUD_SDK_AK__ACME/CLOUD_SDK_SK__ACME` or `DESTINATIONS_FILE=…: credentials.acme`. */
  where: string;
  variable: string;
}

/** Keys of a `credentials:` entry in the file, per part. */
const FILE_KEYS: Record<CredentialVariable, string> = {
  CLOUD_SDK_AK: 'ak_param',
  CLOUD_SDK_SK: 'sk_param',
  CLOUD_SDK_SECURITY_TOKEN: 'security_token_param',
  HSS_AUTH_TOKEN: 'token_param',
};

/** Credentials defined in the environment and the file, by name; each a complete AK/SK or token. */
export function buildCredentials(
  values: Values,
  inputs: ReadonlyMap<string, Input>,
  file: { reader: FileReader; credentials?: Record<string, unknown> } | undefined,
  problems: Problem[],
): Map<string, PlacedCredential> {
  const byName = new Map<string, Parts>();
  const partsOf = (name: string, nameOf: (base: CredentialVariable) => string): Parts => {
    let parts = byName.get(name);
    if (parts === undefined) {
      parts = Object.fromEntries(
        PER_CREDENTIAL_VARIABLES.map((base) => [base, { given: false, name: nameOf(base) }]),
      ) as Parts;
      byName.set(name, parts);
    }
    return parts;
  };

  // The unnamed variables: already checked by their rules.
  if (PER_CREDENTIAL_VARIABLES.some((base) => inputs.has(base))) {
    const parts = partsOf(DEFAULT_CREDENTIAL, (base) => base);
    for (const base of PER_CREDENTIAL_VARIABLES) {
      parts[base] = {
        ...parts[base],
        given: inputs.has(base),
        ...(values[base] !== undefined && { value: values[base] }),
      };
    }
  }

  // Named variables: CLOUD_SDK_AK__ACME.
  for (const [variable, input] of inputs) {
    const split = splitNamedCredential(variable);
    if (split === undefined) continue;
    const name = check(credentialName, split.suffix, `${variable}: the credential name`);
    if (!name.ok) {
      problems.push({ variable, text: name.problem });
      continue;
    }
    if (name.value === DEFAULT_CREDENTIAL) {
      problems.push({
        variable,
        text: `${variable}: the default credential is set without a name (${split.base})`,
      });
      continue;
    }
    const parts = partsOf(name.value, (base) => `${base}__${split.suffix}`);
    const checked = input.unresolved ? undefined : check(VARIABLES[split.base].rule, input.text, input.where);
    if (checked?.ok === false) problems.push({ variable, text: checked.problem });
    parts[split.base] = { ...parts[split.base], given: true, ...(checked?.ok && { value: checked.value }) };
  }

  const placed = new Map<string, PlacedCredential>();
  for (const [name, parts] of byName) {
    const given = PER_CREDENTIAL_VARIABLES.filter((base) => parts[base].given).map(
      (base) => parts[base].name,
    );
    const variable = given[0] ?? 'CLOUD_SDK_AK';
    placed.set(name, { ...authOf(parts, problems, variable), where: given.join('/'), variable });
  }

  // The file: names to SSM parameter names.
  if (file?.credentials !== undefined) {
    const { reader } = file;
    for (const [rawName, entry] of Object.entries(file.credentials)) {
      const path = `credentials.${rawName}`;
      const name = reader.value(rawName, `${path} (the name)`, credentialName);
      const m = reader.mapping(entry, path, Object.values(FILE_KEYS));
      if (name === undefined || m === undefined) continue;
      if (placed.has(name)) {
        reader.problem(
          path,
          `defines credential ${shown(name)} again (it is already set by ${placed.get(name)!.where})`,
        );
        continue;
      }
      const parts = partsOf(name, (base) => `${path}.${FILE_KEYS[base]}`);
      for (const base of PER_CREDENTIAL_VARIABLES) {
        const raw = m[FILE_KEYS[base]];
        const value = reader.secretParam(raw, `${path}.${FILE_KEYS[base]}`, VARIABLES[base].rule);
        parts[base] = {
          ...parts[base],
          given: raw !== undefined && raw !== null,
          ...(value !== undefined && { value }),
        };
      }
      placed.set(name, {
        ...authOf(parts, problems, reader.variable, `${reader.label}: `),
        where: `${reader.label}: ${path}`,
        variable: reader.variable,
      });
    }
  }
  return placed;
}

/** The auth of complete parts; problems (naming the parts as given) when they do not make one. */
function authOf(parts: Parts, problems: Problem[], variable: string, prefix = ''): { auth?: HssAuth } {
  const { CLOUD_SDK_AK: ak, CLOUD_SDK_SK: sk, CLOUD_SDK_SECURITY_TOKEN: st, HSS_AUTH_TOKEN: token } = parts;
  const before = problems.length;
  const say = (text: string) => problems.push({ variable, text: `${prefix}${text}` });
  if ((ak.given || sk.given) && token.given) {
    say(`${token.name} must not be set together with ${ak.name}/${sk.name} (choose one auth mode)`);
  } else if (!ak.given && !sk.given && !token.given) {
    say(`${ak.name} and ${sk.name} are required (or ${token.name} for token auth)`);
  } else if (ak.given && !sk.given) {
    say(`${sk.name} is required when ${ak.name} is set`);
  } else if (sk.given && !ak.given) {
    say(`${ak.name} is required when ${sk.name} is set`);
  }
  if (st.given && !(ak.given || sk.given)) {
    say(`${st.name} needs ${ak.name} and ${sk.name} (it belongs to temporary AK/SK)`);
  }
  if (problems.length > before) return {};
  if (token.value !== undefined) return { auth: { kind: 'token', token: token.value } };
  if (ak.value === undefined || sk.value === undefined || (st.given && st.value === undefined)) return {};
  return {
    auth: {
      kind: 'aksk',
      ak: ak.value,
      sk: sk.value,
      ...(st.value !== undefined && { securityToken: st.value }),
    },
  };
}

/**
 * Problems with who uses what: every credential a scope or SMN destination names must be defined,
 * and a named credential nobody uses is probably a typo.
 */
export function checkCredentialUse(
  credentials: ReadonlyMap<string, PlacedCredential>,
  users: ReadonlyArray<{ credential: string; where: string; variable: string }>,
  problems: Problem[],
): void {
  for (const { credential, where, variable } of users) {
    if (credentials.has(credential)) continue;
    const text =
      credential === DEFAULT_CREDENTIAL
        ? 'CLOUD_SDK_AK and CLOUD_SDK_SK are required (or HSS_AUTH_TOKEN for token auth)'
        : `${where} uses credential ${shown(credential)}, which is not defined: set CLOUD_SDK_AK__${credential.toUpperCase()} and CLOUD_SDK_SK__${credential.toUpperCase()} (or HSS_AUTH_TOKEN__${credential.toUpperCase()}), or add it under credentials: in the destinations file`;
    // One message for the default credential, however many scopes use it.
    if (!problems.some((p) => p.text === text)) problems.push({ variable, text });
  }
  const used = new Set(users.map((u) => u.credential));
  for (const [name, { where, variable }] of credentials) {
    if (name === DEFAULT_CREDENTIAL || used.has(name)) continue;
    problems.push({
      variable,
      text: `credential ${shown(name)} (${where}) is used by no scope or SMN destination (a typo? a scope picks it with @${name})`,
    });
  }
}
