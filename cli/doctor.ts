// `hss-restore-alerts doctor`: a preflight run before and after deploying, with the function's own
// config and wiring (resolveSecretParams -> parseConfig -> createApp). Each check prints one line,
// `ok` or `problem` with how to fix it: the SSM parameters in the function's region (a parameter
// found only in another region is named), the config, the state table (keys as lib/state expects,
// TTL on), one HSS call per scope from the shared call budget, and with --send-test a TEST notice
// through the outbox to every destination. Exit 0 only when every check holds.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  type DynamoDBClient,
  type TableDescription,
} from '@aws-sdk/client-dynamodb';
import { SSMClient } from '@aws-sdk/client-ssm';
import { createApp, type App } from '../lib/app';
import { isSecretVariable, parseConfig, type Config, type SsmParameters } from '../lib/config';
import { lookupParameter, PARAM_SUFFIX } from '../lib/config/inputs';
import { ConfigError, oneLine } from '../lib/errors';
import { createMemoryBudget } from '../lib/budget/memory';
import { HssAuthError, HssRequestError, HssThrottledError } from '../lib/hss/errors';
import type { CallBudget } from '../lib/budget/port';
import { createPageReader, HSS_LIMITS } from '../lib/hss/reader';
import { realSleep, systemClock, type Log } from '../lib/log';
import type { Scope } from '../lib/model';
import { redactUrl } from '../lib/redact';
import { resolveSecretParams, type SsmGetParameters } from '../lib/secrets';
import { stateTableDefinition } from '../lib/state/table';
import { GSI_NAME, KEY } from '../lib/state/layout';
import { dynamoOverride, functionRegion, functionRegionSource, ssmReader } from './aws';
import type { CliIo, EXIT } from './main';
import { sendTestNotice } from './test-notice';

type Env = Record<string, string | undefined>;

/** One check's verdict: one line of output. */
interface Finding {
  status: 'ok' | 'problem';
  subject: string;
  detail: string;
  /** How to fix it (problems only). */
  fix?: string;
}

/** `ok       subject: detail` or `problem  subject: detail | fix: …`. */
function formatFinding(f: Finding): string {
  return `${f.status.padEnd(8)} ${f.subject}: ${f.detail}${f.fix ? ` | fix: ${f.fix}` : ''}`;
}

/** What the doctor needs from outside, built from the CLI's environment. */
interface DoctorDeps {
  /** SSM GetParameters in `region`. */
  ssm(region: string): SsmGetParameters;
  /** The region of the AWS CLI/SDK profile (~/.aws/config), where `aws ssm put-parameter` writes without --region. */
  profileRegion(): Promise<string | undefined>;
  /** A DynamoDB client to use instead of the config's (an endpoint override of the shell). */
  dynamo?(region: string): DynamoDBClient | undefined;
  clock?: () => number;
}

/** The function as `serverless package` left it: its environment, region and stage. */
interface PackagedFunction {
  env: Record<string, string>;
  region: string;
  stage: string;
  /** The SSM path the function's role may read (`/hss-restore-alerts/prod/`), when the template grants one. */
  ssmPath?: string;
}

/** Where serverless.yml deploys without --region: a stack, and secrets put for it, often land there by mistake. */
const STACK_DEFAULT_REGION = 'us-east-1';

