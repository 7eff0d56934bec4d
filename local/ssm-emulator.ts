// An emulator of AWS Systems Manager Parameter Store on 127.0.0.1, speaking the SSM JSON 1.1 protocol
// the AWS SDK and CLI use (POST /, `X-Amz-Target: AmazonSSM.<Operation>`), with one store per region:
// the region is read from the request's SigV4 credential scope, as SSM's regional endpoints are
// separate stores. Operations: GetParameters, GetParameter, PutParameter, DeleteParameter. It checks
// that a request is SigV4-signed for `ssm` but does not verify the signature (any key is accepted).
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** The parameter types SSM stores. */
type ParameterType = 'String' | 'StringList' | 'SecureString';

/** One stored parameter. */
interface StoredParameter {
  value: string;
  type: ParameterType;
  version: number;
  /** Epoch ms of the last write. */
  modifiedAt: number;
}

/** One request as received. */
interface SsmRequest {
  /** `GetParameters`, `PutParameter`...; `''` when the target header was missing. */
  operation: string;
  /** The region of the request's credential scope; `''` when unsigned. */
  region: string;
  /** The JSON body, parsed (`{}` when it was not JSON). */
  input: Record<string, unknown>;
  /** HTTP status answered. */
  status: number;
}

/** A running emulator. */
export interface SsmEmulator {
  /** `http://127.0.0.1:PORT` (give it to the SDK as `endpoint`, or as AWS_ENDPOINT_URL_SSM). */
  url: string;
  requests: SsmRequest[];
  /** Stores (or overwrites) a parameter in `region`, as `aws ssm put-parameter --overwrite` would. */
  put(region: string, name: string, value: string, type?: ParameterType): void;
  /** The parameter `name` in `region`, or undefined. */
  get(region: string, name: string): StoredParameter | undefined;
  /** Deletes `name` from `region`, as `aws ssm delete-parameter` would; true when it was there. */
  remove(region: string, name: string): boolean;
  /**
   * Any request of `region` that names `name` fails with AccessDeniedException from now on, as when
   * the caller's IAM policy (or the key's policy, for a SecureString) does not cover it.
   */
  deny(region: string, name: string): void;
  /** The next `times` (default 1) requests answer `status` with error `type` (e.g. 400 ThrottlingException, 500 InternalServerError). */
  failNext(fault: { status: number; type: string }, times?: number): void;
  close(): Promise<void>;
}

export interface SsmEmulatorOptions {
  /** Clock of LastModifiedDate (default Date.now). */
  now?: () => number;
  /** The account id in ARNs (default 000000000000). */
  account?: string;
}

const JSON_11 = 'application/x-amz-json-1.1';
/** `Credential=AKID/20250101/us-east-1/ssm/aws4_request` in a SigV4 Authorization header. */
const CREDENTIAL_SCOPE = /Credential=[^/]+\/\d{8}\/([a-z0-9-]+)\/([a-z0-9-]+)\/aws4_request/;
/** GetParameters takes at most 10 names. */
const MAX_NAMES = 10;

class SsmFailure extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

