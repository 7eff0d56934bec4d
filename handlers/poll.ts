import middy from '@middy/core';
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { Context, ScheduledEvent } from 'aws-lambda';
import { createApp, runInvocation, type App } from '../lib/app';
import { describeConfig, parseConfig } from '../lib/config';
import { resolveSecretParams, sdkSsm } from '../lib/secrets';
import { combineChecks, type PollSummary } from '../lib/poll';
import { AlertsError, oneLine } from '../lib/errors';
import type { Log } from '../lib/log';
import { pollMetrics } from './metrics';

const SERVICE = 'hss-restore-alerts';
// The handler is the one place that reads the environment and keeps clients for the warm container.
const logger = new Logger({ serviceName: SERVICE, logLevel: (process.env.LOG_LEVEL as 'INFO') ?? 'INFO' });
// The stage is a dimension so that the alarms of one stage ignore the others.
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
    // SSM (and its half of the SDK) is loaded only when some variable names a parameter.
    const config = parseConfig(process.env, { parameters: await resolveSecretParams(process.env, sdkSsm) });
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

/** Some scope's alert lists could not be read: the invocation fails (so the Errors alarm sees it) after everything was recorded and delivered. */
export class ScopesFailedError extends AlertsError {
  constructor(message: string) {
    super(message);
    this.name = 'ScopesFailedError';
  }
}

/** The call budget let no HSS call start for several polls in a row: the invocation fails so the Errors alarm sees it. */
export class BudgetStarvedError extends AlertsError {
  constructor(message: string) {
    super(message);
    this.name = 'BudgetStarvedError';
  }
}

/** Every destination is degraded or failing: nothing reaches anyone, so the invocation fails (after recording and delivering) for the Errors alarm. */
export class DestinationsDownError extends AlertsError {
  constructor(message: string) {
    super(message);
    this.name = 'DestinationsDownError';
  }
}

/**
 * One scheduled tick: one poll of every scope, ending before the function's timeout (HSS reads stop
 * in time to record and deliver). A scope that could not be read, a credential whose call budget
 * let no call start for several polls, or every destination degraded or failing, fails the
 * invocation after everything was polled, recorded and delivered; running out of time once does not
 * (the next tick continues).
 */
async function pollOnce(event: ScheduledEvent, context: Context): Promise<PollSummary> {
  const current = await loadApp();
  const summary = combineChecks(
    await runInvocation(current, current.clock() + context.getRemainingTimeInMillis()),
  );
  recordMetrics(summary);
  logger.info('Poll complete', { tick: event?.time, ...summary });
  const d = summary.delivery;
  const down = d.allDestinationsDown
    ? `every destination is degraded or failing, nothing reaches anyone: ${[...d.destinationsFailing.map((x) => `${x} failing`), ...d.destinationsDegraded.map((x) => `${x} degraded`)].join(', ')}`
    : undefined;
  if (summary.scopesFailed.length > 0) {
    // Refused credentials may have been rotated in SSM: read them again on the next tick.
    if (summary.scopesFailed.some((f) => f.auth)) app = undefined;
    throw new ScopesFailedError(
      `${summary.scopesFailed.length} of ${summary.scopes} scope(s) could not be read: ${summary.scopesFailed
        .map((f) => `${f.scope}: ${f.error}`)
        .join('; ')}${down ? `; and ${down}` : ''}`,
    );
  }
  if (summary.budgetStarved.length > 0) {
    throw new BudgetStarvedError(
      `the HSS call budget let no call start for several polls with credential(s) ${summary.budgetStarved.join(', ')}: no scope read with them is being watched${down ? `; and ${down}` : ''}`,
    );
  }
  if (down) throw new DestinationsDownError(down.charAt(0).toUpperCase() + down.slice(1));
  return summary;
}

/**
 * Sends the invocation's metrics (handlers/metrics.ts) as EMF log lines: one for the metrics with
 * the stage's dimensions, one per alert status with new alerts.
 */
function recordMetrics(summary: PollSummary): void {
  for (const m of pollMetrics(summary)) {
    if (m.status) metrics.singleMetric().addDimension('status', m.status).addMetric(m.name, m.unit, m.value);
    else metrics.addMetric(m.name, m.unit, m.value);
  }
  metrics.publishStoredMetrics();
}

/** Logs one clear line for a failed poll (no secrets: errors are built redacted) and lets the invocation fail. */
function failedPollLogger(): middy.MiddlewareObj<ScheduledEvent, PollSummary> {
  return {
    onError: async function logFailedPoll(request) {
      logger.error(`Poll failed: ${oneLine(request.error)}`, { errorName: request.error?.name });
    },
  };
}

export const handler = middy<ScheduledEvent, PollSummary>(pollOnce)
  .use(injectLambdaContext(logger))
  .use(failedPollLogger());