/** Reads the poll function's environment, region and SSM grant from a `serverless package` directory. */
function readPackagedFunction(dir: string): PackagedFunction {
  const read = (file: string): Record<string, unknown> => {
    try {
      return JSON.parse(readFileSync(join(dir, file), 'utf8')) as Record<string, unknown>;
    } catch (err) {
      throw new ConfigError(
        `--package ${dir}: cannot read ${file} (${oneLine(err)}): run \`npx serverless package --stage … --region …\` first`,
      );
    }
  };
  const template = read('cloudformation-template-update-stack.json') as {
    Resources?: Record<string, { Type?: string; Properties?: Record<string, unknown> }>;
  };
  const state = read('serverless-state.json') as {
    service?: { provider?: { region?: string; stage?: string } };
  };
  const resources = Object.values(template.Resources ?? {});
  const fn = resources.find((r) => r.Type === 'AWS::Lambda::Function');
  const variables = (fn?.Properties?.Environment as { Variables?: Record<string, unknown> } | undefined)
    ?.Variables;
  const region = state.service?.provider?.region;
  const stage = state.service?.provider?.stage;
  if (variables === undefined || region === undefined || stage === undefined) {
    throw new ConfigError(`--package ${dir}: no Lambda function environment, region or stage in it`);
  }
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(variables)) {
    if (typeof value !== 'string') {
      throw new ConfigError(`--package ${dir}: ${name} is not a plain string in the template`);
    }
    env[name] = value;
  }
  // The role's ssm:GetParameters grant ends `:parameter/<path>*`.
  const grant = /:parameter(\/[^"*]*)\*"/.exec(
    JSON.stringify(
      resources
        .filter((r) => r.Type === 'AWS::IAM::Role')
        .flatMap((r) => (r.Properties?.Policies as unknown[] | undefined) ?? []),
    ),
  );
  return { env, region, stage, ...(grant ? { ssmPath: grant[1] } : {}) };
}

/** The SDK's default chain for the region (AWS_REGION, then the profile's `region`), or undefined. */
async function sdkProfileRegion(): Promise<string | undefined> {
  const client = new SSMClient({});
  try {
    return await client.config.region();
  } catch {
    return undefined;
  } finally {
    client.destroy();
  }
}

/** The doctor's dependencies from the CLI's environment. */
function doctorDeps(io: CliIo): DoctorDeps {
  return {
    ssm: (region) => ssmReader(io.env, region),
    profileRegion: sdkProfileRegion,
    dynamo: (region) => dynamoOverride(io.env, region),
    ...(io.clock ? { clock: io.clock } : {}),
  };
}

/** The exit code's name (main's EXIT): `ok` when every check holds, `usage` for bad arguments or config, else `failed`. */
export type DoctorVerdict = keyof typeof EXIT;

/** `doctor [--package DIR] [--send-test]`: runs every check, printing one line each. */
export async function doctorCommand(args: readonly string[], io: CliIo, log: Log): Promise<DoctorVerdict> {
  const deps = doctorDeps(io);
  let packageDir: string | undefined;
  let sendTest = false;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--send-test') sendTest = true;
    else if (arg === '--package' && args[i + 1] !== undefined) packageDir = args[++i];
    else if (arg.startsWith('--package=')) packageDir = arg.slice('--package='.length);
    else {
      io.err(`doctor: unknown argument "${arg}" (usage: doctor [--package DIR] [--send-test])`);
      return 'usage';
    }
  }
  const packaged = packageDir === undefined ? undefined : readPackagedFunction(packageDir);
  // The function's config: from the package (Lambda adds AWS_REGION), else from this environment.
  const env: Env = packaged ? { ...packaged.env, AWS_REGION: packaged.region } : io.env;
  const region = functionRegion(env);
  const findings: Finding[] = [];
  const report = (f: Finding): void => {
    findings.push(f);
    io.out(formatFinding(f));
  };
  io.out(
    packaged
      ? `doctor: the function of ${packageDir} (stage ${packaged.stage}), in region ${region}`
      : `doctor: the config of this environment, for a function in region ${region} (${functionRegionSource(env)})`,
  );

  const parameters = await checkParameters(env, region, io.env, packaged?.ssmPath, deps, report);
  let config: Config;
  try {
    config = parseConfig(env, parameters === undefined ? {} : { parameters });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    report({ status: 'problem', subject: 'config', detail: oneLine(err), fix: 'see README, Configuration' });
    io.out('doctor: the state table, HSS and destinations are checked once the config parses');
    return 'usage';
  }
  report({
    status: 'ok',
    subject: 'config',
    detail: `${count(config.scopes.length, 'scope')}, ${count(Object.keys(config.credentials).length, 'credential')}, ${count(config.destinations.length, 'destination')}`,
  });

  const dynamo = deps.dynamo?.(config.awsRegion);
  const app = createApp(config, { log, clock: deps.clock ?? systemClock, ...(dynamo ? { dynamo } : {}) });
  try {
    const tableOk = await checkTable(app.dynamo, config, report);
    await checkHss(app, tableOk, deps, report, io.out);
    if (sendTest) await checkDestinations(app, tableOk, report);
    else io.out('doctor: destinations not tried (--send-test sends each a TEST notice through the outbox)');
  } finally {
    app.dynamo.destroy();
  }
  const problems = findings.filter((f) => f.status === 'problem').length;
  io.out(
    problems === 0
      ? `doctor: all ${findings.length} checks ok`
      : `doctor: ${count(problems, 'problem')} in ${findings.length} checks`,
  );
  return problems === 0 ? 'ok' : 'failed';
}

