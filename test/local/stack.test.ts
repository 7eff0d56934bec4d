import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { main } from '../../cli/main';
import { localStackInstructions, startLocalStack, type LocalStack } from '../../local/stack';
import { serverlessCliEnv } from '../support/serverless';

const run = promisify(execFile);
const ROOT = `${__dirname}/../..`;

/** The `export K=V` lines of the instructions, as a shell would set them. */
function exportsIn(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const m of text.matchAll(/^export (\w+)=(.*)$/gm)) {
    env[m[1]!] = m[2]!.replace(/^'(.*)'$/, '$1');
  }
  return env;
}

/** The printed `npx serverless invoke local …` command, split into arguments after `npx`. */
function invokeCommandIn(text: string): string[] {
  const line = text.split('\n').find((l) => l.startsWith('npx serverless invoke local '));
  if (line === undefined) throw new Error('no invoke local command in the instructions');
  return line
    .split(' ')
    .slice(1)
    .map((a) => a.replace(/^'(.*)'$/, '$1'));
}

async function cli(argv: string[], env: Record<string, string>) {
  const out: string[] = [];
  const code = await main(argv, { env, out: (l) => out.push(l), err: (l) => out.push(l) });
  return { code, out };
}

describe('the local stack (npm run local)', () => {
  let stack: LocalStack;
  beforeAll(async () => {
    stack = await startLocalStack({ dynamo: 'dynalite' });
  });
  afterAll(async () => {
    await stack.close();
  });

  it('prints a serverless invoke local command that polls it, and CLI variables that share its state', async () => {
    // Prepare: only what a person would copy from the printout.
    const text = localStackInstructions(stack);
    const env = exportsIn(text);
    const invoke = invokeCommandIn(text);
    // Act: the bundled handler alerts the failed and the timed-out restore...
    const invoked = await run('npx', invoke, { cwd: ROOT, env: serverlessCliEnv(), timeout: 120_000 });
    const alerted = stack.slack.received.map((r) => stack.slack.visibleText(r)).join('\n');
    // ...and the CLI, reading its secrets from the SSM emulator, sees the same state.
    const poll = await cli(['poll'], env);
    const status = await cli(['status'], env);
    // Assess
    expect(invoked.stdout).toMatch(/"alertsNew": 2/);
    expect(alerted).toMatch(/ecs-web-01/);
    expect(alerted).toMatch(/ecs-db-01/);
    expect(poll.code).toBe(0);
    expect(poll.out[0]).toMatch(/ 0 new alerts, 0 sent/);
    expect(status.out).toContain('monitoring is healthy');
    // Both asked the stack's SSM for nothing but its own parameters, in its region.
    expect(new Set(stack.ssm.requests.map((r) => r.region))).toEqual(new Set(['us-east-1']));
  }, 150_000);

  it('names its table, endpoints and whether TTL is on', () => {
    const text = localStackInstructions(stack);
    expect(text).toContain(`DynamoDB ${stack.dynamoEndpoint} (table hss-restore-alerts-local-state, no TTL`);
    expect(exportsIn(text)).toMatchObject({
      STATE_TABLE: 'hss-restore-alerts-local-state',
      STATE_NAMESPACE: 'hss-restore-alerts-local',
      AWS_ENDPOINT_URL_SSM: stack.ssm.url,
      CLOUD_SDK_SK_PARAM: '/hss-restore-alerts/local/cloud-sdk-sk',
    });
  });
});

describe('npm run local', () => {
  it('stays up until Ctrl-C, then stops everything and exits 0', async () => {
    // Act
    const child = spawn(`${ROOT}/node_modules/.bin/tsx`, ['local/run.ts', '--dynalite'], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
    await new Promise<void>((resolve, reject) => {
      const check = setInterval(() => {
        if (output.includes('Ready. Ctrl-C stops everything.')) {
          clearInterval(check);
          resolve();
        } else if (child.exitCode !== null) {
          clearInterval(check);
          reject(new Error(`exited early: ${output}`));
        }
      }, 100);
    });
    child.kill('SIGINT');
    // Assess
    expect(await exited).toBe(0);
    expect(output).toMatch(/^export HSS_ENDPOINT=http:\/\/127\.0\.0\.1:\d+$/m);
    expect(output).toMatch(/^npx serverless invoke local -f poll /m);
    expect(output).toContain('Stopping…');
    expect(output).not.toMatch(/NodeVersionSupportWarning/);
  }, 60_000);
});
