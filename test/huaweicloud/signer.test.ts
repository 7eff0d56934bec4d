import {
  canonicalQuery,
  canonicalRequest,
  sdkDate,
  sha256Hex,
  signRequest,
  signature,
} from '../../lib/huaweicloud/signer';
import { parseAuthorization } from '../../local/sdk-signature';

describe('SDK-HMAC-SHA256 signer', () => {
  it('reproduces the documentation example (hash of canonical request and signature)', () => {
    // Prepare
    const req = {
      method: 'GET',
      path: '/v1/77b6a44cba5143ab91d13ab9a8ff44fd/vpcs',
      query: [
        ['limit', '2'],
        ['marker', '13551d6b-755d-4757-b956-536f674975c0'],
      ] as const,
      headers: {
        'Content-Type': 'application/json',
        Host: 'service.region.example.com',
        'X-Sdk-Date': '20191115T033655Z',
      },
    };
    const signed = ['content-type', 'host', 'x-sdk-date'];
    // Act
    const hash = sha256Hex(canonicalRequest(req, signed));
    const sig = signature(req, signed, '20191115T033655Z', 'MFyfvK41ba2giqM7Uio6PznpdUKGpownRZlmVmHc');
    // Assess
    expect(hash).toBe('b25362e603ee30f4f25e7858e8a7160fd36e803bb2dfe206278659d71a9bcd7a');
    expect(sig).toBe('7be6668032f70418fcc22abc52071e57aff61b84a1d2381bb430d6870f4f6ebe');
  });

  it('reproduces the GET vector that signs only x-sdk-date', () => {
    const req = {
      method: 'GET',
      path: '/path',
      query: [['limit', '1']] as const,
      headers: { 'X-Sdk-Date': '20060102T150405Z' },
    };
    expect(signature(req, ['x-sdk-date'], '20060102T150405Z', 'SecretKey')).toBe(
      '5a2ce64c865e0e6046321c6f3d5a77ba8413eeaf355c3166c03d58d02ac79624',
    );
  });

  it('reproduces the POST vector whose body ends in a newline', () => {
    const req = {
      method: 'POST',
      path: '/path',
      query: [['key', 'value']] as const,
      headers: { 'X-Sdk-Date': '20060102T150405Z' },
      body: '{"Name":"test","Id":1}\n',
    };
    expect(signature(req, ['x-sdk-date'], '20060102T150405Z', 'SecretKey')).toBe(
      'cecc2af119b18ab70b4d094c0750f3b42c02f254903179a0fc2cc72fc9db4f59',
    );
  });

  it('builds the published canonical query: sorted keys, sorted repeated values, %20 for space', () => {
    const query = [
      ['test', '一 (&=?!#%.*)'],
      ['multi', '3'],
      ['path', '/tmp/123'],
      ['multi', '1'],
      ['limit', '1'],
      ['enable', 'true'],
      ['multi', '2'],
    ] as const;
    expect(canonicalQuery(query)).toBe(
      'enable=true&limit=1&multi=1&multi=2&multi=3&path=%2Ftmp%2F123&test=%E4%B8%80%20%28%26%3D%3F%21%23%25.%2A%29',
    );
  });

  it('signs host, x-sdk-date, x-project-id and x-security-token and names them in Authorization', () => {
    const headers = signRequest(
      { method: 'GET', path: '/v5/p/x', query: [], headers: { Host: 'h', 'X-Project-Id': 'p' } },
      { ak: 'AK', sk: 'SK', securityToken: 'TOKEN' },
      Date.UTC(2025, 2, 6, 5, 26, 18),
    );
    expect(headers['X-Sdk-Date']).toBe('20250306T052618Z');
    expect(headers['X-Security-Token']).toBe('TOKEN');
    const auth = parseAuthorization(headers.Authorization!);
    expect(auth).toMatchObject({
      access: 'AK',
      signedHeaders: ['host', 'x-project-id', 'x-sdk-date', 'x-security-token'],
    });
    expect(headers.Authorization).not.toContain('SK');
  });

  it('formats X-Sdk-Date as YYYYMMDDTHHMMSSZ in UTC', () => {
    expect(sdkDate(Date.UTC(2019, 10, 15, 3, 36, 55, 999))).toBe('20191115T033655Z');
  });
});
