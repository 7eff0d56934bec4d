import { authHeaders, credentialSecrets } from '../../lib/huaweicloud/credentials';
import { signature, type SignableRequest } from '../../lib/huaweicloud/signer';
import { parseAuthorization } from '../../local/sdk-signature';

const NOW = Date.UTC(2025, 2, 6, 5, 26, 18);
const REQUEST: SignableRequest = {
  method: 'POST',
  path: '/v2/p/notifications/topics/urn/publish',
  query: [],
  headers: { 'content-type': 'application/json', host: 'smn.example' },
  body: '{"subject":"s"}',
};

describe('Huawei Cloud credentials', () => {
  it('sends an IAM token as X-Auth-Token and signs nothing', () => {
    const headers = authHeaders(REQUEST, { kind: 'token', token: 'iam-token' }, NOW);
    expect(headers).toEqual({ ...REQUEST.headers, 'X-Auth-Token': 'iam-token' });
  });

  it('signs AK/SK over the headers it is told to sign, with a signature the SK reproduces', () => {
    const headers = authHeaders(REQUEST, { kind: 'aksk', ak: 'AK', sk: 'SK' }, NOW, [
      'content-type',
      'host',
      'x-sdk-date',
      'x-security-token',
    ]);
    const auth = parseAuthorization(headers.Authorization!);
    expect(auth?.signedHeaders).toEqual(['content-type', 'host', 'x-sdk-date']);
    expect(auth?.signature).toBe(
      signature({ ...REQUEST, headers }, auth!.signedHeaders, headers['X-Sdk-Date']!, 'SK'),
    );
  });

  it('names every secret value of a credential, and no empty one', () => {
    expect(credentialSecrets({ kind: 'aksk', ak: 'AK', sk: 'SK' })).toEqual(['AK', 'SK']);
    expect(credentialSecrets({ kind: 'aksk', ak: 'AK', sk: 'SK', securityToken: 'ST' })).toEqual([
      'AK',
      'SK',
      'ST',
    ]);
    expect(credentialSecrets({ kind: 'token', token: 'T' })).toEqual(['T']);
  });
});
