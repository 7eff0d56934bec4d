import { cliRunMs, createApp, runPoll, type App } from '../lib/app';
import { parseConfig } from '../lib/config';
import { resolveSecretParams } from '../lib/secrets';
import type { Config } from '../lib/config/types';
import { ConfigError, oneLine } from '../lib/errors';
import type { Message } from '../lib/model';
import { redactUrl } from '../lib/redact';
import type { PollSummary } from '../lib/poll';
import { createStateTable } from '../lib/state/table';
import { cliSsm } from './aws';
import { runDemo } from './demo';
import { doctorCommand } from './doctor';
import { consoleLog } from './log';
import { silenceCommand } from './silence';
import { statusCommand } from './status';
import { testNotifyCommand } from './test-notify';

const USAGE = `Usage: hss-restore-alerts <command> [--verbose] (--help, -h: this text)

Commands:
  poll [--dry-run]   one poll of every scope with the environment's config (it stops reading HSS in
                     time to record and deliver within POLL_BUDGET_SECONDS or the schedule period);
                     --dry-run fetches and decides, prints what would be sent, writes nothing
  status [--json]    is monitoring working: per scope (judged against its latency bound), destination
                     and credential; exit 1 if not; --json for scripts
  silence add --host GLOB [--backup GLOB] [--status failed,timeout,stuck] --for 4h --reason TEXT
  silence list       silences and what each swallowed
  silence expire ID  end a silence now (what it swallowed and is unresolved is sent next poll)
  test-notify        send a clearly marked TEST notice to every configured destination
  doctor [--package DIR] [--send-test]
                     preflight, before and after deploying: SSM parameters (in the function's region),
                     config, state table, one HSS call per scope; --package DIR checks the function's
                     config from \`serverless package\` output (.serverless); --send-test also sends
                     each destination a TEST notice; exit 0 only when every check holds
  create-table       create the state table on DYNAMODB_ENDPOINT (local/development DynamoDB)
  demo               run a scripted day on local stand-ins (nothing to configure)

Configuration comes from the environment; see README.md.`;

/** Exit codes: 0 done, 1 the work failed (API, auth, delivery), 2 bad usage or configuration. */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

export interface CliIo {
  env: Record<string, string | undefined>;
  out: (line: string) => void;
  err: (line: string) => void;
  /** Clock of the commands (tests: virtual). */
  clock?: () => number;
}

/** Runs one CLI command and returns its exit code; prints one clear line on failure (stack with --verbose). */
export async function main(argv: readonly string[], io: CliIo): Promise<number> {
  const args = new Set(argv);
  const verbose = args.has('--verbose') || args.has('-v');
  const positional = argv.filter((a) => a !== '--verbose' && a !== '-v');
  const command = positional.find((a) => !a.startsWith('-'));
  if (args.has('--help') || args.has('-h')) {
    io.out(USAGE);
    return EXIT.ok;
  }
  const log = consoleLog(verbose ? 'debug' : 'warn', io.err);
  const config = async () =>
    parseConfig(io.env, { parameters: await resolveSecretParams(io.env, cliSsm(io.env)) });
  const app = async (): Promise<App> =>
    createApp(await config(), { log, ...(io.clock ? { clock: io.clock } : {}) });
  try {
    switch (command) {
      case 'poll':
        return await pollCommand(await app(), io, args.has('--dry-run'));
      case 'status':
        return await statusCommand(await app(), io.out, args.has('--json'));
      case 'silence':
        return await silenceCommand(await app(), positional.slice(positional.indexOf('silence') + 1), io.out);
      case 'test-notify':
        return await testNotifyCommand(await app(), io.out);
      case 'doctor':
        return EXIT[await doctorCommand(positional.slice(positional.indexOf('doctor') + 1), io, log)];
      case 'create-table':
        return await createTable(await config(), io, log);
      case 'demo':
        return await runDemo({ out: io.out, verbose });
      case undefined:
      case 'help':
        io.out(USAGE);
        return command ? EXIT.ok : EXIT.usage;
      default:
        io.err(`Unknown command "${command}".\n${USAGE}`);
        return EXIT.usage;
    }
  } catch (err) {
    io.err(`hss-restore-alerts ${command}: ${oneLine(err)}`);
    if (verbose && err instanceof Error && err.stack) io.err(err.stack);
    return err instanceof ConfigError ? EXIT.usage : EXIT.failed;
  }
}

