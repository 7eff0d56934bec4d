import { parseConfig, type Config } from '../../lib/config';
import { HSS_REGIONS } from '../../lib/hss/endpoint';
import { AK, MINIMAL, PROJECT, SK, configError, problemsOf } from './fixtures';

/** MINIMAL without the one-scope form. */
const { HSS_REGION: _r, HSS_PROJECT_ID: _p, ...NO_SCOPE } = MINIMAL;
const P2 = '9f8e7d6c5b4a39281706f5e4d3c2b1a0';

describe('scopes', () => {
  // [why, changes to MINIMAL, the scopes (and endpoint) configured]
  const accepted: [string, Record<string, string | undefined>, Partial<Config>][] = [
    [
      'the one-scope form in the default enterprise project',
      {},
      {
        scopes: [
          { region: 'cn-north-4', projectId: PROJECT, enterpriseProjectId: '0', credential: 'default' },
        ],
      },
    ],
    [
      'the one-scope form over every enterprise project',
      { HSS_ENTERPRISE_PROJECT_ID: 'all_granted_eps' },
      {
        scopes: [
          {
            region: 'cn-north-4',
            projectId: PROJECT,
            enterpriseProjectId: 'all_granted_eps',
            credential: 'default',
          },
        ],
      },
    ],
    [
      'a region in upper case, as copied from a console',
      { HSS_REGION: 'CN-North-4' },
      { scopes: [expect.objectContaining({ region: 'cn-north-4' })] },
    ],
    [
      'a region served from another domain',
      { HSS_REGION: 'eu-west-101' },
      { scopes: [expect.objectContaining({ region: 'eu-west-101' })] },
    ],
    [
      'an endpoint instead of the region (an emulator)',
      { HSS_REGION: undefined, HSS_ENDPOINT: 'http://127.0.0.1:4010/' },
      {
        endpoint: 'http://127.0.0.1:4010',
        scopes: [{ projectId: PROJECT, enterpriseProjectId: '0', credential: 'default' }],
      },
    ],
    [
      'an endpoint and a region HSS_REGIONS does not list (a private endpoint)',
      { HSS_REGION: 'cn-north-99', HSS_ENDPOINT: 'https://hss.internal.example.com' },
      {
        endpoint: 'https://hss.internal.example.com',
        scopes: [expect.objectContaining({ region: 'cn-north-99' })],
      },
    ],
    [
      'several scopes, with enterprise projects and a named credential',
      {
        HSS_REGION: undefined,
        HSS_PROJECT_ID: undefined,
        HSS_SCOPES: `cn-north-4/${PROJECT}/all_granted_eps, ap-southeast-1/${P2}@ACME ,`,
        CLOUD_SDK_AK__ACME: 'ACMEAK0000000000',
        CLOUD_SDK_SK__ACME: 'ACMESK0000000000',
      },
      {
        scopes: [
          {
            region: 'cn-north-4',
            projectId: PROJECT,
            enterpriseProjectId: 'all_granted_eps',
            credential: 'default',
          },
          { region: 'ap-southeast-1', projectId: P2, enterpriseProjectId: '0', credential: 'acme' },
        ],
      },
    ],
    [
      'the same project in two enterprise projects',
      {
        HSS_REGION: undefined,
        HSS_PROJECT_ID: undefined,
        HSS_SCOPES: `cn-north-4/${PROJECT}/0,cn-north-4/${PROJECT}/ep-2`,
      },
      {
        scopes: [
          expect.objectContaining({ enterpriseProjectId: '0' }),
          expect.objectContaining({ enterpriseProjectId: 'ep-2' }),
        ],
      },
    ],
    [
      'several scopes read through one endpoint',
      {
        HSS_REGION: undefined,
        HSS_PROJECT_ID: undefined,
        HSS_SCOPES: `cn-north-4/${PROJECT},ap-southeast-1/${P2}`,
        HSS_ENDPOINT: 'http://localhost:4010',
      },
      { endpoint: 'http://localhost:4010', scopes: [expect.anything(), expect.anything()] },
    ],
  ];

  it.each(accepted)('accepts %s', (_why, changes, expected) => {
    expect(parseConfig({ ...MINIMAL, ...changes })).toMatchObject(expected);
  });

  const list = (scopes: string) => ({ ...NO_SCOPE, HSS_SCOPES: scopes });
  // [why, environment, the exact problems]
  const rejected: [string, Record<string, string | undefined>, string[]][] = [
    [
      'no scope at all',
      NO_SCOPE,
      [
        'HSS_PROJECT_ID is required (1..256 characters, without / @ , or spaces) with HSS_REGION, or HSS_SCOPES for several scopes',
      ],
    ],
    [
      'a project without its region or endpoint',
      { ...MINIMAL, HSS_REGION: undefined },
      ['HSS_REGION is required (an HSS region such as cn-north-4) unless HSS_ENDPOINT is set'],
    ],
    [
      'a region without its project',
      { ...MINIMAL, HSS_PROJECT_ID: undefined },
      [
        'HSS_PROJECT_ID is required (1..256 characters, without / @ , or spaces) with HSS_REGION, or HSS_SCOPES for several scopes',
      ],
    ],
    [
      'a region that is not a region id',
      { ...MINIMAL, HSS_REGION: 'Beijing 4' },
      ['HSS_REGION must be a region id such as cn-north-4 or ap-southeast-1, got "Beijing 4"'],
    ],
    [
      'a region HSS does not serve, with the likely typo named',
      { ...MINIMAL, HSS_REGION: 'cn-nort-4' },
      [
        `HSS_REGION "cn-nort-4" is not a region HSS serves (did you mean cn-north-4?): use one of ${HSS_REGIONS.join(', ')}, or set HSS_ENDPOINT for another region or a private endpoint`,
      ],
    ],
    [
      'a project id longer than the API takes',
      { ...MINIMAL, HSS_PROJECT_ID: 'p'.repeat(257) },
      ['HSS_PROJECT_ID must be 1..256 characters, without / @ , or spaces, got 257 characters'],
    ],
    [
      'an enterprise project id with a slash',
      { ...MINIMAL, HSS_ENTERPRISE_PROJECT_ID: 'a/b' },
      ['HSS_ENTERPRISE_PROJECT_ID must be 1..256 characters, without / @ , or spaces, got "a/b"'],
    ],
    [
      'a plain-http endpoint off this machine',
      { ...MINIMAL, HSS_ENDPOINT: 'http://hss.example.com' },
      [
        'HSS_ENDPOINT must be an https URL of scheme and host only (http only to 127.0.0.0/8, ::1 or localhost), got http://hss.example.com/…',
      ],
    ],
    [
      'an endpoint with a path the client would drop',
      { ...MINIMAL, HSS_ENDPOINT: 'https://hss.example.com/v5' },
      [
        'HSS_ENDPOINT must be an https URL of scheme and host only (http only to 127.0.0.0/8, ::1 or localhost), got https://hss.example.com/…',
      ],
    ],
    [
      'HSS_SCOPES mixed with the one-scope form',
      { ...MINIMAL, HSS_PROJECT_ID: undefined, HSS_SCOPES: `cn-north-4/${PROJECT}` },
      [
        'scopes are given in more than one way (HSS_SCOPES and HSS_REGION): use one of HSS_SCOPES, HSS_REGION + HSS_PROJECT_ID (+ HSS_ENTERPRISE_PROJECT_ID), or scopes: in the destinations file',
      ],
    ],
    [
      'a list item without a project',
      list('cn-north-4'),
      [
        'HSS_SCOPES must be a comma-separated list of region/project_id[/enterprise_project_id][@credential], e.g. cn-north-4/0a1b…/all_granted_eps,ap-southeast-1/9f8e…@acme, got "cn-north-4" (not region/project_id[/enterprise_project_id][@credential])',
      ],
    ],
    [
      'a list item with a bad region and a bad credential name',
      list(`cn-north-4/${PROJECT},north/${P2}@a.b`),
      [
        'HSS_SCOPES must be a comma-separated list of region/project_id[/enterprise_project_id][@credential], e.g. cn-north-4/0a1b…/all_granted_eps,ap-southeast-1/9f8e…@acme, got "north/9f8e7d6c5b4a39281706f5e4d3c2b1a0@a.b" (region must be a region id such as cn-north-4 or ap-southeast-1, got "north", credential must be a credential name of 1..32 a-z 0-9 _ -, got "a.b")',
      ],
    ],
    [
      'an empty list',
      list(' , '),
      [
        'HSS_SCOPES must be a comma-separated list of region/project_id[/enterprise_project_id][@credential], e.g. cn-north-4/0a1b…/all_granted_eps,ap-southeast-1/9f8e…@acme, got an empty list',
      ],
    ],
    [
      'a listed region HSS does not serve',
      list(`cn-north-4/${PROJECT},ap-southeast-9/${P2}`),
      [
        `HSS_SCOPES "ap-southeast-9/${P2}/0": region "ap-southeast-9" is not a region HSS serves (did you mean ap-southeast-1 or ap-southeast-2 or ap-southeast-3 or ap-southeast-4?): use one of ${HSS_REGIONS.join(', ')}, or set HSS_ENDPOINT for another region or a private endpoint`,
      ],
    ],
    [
      'the same scope twice, even under another credential',
      {
        ...list(`cn-north-4/${PROJECT}/0,cn-north-4/${PROJECT}@acme`),
        CLOUD_SDK_AK__ACME: 'ACMEAK0000000000',
        CLOUD_SDK_SK__ACME: 'ACMESK0000000000',
      },
      [`HSS_SCOPES "cn-north-4/${PROJECT}/0@acme" repeats the scope of HSS_SCOPES "cn-north-4/${PROJECT}/0"`],
    ],
  ];

  it.each(rejected)('rejects %s', (_why, env, problems) => {
    expect(problemsOf(configError(env))).toEqual(problems);
  });
});