/** Sends the TEST notice through the outbox (in the state table) and reports each destination. */
async function checkDestinations(app: App, tableOk: boolean, report: (f: Finding) => void): Promise<void> {
  if (!tableOk) {
    report({
      status: 'problem',
      subject: 'destinations',
      detail: 'not tried: the TEST notice goes through the outbox, which lives in the state table',
      fix: 'fix the state table first',
    });
    return;
  }
  for (const { destination, state, outcome } of await sendTestNotice(app)) {
    const subject = `destination ${destination.description}`;
    if (outcome.delivered) {
      report({ status: 'ok', subject, detail: 'accepted the TEST notice' });
      continue;
    }
    report({
      status: 'problem',
      subject,
      detail: state ? outcome.text : 'the TEST notice is not routed to it',
      fix: 'check its URL, key or secret (README, Destinations) and run doctor --send-test again',
    });
  }
}

function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

/**
 * Resolves the config's SSM parameters as the function does and reports each one: found in the
 * function's region, of the type it must be, readable (and within the role's grant when known);
 * a missing one is looked for in the regions people put it by mistake. Returns the parameters read,
 * or undefined when SSM refused the reads.
 */
async function checkParameters(
  env: Env,
  region: string,
  shell: Env,
  ssmPath: string | undefined,
  deps: DoctorDeps,
  report: (f: Finding) => void,
): Promise<SsmParameters | undefined> {
  const asked: string[] = [];
  const reader = deps.ssm(region);
  let parameters: SsmParameters;
  try {
    parameters = await resolveSecretParams(env, () => async (input) => {
      asked.push(...(input.Names ?? []));
      return reader(input);
    });
  } catch (err) {
    report({
      status: 'problem',
      subject: `SSM in ${region}`,
      detail: oneLine(err),
      fix: 'the caller (and the function role) needs ssm:GetParameters on the parameters and kms:Decrypt on their key',
    });
    return undefined;
  }
  if (asked.length === 0) {
    report({ status: 'ok', subject: 'SSM', detail: 'the config names no SSM parameter' });
    return parameters;
  }
  const referrers = referrersOf(env);
  const missing = asked.filter((name) => parameters[name] === undefined);
  const elsewhere = await findElsewhere(missing, region, shell, deps);
  for (const name of asked) {
    const by = referrers.get(name) ?? 'the destinations file';
    const subject = `SSM ${name} (${by})`;
    const secure = by !== 'DESTINATIONS_FILE_PARAM';
    const type = secure ? 'SecureString' : 'String or SecureString';
    const found = lookupParameter(name, parameters, subject, secure);
    const put = `aws ssm put-parameter --region ${region} --type ${secure ? 'SecureString' : 'String'} --name ${name} --value …`;
    if (parameters[name] === undefined) {
      const regions = elsewhere.get(name) ?? [];
      report({
        status: 'problem',
        subject,
        detail:
          regions.length > 0
            ? `not found in ${region}, the function's region, but found in ${regions.join(', ')}`
            : `not found in ${region}, the function's region`,
        fix:
          regions.length > 0 ? `${put} (or deploy the stack to ${regions[0]}: --region ${regions[0]})` : put,
      });
    } else if (!found.ok) {
      report({
        status: 'problem',
        subject,
        detail: `is a ${parameters[name].type}, expected ${type}`,
        fix: `${put} --overwrite`,
      });
    } else if (ssmPath !== undefined && !underPath(name, ssmPath)) {
      report({
        status: 'problem',
        subject,
        detail: `outside ${ssmPath}, the only path the function's role may read`,
        fix: `store it under ${ssmPath} and pass that name`,
      });
    } else {
      report({ status: 'ok', subject, detail: `${parameters[name].type}, readable in ${region}` });
    }
  }
  return parameters;
}

/** Parameter name -> the variable that names it (`CLOUD_SDK_SK_PARAM`). */
function referrersOf(env: Env): Map<string, string> {
  const out = new Map<string, string>();
  for (const [variable, raw] of Object.entries(env)) {
    const name = raw?.trim();
    if (!name || !variable.endsWith(PARAM_SUFFIX)) continue;
    const base = variable.slice(0, -PARAM_SUFFIX.length);
    if (isSecretVariable(base) || variable === 'DESTINATIONS_FILE_PARAM') out.set(name, variable);
  }
  return out;
}

function underPath(name: string, path: string): boolean {
  const plain = name.startsWith('arn:') ? name.slice(name.indexOf(':parameter') + ':parameter'.length) : name;
  return plain.startsWith(path);
}

/**
 * The regions other than the function's where each missing parameter exists: AWS_DEFAULT_REGION and
 * AWS_REGION of this shell, the profile's region (where `aws ssm put-parameter` writes by default)
 * and us-east-1 (where a stack deployed without --region lands). One GetParameters per region and 10 names.
 */
