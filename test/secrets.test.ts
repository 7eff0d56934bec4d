import {
  GetParametersCommand,
  SSMClient,
  type GetParametersCommandInput,
  type Parameter,
} from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../lib/config';
import { ConfigError } from '../lib/errors';
import type * as Secrets from '../lib/secrets';
import { SecretFetchError, resolveSecretParams } from '../lib/secrets';
import { MINIMAL } from './config/fixtures';

const SK = 'MFyfvK41ba2giqM7Uio6PznpdUKGpownRZlmVmHc';
const SLACK = 'https://hooks.slack.com/services/T0001/B0001/slackTokenSecret1234';

const secure = (name: string, value: string): Parameter => ({
  Name: name,
  Value: value,
  Type: 'SecureString',
  Version: 1,
});

function awsError(name: string, message: string): Error {
  return Object.assign(new Error(message), { name, $metadata: { httpStatusCode: 400 } });
}

/** Runs `act` and returns the error it rejects with (failing the test when it resolves). */
async function rejection(act: () => Promise<unknown>): Promise<Error> {
  try {
    await act();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection');
}

const ssm = new SSMClient({ region: 'eu-west-1' });
const mock = mockClient(ssm);
let factoryCalls = 0;
const factory = () => {
  factoryCalls += 1;
  return (input: GetParametersCommandInput) => ssm.send(new GetParametersCommand(input));
};
/** Answers every GetParameters call from `store`, as SSM does: found ones and the rest as invalid. */
function serve(store: Parameter[]): void {
  mock.on(GetParametersCommand).callsFake((input: { Names: string[] }) => ({
    Parameters: store.filter((p) => input.Names.includes(p.Name!)),
    InvalidParameters: input.Names.filter((n) => !store.some((p) => p.Name === n)),
  }));
}
const askedNames = () => mock.commandCalls(GetParametersCommand).map((c) => c.args[0].input.Names);

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'hss-secrets-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));
beforeEach(() => {
  mock.reset();
  factoryCalls = 0;
});

describe('resolveSecretParams', () => {
  it('makes no client and no call when no variable names a parameter', async () => {
    // Act
    const parameters = await resolveSecretParams({ ...MINIMAL, CLOUD_SDK_SK_PARAM: '  ' }, factory);
    // Assess
    expect(parameters).toEqual({});
    expect(factoryCalls).toBe(0);
    expect(mock.calls()).toHaveLength(0);
  });

  it('reads every secret variable and named credential in one decrypted call', async () => {
    // Prepare
    serve([
      secure('/hss/prod/cloud-sdk-sk', SK),
      secure('/hss/prod/acme-sk', 'ACMESK0000000000'),
      secure('/hss/prod/slack', SLACK),
    ]);
    // Act
    const parameters = await resolveSecretParams(
      {
        CLOUD_SDK_SK_PARAM: '/hss/prod/cloud-sdk-sk',
        CLOUD_SDK_SK__ACME_PARAM: '/hss/prod/acme-sk',
        SLACK_WEBHOOK_URL_PARAM: '/hss/prod/slack',
        WEBHOOK_URL_PARAM: '',
      },
      factory,
    );
    // Assess
    expect(parameters).toEqual({
      '/hss/prod/cloud-sdk-sk': { value: SK, type: 'SecureString' },
      '/hss/prod/acme-sk': { value: 'ACMESK0000000000', type: 'SecureString' },
      '/hss/prod/slack': { value: SLACK, type: 'SecureString' },
    });
    expect(mock.commandCalls(GetParametersCommand).map((c) => c.args[0].input)).toEqual([
      { Names: ['/hss/prod/cloud-sdk-sk', '/hss/prod/acme-sk', '/hss/prod/slack'], WithDecryption: true },
    ]);
    expect(factoryCalls).toBe(1);
  });

  it('asks at most 10 names per call', async () => {
    // Prepare: 12 named credentials' secret keys.
    const names = Array.from({ length: 12 }, (_, i) => `/hss/prod/sk-${i}`);
    serve(names.map((n) => secure(n, `SK${n}`)));
    const env = Object.fromEntries(names.map((n, i) => [`CLOUD_SDK_SK__C${i}_PARAM`, n]));
    // Act
    const parameters = await resolveSecretParams(env, factory);
    // Assess
    expect(Object.keys(parameters)).toHaveLength(12);
    expect(askedNames()).toEqual([names.slice(0, 10), names.slice(10)]);
    expect(factoryCalls).toBe(1);
  });

  it('asks once for a parameter that two variables share', async () => {
    serve([secure('/x/hook', 'https://hooks.example.com/a')]);
    await resolveSecretParams({ WEBHOOK_URL_PARAM: '/x/hook', SLACK_WEBHOOK_URL_PARAM: '/x/hook' }, factory);
    expect(askedNames()).toEqual([['/x/hook']]);
  });

  it('matches a parameter asked for with a version selector', async () => {
    mock.on(GetParametersCommand).resolves({ Parameters: [{ ...secure('/x/sk', SK), Selector: ':3' }] });
    const parameters = await resolveSecretParams({ CLOUD_SDK_SK_PARAM: '/x/sk:3' }, factory);
    expect(parameters).toEqual({ '/x/sk:3': { value: SK, type: 'SecureString' } });
  });

  it('does not ask for a parameter whose variable is also set, nor for a malformed name, nor for non-secrets', async () => {
    serve([]);
    const parameters = await resolveSecretParams(
      {
        CLOUD_SDK_SK: SK,
        CLOUD_SDK_SK_PARAM: '/x/sk',
        SLACK_WEBHOOK_URL_PARAM: 'not a name',
        STATE_TABLE_PARAM: '/x/t',
      },
      factory,
    );
    expect(parameters).toEqual({});
    expect(factoryCalls).toBe(0);
  });

  it('leaves out what SSM does not have, and parseConfig says so with every other problem', async () => {
    // Prepare
    serve([secure('/x/sk', SK)]);
    const env = {
      ...MINIMAL,
      CLOUD_SDK_SK: undefined,
      CLOUD_SDK_SK_PARAM: '/x/sk',
      SLACK_WEBHOOK_URL: undefined,
      SLACK_WEBHOOK_URL_PARAM: '/x/slack',
      LAST_DAYS: '0',
    };
    // Act
    const parameters = await resolveSecretParams(env, factory);
    // Assess
    expect(parameters).toEqual({ '/x/sk': { value: SK, type: 'SecureString' } });
    expect(() => parseConfig(env, { parameters })).toThrow(
      new ConfigError(
        'Invalid configuration: SLACK_WEBHOOK_URL (SLACK_WEBHOOK_URL_PARAM=/x/slack): SSM parameter not found; LAST_DAYS must be an integer 1..30, got "0"',
      ),
    );
  });

  it('lets parseConfig refuse a secret stored as a plain String, without showing it', async () => {
    mock.on(GetParametersCommand).resolves({ Parameters: [{ Name: '/x/sk', Value: SK, Type: 'String' }] });
    const env = { ...MINIMAL, CLOUD_SDK_SK: undefined, CLOUD_SDK_SK_PARAM: '/x/sk' };
    const error = await rejection(async () =>
      parseConfig(env, { parameters: await resolveSecretParams(env, factory) }),
    );
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).variable).toBe('CLOUD_SDK_SK');
    expect(error.message).toBe(
      'Invalid configuration: CLOUD_SDK_SK (CLOUD_SDK_SK_PARAM=/x/sk): is a String parameter, store secrets as SecureString',
    );
  });

  it("reads the destinations file's parameters in the same call as the variables'", async () => {
    // Prepare
    const path = join(dir, 'destinations.yaml');
    writeFileSync(
      path,
      'destinations:\n  - { type: slack, name: ops, url_param: /x/ops }\ncredentials:\n  acme: { token_param: /x/acme-token }\n',
    );
    serve([secure('/x/sk', SK), secure('/x/ops', SLACK), secure('/x/acme-token', 'acmeToken123')]);
    // Act
    const parameters = await resolveSecretParams(
      { CLOUD_SDK_SK_PARAM: '/x/sk', DESTINATIONS_FILE: path },
      factory,
    );
    // Assess
    expect(Object.keys(parameters).sort()).toEqual(['/x/acme-token', '/x/ops', '/x/sk']);
    expect(askedNames()).toEqual([['/x/sk', '/x/ops', '/x/acme-token']]);
  });

  it('reads a file kept in SSM, then the parameters it names, and nothing twice', async () => {
    // Prepare: the file names one parameter a variable names too.
    const file =
      'destinations:\n  - { type: slack, name: ops, url_param: /x/shared }\n  - { type: slack, name: dba, url_param: /x/dba }\n';
    serve([
      { Name: '/x/destinations', Value: file, Type: 'String' },
      secure('/x/shared', SLACK),
      secure('/x/dba', 'https://hooks.slack.com/services/T1/B2/dba'),
    ]);
    const env = {
      ...MINIMAL,
      SLACK_WEBHOOK_URL: undefined,
      WEBHOOK_URL_PARAM: '/x/shared',
      DESTINATIONS_FILE_PARAM: '/x/destinations',
    };
    // Act
    const parameters = await resolveSecretParams(env, factory);
    // Assess
    expect(askedNames()).toEqual([['/x/shared', '/x/destinations'], ['/x/dba']]);
    expect(factoryCalls).toBe(1);
    expect(parseConfig(env, { parameters }).destinations.map((d) => d.name)).toEqual([
      'webhook',
      'ops',
      'dba',
    ]);
  });

  it('asks for nothing more when the file cannot be read (parseConfig reports it)', async () => {
    const parameters = await resolveSecretParams({ DESTINATIONS_FILE: join(dir, 'missing.yaml') }, factory);
    expect(parameters).toEqual({});
    expect(factoryCalls).toBe(0);
  });

  it('turns access denied into a configuration error that says which permission is missing', async () => {
    // Prepare
    mock
      .on(GetParametersCommand)
      .rejects(
        awsError(
          'AccessDeniedException',
          'User: arn:aws:sts::123:assumed-role/r is not authorized to perform: ssm:GetParameters',
        ),
      );
    // Act
    const error = await rejection(() =>
      resolveSecretParams({ CLOUD_SDK_SK_PARAM: '/x/sk', WEBHOOK_SECRET_PARAM: '/x/ws' }, factory),
    );
    // Assess
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toContain(
      'cannot read CLOUD_SDK_SK (CLOUD_SDK_SK_PARAM=/x/sk), WEBHOOK_SECRET (WEBHOOK_SECRET_PARAM=/x/ws): AccessDeniedException',
    );
    expect(error.message).toContain('needs ssm:GetParameters on the parameters and kms:Decrypt on their key');
    expect(error.cause).toBeInstanceOf(Error);
  });

  it('reports a key SSM cannot use as a configuration error', async () => {
    mock.on(GetParametersCommand).rejects(awsError('InvalidKeyId', 'The key is disabled'));
    const error = await rejection(() => resolveSecretParams({ CLOUD_SDK_SK_PARAM: '/x/sk' }, factory));
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toContain('InvalidKeyId: The key is disabled');
  });

  it('reports throttling as a retryable fetch error, not a configuration error', async () => {
    // Prepare
    mock.on(GetParametersCommand).rejects(awsError('ThrottlingException', 'Rate exceeded'));
    // Act
    const error = await rejection(() => resolveSecretParams({ CLOUD_SDK_SK_PARAM: '/x/sk' }, factory));
    // Assess
    expect(error).toBeInstanceOf(SecretFetchError);
    expect(error).not.toBeInstanceOf(ConfigError);
    expect(error.name).toBe('SecretFetchError');
    expect((error as SecretFetchError).parameterNames).toEqual(['/x/sk']);
    expect(error.message).toBe(
      'SSM GetParameters failed for CLOUD_SDK_SK (CLOUD_SDK_SK_PARAM=/x/sk): ThrottlingException: Rate exceeded',
    );
  });
});

