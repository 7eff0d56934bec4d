import { createApp, runPoll } from '../lib/app';
import { parseConfig } from '../lib/config';
import { ConfigError, oneLine } from '../lib/errors';
import type { PollSummary } from '../lib/poll';
import { createStateTable } from '../lib/state/table';
import type { Notice } from '../lib/notify/types';
import { consoleLog } from './log';
import { runDemo } from './demo';

const USAGE = `Usage: hss-restore-alerts <command> [--verbose]

Commands:
  poll [--dry-run]   one poll with the environment's config; --dry-run fetches and decides,
                     prints what would be sent, and writes nothing
  test-notify        send a clearly marked sample notice to every configured destination
  create-table       create the state table on DYNAMODB_ENDPOINT (local/development DynamoDB)
  demo               run a scripted day on local stand-ins (nothing to configure)

Configuration comes from the environment; see README.md.`;

/** Exit codes: 0 done, 1 the work failed (API, auth, delivery), 2 bad usage or configuration. */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

export interface CliIo {
  env: Record<string, string | undefined>;
  out: (line: string) => void;
  err: (line: string) => void;
}

/** Runs one CLI command and returns its exit code; prints one clear line on failure (stack with --verbose). */
export async function main(argv: readonly string[], io: CliIo): Promise<number> {
  const args = new Set(argv);
  const verbose = args.has('--verbose') || args.has('-v');
  const command = argv.find((a) => !a.startsWith('-'));
  const log = consoleLog(verbose ? 'debug' : 'warn', io.err);
  try {
    switch (command) {
      case 'poll':
        return await pollCommand(io, log, args.has('--dry-run'));
      case 'test-notify':
        return await testNotify(io, log);
      case 'create-table':
        return await createTable(io, log);
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

async function pollCommand(io: CliIo, log: ReturnType<typeof consoleLog>, dryRun: boolean): Promise<number> {
  const app = createApp(parseConfig(io.env), { log });
  const summary = await runPoll(app, { dryRun });
  if (dryRun) {
    for (const alert of summary.wouldSend ?? []) {
      const t = alert.task;
      io.out(
        `would alert: ${t.hostName} (${t.hostId}) ${t.backupName}: ${alert.previousStatus ?? 'new'} -> ${alert.status}` +
          (t.errorCode || t.errorMessage ? ` [${t.errorCode ?? ''}] ${t.errorMessage ?? ''}`.trimEnd() : ''),
      );
    }
  }
  io.out(formatSummary(summary, dryRun));
  return summary.deliveriesFailed > 0 || summary.deliveriesExpired > 0 ? EXIT.failed : EXIT.ok;
}

/** The one-line summary the CLI prints after a poll. */
export function formatSummary(s: PollSummary, dryRun = false): string {
  const parts = [
    `${dryRun ? 'dry run: ' : ''}${s.tasksSeen} tasks seen`,
    `${s.transitions} changes`,
    `${s.alertsNew} new alerts`,
    ...(dryRun
      ? []
      : [
          `${s.alertsSent} sent`,
          `${s.deliveriesPending} pending`,
          `${s.deliveriesFailed} failed`,
          `${s.deliveriesExpired} expired`,
        ]),
    `${s.hssCalls} HSS calls`,
    `${s.dynamoRequests} DynamoDB requests (${s.readCapacity} RCU, ${s.writeCapacity} WCU)`,
    `${s.durationMs} ms`,
  ];
  return parts.join(', ');
}

async function testNotify(io: CliIo, log: ReturnType<typeof consoleLog>): Promise<number> {
  const app = createApp(parseConfig(io.env), { log });
  const notice: Notice = {
    kind: 'test',
    id: `test-${Date.now()}`,
    scope: app.scope,
    summary: 'TEST: hss-restore-alerts can reach this destination. No action needed.',
    at: Date.now(),
  };
  let failed = 0;
  for (const notifier of app.notifiers) {
    const outcome = await notifier.notice(notice);
    if (outcome.kind !== 'ok') failed += 1;
    io.out(`${notifier.description}: ${outcome.kind === 'ok' ? 'ok' : `${outcome.kind}: ${outcome.error}`}`);
  }
  return failed > 0 ? EXIT.failed : EXIT.ok;
}

async function createTable(io: CliIo, log: ReturnType<typeof consoleLog>): Promise<number> {
  const config = parseConfig(io.env);
  if (!config.dynamodbEndpoint) {
    throw new ConfigError(
      'create-table needs DYNAMODB_ENDPOINT (a local or development DynamoDB); on AWS the table comes from serverless.yml',
      'DYNAMODB_ENDPOINT',
    );
  }
  const app = createApp(config, { log });
  const created = await createStateTable(app.dynamo, config.stateTable);
  io.out(
    `${created ? 'created' : 'already exists'}: table ${config.stateTable} on ${config.dynamodbEndpoint}`,
  );
  return EXIT.ok;
}
