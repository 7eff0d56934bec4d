import {
  GetParameterCommand,
  GetParametersCommand,
  PutParameterCommand,
  SSMClient,
} from '@aws-sdk/client-ssm';
import { resolveSecretParams } from '../../lib/secrets';
import { startSsmEmulator, type SsmEmulator } from '../../local/ssm-emulator';

let ssm: SsmEmulator;
const clients: SSMClient[] = [];

beforeEach(async () => {
  ssm = await startSsmEmulator({ now: () => 1_700_000_000_000 });
});
afterEach(async () => {
  for (const c of clients.splice(0)) c.destroy();
  await ssm.close();
});

/** The AWS SDK's own client, pointed at the emulator, signing for `region`. */
function client(region: string): SSMClient {
  const c = new SSMClient({
    region,
    endpoint: ssm.url,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  clients.push(c);
  return c;
}

describe('SSM emulator', () => {
  it('keeps one store per region, read from the signature, as SSM’s regional endpoints do', async () => {
    // Prepare
    ssm.put('eu-west-1', '/app/prod/sk', 's3cret');
    // Act
    const here = await client('eu-west-1').send(
      new GetParametersCommand({ Names: ['/app/prod/sk'], WithDecryption: true }),
    );
    const there = await client('us-east-1').send(
      new GetParametersCommand({ Names: ['/app/prod/sk'], WithDecryption: true }),
    );
    // Assess
    expect(here.Parameters).toEqual([
      expect.objectContaining({
        Name: '/app/prod/sk',
        Type: 'SecureString',
        Value: 's3cret',
        Version: 1,
        ARN: 'arn:aws:ssm:eu-west-1:000000000000:parameter/app/prod/sk',
        LastModifiedDate: new Date(1_700_000_000_000),
      }),
    ]);
    expect(here.InvalidParameters).toEqual([]);
    expect(there).toMatchObject({ Parameters: [], InvalidParameters: ['/app/prod/sk'] });
    expect(ssm.requests.map((r) => [r.operation, r.region])).toEqual([
      ['GetParameters', 'eu-west-1'],
      ['GetParameters', 'us-east-1'],
    ]);
  });

  it('returns a SecureString’s value only with decryption, and a String’s either way', async () => {
    ssm.put('us-east-1', '/a/secure', 'hidden');
    ssm.put('us-east-1', '/a/plain', 'shown', 'String');
    const answer = await client('us-east-1').send(
      new GetParametersCommand({ Names: ['/a/secure', '/a/plain'], WithDecryption: false }),
    );
    const byName = Object.fromEntries((answer.Parameters ?? []).map((p) => [p.Name, p]));
    expect(byName['/a/secure']).toMatchObject({ Type: 'SecureString' });
    expect(byName['/a/secure']!.Value).not.toContain('hidden');
    expect(byName['/a/plain']).toMatchObject({ Type: 'String', Value: 'shown' });
  });

  it('answers by ARN, as resolveSecretParams may ask', async () => {
    ssm.put('ap-southeast-1', '/hss/prod/cloud-sdk-sk', 'SKVALUE');
    const arn = 'arn:aws:ssm:ap-southeast-1:000000000000:parameter/hss/prod/cloud-sdk-sk';
    const parameters = await resolveSecretParams(
      { CLOUD_SDK_SK_PARAM: arn },
      () => (input) => client('ap-southeast-1').send(new GetParametersCommand(input)),
    );
    expect(parameters).toEqual({ [arn]: { value: 'SKVALUE', type: 'SecureString' } });
  });

  it('puts a parameter once, and again only with Overwrite (a new version), until it is removed', async () => {
    const c = client('us-east-1');
    const put = (Overwrite: boolean) =>
      c.send(new PutParameterCommand({ Name: '/p', Value: 'v', Type: 'SecureString', Overwrite }));
    expect(await put(false)).toMatchObject({ Version: 1 });
    await expect(put(false)).rejects.toMatchObject({ name: 'ParameterAlreadyExists' });
    expect(await put(true)).toMatchObject({ Version: 2 });
    expect(ssm.get('us-east-1', '/p')).toMatchObject({ value: 'v', type: 'SecureString', version: 2 });
    expect(ssm.remove('us-east-1', '/p')).toBe(true);
    expect(ssm.get('us-east-1', '/p')).toBeUndefined();
  });

  it('refuses a denied name with AccessDeniedException, failing the whole call as IAM does', async () => {
    ssm.put('us-east-1', '/ok', 'a');
    ssm.put('us-east-1', '/denied', 'b');
    ssm.deny('us-east-1', '/denied');
    await expect(
      client('us-east-1').send(new GetParametersCommand({ Names: ['/ok', '/denied'] })),
    ).rejects.toMatchObject({ name: 'AccessDeniedException' });
    // The same name in another region is another resource.
    ssm.put('eu-west-1', '/denied', 'c');
    const other = await client('eu-west-1').send(new GetParametersCommand({ Names: ['/denied'] }));
    expect(other.Parameters).toHaveLength(1);
  });

  it('answers GetParameter for a missing name with ParameterNotFound', async () => {
    await expect(client('us-east-1').send(new GetParameterCommand({ Name: '/none' }))).rejects.toMatchObject({
      name: 'ParameterNotFound',
    });
  });

  it('serves an injected fault once, then answers normally', async () => {
    ssm.put('us-east-1', '/x', 'y');
    ssm.failNext({ status: 400, type: 'ThrottlingException' });
    const c = new SSMClient({
      region: 'us-east-1',
      endpoint: ssm.url,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      maxAttempts: 1,
    });
    clients.push(c);
    await expect(c.send(new GetParametersCommand({ Names: ['/x'] }))).rejects.toMatchObject({
      name: 'ThrottlingException',
    });
    expect((await c.send(new GetParametersCommand({ Names: ['/x'] }))).Parameters).toHaveLength(1);
  });

  it('refuses a request that is not SigV4-signed for ssm', async () => {
    const res = await fetch(ssm.url, {
      method: 'POST',
      headers: { 'x-amz-target': 'AmazonSSM.GetParameters', 'content-type': 'application/x-amz-json-1.1' },
      body: JSON.stringify({ Names: ['/x'] }),
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ __type: 'MissingAuthenticationTokenException' });
  });
});
