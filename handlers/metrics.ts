// What the Lambda tells CloudWatch about one invocation. CloudWatch bills a custom metric $0.30 a
// month, prorated by the hour and only for hours it receives data (README, Metrics, dashboard and
// alarms), so three gauges are sent every invocation and every other metric only when it is not
// zero: a healthy stage pays for three. Dimensions are the service and the stage, and `status` for
// AlertsNew: never a scope, host or destination.
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { AlertStatus } from '../lib/model';
import type { PollSummary } from '../lib/poll';

type Unit = (typeof MetricUnit)[keyof typeof MetricUnit];

/** One value sent for an invocation; `status` only on AlertsNew (bounded by the alert statuses). */
export interface PollMetric {
  name: string;
  unit: Unit;
  value: number;
  status?: AlertStatus;
}

const count = (name: string, value: number): PollMetric => ({ name, unit: MetricUnit.Count, value });

/**
 * The metrics of one invocation's summary: HssCalls, PollDuration (ms) and DetectionLag (s, the
 * longest any scope's alert lists have gone unread whole) always; new alerts per status, delivery
 * trouble, degraded and failing destinations, blind scopes, starved credentials, HSS throttling and
 * lists left for the next poll only when not zero.
 */
export function pollMetrics(summary: PollSummary): PollMetric[] {
  const d = summary.delivery;
  const whenNotZero: PollMetric[] = [
    ...Object.entries(summary.alertsByStatus).map(([status, n]) => ({
      ...count('AlertsNew', n ?? 0),
      status: status as AlertStatus,
    })),
    // Permanent refusals and deliveries given up after the retry horizon: both never arrive.
    count('DeliveryFailures', d.failed + d.expired),
    count('DeliveriesPending', d.pending),
    count('DestinationsDegraded', d.destinationsDegraded.length),
    count('DestinationsFailing', d.destinationsFailing.length),
    count('ScopesBlind', summary.scopesBlind),
    count('BudgetStarved', summary.budgetStarved.length),
    count('HssThrottled', summary.hssThrottled),
    count('ListsLeftForNextPoll', summary.left.length),
  ];
  return [
    count('HssCalls', summary.hssCalls),
    { name: 'PollDuration', unit: MetricUnit.Milliseconds, value: summary.durationMs },
    { name: 'DetectionLag', unit: MetricUnit.Seconds, value: Math.round(summary.detectionLagMs / 1000) },
    ...whenNotZero.filter((m) => m.value > 0),
  ];
}
