import { GetParametersCommand, SSMClient, type GetParametersCommandOutput } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { ConfigError } from '../lib/errors';
import { SecretFetchError, resolveSecretParams } from '../lib/secrets';

const SK = 'MFyfvK41ba2giqM7Uio6PznpdUKGpownRZlmVmHc';
const SLACK = 'https://hooks.slack.com/services/T0001/B0001/slackTokenSecret1234';

function secure(name: string, value: string): NonNullable<GetParametersCommandOutput['Parameters']>[number] {
  return { Name: name, Value: value, Type: 'SecureString', Version: 1 };
}

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

describe('resolveSecretParams', () => {
  const ssm = new SSMClient({ region: 'eu-west-1' });
  const mock = mockClient(ssm);
  beforeEach(() => mock.reset());

  it('returns a copy of the environment and calls nothing when no _PARAM variable is set', async () => {
    // Prepare
    const env = { HSS_PROJECT_ID: 'p', CLOUD_SDK_SK: SK, CLOUD_SDK_SK_PARAM: '  ' };
    // Act
    const out = await resolveSecretParams(env, ssm);
    // Assess
    expect(out).toEqual({ HSS_PROJECT_ID: 'p', CLOUD_SDK_SK: SK });
    expect(out).not.toBe(env);
    expect(mock.calls()).toHaveLength(0);
  });

  it('fills every secret from one decrypted GetParameters call and drops the _PARAM names', async () => {
    // Prepare
    mock.on(GetParametersCommand).resolves({
      Parameters: [
        secure('/hss-restore-alerts/prod/cloud-sdk-sk', SK),
        secure('/hss-restore-alerts/prod/cloud-sdk-ak', 'QTWAOYTTINDUT2QVKYUC'),
        secure('/hss-restore-alerts/prod/slack-webhook-url', SLACK),
      ],
      InvalidParameters: [],
    });
    const env = {
      HSS_PROJECT_ID: 'p',
      CLOUD_SDK_AK_PARAM: '/hss-restore-alerts/prod/cloud-sdk-ak',
      CLOUD_SDK_SK_PARAM: '/hss-restore-alerts/prod/cloud-sdk-sk',
      SLACK_WEBHOOK_URL_PARAM: '/hss-restore-alerts/prod/slack-webhook-url',
      WEBHOOK_URL_PARAM: '',
    };
    // Act
    const out = await resolveSecretParams(env, ssm);
    // Assess
    expect(out).toEqual({
      HSS_PROJECT_ID: 'p',
      CLOUD_SDK_AK: 'QTWAOYTTINDUT2QVKYUC',
      CLOUD_SDK_SK: SK,
      SLACK_WEBHOOK_URL: SLACK,
    });
    const calls = mock.commandCalls(GetParametersCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.args[0].input).toEqual({
      Names: [
        '/hss-restore-alerts/prod/cloud-sdk-ak',
        '/hss-restore-alerts/prod/cloud-sdk-sk',
        '/hss-restore-alerts/prod/slack-webhook-url',
      ],
      WithDecryption: true,
    });
    expect(env.CLOUD_SDK_SK_PARAM).toBe('/hss-restore-alerts/prod/cloud-sdk-sk');
  });

  it('asks once for a parameter that two variables share', async () => {
    // Prepare
    mock
      .on(GetParametersCommand)
      .resolves({ Parameters: [secure('/x/hook', 'https://hooks.example.com/a')] });
    // Act
    const out = await resolveSecretParams(
      { WEBHOOK_URL_PARAM: '/x/hook', SLACK_WEBHOOK_URL_PARAM: '/x/hook' },
      ssm,
    );
    // Assess
    expect(out).toEqual({
      WEBHOOK_URL: 'https://hooks.example.com/a',
      SLACK_WEBHOOK_URL: 'https://hooks.example.com/a',
    });
    expect(mock.commandCalls(GetParametersCommand)[0]!.args[0].input.Names).toEqual(['/x/hook']);
  });

  it('matches a parameter asked for with a version selector', async () => {
    mock.on(GetParametersCommand).resolves({ Parameters: [{ ...secure('/x/sk', SK), Selector: ':3' }] });
    const out = await resolveSecretParams({ CLOUD_SDK_SK_PARAM: '/x/sk:3' }, ssm);
    expect(out.CLOUD_SDK_SK).toBe(SK);
  });

  it('refuses a variable set both directly and by parameter, before calling SSM', async () => {
    // Act
    const error = await rejection(() =>
      resolveSecretParams(
        {
          CLOUD_SDK_SK: SK,
          CLOUD_SDK_SK_PARAM: '/x/sk',
          WEBHOOK_URL: 'https://h.example.com/t',
          WEBHOOK_URL_PARAM: '/x/w',
        },
        ssm,
      ),
    );
    // Assess
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toBe(
      'Invalid configuration: CLOUD_SDK_SK and CLOUD_SDK_SK_PARAM are both set (set one); ' +
        'WEBHOOK_URL and WEBHOOK_URL_PARAM are both set (set one)',
    );
    expect(mock.calls()).toHaveLength(0);
  });

  it('names the variable and parameter of each missing parameter, and no value it did get', async () => {
    // Prepare
    mock.on(GetParametersCommand).resolves({
      Parameters: [secure('/x/sk', SK)],
      InvalidParameters: ['/x/ak', '/x/slack'],
    });
    // Act
    const error = await rejection(() =>
      resolveSecretParams(
        { CLOUD_SDK_AK_PARAM: '/x/ak', CLOUD_SDK_SK_PARAM: '/x/sk', SLACK_WEBHOOK_URL_PARAM: '/x/slack' },
        ssm,
      ),
    );
    // Assess
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toBe(
      'Invalid configuration: CLOUD_SDK_AK (CLOUD_SDK_AK_PARAM=/x/ak): SSM parameter not found; ' +
        'SLACK_WEBHOOK_URL (SLACK_WEBHOOK_URL_PARAM=/x/slack): SSM parameter not found',
    );
    expect(error.message).not.toContain(SK);
  });

  it('refuses a secret stored as a plain String parameter, without showing it', async () => {
    // Prepare
    mock.on(GetParametersCommand).resolves({ Parameters: [{ Name: '/x/sk', Value: SK, Type: 'String' }] });
    // Act
    const error = await rejection(() => resolveSecretParams({ CLOUD_SDK_SK_PARAM: '/x/sk' }, ssm));
    // Assess
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).variable).toBe('CLOUD_SDK_SK');
    expect(error.message).toBe(
      'Invalid configuration: CLOUD_SDK_SK (CLOUD_SDK_SK_PARAM=/x/sk): is a String parameter, store secrets as SecureString',
    );
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
      resolveSecretParams({ CLOUD_SDK_SK_PARAM: '/x/sk', WEBHOOK_SECRET_PARAM: '/x/ws' }, ssm),
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
    const error = await rejection(() => resolveSecretParams({ CLOUD_SDK_SK_PARAM: '/x/sk' }, ssm));
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toContain('InvalidKeyId: The key is disabled');
  });

  it('reports throttling as a retryable fetch error, not a configuration error', async () => {
    // Prepare
    mock.on(GetParametersCommand).rejects(awsError('ThrottlingException', 'Rate exceeded'));
    // Act
    const error = await rejection(() => resolveSecretParams({ CLOUD_SDK_SK_PARAM: '/x/sk' }, ssm));
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