async function pollCommand(app: App, io: CliIo, dryRun: boolean): Promise<number> {
  const summary = await runPoll(app, app.clock() + cliRunMs(app.config), { dryRun });
  if (dryRun) for (const m of summary.wouldSend ?? []) io.out(`would send: ${describeMessage(m)}`);
  io.out(formatSummary(summary, dryRun));
  return pollExitCode(summary);
}

/**
 * 1 when a scope could not be read, the call budget starved a credential, a destination fails
 * permanently, or deliveries failed or expired.
 */
export function pollExitCode(s: PollSummary): number {
  const d = s.delivery;
  return s.scopesFailed.length > 0 ||
    s.budgetStarved.length > 0 ||
    d.destinationsFailing.length > 0 ||
    d.failed > 0 ||
    d.expired > 0
    ? EXIT.failed
    : EXIT.ok;
}

/** Text from HSS made safe for a terminal: control characters (newlines, ANSI escapes) shown as `\uXXXX`. */
function terminalSafe(text: string): string {
  return text.replace(
    // eslint-disable-next-line no-control-regex
    /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

function describeMessage(m: Message): string {
  switch (m.kind) {
    case 'alert': {
      const t = m.task;
      const error = [t.errorCode, t.errorMessage].filter(Boolean).join(' ');
      return terminalSafe(
        `alert ${t.hostName || '(no name)'} (${t.hostId}) ${t.backupName}: ${m.previousStatus ?? 'new'} -> ${m.status}` +
          (error ? ` [${error}]` : '') +
          ` in ${m.scope.id}`,
      );
    }
    case 'notice':
      return terminalSafe(`notice ${m.notice}: ${m.summary}`);
    default:
      return terminalSafe(`${m.kind} ${m.id}`);
  }
}

/** The one-line summary the CLI prints after a poll. */
export function formatSummary(s: PollSummary, dryRun = false): string {
  const d = s.delivery;
  const parts = [
    `${dryRun ? 'dry run: ' : ''}${s.scopes} scope(s): ${s.scopesComplete} read whole, ${s.scopesFailed.length} failed`,
    `${s.tasksSeen} tasks seen`,
    `${s.changes} changes`,
    `${s.alertsNew} new alerts`,
    ...(dryRun
      ? []
      : [`${d.sent} sent`, `${d.pending} pending`, `${d.failed} failed`, `${d.expired} expired`]),
    `${s.hssCalls} HSS calls (${s.hssThrottled} throttled, ${s.pagesUnchanged}/${s.pagesRead} pages unchanged)`,
    `${s.dynamoRequests} DynamoDB requests (${s.readCapacity} RCU, ${s.writeCapacity} WCU)`,
    `${s.durationMs} ms`,
  ];
  const notes: string[] = [];
  for (const f of s.scopesFailed) notes.push(`scope ${f.scope} failed: ${f.error}`);
  for (const w of s.widened) {
    notes.push(
      `window widened to ${w.days} days for ${w.scope} to read a blind gap since ${new Date(w.blindSince).toISOString()}`,
    );
  }
  if (s.left.length > 0) {
    notes.push(
      `left for the next poll: ${s.left.map((l) => `${l.list} of ${l.scope} at record ${l.offset}`).join(', ')}`,
    );
  } else if (s.outOfTime) {
    notes.push('the call budget ran out before the in-flight sweep finished: it continues next poll');
  }
  for (const c of s.budgetStarved)
    notes.push(
      `the HSS call budget of credential ${c} let no call start for several polls: monitoring is NOT working`,
    );
  for (const f of d.destinationsFailing) notes.push(`destination ${f} is failing permanently`);
  if (s.recordsRejected > 0)
    notes.push(`${s.recordsRejected} records from HSS could not be read (skipped, reported)`);
  if (s.recordsDuplicated > 0) notes.push(`${s.recordsDuplicated} duplicated HSS rows collapsed`);
  return [parts.join(', '), ...notes].join('; ');
}

async function createTable(config: Config, io: CliIo, log: ReturnType<typeof consoleLog>): Promise<number> {
  if (!config.dynamodbEndpoint) {
    throw new ConfigError(
      'create-table needs DYNAMODB_ENDPOINT (a local or development DynamoDB); on AWS the table comes from serverless.yml',
      'DYNAMODB_ENDPOINT',
    );
  }
  const app = createApp(config, { log });
  const created = await createStateTable(app.dynamo, config.stateTable);
  io.out(
    `${created ? 'created' : 'already exists'}: table ${config.stateTable} on ${redactUrl(config.dynamodbEndpoint)}`,
  );
  return EXIT.ok;
}