async function findElsewhere(
  names: readonly string[],
  region: string,
  shell: Env,
  deps: DoctorDeps,
): Promise<Map<string, string[]>> {
  const found = new Map<string, string[]>();
  if (names.length === 0) return found;
  const candidates = [
    shell.AWS_DEFAULT_REGION?.trim(),
    shell.AWS_REGION?.trim(),
    await deps.profileRegion(),
    STACK_DEFAULT_REGION,
  ].filter((r): r is string => !!r && r !== region);
  for (const other of [...new Set(candidates)]) {
    const get = deps.ssm(other);
    for (let i = 0; i < names.length; i += 10) {
      const answer = await get({ Names: names.slice(i, i + 10), WithDecryption: false }).catch(
        () => undefined,
      );
      for (const p of answer?.Parameters ?? []) {
        const name = names.find((n) => n === p.Name || n === p.ARN);
        if (name !== undefined) found.set(name, [...(found.get(name) ?? []), other]);
      }
    }
  }
  return found;
}

/** The state table: exists, active, keyed as stateTableDefinition says, TTL on `ttl`. True when usable. */
async function checkTable(
  dynamo: DynamoDBClient,
  config: Config,
  report: (f: Finding) => void,
): Promise<boolean> {
  const name = config.stateTable;
  const where = config.dynamodbEndpoint
    ? `on ${redactUrl(config.dynamodbEndpoint)}`
    : `in ${config.awsRegion}`;
  const subject = `state table ${name}`;
  let table: TableDescription | undefined;
  try {
    table = (await dynamo.send(new DescribeTableCommand({ TableName: name }))).Table;
  } catch (err) {
    const missing = err instanceof Error && err.name === 'ResourceNotFoundException';
    report({
      status: 'problem',
      subject,
      detail: missing ? `does not exist ${where}` : `cannot be described ${where}: ${oneLine(err)}`,
      fix: missing
        ? config.dynamodbEndpoint
          ? 'hss-restore-alerts create-table'
          : `serverless deploy --region ${config.awsRegion} creates it (expected before the first deploy)`
        : 'the caller needs dynamodb:DescribeTable and dynamodb:DescribeTimeToLive on it',
    });
    return false;
  }
  const expected = stateTableDefinition(name);
  const keysOk = sameKeys(table?.KeySchema, expected.KeySchema);
  const index = table?.GlobalSecondaryIndexes?.find((g) => g.IndexName === GSI_NAME);
  const indexOk =
    index !== undefined && sameKeys(index.KeySchema, expected.GlobalSecondaryIndexes?.[0]?.KeySchema);
  if (!keysOk || !indexOk) {
    report({
      status: 'problem',
      subject,
      detail: `${where} is not keyed as lib/state expects (pk/sk, index ${GSI_NAME} on ${KEY.gsiPk}/${KEY.gsiSk})`,
      fix: 'point STATE_TABLE at the table serverless.yml creates',
    });
    return false;
  }
  let ttl: { TimeToLiveStatus?: string; AttributeName?: string } | undefined;
  try {
    ttl = (await dynamo.send(new DescribeTimeToLiveCommand({ TableName: name }))).TimeToLiveDescription;
  } catch (err) {
    ttl = { TimeToLiveStatus: `unknown (${oneLine(err)})` };
  }
  if (table?.TableStatus !== 'ACTIVE') {
    report({
      status: 'problem',
      subject,
      detail: `is ${table?.TableStatus ?? 'in an unknown state'} ${where}, not ACTIVE`,
      fix: 'wait for the deploy to finish and run doctor again',
    });
    return false;
  }
  const ttlOn = ttl?.TimeToLiveStatus === 'ENABLED' && ttl.AttributeName === KEY.ttl;
  report(
    ttlOn
      ? {
          status: 'ok',
          subject,
          detail: `ACTIVE ${where}, keys and index as lib/state expects, TTL on ${KEY.ttl}`,
        }
      : {
          status: 'problem',
          subject,
          detail: `TTL is ${ttl?.TimeToLiveStatus ?? 'off'}${ttl?.AttributeName ? ` on ${ttl.AttributeName}` : ''}, expected ENABLED on ${KEY.ttl}: state would never expire`,
          fix: `aws dynamodb update-time-to-live --region ${config.awsRegion} --table-name ${name} --time-to-live-specification Enabled=true,AttributeName=${KEY.ttl}`,
        },
  );
  // Without TTL the table still works: the HSS calls may use its shared budget.
  return true;
}

