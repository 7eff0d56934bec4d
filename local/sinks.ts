// Local stand-ins for a Slack incoming webhook and a generic webhook receiver: real HTTP servers on
// 127.0.0.1 (port 0) that record every request and fail on demand, for tests and the local demo.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { systemClock, type Clock } from '../lib/log';
import { verifyStandardWebhook } from '../lib/notify/standard-webhooks';

/** One request as the sink got it; header names are lower-case, `json` is set when the body parsed. */
export interface SinkRequest {
  at: number;
  path: string;
  headers: Record<string, string>;
  body: string;
  json?: unknown;
}

/** What to do with the next request instead of answering normally. */
export type SinkFault =
  | { kind: 'status'; status: number; body?: string; headers?: Record<string, string> }
  | { kind: 'hang' }
  | { kind: 'reset' }
  | { kind: 'delay'; ms: number };

export interface Sink {
  /** The URL to configure in a notifier (includes a webhook-like path). */
  url: string;
  /** Requests answered 2xx, in order. */
  received: SinkRequest[];
  /** Every request, whatever happened to it, in order. */
  attempts: SinkRequest[];
  /** The next `times` (default 1) requests get `fault` instead of the normal answer. */
  failNext(fault: SinkFault, times?: number): void;
  clearFaults(): void;
  /** Stops the server, dropping hung requests. */
  close(): Promise<void>;
}

interface Answer {
  status: number;
  body: string;
  headers?: Record<string, string>;
}

export const SLACK_SINK_PATH = '/services/T000/B000/XXXXXXXXXXXXXXXXXXXXXXXX';
export const WEBHOOK_SINK_PATH = '/hooks/hss-restore-alerts';

/** A Slack incoming webhook: 200 `ok`; 400 `invalid_payload` / `no_text` / `invalid_blocks` as Slack would; 404 `no_service` off its path. */
export function startSlackSink(opts: { clock?: Clock } = {}): Promise<Sink> {
  return startSink(SLACK_SINK_PATH, opts.clock ?? systemClock, (req) => {
    if (req.path !== SLACK_SINK_PATH) return { status: 404, body: 'no_service' };
    if (typeof req.json !== 'object' || req.json === null || Array.isArray(req.json)) {
      return { status: 400, body: 'invalid_payload' };
    }
    const payload = req.json as { text?: unknown; blocks?: unknown };
    if (typeof payload.text !== 'string' || payload.text.trim() === '')
      return { status: 400, body: 'no_text' };
    if (payload.blocks !== undefined && blockProblem(payload.blocks) !== undefined) {
      return { status: 400, body: 'invalid_blocks' };
    }
    return { status: 200, body: 'ok' };
  });
}

/**
 * What breaks Slack's Block Kit limits in `blocks` (50 blocks; header 150; section text 3000;
 * 10 fields of 2000; 10 context elements), or undefined when nothing does.
 */
export function blockProblem(blocks: unknown): string | undefined {
  if (!Array.isArray(blocks)) return 'blocks is not an array';
  if (blocks.length > 50) return `${blocks.length} blocks (max 50)`;
  for (const [i, block] of blocks.entries()) {
    const b = block as { type?: unknown; text?: { text?: unknown }; fields?: unknown; elements?: unknown };
    const text = typeof b.text?.text === 'string' ? b.text.text : undefined;
    if (b.type === 'header' && (text === undefined || text.length > 150)) return `block ${i}: header text`;
    if (b.type === 'section') {
      if (text === undefined && b.fields === undefined) return `block ${i}: section without text or fields`;
      if (text !== undefined && text.length > 3000) return `block ${i}: section text over 3000`;
      if (b.fields !== undefined) {
        if (!Array.isArray(b.fields) || b.fields.length > 10) return `block ${i}: more than 10 fields`;
        for (const f of b.fields as { text?: unknown }[]) {
          if (typeof f.text !== 'string' || f.text.length > 2000) return `block ${i}: field over 2000`;
        }
      }
    }
    if (b.type === 'context') {
      if (!Array.isArray(b.elements) || b.elements.length === 0 || b.elements.length > 10) {
        return `block ${i}: context elements`;
      }
      for (const e of b.elements as { text?: unknown }[]) {
        if (typeof e.text !== 'string' || e.text.length > 3000) return `block ${i}: context text`;
      }
    }
  }
  return undefined;
}

/** A generic webhook receiver: 200; 400 for a body that is not JSON; with `secret`, 401 unless the Standard Webhooks signature verifies. */
export function startWebhookSink(opts: { secret?: string; clock?: Clock } = {}): Promise<Sink> {
  const clock = opts.clock ?? systemClock;
  return startSink(WEBHOOK_SINK_PATH, clock, (req) => {
    if (req.path !== WEBHOOK_SINK_PATH) return { status: 404, body: '{"error":"not_found"}' };
    const nowSec = Math.floor(clock() / 1000);
    if (opts.secret !== undefined && !verifyStandardWebhook(opts.secret, req.headers, req.body, nowSec)) {
      return { status: 401, body: '{"error":"invalid_signature"}' };
    }
    if (req.json === undefined) return { status: 400, body: '{"error":"invalid_json"}' };
    return { status: 200, body: '' };
  });
}

async function startSink(path: string, clock: Clock, answer: (req: SinkRequest) => Answer): Promise<Sink> {
  const received: SinkRequest[] = [];
  const attempts: SinkRequest[] = [];
  const faults: SinkFault[] = [];
  const timers = new Set<NodeJS.Timeout>();
  let closed = false;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    const record: SinkRequest = { at: clock(), path: req.url ?? '/', headers: flatHeaders(req), body };
    try {
      record.json = JSON.parse(body);
    } catch {
      // Not JSON: `json` stays unset and the sink answers as a real receiver would.
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
    const a: Answer =
      fault?.kind === 'status'
        ? { status: fault.status, body: fault.body ?? '', headers: fault.headers }
        : answer(record);
    if (a.status >= 200 && a.status < 300) received.push(record);
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
    url: `http://127.0.0.1:${port}${path}`,
    received,
    attempts,
    failNext(fault, times = 1) {
      for (let i = 0; i < times; i++) faults.push(fault);
    },
    clearFaults() {
      faults.length = 0;
    },
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