/** Starts an SSM Parameter Store emulator on 127.0.0.1 (random port). */
export async function startSsmEmulator(options: SsmEmulatorOptions = {}): Promise<SsmEmulator> {
  const now = options.now ?? Date.now;
  const account = options.account ?? '000000000000';
  const stores = new Map<string, Map<string, StoredParameter>>();
  const denied = new Map<string, Set<string>>();
  const faults: Array<{ status: number; type: string }> = [];
  const sockets = new Set<Socket>();
  const requests: SsmRequest[] = [];

  const storeOf = (region: string): Map<string, StoredParameter> => {
    let store = stores.get(region);
    if (store === undefined) stores.set(region, (store = new Map()));
    return store;
  };
  const arnOf = (region: string, name: string): string =>
    `arn:aws:ssm:${region}:${account}:parameter${name.startsWith('/') ? '' : '/'}${name}`;
  /** A name as asked (plain or ARN of this region and account) to the plain name. */
  const plainName = (region: string, asked: string): string => {
    const prefix = `arn:aws:ssm:${region}:${account}:parameter`;
    if (!asked.startsWith(prefix)) return asked;
    const rest = asked.slice(prefix.length);
    // A name without a leading slash has one in its ARN only.
    return storeOf(region).has(rest) ? rest : rest.replace(/^\//, '');
  };

  function put(region: string, name: string, value: string, type: ParameterType = 'SecureString'): void {
    const store = storeOf(region);
    const version = (store.get(name)?.version ?? 0) + 1;
    store.set(name, { value, type, version, modifiedAt: now() });
  }

  function checkAccess(region: string, names: readonly string[]): void {
    const refused = names.find((n) => denied.get(region)?.has(n));
    if (refused !== undefined) {
      throw new SsmFailure(
        400,
        'AccessDeniedException',
        `User: arn:aws:iam::${account}:user/local is not authorized to perform: ssm:GetParameters on resource: ${arnOf(region, refused)} because no identity-based policy allows the ssm:GetParameters action`,
      );
    }
  }

  function describe(region: string, name: string, p: StoredParameter, decrypt: boolean) {
    return {
      Name: name,
      Type: p.type,
      // Without decryption SSM returns the KMS ciphertext of a SecureString, never the value.
      Value:
        p.type === 'SecureString' && !decrypt
          ? Buffer.from(`kms-ciphertext:${region}:${name}:${p.version}`).toString('base64')
          : p.value,
      Version: p.version,
      LastModifiedDate: p.modifiedAt / 1000,
      ARN: arnOf(region, name),
      DataType: 'text',
    };
  }

  const operations: Record<string, (region: string, input: Record<string, unknown>) => unknown> = {
    GetParameters(region, input) {
      const names = input.Names;
      if (!Array.isArray(names) || names.length === 0 || names.length > MAX_NAMES) {
        throw new SsmFailure(400, 'ValidationException', `Names must hold 1..${MAX_NAMES} names`);
      }
      const plain = names.map((n) => plainName(region, String(n)));
      checkAccess(region, plain);
      const store = storeOf(region);
      const found = plain.flatMap((name) => {
        const p = store.get(name);
        return p ? [describe(region, name, p, input.WithDecryption === true)] : [];
      });
      const invalid = names.filter((_, i) => !store.has(plain[i]!));
      return { Parameters: found, InvalidParameters: invalid };
    },
    GetParameter(region, input) {
      const name = plainName(region, String(input.Name ?? ''));
      checkAccess(region, [name]);
      const p = storeOf(region).get(name);
      if (p === undefined) throw new SsmFailure(400, 'ParameterNotFound', `Parameter ${name} not found.`);
      return { Parameter: describe(region, name, p, input.WithDecryption === true) };
    },
    PutParameter(region, input) {
      const name = String(input.Name ?? '');
      const type = (input.Type ?? 'String') as ParameterType;
      if (!/^[a-zA-Z0-9_.\-/]{1,2048}$/.test(name)) {
        throw new SsmFailure(
          400,
          'ValidationException',
          'Parameter name: can\'t be prefixed with "aws" or "ssm"',
        );
      }
      if (!['String', 'StringList', 'SecureString'].includes(type)) {
        throw new SsmFailure(400, 'ValidationException', `Type ${type} is not a parameter type`);
      }
      if (typeof input.Value !== 'string' || input.Value === '') {
        throw new SsmFailure(400, 'ValidationException', 'Value must not be empty');
      }
      if (storeOf(region).has(name) && input.Overwrite !== true) {
        throw new SsmFailure(400, 'ParameterAlreadyExists', 'The parameter already exists.');
      }
      put(region, name, input.Value, type);
      return { Version: storeOf(region).get(name)!.version, Tier: 'Standard' };
    },
    DeleteParameter(region, input) {
      const name = String(input.Name ?? '');
      if (!storeOf(region).delete(name)) {
        throw new SsmFailure(400, 'ParameterNotFound', `Parameter ${name} not found.`);
      }
      return {};
    },
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const target = String(req.headers['x-amz-target'] ?? '');
    const scope = CREDENTIAL_SCOPE.exec(String(req.headers.authorization ?? ''));
    const record: SsmRequest = {
      operation: target.replace(/^AmazonSSM\./, ''),
      region: scope?.[1] ?? '',
      input: {},
      status: 0,
    };
    requests.push(record);
    const answer = (status: number, body: unknown, headers: Record<string, string> = {}): void => {
      record.status = status;
      res.writeHead(status, { 'content-type': JSON_11, ...headers });
      res.end(JSON.stringify(body));
    };
    const fail = (f: SsmFailure): void =>
      answer(f.status, { __type: f.type, message: f.message }, { 'x-amzn-errortype': f.type });
    try {
      record.input = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown>;
    } catch {
      return fail(new SsmFailure(400, 'SerializationException', 'The request body is not JSON'));
    }
    if (req.method !== 'POST' || !target.startsWith('AmazonSSM.')) {
      return fail(new SsmFailure(400, 'UnknownOperationException', 'Missing or unknown X-Amz-Target'));
    }
    if (scope === null || scope[2] !== 'ssm') {
      return fail(
        new SsmFailure(
          400,
          'MissingAuthenticationTokenException',
          'Request is missing a SigV4 signature for ssm',
        ),
      );
    }
    const fault = faults.shift();
    if (fault !== undefined) return fail(new SsmFailure(fault.status, fault.type, 'Injected fault'));
    const operation = operations[record.operation];
    if (operation === undefined) {
      return fail(new SsmFailure(400, 'UnknownOperationException', `${record.operation} is not emulated`));
    }
    try {
      answer(200, operation(record.region, record.input));
    } catch (err) {
      if (err instanceof SsmFailure) return fail(err);
      throw err;
    }
  }

  const server = createServer((req, res) => {
    handle(req, res).catch(() => res.destroy());
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    put,
    get: (region, name) => stores.get(region)?.get(name),
    remove: (region, name) => storeOf(region).delete(name),
    deny(region, name) {
      let names = denied.get(region);
      if (names === undefined) denied.set(region, (names = new Set()));
      names.add(name);
    },
    failNext(fault, times = 1) {
      for (let i = 0; i < times; i++) faults.push(fault);
    },
    close() {
      return new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      });
    },
  };
}
