import middy from '@middy/core';
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import type { ScheduledEvent } from 'aws-lambda';
import { createApp, runPoll, type App } from '../lib/app';
import { describeConfig, parseConfig } from '../lib/config';
import type { PollSummary } from '../lib/poll';
import { resolveSecretParams } from '../lib/secrets';
import { oneLine } from '../lib/errors';
import { HssAuthError } from '../lib/hss/errors';
import type { Log } from '../lib/log';

const SERVICE = 'hss-restore-alerts';
// The handler is the one place that reads the environment and keeps clients for the warm container.
const logger = new Logger({ serviceName: SERVICE, logLevel: (process.env.LOG_LEVEL as 'INFO') ?? 'INFO' });
// The stage is a dimension so that the "no successful poll" alarm of one stage ignores the others.
const metrics = new Metrics({
  namespace: 'HssRestoreAlerts',
  serviceName: SERVICE,
  defaultDimensions: { stage: process.env.STAGE ?? 'local' },
});
let app: Promise<App> | undefined;

/**
 * Reads the SSM secrets and parses the config once per container, and builds the clients (the
 * HSS rate limiter lives in them across warm invocations); a failure is retried next time.
 */
function loadApp(): Promise<App> {
  app ??= (async () => {
    // The SSM client (and its module) is loaded only when some variable names an SSM parameter.
    const parameters = await resolveSecretParams(process.env, () =>
      import('@aws-sdk/client-ssm').then(({ SSMClient }) => new SSMClient({})),
    );
    const config = parseConfig(process.env, { parameters });
    logger.setLogLevel((config.logLevel as 'INFO') ?? 'INFO');
    logger.info('Configuration loaded', { config: describeConfig(config) });
    return createApp(config, { log: powertoolsLog(logger) });
  })().catch((err: unknown) => {
    app = undefined;
    throw err;
  });
  return app;
}

/** Adapts Powertools Logger to lib's Log (extra fields become structured keys). */
function powertoolsLog(l: Logger): Log {
  return {
    debug: (message, extra) => l.debug(message, extra ?? {}),
    info: (message, extra) => l.info(message, extra ?? {}),
    warn: (message, extra) => l.warn(message, extra ?? {}),
    error: (message, extra) => l.error(message, extra ?? {}),
  };
}

/** One scheduled tick: one poll of the configured scope; throws (failing the invocation) when it could not complete. */
async function pollOnce(event: ScheduledEvent): Promise<PollSummary> {
  const summary = await runPoll(await loadApp()).catch((err: unknown) => {
    // Rejected credentials may have been rotated in SSM: read them again on the next tick.
    if (err instanceof HssAuthError) app = undefined;
    throw err;
  });
  recordMetrics(summary);
  logger.info('Poll complete', { tick: event?.time, ...summary });
  return summary;
}

function recordMetrics(summary: PollSummary): void {
  metrics.addMetric('PollSucceeded', MetricUnit.Count, 1);
  metrics.addMetric('TasksSeen', MetricUnit.Count, summary.tasksSeen);
  metrics.addMetric('Transitions', MetricUnit.Count, summary.transitions);
  metrics.addMetric('AlertsSent', MetricUnit.Count, summary.alertsSent);
  metrics.addMetric(
    'DeliveryFailures',
    MetricUnit.Count,
    summary.deliveriesFailed + summary.deliveriesExpired,
  );
  metrics.addMetric('DeliveriesPending', MetricUnit.Count, summary.deliveriesPending);
  metrics.addMetric('HssCalls', MetricUnit.Count, summary.hssCalls);
  metrics.addMetric('HssThrottled', MetricUnit.Count, summary.hssThrottled);
  metrics.addMetric('PollDuration', MetricUnit.Milliseconds, summary.durationMs);
}

/** Logs one clear line for a failed poll (no secrets: errors are built redacted) and lets the invocation fail. */
function failedPollLogger(): middy.MiddlewareObj<ScheduledEvent, PollSummary> {
  return {
    onError: async function logFailedPoll(request) {
      metrics.addMetric('PollFailed', MetricUnit.Count, 1);
      logger.error(`Poll failed: ${oneLine(request.error)}`, { errorName: request.error?.name });
    },
  };
}

export const handler = middy<ScheduledEvent, PollSummary>(pollOnce)
  .use(injectLambdaContext(logger))
  .use(logMetrics(metrics, { captureColdStartMetric: true }))
  .use(failedPollLogger());
