// The machinery every local sink shares: a real HTTP server on 127.0.0.1 (port 0) that records every
// request, fails on demand (status, reset, hang, delay, the vendor's own error codes), enforces the
// vendor's rate limit the way the vendor does, and flags any mention or link that would reach people.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { DestinationConfig } from '../../lib/notify/channels';
import type { HssAuth } from '../../lib/huaweicloud/credentials';
import { systemClock, type Clock } from '../../lib/log';

/** One request as the sink got it; header names are lower-case, `json` is set when the body parsed. */
export interface SinkRequest {
  at: number;
  /** Path and query as requested. */
  path: string;
  headers: Record<string, string>;
  body: string;
  json?: unknown;
  /** What the sink answered (absent for reset/hang). */
  status?: number;
  answer?: string;
  /** Mentions, links and control characters that would reach people (empty when clean). */
  flags: string[];
}

/** What to do with the next request instead of answering normally. */
export type SinkFault =
  | { kind: 'status'; status: number; body?: string; headers?: Record<string, string> }
  | { kind: 'hang' }
  | { kind: 'reset' }
  | { kind: 'delay'; ms: number }
  /** Answer as the vendor does with this error code (Feishu 19021, DingTalk 130101, WeCom 45009, ...). */
  | { kind: 'vendor'; code: number };

export interface Sink {
  /** The URL to configure (includes a vendor-like path, and query where the vendor has one). */
  url: string;
  /** Requests the vendor would have accepted (delivered), in order. */
  received: SinkRequest[];
  /** Every request, whatever happened to it, in order. */
  attempts: SinkRequest[];
  /** The next `times` (default 1) requests get `fault` instead of the normal answer. */
  failNext(fault: SinkFault, times?: number): void;
  clearFaults(): void;
  /** The text a person would read in a request (titles, facts, lines...), for assertions. */
  visibleText(request: SinkRequest): string;
  /** Stops the server, dropping hung requests. */
  close(): Promise<void>;
}

export interface Answer {
  status: number;
  body: string;
  headers?: Record<string, string>;
  /** Whether the vendor would have delivered it; default: a 2xx. */
  accepted?: boolean;
}

/** One rolling window of a vendor rate limit: at most `max` accepted requests per `windowMs`. */
interface RateWindow {
  windowMs: number;
  max: number;
}

interface RateLimit {
  windows: RateWindow[];
  /** The vendor's answer when over the limit; `retryAfterMs` until the oldest request leaves its window. */
  answer(retryAfterMs: number): Answer;
  /** The vendor mutes the sender this long after a breach (DingTalk: 10 minutes). */
  muteMs?: number;
}

export interface SinkSpec {
  /** Path (and query) of the URL handed out. */
  path: string;
  clock?: Clock;
  /** The vendor's normal answer to a request on its path. */
  answer(request: SinkRequest): Answer;
  /** The vendor's answer for one of its error codes (failNext `vendor`). */
  vendorError?(code: number): Answer;
  /** The vendor's answer off its path (default 404). */
  notFound?: Answer;
  rateLimit?: RateLimit;
  /** Flags for one request (mentions, links...). */
  flags?(request: SinkRequest): string[];
  visibleText?(request: SinkRequest): string;
}

/** Hosts our own links may point to: the HSS console. */
const ALLOWED_LINK_HOSTS: ReadonlySet<string> = new Set([
  'console.huaweicloud.com',
  'console.eu.huaweicloud.com',
]);

function allowedLink(url: string): boolean {
  try {
    const u = new URL(url);
    return u.protocol === 'https:' && ALLOWED_LINK_HOSTS.has(u.hostname);
  } catch {
    return false;
  }
}

export interface ScanRules {
  /** Link constructs of the markup, global, capture group 1 = the URL (Markdown `[x](url)`, Slack `<url|x>`). */
  links?: RegExp[];
  /** Constructs that ping people in this markup (Slack `<!channel>`, Feishu `<at`, WeCom `<@`, ...). */
  mentions?: RegExp[];
}

