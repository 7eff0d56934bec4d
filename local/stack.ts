// The local stack behind `npm run local` and the tests that use it: the HSS emulator (two projects,
// a few scripted tasks, HSS's 5 calls a minute), a DynamoDB with the state table (TTL on where the
// engine supports it), the SSM emulator holding the secrets as SecureStrings under the stage's path,
// and Slack and signed-webhook sinks. It says what to paste to run the CLI and `serverless invoke
// local` against it.
import { DynamoDBClient, UpdateTimeToLiveCommand } from '@aws-sdk/client-dynamodb';
import { KEY } from '../lib/state/layout';
import { createStateTable, freePort, startDynamoDbLocal, startLocalDynamo, LOCAL_AWS } from './dynamo';
import { startHssEmulator, type EmulatedTask, type HssEmulator } from './hss-emulator';
import { startSlackSink, startWebhookSink, type Sink } from './sinks';
import { startSsmEmulator, type SsmEmulator } from './ssm-emulator';

const MIN = 60_000;
const HOUR = 60 * MIN;
/** The emulator's keys and a test-only webhook secret: stand-ins, not real secrets. */
export const LOCAL_SECRETS = {
  ak: 'EMULATORAK',
  sk: 'EMULATORSK',
  webhookSecret: 'whsec_bG9jYWwtc3RhY2stc2VjcmV0LW5vdC1yZWFs',
} as const;
/** The two projects the emulator serves, one scope each. */
export const LOCAL_PROJECTS = { singapore: 'proj-sg-local', beijing: 'proj-bj-local' } as const;

/** Where the state lives: Amazon's DynamoDB Local (TTL like AWS; needs Java 17+), dynalite, or a running endpoint. */
export type LocalDynamoChoice = 'dynamodb-local' | 'dynalite' | { endpoint: string };

export interface LocalStackOptions {
  /** Default `dynamodb-local`. */
  dynamo?: LocalDynamoChoice;
  /** AWS region of the secrets and the table (default us-east-1). */
  region?: string;
  /** The stage whose names are used (default `local`: what `--stage local` of serverless.yml reads). */
  stage?: string;
  /** State table name (default serverless.yml's for the stage: `hss-restore-alerts-<stage>-state`). */
  table?: string;
  /** HSS calls a minute per credential the emulator allows (default 5, as HSS). */
  ratePerMinute?: number;
  /** Served tasks (default localTasks(now)). */
  tasks?: EmulatedTask[];
  /** Projects HSS serves besides LOCAL_PROJECTS (any other answers 403 HSS.0010). */
  moreProjects?: string[];
}

export interface LocalStack {
  hss: HssEmulator;
  ssm: SsmEmulator;
  slack: Sink;
  webhook: Sink;
  dynamoEndpoint: string;
  /** Whether the table expires items (false on dynalite, which has no TTL). */
  ttl: boolean;
  region: string;
  /** The variables for the CLI (`poll`, `status`, `doctor`...): secrets as `_PARAM`s read from the SSM emulator. */
  cliEnv: Record<string, string>;
  /** The arguments after `npx` for `serverless invoke local` of the `local` stage (secrets in `-e`). */
  invokeLocalArgs: string[];
  close(): Promise<void>;
}

const iso = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** A few tasks of the last day: successes, one failed and one timed-out restore, one running. */
function localTasks(now: number): EmulatedTask[] {
  const task = (
    project: string,
    host: string,
    status: string,
    startedAgo: number,
    extra: Partial<EmulatedTask> = {},
  ): EmulatedTask => ({
    host_id: `${host}-0a1b2c3d`,
    host_name: host,
    backup_name: `restore_${host}`,
    process: status === 'success' ? 100 : 40,
    status,
    started_at: iso(now - startedAgo),
    ...(status === 'running' ? {} : { ended_at: iso(now - startedAgo + 20 * MIN) }),
    error_info: { code: '', message: '' },
    project_id: project,
    ...extra,
  });
  const { singapore, beijing } = LOCAL_PROJECTS;
  return [
    task(singapore, 'ecs-app-01', 'success', 5 * HOUR),
    task(beijing, 'ecs-app-02', 'success', 4 * HOUR),
    task(singapore, 'ecs-web-01', 'failed', 3 * HOUR, {
      error_info: { code: 'HSS.5021', message: 'Restore failed: agent offline during data write' },
    }),
    task(beijing, 'ecs-db-01', 'timeout', 2 * HOUR, {
      error_info: { code: 'HSS.5030', message: 'Restore task timed out after 3600 s' },
    }),
    task(singapore, 'ecs-files-02', 'running', 10 * MIN),
  ];
}

