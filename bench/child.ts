// One measured poll in a fresh process, so its peak RSS is its own: bench/run.ts bundles this file
// with esbuild, forks it with plain `node`, and talks to it over IPC. The emulator, dynalite and the
// Slack sink stay in the parent (as the real HSS, DynamoDB and Slack are outside the Lambda).
import { readFileSync } from 'node:fs';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createHssClient } from '../lib/hss/client';
import type { Log } from '../lib/log';
import { createSlackNotifier } from '../lib/notify/slack';
import { poll } from '../lib/poll';
import { createStateStore } from '../lib/state/store';
import { LOCAL_AWS } from '../local/dynamo';
import { baselinePoll } from './baseline';
import { ALERT_STATUSES, EMULATOR_AUTH, LAST_DAYS, PERIOD_MS, PROJECT_ID, SCOPE } from './scenarios';

/** Which poller a child runs, and where the parent's servers are. */
export interface ChildConfig {
  poller: 'ours' | 'baseline';
  hssUrl: string;
  dynamoEndpoint: string;
  tableName: string;
  sinkUrl: string;
}

/** Parent -> child: start the poll at virtual time `tickStart`, which corresponds to wall time `anchor`. */
export interface GoMessage {
  type: 'go';
  tickStart: number;
  anchor: number;
}

/** The counters both pollers report. */
export interface PollCounts {
  tasksSeen: number;
  alertsNew: number;
  alertsSent: number;
  transitions?: number;
  hssCalls: number;
  dynamoRequests: number;
  readCapacity: number;
  writeCapacity: number;
}

/** Child -> parent messages. */
export type ChildMessage =
  | { type: 'ready'; rssKb: number }
  | {
      type: 'done';
      counts: PollCounts;
      /** HTTP calls the HSS client made (cross-check of counts.hssCalls). */
      clientCalls: number;
      wallMs: number;
      /** The whole process's peak RSS (see peakRssKb), KiB. */
      maxRssKb: number;
      peakSource: PeakSource;
      warnings: string[];
    }
  | { type: 'error'; message: string };

/** Where the peak RSS figure came from. */
export type PeakSource = 'VmHWM' | 'maxRSS';

/**
 * The process's peak RSS. Linux keeps getrusage's maxRSS across execve, so a child forked from a
 * big parent reports the parent's size; VmHWM belongs to this process image alone.
 */
function peakRss(): { maxRssKb: number; peakSource: PeakSource } {
  try {
    const hwm = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (hwm) return { maxRssKb: Number(hwm[1]), peakSource: 'VmHWM' };
  } catch {
    // Not Linux: fall back to maxRSS, which is right when the parent is small.
  }
  return { maxRssKb: process.resourceUsage().maxRSS, peakSource: 'maxRSS' };
}

function main(): void {
  const config = JSON.parse(process.argv[2] ?? '{}') as ChildConfig;
  const send = (message: ChildMessage, then?: () => void): void => {
    process.send!(message, undefined, {}, () => then?.());
  };

  // Virtual time: the parent and the emulator use the same mapping from wall time.
  let tick = { tickStart: 0, anchor: 0 };
  const clock = (): number => tick.tickStart + (Date.now() - tick.anchor);
  const warnings: string[] = [];
  const log: Log = {
    debug() {},
    info() {},
    warn: (message) => void warnings.push(message),
    error: (message) => void warnings.push(message),
  };

  // Built before "ready", as a Lambda builds its clients during init.
  const dynamo = new DynamoDBClient({ endpoint: config.dynamoEndpoint, ...LOCAL_AWS });
  const hss = createHssClient({
    projectId: PROJECT_ID,
    endpoint: config.hssUrl,
    auth: EMULATOR_AUTH,
    ratePerMinute: 0,
    clock,
    log,
  });
  const slack = createSlackNotifier({ url: config.sinkUrl, log });

  process.on('message', (raw: GoMessage) => {
    if (raw.type !== 'go') return;
    tick = { tickStart: raw.tickStart, anchor: raw.anchor };
    void run()
      .then((done) => send(done, () => exit(0)))
      .catch((err: unknown) =>
        send(
          { type: 'error', message: err instanceof Error ? (err.stack ?? err.message) : String(err) },
          () => exit(1),
        ),
      );
  });

  async function run(): Promise<ChildMessage> {
    const started = performance.now();
    let counts: PollCounts;
    if (config.poller === 'ours') {
      const store = createStateStore({ client: dynamo, tableName: config.tableName });
      const s = await poll(
        { hss, store, notifiers: [slack], clock, log, random: () => 0.5 },
        { scope: SCOPE, lastDays: LAST_DAYS, alertStatuses: ALERT_STATUSES, periodMs: PERIOD_MS },
      );
      counts = {
        tasksSeen: s.tasksSeen,
        alertsNew: s.alertsNew,
        alertsSent: s.alertsSent,
        transitions: s.transitions,
        hssCalls: s.hssCalls,
        dynamoRequests: s.dynamoRequests,
        readCapacity: s.readCapacity,
        writeCapacity: s.writeCapacity,
      };
    } else {
      const s = await baselinePoll(
        { hss, dynamo, tableName: config.tableName, notifiers: [slack], clock },
        { scope: SCOPE, lastDays: LAST_DAYS, alertStatuses: ALERT_STATUSES },
      );
      counts = {
        tasksSeen: s.tasksSeen,
        alertsNew: s.alertsNew,
        alertsSent: s.alertsSent,
        hssCalls: s.hssCalls,
        dynamoRequests: s.dynamoRequests,
        readCapacity: s.readCapacity,
        writeCapacity: s.writeCapacity,
      };
    }
    const wallMs = performance.now() - started;
    return {
      type: 'done',
      counts,
      clientCalls: hss.stats.calls,
      wallMs,
      ...peakRss(),
      warnings,
    };
  }

  function exit(code: number): void {
    dynamo.destroy();
    process.exit(code);
  }

  send({ type: 'ready', rssKb: Math.round(process.memoryUsage().rss / 1024) });
}

main();
