// The receiving side of Huawei Cloud's SDK-HMAC-SHA256 (lib/huaweicloud/signer.ts): reading the
// `Authorization` and `X-Sdk-Date` headers as the API gateway does, for the HSS emulator and the tests.

/** Parses an `X-Sdk-Date` value to epoch ms; NaN when malformed. */
export function parseSdkDate(value: string): number {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value);
  if (!m) return NaN;
  return Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!);
}

/** The parts of an `Authorization: SDK-HMAC-SHA256 ...` header; undefined when it is not one. */
export function parseAuthorization(
  value: string,
): { access: string; signedHeaders: string[]; signature: string } | undefined {
  const m = /^SDK-HMAC-SHA256\s+Access=([^,\s]+),\s*SignedHeaders=([^,\s]+),\s*Signature=([0-9a-f]+)$/.exec(
    value.trim(),
  );
  if (!m) return undefined;
  return { access: m[1]!, signedHeaders: m[2]!.split(';'), signature: m[3]! };
}
