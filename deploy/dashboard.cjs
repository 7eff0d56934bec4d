// A local osls plugin (serverless.yml `plugins:`): packaging adds the stage's CloudWatch dashboard,
// `hss-restore-alerts-<stage>`, with every metric handlers/metrics.ts sends and every alarm of the
// stack. It reads the namespace, service, stage, period and alert statuses from the function's
// environment, so the dashboard asks for exactly the series the function writes.
'use strict';
/* global module */ // CommonJS: osls require()s local plugins.

/** The poll function's logical id in the template (osls names it after `functions.poll`). */
const FUNCTION = 'PollLambdaFunction';
// Gauges sent every invocation; every other metric is sent only when not zero, so the dashboard
// draws it through FILL(…, 0): no data means none.
const GAUGES = ['HssCalls', 'PollDuration', 'DetectionLag'];

/**
 * The dashboard's widgets for one stage: alarm states, then invocations, poll duration, detection
 * lag, blind scopes, new alerts per status, deliveries, destinations and HSS calls, one period a
 * point. `alarms` are the logical ids of the stack's alarms. Strings hold `${…}` references for
 * CloudFormation's Fn::Sub (region, function name, alarm ARNs).
 */
function dashboardWidgets({ namespace, service, stage, periodSeconds, alertStatuses, alarms }) {
  const dims = ['service', service, 'stage', stage];
  /** Rows of one graph: our metric `name` (`stat`), FILLed with 0 unless a gauge. */
  const ours = (id, name, stat, label, extra = []) => {
    const metric = [namespace, name, ...dims, ...extra];
    if (GAUGES.includes(name)) return [[...metric, { id, stat, label }]];
    return [
      [{ id: `${id}f`, expression: `FILL(${id}, 0)`, label }],
      [...metric, { id, stat, visible: false }],
    ];
  };
  const lambda = (id, name, label) => [
    ['AWS/Lambda', name, 'FunctionName', `\${${FUNCTION}}`, { id, stat: 'Sum', label }],
  ];
  const graph = (title, rows, extra = {}) => ({
    type: 'metric',
    width: 6,
    height: 6,
    properties: {
      title,
      view: 'timeSeries',
      stacked: false,
      region: '${AWS::Region}',
      period: periodSeconds,
      metrics: rows.flat(),
      ...extra,
    },
  });
  const graphs = [
    graph('Invocations: all, and failed (PollErrorsAlarm)', [
      lambda('inv', 'Invocations', 'invocations'),
      lambda('err', 'Errors', 'failed'),
    ]),
    graph('Poll duration (ms)', [
      ours('davg', 'PollDuration', 'Average', 'average'),
      ours('dmax', 'PollDuration', 'Maximum', 'longest'),
    ]),
    graph('Detection lag (s): longest a scope went unread whole', [
      ours('lag', 'DetectionLag', 'Maximum', 'detection lag'),
    ]),
    graph('Scopes blind (ScopesBlindAlarm)', [ours('blind', 'ScopesBlind', 'Maximum', 'blind scopes')]),
    graph(
      'New alerts by status',
      alertStatuses.map((status, i) => ours(`s${i}`, 'AlertsNew', 'Sum', status, ['status', status])),
    ),
    graph('Deliveries', [
      ours('failed', 'DeliveryFailures', 'Sum', 'failed or given up'),
      ours('pending', 'DeliveriesPending', 'Maximum', 'waiting (DeliveryBacklogAlarm)'),
    ]),
    graph('Destinations', [
      ours('degraded', 'DestinationsDegraded', 'Maximum', 'degraded (DestinationsDegradedAlarm)'),
      ours('failing', 'DestinationsFailing', 'Maximum', 'failing (DestinationsFailingAlarm)'),
    ]),
    graph('HSS calls', [
      ours('calls', 'HssCalls', 'Sum', 'calls'),
      ours('throttled', 'HssThrottled', 'Sum', 'throttled (HssThrottledAlarm)'),
      ours('starved', 'BudgetStarved', 'Maximum', 'credentials starved (BudgetStarvedAlarm)'),
      ours('left', 'ListsLeftForNextPoll', 'Minimum', 'lists left (ListsLeftBacklogAlarm)'),
    ]),
  ];
  const alarmRow = {
    type: 'alarm',
    width: 24,
    height: 3,
    properties: {
      title: `Alarms of ${service} ${stage} (each notifies the alarm topic)`,
      alarms: alarms.map((id) => `\${${id}.Arn}`),
    },
  };
  // Four graphs a row (the grid is 24 wide), below the alarms.
  return [
    { ...alarmRow, x: 0, y: 0 },
    ...graphs.map((g, i) => ({ ...g, x: (i % 4) * 6, y: 3 + Math.floor(i / 4) * 6 })),
  ];
}

/**
 * The AWS::CloudWatch::Dashboard resource for the function's `environment` and the stack's `alarms`;
 * throws an Error of one line when the period (param periodSeconds) is not a whole number of minutes.
 */
function dashboardResource(environment, alarms) {
  const periodSeconds = Number(environment.SCHEDULE_PERIOD_SECONDS);
  // CloudWatch aggregates standard-resolution metrics by the minute.
  if (!Number.isInteger(periodSeconds) || periodSeconds < 60 || periodSeconds % 60 !== 0) {
    throw new Error(
      `periodSeconds must be a whole number of minutes in seconds (60, 300, ...), as the schedule's rate: got ${environment.SCHEDULE_PERIOD_SECONDS}`,
    );
  }
  const settings = {
    namespace: environment.POWERTOOLS_METRICS_NAMESPACE,
    service: environment.POWERTOOLS_SERVICE_NAME,
    stage: environment.STAGE,
    periodSeconds,
    // Stuck alerts are raised whatever ALERT_STATUSES says.
    alertStatuses: [
      ...new Set([...String(environment.ALERT_STATUSES).split(','), 'stuck'].map((s) => s.trim())),
    ].filter((s) => s !== ''),
    alarms,
  };
  return {
    Type: 'AWS::CloudWatch::Dashboard',
    Properties: {
      DashboardName: `${settings.service}-${settings.stage}`,
      DashboardBody: { 'Fn::Sub': JSON.stringify({ widgets: dashboardWidgets(settings) }) },
    },
  };
}

class DashboardPlugin {
  constructor(serverless) {
    const add = () => {
      const resources = (serverless.service.resources ??= {});
      resources.Resources ??= {};
      resources.Outputs ??= {};
      const alarms = Object.entries(resources.Resources)
        .filter(([, r]) => r.Type === 'AWS::CloudWatch::Alarm')
        .map(([id]) => id);
      const environment = serverless.service.functions.poll.environment;
      try {
        resources.Resources.Dashboard = dashboardResource(environment, alarms);
      } catch (err) {
        throw new serverless.classes.Error(`Dashboard: ${err.message}.`);
      }
      resources.Outputs.DashboardName = { Value: { Ref: 'Dashboard' } };
    };
    this.hooks = { 'before:package:finalize': add };
  }
}

module.exports = DashboardPlugin;
module.exports.dashboardResource = dashboardResource;
