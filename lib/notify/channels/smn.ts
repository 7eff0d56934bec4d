// Huawei Cloud SMN (Simple Message Notification): publishes to a topic whose subscriptions fan out
// to e-mail, SMS, HTTP(S), FunctionGraph, DingTalk, WeCom, Feishu... Bursts are digested like chat.
// `POST {endpoint}/v2/{project_id}/notifications/topics/{topic_urn}/publish` with
// `{subject (<= 512 bytes), message_structure}`, where message_structure is a JSON STRING with
// `default` (required), `email` and `sms` (<= 490 characters, no `[]` or `【】`). Signed just before
// sending with the same SDK-HMAC-SHA256 as HSS (`content-type`, `host`, `x-sdk-date` signed, plus
// `x-security-token` for temporary credentials), or sent with `X-Auth-Token`. All text is plain.
import { baseUrl, credentialName, refuse, rule, type Rule } from '../../rules';
import { ConfigError } from '../../errors';
import { authHeaders, DEFAULT_CREDENTIAL, type HssAuth } from '../../huaweicloud/credentials';
import { classifyHttp } from '../classify';
import type { ChannelLimits, ChannelRequest } from '../destination';
import { cardGroups, fitCard, moreText, type Card } from '../cards';
import { clip, inert } from '../inert';
import { destinationBase } from './base';
import { defineChannel } from './spec';

const SMN_LIMITS = {
  subjectBytes: 512,
  smsChars: 490,
  /** `message` may be 256 KB; the whole structure stays far below. */
  structureBytes: 200_000,
} as const;

/** SMN publishes no per-topic rate; one publish per second is conservative (each may become SMS). */
const SMN_RATE: ChannelLimits = { minIntervalMs: 1000, perMinute: 60 };

const LISTED = 20;

/** A card as plain text (e-mail, default): one line per fact, the HSS error, digest lines, link, footer. */
function smnText(card: Card): string {
  const lines = [inert(card.title), ''];
  if (card.text) lines.push(inert(card.text), '');
  for (const f of card.facts) lines.push(`${inert(f.label)}: ${inert(f.value)}`);
  if (card.error) {
    lines.push('', `HSS error${card.error.code ? ` ${inert(card.error.code)}` : ''}`);
    if (card.error.message) lines.push(inert(card.error.message));
  }
  if (card.lines && card.lines.length > 0) lines.push('', ...card.lines.map((l) => `- ${inert(l)}`));
  const more = moreText(card.more);
  if (more) lines.push(more);
  if (card.link) lines.push('', `${card.link.label}: ${card.link.url}`);
  lines.push('', inert(card.footer));
  return lines.join('\n');
}

/** The SMS form: the fallback line, no `[]`/`【】` (SMN refuses them), at most 490 characters. */
function smnSms(card: Card): string {
  const text = inert(card.fallback)
    .replace(/[[【]/g, '(')
    .replace(/[\]】]/g, ')');
  return clip(text, SMN_LIMITS.smsChars);
}

/** The publish body of one card. */
function smnBody(card: Card): string {
  const structure = fitCard(
    card,
    (c) => JSON.stringify({ default: smnText(c), email: smnText(c), sms: smnSms(c) }),
    SMN_LIMITS.structureBytes,
  );
  return JSON.stringify({
    subject: clip(inert(card.title), SMN_LIMITS.subjectBytes, 'bytes'),
    message_structure: structure,
  });
}

/** `{endpoint}/v2/{project_id}/notifications/topics/{topic_urn}/publish` */
function smnPublishUrl(endpoint: string, projectId: string, topicUrn: string): string {
  return `${endpoint.replace(/\/+$/, '')}/v2/${encodeURIComponent(projectId)}/notifications/topics/${topicUrn}/publish`;
}

/** Headers that authenticate one publish at `now`: AK/SK signature (content-type, host, x-sdk-date) or the IAM token. */
function smnAuthHeaders(request: ChannelRequest, auth: HssAuth, now: number): Record<string, string> {
  const url = new URL(request.url);
  return authHeaders(
    {
      method: 'POST',
      path: decodeURIComponent(url.pathname),
      query: [...url.searchParams.entries()],
      // Host is set explicitly so the value signed is the value sent.
      headers: { ...request.headers, 'content-type': 'application/json', host: url.host },
      body: request.body,
    },
    auth,
    now,
    ['content-type', 'host', 'x-sdk-date', 'x-security-token'],
  );
}

