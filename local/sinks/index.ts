// Local stand-ins for every destination: real HTTP servers on 127.0.0.1 that answer like the vendor,
// for tests and the demo.
export * from './base';
export * from './dingtalk';
export * from './discord';
export * from './feishu';
export * from './googlechat';
export * from './pagerduty';
export * from './slack';
export * from './smn';
export * from './teams';
export * from './webhook';
export * from './wecom';
