// A local osls plugin (serverless.yml `plugins:`) for the params that fill the function's
// environment. `none` turns a param off: osls refuses an empty `--param="name="`, and a quoted ''
// would ship two quote characters, so `--param="slackWebhookUrlParam=none"` is how a destination
// (or any optional param) is left out from the command line; the plugin writes it as ''. Then
// packaging (and so deploying) fails with one line unless the function has scopes to poll, given
// one way only.
'use strict';
/* global module */ // CommonJS: osls require()s local plugins.

/** The value that means "unset" in any param. */
const NONE = 'none';

/** `environment` with every value `none` (any case, trimmed) replaced by ''. */
function withoutNone(environment = {}) {
  return Object.fromEntries(
    Object.entries(environment).map(([name, value]) => [
      name,
      typeof value === 'string' && value.trim().toLowerCase() === NONE ? '' : value,
    ]),
  );
}

const SCOPE_FORMS =
  '--param="hssProjectId=..." with --param="hssRegion=..." (one scope), or ' +
  '--param="hssScopes=region/project_id[/enterprise_project_id][@credential],..." (several)';

/**
 * The problems with the function's scopes, one sentence each (params named as on the command line);
 * empty when they come one way. A destinations file may list them (`scopes:`): then it is trusted.
 */
function scopeProblems(environment = {}) {
  const given = (name) => typeof environment[name] === 'string' && environment[name].trim() !== '';
  const oneScope = ['HSS_PROJECT_ID', 'HSS_REGION', 'HSS_ENTERPRISE_PROJECT_ID'].filter(given);
  if (given('HSS_SCOPES')) {
    return oneScope.length === 0
      ? []
      : [
          `hssScopes is given with ${oneScope.map(paramOf).join(', ')}: give the scopes one way (hssScopes lists each scope's enterprise project as region/project_id/enterprise_project_id)`,
        ];
  }
  if (given('DESTINATIONS_FILE') || given('DESTINATIONS_FILE_PARAM')) return [];
  if (oneScope.length === 0)
    return [`none given, so nothing would be polled: pass ${SCOPE_FORMS} (see docs/deploying.md)`];
  const problems = [];
  if (!given('HSS_PROJECT_ID')) problems.push('hssProjectId is missing (the project id of the HSS path)');
  if (!given('HSS_REGION') && !given('HSS_ENDPOINT')) {
    problems.push(
      'hssRegion is missing (an HSS region such as cn-north-4), unless hssEndpoint serves the scope',
    );
  }
  return problems;
}

const PARAMS = {
  HSS_PROJECT_ID: 'hssProjectId',
  HSS_REGION: 'hssRegion',
  HSS_ENTERPRISE_PROJECT_ID: 'enterpriseProjectId',
};

function paramOf(variable) {
  return PARAMS[variable] ?? variable;
}

class StageParamsPlugin {
  constructor(serverless) {
    const functions = () => Object.values(serverless.service.functions ?? {});
    const dropNone = () => {
      for (const fn of functions()) fn.environment = withoutNone(fn.environment);
    };
    const check = () => {
      dropNone();
      for (const fn of functions()) {
        const problems = scopeProblems(fn.environment);
        if (problems.length > 0) throw new serverless.classes.Error(`Scopes: ${problems.join('; ')}.`);
      }
    };
    this.hooks = {
      'before:package:initialize': check,
      'before:deploy:function:initialize': check,
      // `invoke local` does not package, and its -e variables override these anyway.
      'before:invoke:local:loadEnvVars': dropNone,
    };
  }
}

module.exports = StageParamsPlugin;
module.exports.withoutNone = withoutNone;
module.exports.scopeProblems = scopeProblems;