describe('credentials', () => {
  const ACME = { CLOUD_SDK_AK__ACME: 'ACMEAK0000000000', CLOUD_SDK_SK__ACME: 'ACMESK0000000000' };
  const scoped = (extra: Record<string, string | undefined>) => ({
    ...MINIMAL,
    HSS_REGION: undefined,
    HSS_PROJECT_ID: undefined,
    HSS_SCOPES: `cn-north-4/${PROJECT},ap-southeast-1/${P2}@acme`,
    ...extra,
  });

  // [why, environment, the credentials configured]
  const accepted: [string, Record<string, string | undefined>, Config['credentials']][] = [
    [
      'temporary AK/SK with a security token',
      { ...MINIMAL, CLOUD_SDK_SECURITY_TOKEN: 'gQpjbi1ub3J0aC00token' },
      { default: { kind: 'aksk', ak: AK, sk: SK, securityToken: 'gQpjbi1ub3J0aC00token' } },
    ],
    [
      'an IAM token instead of AK/SK',
      {
        ...MINIMAL,
        CLOUD_SDK_AK: undefined,
        CLOUD_SDK_SK: undefined,
        HSS_AUTH_TOKEN: 'MIIEhgYJKoZIhvcNAQcCoIIEdzCC',
      },
      { default: { kind: 'token', token: 'MIIEhgYJKoZIhvcNAQcCoIIEdzCC' } },
    ],
    [
      'a named credential next to the default, its name lower-cased',
      scoped(ACME),
      {
        default: { kind: 'aksk', ak: AK, sk: SK },
        acme: { kind: 'aksk', ak: 'ACMEAK0000000000', sk: 'ACMESK0000000000' },
      },
    ],
    [
      'a named token credential and no default when no scope uses it',
      {
        ...scoped({
          CLOUD_SDK_AK: undefined,
          CLOUD_SDK_SK: undefined,
          HSS_AUTH_TOKEN__ACME: 'tokenForAcme123',
        }),
        HSS_SCOPES: `ap-southeast-1/${P2}@acme`,
      },
      { acme: { kind: 'token', token: 'tokenForAcme123' } },
    ],
    [
      'named temporary credentials with hyphen and underscore in the name',
      {
        ...scoped({
          CLOUD_SDK_AK__PROD_CN: 'PRODAK0000000000',
          CLOUD_SDK_SK__PROD_CN: 'PRODSK0000000000',
          CLOUD_SDK_SECURITY_TOKEN__PROD_CN: 'stsForProd12345',
        }),
        HSS_SCOPES: `cn-north-4/${PROJECT}@prod_cn`,
      },
      {
        default: { kind: 'aksk', ak: AK, sk: SK },
        prod_cn: {
          kind: 'aksk',
          ak: 'PRODAK0000000000',
          sk: 'PRODSK0000000000',
          securityToken: 'stsForProd12345',
        },
      },
    ],
  ];

  it.each(accepted)('accepts %s', (_why, env, credentials) => {
    expect(parseConfig(env).credentials).toEqual(credentials);
  });

  // [why, environment, the exact problems]
  const rejected: [string, Record<string, string | undefined>, string[]][] = [
    [
      'no credentials at all',
      { ...MINIMAL, CLOUD_SDK_AK: undefined, CLOUD_SDK_SK: undefined },
      ['CLOUD_SDK_AK and CLOUD_SDK_SK are required (or HSS_AUTH_TOKEN for token auth)'],
    ],
    [
      'an AK without its SK',
      { ...MINIMAL, CLOUD_SDK_SK: undefined },
      ['CLOUD_SDK_SK is required when CLOUD_SDK_AK is set'],
    ],
    [
      'an SK without its AK',
      { ...MINIMAL, CLOUD_SDK_AK: undefined },
      ['CLOUD_SDK_AK is required when CLOUD_SDK_SK is set'],
    ],
    [
      'two auth modes at once',
      { ...MINIMAL, HSS_AUTH_TOKEN: 'MIIEhgYJKoZIhvcNAQcCoIIEdzCC' },
      ['HSS_AUTH_TOKEN must not be set together with CLOUD_SDK_AK/CLOUD_SDK_SK (choose one auth mode)'],
    ],
    [
      'a security token without AK/SK',
      {
        ...MINIMAL,
        CLOUD_SDK_AK: undefined,
        CLOUD_SDK_SK: undefined,
        HSS_AUTH_TOKEN: 'tok-abcdef',
        CLOUD_SDK_SECURITY_TOKEN: 'sts-abcdef',
      },
      ['CLOUD_SDK_SECURITY_TOKEN needs CLOUD_SDK_AK and CLOUD_SDK_SK (it belongs to temporary AK/SK)'],
    ],
    [
      'an AK with a space inside',
      { ...MINIMAL, CLOUD_SDK_AK: 'QTWA OYTT' },
      ['CLOUD_SDK_AK must be 1..256 characters without spaces (value not shown)'],
    ],
    [
      'a scope naming a credential nobody defined',
      scoped({}),
      [
        `HSS_SCOPES "ap-southeast-1/${P2}/0@acme" uses credential "acme", which is not defined: set CLOUD_SDK_AK__ACME and CLOUD_SDK_SK__ACME (or HSS_AUTH_TOKEN__ACME), or add it under credentials: in the destinations file`,
      ],
    ],
    [
      'a named credential no scope uses (a typo)',
      scoped({ ...ACME, CLOUD_SDK_AK__ACMEE: 'TYPOAK0000000000', CLOUD_SDK_SK__ACMEE: 'TYPOSK0000000000' }),
      [
        'credential "acmee" (CLOUD_SDK_AK__ACMEE/CLOUD_SDK_SK__ACMEE) is used by no scope or SMN destination (a typo? a scope picks it with @acmee)',
      ],
    ],
    [
      'half a named credential',
      scoped({ CLOUD_SDK_AK__ACME: 'ACMEAK0000000000' }),
      ['CLOUD_SDK_SK__ACME is required when CLOUD_SDK_AK__ACME is set'],
    ],
    [
      'a named credential with a bad secret',
      scoped({ ...ACME, CLOUD_SDK_SK__ACME: 'has a space' }),
      ['CLOUD_SDK_SK__ACME must be 1..256 characters without spaces (value not shown)'],
    ],
    [
      'a credential name with a dot',
      scoped({ ...ACME, CLOUD_SDK_AK__A_B: 'x', 'CLOUD_SDK_AK__A.B': 'ABAK000000000000' }),
      [
        'CLOUD_SDK_AK__A.B: the credential name must be a credential name of 1..32 a-z 0-9 _ -, got "A.B"',
        'CLOUD_SDK_SK__A_B is required when CLOUD_SDK_AK__A_B is set',
        'credential "a_b" (CLOUD_SDK_AK__A_B) is used by no scope or SMN destination (a typo? a scope picks it with @a_b)',
      ],
    ],
    [
      'the default credential spelled with a name',
      { ...MINIMAL, CLOUD_SDK_AK__DEFAULT: 'DEFAULTAK0000000' },
      ['CLOUD_SDK_AK__DEFAULT: the default credential is set without a name (CLOUD_SDK_AK)'],
    ],
  ];

  it.each(rejected)('rejects %s', (_why, env, problems) => {
    expect(problemsOf(configError(env))).toEqual(problems);
  });
});

