// The environment the tests run the Serverless CLI (osls) in: no telemetry, no notifications, no
// AWS SDK warning about Node 20.

/** This process's environment with the Serverless CLI kept quiet and offline. */
export function serverlessCliEnv(): NodeJS.ProcessEnv {
  return {
    ...process.env,
    SLS_TELEMETRY_DISABLED: '1',
    SLS_NOTIFICATIONS_MODE: 'off',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };
}
