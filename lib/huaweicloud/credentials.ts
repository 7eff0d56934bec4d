// A Huawei Cloud credential and how a request carries it: AK/SK (an SDK-HMAC-SHA256 signature,
// signer.ts) or an IAM token. HSS reads with one; an SMN destination publishes with one.
import { signRequest, type SignableRequest } from './signer';

/** A credential: AK/SK (`securityToken` for temporary ones) or an IAM token. */
export type HssAuth =
  { kind: 'aksk'; ak: string; sk: string; securityToken?: string } | { kind: 'token'; token: string };

/** The name of the credential a scope or an SMN destination uses when it names none. */
export const DEFAULT_CREDENTIAL = 'default';

/**
 * The headers that send `request` authenticated at `now` (epoch ms): its own plus `X-Auth-Token`
 * for a token, or `X-Sdk-Date`, `X-Security-Token` and the `Authorization` signature over those of
 * `signable` (lowercase header names; signer.ts's default when absent) that the headers hold.
 */
export function authHeaders(
  request: SignableRequest,
  auth: HssAuth,
  now: number,
  signable?: readonly string[],
): Record<string, string> {
  if (auth.kind === 'token') return { ...request.headers, 'X-Auth-Token': auth.token };
  return signRequest(request, auth, now, signable);
}

/** The values of `auth` that no message may show: AK, SK and security token, or the token. */
export function credentialSecrets(auth: HssAuth): string[] {
  return (auth.kind === 'aksk' ? [auth.ak, auth.sk, auth.securityToken ?? ''] : [auth.token]).filter(
    (value) => value !== '',
  );
}