describe('the endpoint override (HSS_ENDPOINT)', () => {
  it.each([
    ['https://hss.cn-north-4.myhuaweicloud.com', 'https://hss.cn-north-4.myhuaweicloud.com'],
    // why: a trailing slash is harmless and common
    ['https://hss.cn-north-4.myhuaweicloud.com/', 'https://hss.cn-north-4.myhuaweicloud.com'],
    // why: the local emulator is plain http on a port
    ['http://127.0.0.1:8443', 'http://127.0.0.1:8443'],
    // why: the default port is dropped, as it is in the Host header Node sends
    ['https://hss.example.com:443', 'https://hss.example.com'],
  ])('accepts %p as %p', (value, expected) => {
    expect(parseConfig({ ...MINIMAL, HSS_ENDPOINT: value }).endpoint).toBe(expected);
  });

  it.each([
    ['not a url'],
    ['ftp://hss.example.com'],
    ['https://user:pw@hss.example.com'],
    ['https://hss.example.com/v5'],
    ['https://hss.example.com?x=1'],
  ])('refuses %p with one problem naming HSS_ENDPOINT', (value) => {
    // Act
    const problems = problemsOf(configError({ ...MINIMAL, HSS_ENDPOINT: value }));
    // Assess
    expect(problems).toEqual([
      expect.stringMatching(/^HSS_ENDPOINT must be an https URL of scheme and host only/),
    ]);
  });

  it('never echoes the refused value, which may hold credentials', () => {
    // Act
    const error = configError({ ...MINIMAL, HSS_ENDPOINT: 'https://user:hunter2@hss.example.com' });
    // Assess
    expect(error.message).toContain('HSS_ENDPOINT');
    expect(error.message).not.toMatch(/hunter2/);
  });
});