/** The parts of an SMN topic URN. */
interface SmnTopic {
  urn: string;
  region: string;
  projectId: string;
}

const topicUrnRule: Rule<SmnTopic> = rule(
  'an SMN topic URN urn:smn:{region}:{project_id}:{topic}',
  'value',
  (t) => {
    const m =
      /^urn:smn:([a-z]{2}(?:-[a-z]+)+-\d+):([A-Za-z0-9]{1,64}):([A-Za-z0-9][A-Za-z0-9_-]{0,254})$/.exec(t);
    return m ? { urn: t, region: m[1]!, projectId: m[2]! } : refuse();
  },
);

/** The config of an SMN destination. */
interface SmnConfig {
  topicUrn: string;
  /** Default `https://smn.{region of the URN}.myhuaweicloud.com`. */
  endpoint: string;
  /** Project id of the publish path, read from the URN (`urn:smn:{region}:{project_id}:{topic}`). */
  projectId: string;
  /** Credential name that signs the publish (the same AK/SK signer as HSS, or the token). */
  credential: string;
}

/** The config of a topic: its publish endpoint defaults to the URN's region. */
function topicConfig(topic: SmnTopic, endpoint: string | undefined, credential: string): SmnConfig {
  return {
    topicUrn: topic.urn,
    endpoint: endpoint ?? `https://smn.${topic.region}.myhuaweicloud.com`,
    projectId: topic.projectId,
    credential,
  };
}

/** Huawei Cloud SMN: a topic URN, published to with an HSS credential. */
export const smnChannel = defineChannel<SmnConfig>()({
  type: 'smn',
  displayName: 'Huawei Cloud SMN',
  doc: 'topic (e-mail, SMS, ... subscriptions), signed with an HSS credential',
  variables: {
    SMN_TOPIC_URN: {
      rule: topicUrnRule,
      doc: 'Huawei Cloud SMN topic to publish to (e-mail, SMS, ... subscriptions).',
    },
    SMN_ENDPOINT: {
      rule: baseUrl,
      defaultDoc: "`https://smn.{region}.myhuaweicloud.com`, the URN's region",
      doc: 'SMN endpoint override.',
    },
    SMN_CREDENTIAL: {
      rule: credentialName,
      default: DEFAULT_CREDENTIAL,
      doc: 'Credential that signs the SMN publish.',
    },
  },
  fileKeys: ['topic_urn', 'endpoint', 'credential'],
  answers: { kind: 'http' },
  limits: SMN_RATE,
  heldByQuietHours: false,
  digests: true,
  redact: { urls: ['endpoint'] },
  credential: (config) => config.credential,
  fromEnv: (v) =>
    v.SMN_TOPIC_URN === undefined
      ? undefined
      : topicConfig(v.SMN_TOPIC_URN, v.SMN_ENDPOINT, v.SMN_CREDENTIAL),
  fromFile(entry) {
    const topic = entry.value('topic_urn', topicUrnRule);
    if (!entry.has('topic_urn')) entry.problem('topic_urn', `is required (${topicUrnRule.expected})`);
    const endpoint = entry.value('endpoint', baseUrl);
    const credential = entry.value('credential', credentialName) ?? DEFAULT_CREDENTIAL;
    return topic === undefined ? undefined : topicConfig(topic, endpoint, credential);
  },
  create: (config, deps) => {
    const auth = deps.credentials[config.credential];
    if (!auth) {
      throw new ConfigError(
        `SMN destination "${config.name}" names credential "${config.credential}", which is not configured`,
        'SMN_TOPIC_URN',
      );
    }
    const url = smnPublishUrl(config.endpoint, config.projectId, config.topicUrn);
    const topic = config.topicUrn.split(':').pop() ?? '';
    const base = destinationBase(config, url);
    return {
      ...base,
      description: `${base.description} topic ${topic}`,
      render: (batch, context) =>
        cardGroups(batch, context, LISTED).map((group) => ({
          covers: group.covers,
          url,
          body: smnBody(group.card),
        })),
      sign: (request, now) => ({ ...request, headers: smnAuthHeaders(request, auth, now) }),
      classify: (answer, now) => classifyHttp(answer.status, answer.headers, answer.bodyText, now),
    };
  },
});