const CONTROL =
  // eslint-disable-next-line no-control-regex
  /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

/**
 * What in `text` would reach people: links to anything but the HSS console, bare `scheme://` or
 * `www.` (auto-linked by clients), the markup's mentions, `@everyone/@here/@all/@channel` written
 * plainly, and control characters (ANSI escapes, line/paragraph separators, bidi marks, embeddings,
 * overrides and isolates). Newlines are markup, not flagged.
 */
export function scanText(text: string, rules: ScanRules = {}): string[] {
  const flags: string[] = [];
  let rest = text;
  for (const re of rules.links ?? []) {
    rest = rest.replace(re, (_m: string, url: string) => {
      if (!allowedLink(url)) flags.push(`link to ${url}`);
      return ' ';
    });
  }
  const bare = /[a-z][a-z0-9+.-]*:\/\/\S*/i.exec(rest);
  if (bare) flags.push(`bare URL ${bare[0]}`);
  if (/\bwww\.[a-z0-9-]/i.test(rest)) flags.push('bare www. domain');
  for (const re of rules.mentions ?? []) {
    const m = new RegExp(re.source, re.flags.replace('g', '')).exec(rest);
    if (m) flags.push(`mention ${m[0]}`);
  }
  const word = /@(everyone|here|all|channel)\b/i.exec(rest);
  if (word) flags.push(`mention ${word[0]}`);
  if (CONTROL.test(rest)) flags.push('control character');
  return flags;
}

/** Every string value inside `value` (depth first), for sinks that show every field. */
export function stringsIn(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(stringsIn);
  if (typeof value === 'object' && value !== null) return Object.values(value).flatMap(stringsIn);
  return [];
}

