// Invocation summaries for the metrics tests (handlers/metrics.ts), and the README's table of the
// metrics, which test/handler-metrics.test.ts and test/serverless.test.ts check from both ends.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { emptyDeliverySummary } from '../lib/outbox';
import type { PollSummary } from '../lib/poll';

/** A quiet invocation: 4 HSS calls in 1,234 ms, every scope read whole 65.4 s ago, nothing wrong. */
export function quietSummary(): PollSummary {
  return {
    scopes: 2,
    scopesComplete: 2,
    scopesFailed: [],
    tasksSeen: 120,
    changes: 0,
    alertsNew: 0,
    alertsByStatus: {},
    scopesBlind: 0,
    detectionLagMs: 65_400,
    pagesRead: 4,
    pagesUnchanged: 4,
    recordsRejected: 0,
    recordsDuplicated: 0,
    followUps: { tried: 0, ended: 0, lostTrack: 0, due: 0 },
    widened: [],
    left: [],
    outOfTime: false,
    budgetStarved: [],
    hssCalls: 4,
    hssThrottled: 0,
    delivery: emptyDeliverySummary(),
    lifecycle: { silenced: 0, released: 0, resolved: 0, reminders: 0 },
    dynamoRequests: 6,
    readCapacity: 1,
    writeCapacity: 2,
    durationMs: 1_234,
  };
}

/** An invocation with every trouble that has a metric at once, naming scopes, hosts and destinations. */
export function troubledSummary(): PollSummary {
  const quiet = quietSummary();
  return {
    ...quiet,
    scopesFailed: [{ scope: 'cn-north-4/p1/0', error: 'HTTP 503', auth: false }],
    alertsNew: 4,
    alertsByStatus: { failed: 2, timeout: 1, stuck: 1 },
    scopesBlind: 1,
    detectionLagMs: 1_800_000,
    left: [{ scope: 'cn-north-4/p2/0', list: 'failed', offset: 400 }],
    budgetStarved: ['default'],
    hssThrottled: 1,
    delivery: {
      ...quiet.delivery,
      failed: 1,
      expired: 1,
      pending: 3,
      destinationsFailing: ['slack'],
      destinationsDegraded: ['teams'],
    },
  };
}

/** One row of the README's table of metrics, its cells as written (backticks dropped from the name). */
export interface ReadmeMetricRow {
  metric: string;
  dimensions: string;
  sent: string;
  readBy: string[];
  monthly: string;
}

export const README_TEXT = readFileSync(join(__dirname, '..', 'README.md'), 'utf8');

/** The rows of the README's table of metrics (between `<!-- metrics` and `<!-- /metrics -->`). */
export function readmeMetricRows(): ReadmeMetricRow[] {
  const start = README_TEXT.indexOf('<!-- metrics:');
  const end = README_TEXT.indexOf('<!-- /metrics -->');
  if (start < 0 || end < start) throw new Error('README.md has no <!-- metrics: ... <!-- /metrics --> table');
  return README_TEXT.slice(start, end)
    .split('\n')
    .filter((l) => l.startsWith('|'))
    .slice(2)
    .map((line) => {
      const [metric, dimensions, sent, readBy, monthly] = line
        .slice(1, -1)
        .split('|')
        .map((c) => c.trim());
      return {
        metric: metric!.replace(/`/g, ''),
        dimensions: dimensions!,
        sent: sent!,
        readBy: readBy!.split(', ').map((r) => r.replace(/`/g, '')),
        monthly: monthly!,
      };
    });
}