/** Starts every stand-in, creates the table and stores the secrets; close() stops them all. */
export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  const region = options.region ?? 'us-east-1';
  const stage = options.stage ?? 'local';
  const table = options.table ?? `hss-restore-alerts-${stage}-state`;
  const choice = options.dynamo ?? 'dynamodb-local';
  const closers: Array<() => Promise<void>> = [];
  const close = async (): Promise<void> => {
    await Promise.all(closers.splice(0).map((c) => c()));
  };
  try {
    const [hss, ssm, slack, webhook] = await Promise.all([
      startHssEmulator({
        projects: [...Object.values(LOCAL_PROJECTS), ...(options.moreProjects ?? [])],
        ratePerMinute: options.ratePerMinute ?? 5,
        tasks: options.tasks ?? localTasks(Date.now()),
      }),
      startSsmEmulator(),
      startSlackSink(),
      startWebhookSink({ secret: LOCAL_SECRETS.webhookSecret }),
    ]);
    closers.push(hss.close, ssm.close, slack.close, webhook.close);

    let dynamoEndpoint: string;
    if (choice === 'dynalite') {
      const dynalite = await startLocalDynamo();
      closers.push(dynalite.close);
      dynamoEndpoint = dynalite.endpoint;
    } else if (choice === 'dynamodb-local') {
      const local = startDynamoDbLocal({ port: await freePort() });
      closers.push(local.stop);
      await local.ready;
      dynamoEndpoint = local.endpoint;
    } else {
      dynamoEndpoint = choice.endpoint;
    }
    // DynamoDB Local keeps one database per access key and region: use the region of the config.
    const client = new DynamoDBClient({ ...LOCAL_AWS, region, endpoint: dynamoEndpoint });
    const ttl = await createTableWithTtl(client, table, choice !== 'dynalite');
    client.destroy();

    const path = `/hss-restore-alerts/${stage}`;
    const secrets = {
      CLOUD_SDK_AK: [`${path}/cloud-sdk-ak`, LOCAL_SECRETS.ak],
      CLOUD_SDK_SK: [`${path}/cloud-sdk-sk`, LOCAL_SECRETS.sk],
      SLACK_WEBHOOK_URL: [`${path}/slack-webhook-url`, slack.url],
      WEBHOOK_URL: [`${path}/webhook-url`, webhook.url],
      WEBHOOK_SECRET: [`${path}/webhook-secret`, LOCAL_SECRETS.webhookSecret],
    } as const;
    for (const [name, value] of Object.values(secrets)) ssm.put(region, name, value, 'SecureString');

    const common = {
      AWS_REGION: region,
      HSS_SCOPES: `ap-southeast-1/${LOCAL_PROJECTS.singapore},cn-north-4/${LOCAL_PROJECTS.beijing}`,
      HSS_ENDPOINT: hss.url,
      DYNAMODB_ENDPOINT: dynamoEndpoint,
      STATE_TABLE: table,
      // What serverless.yml gives the stage, so the CLI and `invoke local` share one state.
      STATE_NAMESPACE: `hss-restore-alerts-${stage}`,
    };
    const cliEnv: Record<string, string> = {
      ...common,
      AWS_ENDPOINT_URL_SSM: ssm.url,
      ...Object.fromEntries(Object.entries(secrets).map(([variable, [name]]) => [`${variable}_PARAM`, name])),
    };
    const invokeEnv: Record<string, string> = {
      ...common,
      ...Object.fromEntries(Object.entries(secrets).map(([variable, [, value]]) => [variable, value])),
    };
    return {
      hss,
      ssm,
      slack,
      webhook,
      dynamoEndpoint,
      ttl,
      region,
      cliEnv,
      invokeLocalArgs: invokeLocalArgs(stage, invokeEnv),
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}

/** The arguments after `npx` for `serverless invoke local` of the poll function on `stage`, with `env` as `-e`. */
export function invokeLocalArgs(stage: string, env: Readonly<Record<string, string>>): string[] {
  return [
    'serverless',
    'invoke',
    'local',
    '-f',
    'poll',
    '--path',
    'events/schedule.json',
    '--stage',
    stage,
    ...Object.entries(env).flatMap(([k, v]) => ['-e', `${k}=${v}`]),
  ];
}

/** Creates the state table (if missing) and turns TTL on where the engine can; returns whether TTL is on. */
async function createTableWithTtl(client: DynamoDBClient, table: string, ttl: boolean): Promise<boolean> {
  await createStateTable(client, table);
  if (!ttl) return false; // dynalite has no UpdateTimeToLive
  try {
    await client.send(
      new UpdateTimeToLiveCommand({
        TableName: table,
        TimeToLiveSpecification: { Enabled: true, AttributeName: KEY.ttl },
      }),
    );
  } catch (err) {
    // Already on (a second start against the same endpoint).
    if (!(err instanceof Error && /already enabled/i.test(err.message))) throw err;
  }
  return true;
}

/** What `npm run local` prints: the variables for the CLI and the `serverless invoke local` command. */
export function localStackInstructions(stack: LocalStack): string {
  const quote = (v: string): string => (/^[\w@%+=:,./-]+$/.test(v) ? v : `'${v.replace(/'/g, `'\\''`)}'`);
  const exports = Object.entries(stack.cliEnv).map(([k, v]) => `export ${k}=${quote(v)}`);
  const invoke = `npx ${stack.invokeLocalArgs.map(quote).join(' ')}`;
  return [
    'For the CLI (secrets are read from the SSM emulator, as on Lambda), paste into a shell:',
    '',
    ...exports,
    '',
    'then try:  npx hss-restore-alerts doctor --send-test   ·   npx hss-restore-alerts poll   ·   npx hss-restore-alerts status',
    '',
    'For the bundled handler (the `local` stage takes its secrets from -e):',
    '',
    invoke,
    '',
    `Slack sink ${stack.slack.url} · webhook sink ${stack.webhook.url} · HSS emulator ${stack.hss.url} (5 calls a minute)`,
    `DynamoDB ${stack.dynamoEndpoint} (table ${stack.cliEnv.STATE_TABLE}${stack.ttl ? ', TTL on' : ', no TTL: dynalite has none, so doctor reports it'}) · SSM ${stack.ssm.url} (region ${stack.region})`,
  ].join('\n');
}