/** Starts a sink on 127.0.0.1 answering per `spec`. */
export async function startSink(spec: SinkSpec): Promise<Sink> {
  const clock = spec.clock ?? systemClock;
  const received: SinkRequest[] = [];
  const attempts: SinkRequest[] = [];
  const faults: SinkFault[] = [];
  const accepted: number[] = [];
  const timers = new Set<NodeJS.Timeout>();
  const basePath = spec.path.split('?')[0];
  let mutedUntil = 0;
  let closed = false;

  function overLimit(now: number): Answer | undefined {
    const limit = spec.rateLimit;
    if (!limit) return undefined;
    if (now < mutedUntil) return limit.answer(mutedUntil - now);
    for (const w of limit.windows) {
      const inWindow = accepted.filter((t) => t > now - w.windowMs);
      if (inWindow.length >= w.max) {
        if (limit.muteMs) mutedUntil = now + limit.muteMs;
        return limit.answer(limit.muteMs ?? inWindow[0]! + w.windowMs - now);
      }
    }
    return undefined;
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    const record: SinkRequest = {
      at: clock(),
      path: req.url ?? '/',
      headers: flatHeaders(req),
      body,
      flags: [],
    };
    try {
      record.json = JSON.parse(body);
    } catch {
      // Not JSON: `json` stays unset and the sink answers as the vendor would.
    }
    attempts.push(record);

    const fault = faults.shift();
    if (fault?.kind === 'hang') return; // the socket stays open until the client gives up or close()
    if (fault?.kind === 'reset') {
      req.socket.resetAndDestroy();
      return;
    }
    if (fault?.kind === 'delay') {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          timers.delete(timer);
          resolve();
        }, fault.ms);
        timers.add(timer);
      });
      if (closed) return;
    }
    let a: Answer;
    if (fault?.kind === 'status') {
      a = { status: fault.status, body: fault.body ?? '', headers: fault.headers };
    } else if (fault?.kind === 'vendor') {
      a = spec.vendorError?.(fault.code) ?? { status: 500, body: `no vendor error ${fault.code}` };
    } else if (record.path.split('?')[0] !== basePath) {
      a = spec.notFound ?? { status: 404, body: 'not found' };
    } else {
      a = overLimit(record.at) ?? spec.answer(record);
    }
    const ok = a.accepted ?? (a.status >= 200 && a.status < 300);
    record.status = a.status;
    record.answer = a.body;
    if (ok) {
      record.flags = spec.flags?.(record) ?? [];
      accepted.push(record.at);
      received.push(record);
    }
    res.writeHead(a.status, { 'content-type': 'text/plain; charset=utf-8', ...a.headers });
    res.end(a.body);
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch(() => res.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}${spec.path}`,
    received,
    attempts,
    failNext(fault, times = 1) {
      for (let i = 0; i < times; i++) faults.push(fault);
    },
    clearFaults() {
      faults.length = 0;
    },
    visibleText: (request) => spec.visibleText?.(request) ?? stringsIn(request.json).join('\n'),
    async close() {
      closed = true;
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      // Hung and keep-alive connections would otherwise hold close() open forever.
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function flatHeaders(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) {
    if (v !== undefined) out[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
  }
  return out;
}

/** JSON answer helper. */
export function json(status: number, body: unknown, extra: Partial<Answer> = {}): Answer {
  return { status, body: JSON.stringify(body), headers: { 'content-type': 'application/json' }, ...extra };
}

/**
 * How the conformance suite drives a channel against its sink: `local/sinks/<type>.ts` exports one as
 * `<type>Fixture` next to the sink, so a new channel's module, sink and fixture are covered by every
 * suite that enumerates CHANNELS without another file changing.
 */
export interface ChannelFixture {
  /** The channel's type (`slack`). */
  type: string;
  /**
   * Starts the sink on `clock` (`now`, epoch ms) and says how to reach it: the destination's config,
   * and the variables that configure the same destination.
   */
  start(clock: {
    now: () => number;
  }): Promise<{ sink: Sink; config: DestinationConfig; env: Record<string, string> }>;
  /** Credentials the destination signs with (SMN), by name. */
  credentials?: Record<string, HssAuth>;
  /** Secret values of the config besides its URL, which no description, log or error may show. */
  secrets: readonly string[];
  /** Its text is Markdown/mrkdwn: `*bold*` and friends must not survive verbatim. */
  markdown: boolean;
  /** Largest request body the vendor takes, bytes. */
  maxBodyBytes: number;
  /** The sink enforces the vendor's rate limit (the webhook has none). */
  rateLimited: boolean;
  /** Vendor answers and what they must be classified as (the spec's answer codes are tried too). */
  vendorFaults: ReadonlyArray<readonly [SinkFault, 'retryable' | 'permanent']>;
  /** Data for programs (API text verbatim, ISO times) rather than text for people (the webhook). */
  forPrograms?: true;
}

/**
 * The fixture of a channel configured by a webhook URL (variable `variables.url`) and, with `secret`,
 * a signing secret (variable `variables.secret`): its config and its variables point at the sink.
 */
export function urlFixture(
  type: string,
  variables: { url: string; secret?: string },
  startSink: (clock: Clock) => Promise<Sink>,
  traits: Omit<ChannelFixture, 'type' | 'start' | 'secrets' | 'credentials'> & { secret?: string },
): ChannelFixture {
  const { secret, ...rest } = traits;
  return {
    type,
    async start(clock) {
      const sink = await startSink(clock.now);
      const config = { type, name: type, url: sink.url, ...(secret && { secret }), routing: {} };
      const env: Record<string, string> = { [variables.url]: sink.url };
      if (secret !== undefined && variables.secret !== undefined) env[variables.secret] = secret;
      return { sink, config: config as DestinationConfig, env };
    },
    secrets: secret === undefined ? [] : [secret],
    ...rest,
  };
}

/** The fixture of channel `type` (`local/sinks/<type>.ts`, export `<type>Fixture`); undefined when there is none. */
export function channelFixture(type: string): ChannelFixture | undefined {
  let module: Record<string, unknown>;
  try {
    // By convention, so that a new channel needs no entry in a list here.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    module = require(`./${type}`) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  const fixture = module[`${type}Fixture`] as ChannelFixture | undefined;
  return fixture?.type === type ? fixture : undefined;
}