function sameKeys(
  actual: readonly { AttributeName?: string; KeyType?: string }[] | undefined,
  expected: readonly { AttributeName?: string; KeyType?: string }[] | undefined,
): boolean {
  const text = (k: typeof actual) => JSON.stringify((k ?? []).map((e) => [e.AttributeName, e.KeyType]));
  return text(actual) === text(expected);
}

/**
 * One HSS call per scope (the smallest page of the last day), each from the shared call budget of
 * its credential when the state table is there (the deployed function spends the same budget), else
 * from one in this process. A credential refused on one scope is not called again for the others.
 */
async function checkHss(
  app: App,
  tableOk: boolean,
  deps: DoctorDeps,
  report: (f: Finding) => void,
  say: (line: string) => void,
): Promise<void> {
  const { config } = app;
  const clock = deps.clock ?? systemClock;
  const byCredential = new Map<string, Scope[]>();
  for (const scope of app.scopes)
    byCredential.set(scope.credential, [...(byCredential.get(scope.credential) ?? []), scope]);
  for (const name of Object.keys(config.credentials).filter((c) => !byCredential.has(c))) {
    say(
      `doctor: credential ${name} reads no scope (it signs SMN publishes): not called; --send-test tries it through SMN`,
    );
  }
  const most = Math.max(...[...byCredential.values()].map((s) => s.length));
  const minutes = Math.ceil(most / config.ratePerMinute);
  const budget: CallBudget = tableOk
    ? app.budget
    : createMemoryBudget({ ratePerMinute: config.ratePerMinute, clock, sleep: realSleep });
  say(
    `doctor: HSS: ${count(app.scopes.length, 'call')}, one per scope, at most ${config.ratePerMinute} a minute per credential ` +
      (tableOk
        ? `from the budget in the state table that the deployed function also spends (each is one call fewer for its polls that minute): about ${minutes} min, more while it polls`
        : `paced in this process (no state table, so no deployed function shares the budget): about ${minutes} min`),
  );
  const reader = createPageReader({
    credentials: config.credentials,
    ...(config.endpoint ? { endpoint: config.endpoint } : {}),
    budget,
    clock,
    sleep: realSleep,
    log: app.log,
    random: Math.random,
  });
  // Room for every call of the busiest credential, plus a minute for the deployed function's share.
  const deadline = clock() + (minutes + 1) * 60_000 + 15_000;
  await Promise.all(
    [...byCredential.values()].map(async (scopes) => {
      for (const scope of scopes) {
        const subject = `HSS ${scope.id} (credential ${scope.credential})`;
        try {
          const result = await reader.fetchPage(scope, { lastDays: 1 }, 0, deadline, HSS_LIMITS.pageSizeMin);
          report(
            result.kind === 'page'
              ? {
                  status: 'ok',
                  subject,
                  detail: `answered: ${count(result.page.totalNum, 'task')} in the last day`,
                }
              : {
                  status: 'problem',
                  subject,
                  detail: `no call slot before the doctor's deadline: the shared budget is spent by the deployed function or another stack`,
                  fix: 'run doctor again in a few minutes',
                },
          );
        } catch (err) {
          report({ status: 'problem', subject, detail: oneLine(err), fix: hssFix(err, scope) });
        }
      }
    }),
  );
}

/** What to change when HSS refused a scope's call. */
function hssFix(err: unknown, scope: Scope): string {
  const credential =
    scope.credential === 'default'
      ? 'CLOUD_SDK_AK/CLOUD_SDK_SK (or HSS_AUTH_TOKEN), or their _PARAM'
      : `CLOUD_SDK_AK__${scope.credential.toUpperCase()}/CLOUD_SDK_SK__${scope.credential.toUpperCase()}, or credentials.${scope.credential} in the destinations file`;
  if (err instanceof HssAuthError) {
    return err.status === 401 || err.errorCode?.startsWith('APIGW.')
      ? `check the credential: ${credential}`
      : `give the IAM user of credential ${scope.credential} HSS read access in project ${scope.projectId}${scope.region ? ` (${scope.region})` : ''}, or correct the project id in the scope`;
  }
  if (err instanceof HssRequestError) return `check the project and enterprise project ids of ${scope.id}`;
  if (err instanceof HssThrottledError) {
    return 'another client spends this user’s 5 calls a minute: lower HSS_RATE_LIMIT_PER_MINUTE or stop it';
  }
  return 'check the network and HSS_ENDPOINT, then run doctor again';
}
