// A local osls plugin (serverless.yml `plugins:`): packaging, and so deploying, fails with one line
// unless the alarms reach someone. It reads custom.alarmDestination, which serverless.yml fills from
// the params alarmEmail, alarmHttpsUrl and alarmTopicArn.
'use strict';
/* global module, URL */ // CommonJS: osls require()s local plugins.

const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;
// arn:<partition>:sns:<region>:<12-digit account>:<topic name>
const TOPIC_ARN = /^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}$/;

/**
 * The problems with the alarm destination params, one sentence each; empty when at least one is
 * given and every one given is well-formed.
 */
function alarmDestinationProblems({ email = '', httpsUrl = '', topicArn = '' } = {}) {
  const problems = [];
  if (!email && !httpsUrl && !topicArn) {
    problems.push(
      'none given, so the alarms would reach nobody: pass at least one of --param="alarmEmail=you@example.com", ' +
        '--param="alarmHttpsUrl=https://..." or --param="alarmTopicArn=arn:aws:sns:..." (see docs/deploying.md)',
    );
  }
  if (email && !EMAIL.test(email)) problems.push(`alarmEmail is not an e-mail address: ${email}`);
  if (httpsUrl) {
    let url;
    try {
      url = new URL(httpsUrl);
    } catch {
      url = undefined;
    }
    // The URL may carry a token: name the problem, never echo the value.
    if (!url || url.protocol !== 'https:') problems.push('alarmHttpsUrl must be an https:// URL');
  }
  if (topicArn && !TOPIC_ARN.test(topicArn)) {
    problems.push(
      `alarmTopicArn is not an SNS topic ARN (arn:aws:sns:<region>:<account>:<name>): ${topicArn}`,
    );
  }
  return problems;
}

class AlarmDestinationPlugin {
  constructor(serverless) {
    const check = () => {
      const given = (serverless.service.custom ?? {}).alarmDestination ?? {};
      const problems = alarmDestinationProblems(given);
      if (problems.length > 0) {
        throw new serverless.classes.Error(`Alarm destination: ${problems.join('; ')}.`);
      }
    };
    this.hooks = { 'before:package:initialize': check };
  }
}

module.exports = AlarmDestinationPlugin;
module.exports.alarmDestinationProblems = alarmDestinationProblems;