describe('cold start', () => {
  it('loads the SSM client module only when some parameter is to be read', async () => {
    // Prepare: a module registry of its own, counting loads of @aws-sdk/client-ssm, whose client
    // answers by hand (a client of the outer registry would not know this registry's classes).
    let loads = 0;
    await jest.isolateModulesAsync(async () => {
      jest.doMock('@aws-sdk/client-ssm', () => {
        loads += 1;
        const actual = jest.requireActual<typeof import('@aws-sdk/client-ssm')>('@aws-sdk/client-ssm');
        class FakeClient {
          async send() {
            return { Parameters: [secure('/x/sk', SK)] };
          }
        }
        return { ...actual, SSMClient: FakeClient };
      });
      const { resolveSecretParams: resolve, sdkSsm } = jest.requireActual<typeof Secrets>('../lib/secrets');
      // Act + Assess: nothing named, nothing loaded.
      await resolve(MINIMAL, sdkSsm);
      expect(loads).toBe(0);
      // Act + Assess: a parameter named, the module loaded once to make the client.
      const parameters = await resolve({ CLOUD_SDK_SK_PARAM: '/x/sk' }, sdkSsm);
      expect(loads).toBe(1);
      expect(parameters).toEqual({ '/x/sk': { value: SK, type: 'SecureString' } });
    });
  });
});
